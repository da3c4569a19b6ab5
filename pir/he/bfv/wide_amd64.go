//go:build !purego

package bfv

// haveWide reports that the wide AVX2 kernels (wide_amd64.s, float64
// arithmetic for moduli below 2^50) are selected: the AVX2 and AVX-512
// levels, where no IFMA kernel serves such moduli; fixed at program start.
var haveWide = haveSIMD && !haveIFMA

//go:noescape
func keyMulRowWideAVX2(o0, o1, x, k0, k1 []uint64, q, qInv float64, mode uint64)

//go:noescape
func dropWideAVX2(dst, src, last []uint64, qLast, half, hmK uint64, q, qInv, inv, invQ float64)

//go:noescape
func mulAddConstWideAVX2(dst, x, t []uint64, q, qInv, w, wq float64)

//go:noescape
func addMulConstWideAVX2(dst, x, t []uint64, q, qInv, w, wq float64)

//go:noescape
func shoupConstRowWideAVX2(o, x []uint64, q, qInv, w, wq float64, mode uint64)

//go:noescape
func signedAddRowWideAVX2(dst, acc, s, neg []uint64, q, qInv, e, eq float64)

//go:noescape
func tensorWideAVX2(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv, r, rq float64)
