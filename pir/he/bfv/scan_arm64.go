//go:build !purego

package bfv

import "github.com/blindlist/blindlist/pir/he/kernels"

// haveScanSIMD reports that the NEON scan kernels of scan_arm64.s are
// selected ([kernels.Selected]); fixed at program start.
var haveScanSIMD = kernels.Selected() == kernels.NEON

// mulAccNarrowSIMD is the vector kernel behind [MulAccNarrow]: NEON here,
// same contract as mulAccNarrowNEON.
func mulAccNarrowSIMD(acc0, acc1, x0, x1 []uint64, w []uint32) {
	mulAccNarrowNEON(acc0, acc1, x0, x1, w)
}

// mulAccNarrowBatchSIMD is the vector kernel behind [MulAccNarrowBatch]:
// NEON here, same contract as mulAccNarrowBatchNEON.
func mulAccNarrowBatchSIMD(acc0, acc1 []uint64, x0s, x1s [][]uint64, ws [][]uint32) {
	mulAccNarrowBatchNEON(acc0, acc1, x0s, x1s, ws)
}

//go:noescape
func mulAccNarrowNEON(acc0, acc1, x0, x1 []uint64, w []uint32)

//go:noescape
func mulAccNarrowBatchNEON(acc0, acc1 []uint64, x0s, x1s [][]uint64, ws [][]uint32)
