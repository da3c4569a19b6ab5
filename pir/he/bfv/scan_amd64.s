//go:build !purego

#include "textflag.h"

// func mulAccNarrowAVX2(acc0, acc1, x0, x1 []uint64, w []uint32)
//
// MulAccNarrow (scan.go) eight slots per iteration: acc0 += x0·w,
// acc1 += x1·w, every input below 2^32 so each VPMULUDQ product (low 32
// bits of each lane) is the exact 64-bit product; sums wrap modulo 2^64
// (the caller bounds the number of terms). len(w) is a multiple of 8 and
// at least 8; the other slices are at least as long.
TEXT ·mulAccNarrowAVX2(SB), NOSPLIT, $0-120
	MOVQ acc0_base+0(FP), DI
	MOVQ acc1_base+24(FP), R8
	MOVQ x0_base+48(FP), SI
	MOVQ x1_base+72(FP), R9
	MOVQ w_base+96(FP), DX
	MOVQ w_len+104(FP), CX
	XORQ AX, AX

loop:
	VPMOVZXDQ (DX)(AX*4), Y0       // w[j..j+3] widened to 64-bit lanes
	VPMOVZXDQ 16(DX)(AX*4), Y1     // w[j+4..j+7]
	VPMULUDQ  (SI)(AX*8), Y0, Y2
	VPMULUDQ  32(SI)(AX*8), Y1, Y3
	VPMULUDQ  (R9)(AX*8), Y0, Y4
	VPMULUDQ  32(R9)(AX*8), Y1, Y5
	VPADDQ    (DI)(AX*8), Y2, Y2
	VPADDQ    32(DI)(AX*8), Y3, Y3
	VPADDQ    (R8)(AX*8), Y4, Y4
	VPADDQ    32(R8)(AX*8), Y5, Y5
	VMOVDQU   Y2, (DI)(AX*8)
	VMOVDQU   Y3, 32(DI)(AX*8)
	VMOVDQU   Y4, (R8)(AX*8)
	VMOVDQU   Y5, 32(R8)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        loop
	VZEROUPPER
	RET
