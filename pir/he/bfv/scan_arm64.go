//go:build !purego

package bfv

import "github.com/blindlist/blindlist/pir/he/kernels"

// haveScanSIMD reports that the NEON scan kernel of scan_arm64.s is
// selected ([kernels.Selected]); fixed at program start.
var haveScanSIMD = kernels.Selected() == kernels.NEON

// haveScanAVX512 is false: AVX-512 is x86-64 only.
const haveScanAVX512 = false

// mulAccScanSIMD is the vector kernel behind [MulAccScan]: NEON here, same
// contract as mulAccScanNEON.
func mulAccScanSIMD(acc0, acc1 []uint64, x0s, x1s, ws [][]uint32) {
	mulAccScanNEON(acc0, acc1, x0s, x1s, ws)
}

func mulAccScanAVX512(acc0, acc1 []uint64, x0s, x1s, ws [][]uint32) {
	panic("bfv: internal error: no AVX-512 on arm64")
}

//go:noescape
func mulAccScanNEON(acc0, acc1 []uint64, x0s, x1s, ws [][]uint32)

func mulAccRowsAVX2(acc []uint64, xs, ys [][]uint64) { panic("bfv: internal error: no AVX2 on arm64") }

func mulAccRowsAVX512(acc []uint64, xs, ys [][]uint64) {
	panic("bfv: internal error: no AVX-512 on arm64")
}

// haveNarrowAVX2 is false: [NarrowRow] runs its portable loop here.
const haveNarrowAVX2 = false

func narrowRowAVX2(dst []uint32, src []uint64) {
	panic("bfv: internal error: no AVX2 narrowing kernel")
}

func narrowRowAVX512(dst []uint32, src []uint64) {
	panic("bfv: internal error: no AVX-512 narrowing kernel")
}
