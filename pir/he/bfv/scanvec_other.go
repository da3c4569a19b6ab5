//go:build !(amd64 || arm64) || purego

package bfv

// haveScanSIMD is false: no vector scan kernels on this architecture or
// build.
var haveScanSIMD = false

func mulAccNarrowSIMD(acc0, acc1, x0, x1 []uint64, w []uint32) {
	panic("bfv: internal error: no SIMD scan kernels")
}

func mulAccNarrowBatchSIMD(acc0, acc1 []uint64, x0s, x1s [][]uint64, ws [][]uint32) {
	panic("bfv: internal error: no SIMD scan kernels")
}
