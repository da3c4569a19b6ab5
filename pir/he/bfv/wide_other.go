//go:build !amd64 || purego

package bfv

// haveWide is false: no vector kernels on this architecture.
var haveWide = false

func keyMulRowWideAVX2(o0, o1, x, k0, k1 []uint64, q, qInv float64, mode uint64) {
	panic("bfv: internal error: no wide kernels")
}

func dropWideAVX2(dst, src, last []uint64, qLast, half, hmK uint64, q, qInv, inv, invQ float64) {
	panic("bfv: internal error: no wide kernels")
}

func mulAddConstWideAVX2(dst, x, t []uint64, q, qInv, w, wq float64) {
	panic("bfv: internal error: no wide kernels")
}

func addMulConstWideAVX2(dst, x, t []uint64, q, qInv, w, wq float64) {
	panic("bfv: internal error: no wide kernels")
}

func shoupConstRowWideAVX2(o, x []uint64, q, qInv, w, wq float64, mode uint64) {
	panic("bfv: internal error: no wide kernels")
}

func signedAddRowWideAVX2(dst, acc, s, neg []uint64, q, qInv, e, eq float64) {
	panic("bfv: internal error: no wide kernels")
}

func tensorWideAVX2(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv, r, rq float64) {
	panic("bfv: internal error: no wide kernels")
}
