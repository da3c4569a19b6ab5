//go:build !purego

package bfv

import "github.com/blindlist/blindlist/pir/he/kernels"

// haveScanSIMD reports that the database scan's AVX2 kernel
// (scan_amd64.s) is selected; fixed at program start.
var haveScanSIMD = haveSIMD

// haveScanAVX512 reports that the AVX-512F scan kernel of scan_amd64.s is
// selected (the AVX-512 and IFMA levels; the scan's products fit
// VPMULUDQ, so IFMA adds nothing to it); fixed at program start.
var haveScanAVX512 = kernels.Selected() >= kernels.AVX512

// haveNarrowAVX2 reports that [NarrowRow] runs narrowRowAVX2; fixed at
// program start.
var haveNarrowAVX2 = haveSIMD

//go:noescape
func narrowRowAVX2(dst []uint32, src []uint64)

//go:noescape
func narrowRowAVX512(dst []uint32, src []uint64)

// mulAccScanSIMD is the vector kernel behind [MulAccScan] below AVX-512:
// AVX2 here.
func mulAccScanSIMD(acc0, acc1 []uint64, x0s, x1s, ws [][]uint32) {
	mulAccScanAVX2(acc0, acc1, x0s, x1s, ws)
}

//go:noescape
func mulAccScanAVX2(acc0, acc1 []uint64, x0s, x1s, ws [][]uint32)

//go:noescape
func mulAccScanAVX512(acc0, acc1 []uint64, x0s, x1s, ws [][]uint32)

//go:noescape
func mulAccRowsAVX2(acc []uint64, xs, ys [][]uint64)

//go:noescape
func mulAccRowsAVX512(acc []uint64, xs, ys [][]uint64)
