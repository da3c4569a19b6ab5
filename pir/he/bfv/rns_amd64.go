//go:build !purego

package bfv

import "github.com/blindlist/blindlist/pir/he/kernels"

// haveSIMD reports that the AVX2 kernels of rns_amd64.s are selected
// ([kernels.Selected]); fixed at program start.
var haveSIMD = kernels.Selected() >= kernels.AVX2

//go:noescape
func drop32AVX2(dst, src, last []uint64, qLast, half, q, hmK, inv, invS32 uint64)

//go:noescape
func liftSignAVX2(rAbs, neg, v, cs []uint64, mTilde, negQInv, stride uint64)

//go:noescape
func addScanRowAVX2(o, acc []uint64, q, qInvNeg, c32, c64 uint64)

//go:noescape
func addMulConst32AVX2(dst, x, t []uint64, w, ws, q uint64)

//go:noescape
func roundDiffAVX512(dst, last []uint64, qLast, half, hmK uint64)

//go:noescape
func roundDiffAVX2(dst, last []uint64, qLast, half, hmK uint64)

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

// haveIFMA reports that the AVX-512 IFMA kernels of ifma_amd64.s are
// selected; fixed at program start.
var haveIFMA = kernels.Selected() >= kernels.IFMA

//go:noescape
func keyMulRow52IFMA(o0, o1, x, k0, k1 []uint64, q, qInv, mode uint64)

//go:noescape
func drop52IFMA(dst, src, last []uint64, qLast, half, q, hmK, inv, invS uint64)

//go:noescape
func mulAddConst52IFMA(dst, x, t []uint64, w, ws, q uint64)

//go:noescape
func addMulConst52IFMA(dst, x, t []uint64, w, ws, q uint64)

//go:noescape
func shoupConstRow52IFMA(o, x []uint64, w, ws, q, mode uint64)

//go:noescape
func signedAddRow52IFMA(dst, acc, s, neg []uint64, e, es, q uint64)

//go:noescape
func tensorMont52IFMA(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64)

//go:noescape
func mulAcc26AVX2(a, b, c []uint64, xs, ys [][]uint64)

// haveRowsAVX512 reports that the AVX-512F row kernels of rns_amd64.s
// (split, rounding term, the ct×ct 32-bit rows) are selected: the AVX-512
// and IFMA levels; fixed at program start.
var haveRowsAVX512 = kernels.Selected() >= kernels.AVX512

//go:noescape
func shoupConstRowAVX512(o, x []uint64, w, ws, q, mode uint64)

//go:noescape
func signedAddRowAVX512(dst, acc, s, neg []uint64, e, es, q uint64)

//go:noescape
func tensorMontAVX512(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64)

// splitRowAVX512 is splitRow (split.go) for len(s) a multiple of 8.
//
//go:noescape
func splitRowAVX512(s, p, a, b, m, ms []uint64, q uint64)

// splitRowAVX2 is splitRow (split.go) for len(s) a multiple of 4.
//
//go:noescape
func splitRowAVX2(s, p, a, b, m, ms []uint64, q uint64)
