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

// func mulAccNarrowBatchAVX2(acc0, acc1 []uint64, x0s, x1s [][]uint64, ws [][]uint32)
//
// MulAccNarrowBatch (scan.go) eight slots per iteration: the accumulators
// stay in Y0-Y3 while every row b adds x0s[b]·ws[b] and x1s[b]·ws[b]
// (products exact as in mulAccNarrowAVX2). len(acc0) is a multiple of 8
// and at least 8, len(ws) >= 1, every row at least len(acc0) long (the
// Go wrapper checks). A slice header is 24 bytes: BX steps through the
// headers of x0s, x1s and ws together.
TEXT ·mulAccNarrowBatchAVX2(SB), NOSPLIT, $0-120
	MOVQ  acc0_base+0(FP), DI
	MOVQ  acc0_len+8(FP), CX
	MOVQ  acc1_base+24(FP), R8
	MOVQ  x0s_base+48(FP), R9
	MOVQ  x1s_base+72(FP), R10
	MOVQ  ws_base+96(FP), R11
	MOVQ  ws_len+104(FP), R12
	IMULQ $24, R12                 // end of the headers
	XORQ  AX, AX                   // slot j

loop:
	VMOVDQU (DI)(AX*8), Y0
	VMOVDQU 32(DI)(AX*8), Y1
	VMOVDQU (R8)(AX*8), Y2
	VMOVDQU 32(R8)(AX*8), Y3
	XORQ    BX, BX                 // header offset 24·b

batch:
	MOVQ      (R11)(BX*1), SI      // ws[b]
	MOVQ      (R9)(BX*1), DX       // x0s[b]
	MOVQ      (R10)(BX*1), R13     // x1s[b]
	VPMOVZXDQ (SI)(AX*4), Y4
	VPMOVZXDQ 16(SI)(AX*4), Y5
	VPMULUDQ  (DX)(AX*8), Y4, Y6
	VPMULUDQ  32(DX)(AX*8), Y5, Y7
	VPADDQ    Y6, Y0, Y0
	VPADDQ    Y7, Y1, Y1
	VPMULUDQ  (R13)(AX*8), Y4, Y6
	VPMULUDQ  32(R13)(AX*8), Y5, Y7
	VPADDQ    Y6, Y2, Y2
	VPADDQ    Y7, Y3, Y3
	ADDQ      $24, BX
	CMPQ      BX, R12
	JB        batch

	VMOVDQU Y0, (DI)(AX*8)
	VMOVDQU Y1, 32(DI)(AX*8)
	VMOVDQU Y2, (R8)(AX*8)
	VMOVDQU Y3, 32(R8)(AX*8)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JB      loop
	VZEROUPPER
	RET

// func mulAcc26AVX2(a, b, c []uint64, xs, ys [][]uint64)
//
// mulAcc26 (ops26.go) eight slots per iteration: the columns a, b, c of
// the slots stay in Y0-Y5 while every term t splits xs[t] and ys[t] into
// 26-bit digits (VPAND with Y15 = 2^26 − 1, VPSRLQ 26; digits below 2^26,
// so the VPMULUDQ products are exact) and adds x0·y0 to a, x0·y1 + x1·y0
// to b, x1·y1 to c. len(a) is a multiple of 8 and at least 8,
// len(xs) = len(ys) >= 1, every row at least len(a) long (the Go wrapper
// checks); BX steps through the 24-byte slice headers of xs and ys.
TEXT ·mulAcc26AVX2(SB), NOSPLIT, $0-120
	MOVQ         a_base+0(FP), DI
	MOVQ         a_len+8(FP), CX
	MOVQ         b_base+24(FP), R8
	MOVQ         c_base+48(FP), R9
	MOVQ         xs_base+72(FP), R10
	MOVQ         ys_base+96(FP), R11
	MOVQ         ys_len+104(FP), R12
	IMULQ        $24, R12
	MOVQ         $0x3ffffff, DX
	MOVQ         DX, X15
	VPBROADCASTQ X15, Y15
	XORQ         AX, AX

loop:
	VMOVDQU (DI)(AX*8), Y0
	VMOVDQU 32(DI)(AX*8), Y1
	VMOVDQU (R8)(AX*8), Y2
	VMOVDQU 32(R8)(AX*8), Y3
	VMOVDQU (R9)(AX*8), Y4
	VMOVDQU 32(R9)(AX*8), Y5
	XORQ    BX, BX

term:
	MOVQ (R10)(BX*1), SI // xs[t]
	MOVQ (R11)(BX*1), DX // ys[t]

	// slots j..j+3
	VMOVDQU  (SI)(AX*8), Y6
	VMOVDQU  (DX)(AX*8), Y7
	VPSRLQ   $26, Y6, Y8   // x1
	VPSRLQ   $26, Y7, Y9   // y1
	VPAND    Y15, Y6, Y6   // x0
	VPAND    Y15, Y7, Y7   // y0
	VPMULUDQ Y7, Y6, Y10   // x0·y0
	VPADDQ   Y10, Y0, Y0
	VPMULUDQ Y9, Y6, Y10   // x0·y1
	VPMULUDQ Y7, Y8, Y11   // x1·y0
	VPADDQ   Y10, Y2, Y2
	VPADDQ   Y11, Y2, Y2
	VPMULUDQ Y9, Y8, Y8    // x1·y1
	VPADDQ   Y8, Y4, Y4

	// slots j+4..j+7
	VMOVDQU  32(SI)(AX*8), Y6
	VMOVDQU  32(DX)(AX*8), Y7
	VPSRLQ   $26, Y6, Y8
	VPSRLQ   $26, Y7, Y9
	VPAND    Y15, Y6, Y6
	VPAND    Y15, Y7, Y7
	VPMULUDQ Y7, Y6, Y10
	VPADDQ   Y10, Y1, Y1
	VPMULUDQ Y9, Y6, Y10
	VPMULUDQ Y7, Y8, Y11
	VPADDQ   Y10, Y3, Y3
	VPADDQ   Y11, Y3, Y3
	VPMULUDQ Y9, Y8, Y8
	VPADDQ   Y8, Y5, Y5

	ADDQ $24, BX
	CMPQ BX, R12
	JB   term

	VMOVDQU Y0, (DI)(AX*8)
	VMOVDQU Y1, 32(DI)(AX*8)
	VMOVDQU Y2, (R8)(AX*8)
	VMOVDQU Y3, 32(R8)(AX*8)
	VMOVDQU Y4, (R9)(AX*8)
	VMOVDQU Y5, 32(R9)(AX*8)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JB      loop
	VZEROUPPER
	RET
