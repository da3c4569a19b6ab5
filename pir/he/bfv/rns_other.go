//go:build !amd64 || purego

package bfv

// haveSIMD is false: no vector kernels on this architecture.
var haveSIMD = false

func drop32AVX2(dst, src, last []uint64, qLast, half, q, hmK, inv, invS32 uint64) {
	panic("bfv: internal error: no SIMD kernels")
}

func liftSignAVX2(rAbs, neg, v, cs []uint64, mTilde, negQInv, stride uint64) {
	panic("bfv: internal error: no SIMD kernels")
}

func addScanRowAVX2(o, acc []uint64, q, qInvNeg, c32, c64 uint64) {
	panic("bfv: internal error: no SIMD kernels")
}

func addMulConst32AVX2(dst, x, t []uint64, w, ws, q uint64) {
	panic("bfv: internal error: no SIMD kernels")
}

func roundDiffAVX512(dst, last []uint64, qLast, half, hmK uint64) {
	panic("bfv: internal error: no AVX-512 kernels")
}

func roundDiffAVX2(dst, last []uint64, qLast, half, hmK uint64) {
	panic("bfv: internal error: no SIMD kernels")
}

func shoupRowAVX2(o, x, k, ks []uint64, q, acc uint64) { panic("bfv: internal error: no SIMD kernels") }
func csub2RowAVX2(o []uint64, q uint64)                { panic("bfv: internal error: no SIMD kernels") }

func shoupConstRowAVX2(o, x []uint64, w, ws, q, mode uint64) {
	panic("bfv: internal error: no SIMD kernels")
}

func signedAddRowAVX2(dst, acc, s, neg []uint64, e, es, q uint64) {
	panic("bfv: internal error: no SIMD kernels")
}

func tensorMontAVX2(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64) {
	panic("bfv: internal error: no SIMD kernels")
}

// haveIFMA is false: no IFMA kernels on this architecture.
var haveIFMA = false

func keyMulRow52IFMA(o0, o1, x, k0, k1 []uint64, q, qInv, mode uint64) {
	panic("bfv: internal error: no IFMA kernels")
}

func drop52IFMA(dst, src, last []uint64, qLast, half, q, hmK, inv, invS uint64) {
	panic("bfv: internal error: no IFMA kernels")
}

func mulAddConst52IFMA(dst, x, t []uint64, w, ws, q uint64) {
	panic("bfv: internal error: no IFMA kernels")
}

func addMulConst52IFMA(dst, x, t []uint64, w, ws, q uint64) {
	panic("bfv: internal error: no IFMA kernels")
}

func shoupConstRow52IFMA(o, x []uint64, w, ws, q, mode uint64) {
	panic("bfv: internal error: no IFMA kernels")
}

func signedAddRow52IFMA(dst, acc, s, neg []uint64, e, es, q uint64) {
	panic("bfv: internal error: no IFMA kernels")
}

func tensorMont52IFMA(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64) {
	panic("bfv: internal error: no IFMA kernels")
}

func mulAcc26AVX2(a, b, c []uint64, xs, ys [][]uint64) { panic("bfv: internal error: no SIMD kernels") }

func splitRowAVX2(s, p, a, b, m, ms []uint64, q uint64) {
	panic("bfv: internal error: no SIMD kernels")
}

// haveRowsAVX512 is false: no AVX-512 row kernels here.
const haveRowsAVX512 = false

func splitRowAVX512(s, p, a, b, m, ms []uint64, q uint64) {
	panic("bfv: internal error: no AVX-512 kernels")
}

func shoupConstRowAVX512(o, x []uint64, w, ws, q, mode uint64) {
	panic("bfv: internal error: no AVX-512 kernels")
}

func signedAddRowAVX512(dst, acc, s, neg []uint64, e, es, q uint64) {
	panic("bfv: internal error: no AVX-512 kernels")
}

func tensorMontAVX512(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64) {
	panic("bfv: internal error: no AVX-512 kernels")
}
