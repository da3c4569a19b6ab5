//go:build !purego

package bfv

import "golang.org/x/sys/cpu"

// haveSIMD reports AVX2 support for the vector kernels of rns_amd64.s. It
// is fixed at program start (read-only afterwards).
var haveSIMD = cpu.X86.HasAVX2

//go:noescape
func drop32AVX2(dst, src, last []uint64, qLast, half, q, hmK, inv, invS32 uint64)

//go:noescape
func shoupRowAVX2(o, x, k, ks []uint64, q, acc uint64)

//go:noescape
func csub2RowAVX2(o []uint64, q uint64)

//go:noescape
func shoupConstRowAVX2(o, x []uint64, w, ws, q, mode uint64)

//go:noescape
func signedAddRowAVX2(dst, acc, s, neg []uint64, e, es, q uint64)

//go:noescape
func tensorMontAVX2(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64)

//go:noescape
func mulAccRowAVX2(acc, x, y []uint64)

// haveIFMA reports AVX-512F with IFMA (VPMADD52LUQ/VPMADD52HUQ; x/sys/cpu
// sets it only when the OS saves the AVX-512 state) for the kernels of
// ifma_amd64.s; fixed at program start.
var haveIFMA = cpu.X86.HasAVX512F && cpu.X86.HasAVX512IFMA

//go:noescape
func keyMulRow52IFMA(o0, o1, x, k0, k1 []uint64, q, qInv, mode uint64)

//go:noescape
func drop52IFMA(dst, src, last []uint64, qLast, half, q, hmK, inv, invS uint64)

//go:noescape
func mulAddConst52IFMA(dst, x, t []uint64, w, ws, q uint64)

//go:noescape
func shoupConstRow52IFMA(o, x []uint64, w, ws, q, mode uint64)

//go:noescape
func signedAddRow52IFMA(dst, acc, s, neg []uint64, e, es, q uint64)

//go:noescape
func tensorMont52IFMA(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64)

//go:noescape
func mulAcc52IFMA(lo, hi, x, y []uint64)
