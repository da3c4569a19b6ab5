//go:build !(amd64 || arm64) || purego

package bfv

// haveScanSIMD and haveScanAVX512 are false: no vector scan kernels on
// this architecture or build.
const (
	haveScanSIMD   = false
	haveScanAVX512 = false
)

func mulAccScanSIMD(acc0, acc1 []uint64, x0s, x1s, ws [][]uint32) {
	panic("bfv: internal error: no SIMD scan kernels")
}

func mulAccScanAVX512(acc0, acc1 []uint64, x0s, x1s, ws [][]uint32) {
	panic("bfv: internal error: no SIMD scan kernels")
}

func mulAccRowsAVX2(acc []uint64, xs, ys [][]uint64) {
	panic("bfv: internal error: no SIMD scan kernels")
}

func mulAccRowsAVX512(acc []uint64, xs, ys [][]uint64) {
	panic("bfv: internal error: no SIMD scan kernels")
}

// haveNarrowAVX2 is false: [NarrowRow] runs its portable loop here.
const haveNarrowAVX2 = false

func narrowRowAVX2(dst []uint32, src []uint64) {
	panic("bfv: internal error: no AVX2 narrowing kernel")
}

func narrowRowAVX512(dst []uint32, src []uint64) {
	panic("bfv: internal error: no AVX-512 narrowing kernel")
}
