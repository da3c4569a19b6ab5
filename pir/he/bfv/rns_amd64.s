//go:build !purego

#include "textflag.h"

// func drop32AVX2(dst, src, last []uint64, qLast, half, q, hmK, inv, invS32 uint64)
//
// drop32 (rns.go) four lanes at a time; every value stays below 2^32
// (see drop32 for the bounds), so VPMULUDQ products are exact and the
// conditional subtractions work on 32-bit halves (VPSUBD, VPMINUD).
// len(dst) is a multiple of 4 and at least 4.
TEXT ·drop32AVX2(SB), NOSPLIT, $0-120
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         src_base+24(FP), SI
	MOVQ         last_base+48(FP), DX
	VPBROADCASTQ qLast+72(FP), Y15
	VPBROADCASTQ half+80(FP), Y14
	VPBROADCASTQ q+88(FP), Y13
	VPBROADCASTQ hmK+96(FP), Y12
	VPBROADCASTQ inv+104(FP), Y11
	VPBROADCASTQ invS32+112(FP), Y10
	XORQ         AX, AX

loop:
	VMOVDQU  (DX)(AX*8), Y0
	VPADDQ   Y14, Y0, Y0      // r = last + half < 2·qLast
	VPSUBD   Y15, Y0, Y1
	VPMINUD  Y1, Y0, Y0       // r mod qLast
	VMOVDQU  (SI)(AX*8), Y1
	VPADDQ   Y12, Y1, Y1
	VPSUBQ   Y0, Y1, Y1       // v = x + hmK − r < 2^32
	VPMULUDQ Y10, Y1, Y2
	VPSRLQ   $32, Y2, Y2
	VPMULUDQ Y13, Y2, Y2
	VPMULUDQ Y11, Y1, Y1
	VPSUBQ   Y2, Y1, Y1       // v·inv mod q in [0, 2q)
	VPSUBD   Y13, Y1, Y2
	VPMINUD  Y2, Y1, Y1
	VMOVDQU  Y1, (DI)(AX*8)
	ADDQ     $4, AX
	CMPQ     AX, CX
	JB       loop
	VZEROUPPER
	RET

// func shoupRowAVX2(o, x, k, ks []uint64, q, acc uint64)
//
// shoupRow (keyswitch32.go): o = or += x·k − floor(x·ks/2^32)·q, four lanes
// at a time. x, k, ks and q are below 2^32, so VPMULUDQ is exact.
TEXT ·shoupRowAVX2(SB), NOSPLIT, $0-112
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         k_base+48(FP), DX
	MOVQ         ks_base+72(FP), R8
	VPBROADCASTQ q+96(FP), Y15
	MOVQ         acc+104(FP), R9
	XORQ         AX, AX
	TESTQ        R9, R9
	JNZ          accloop

setloop:
	VMOVDQU  (SI)(AX*8), Y0
	VPMULUDQ (R8)(AX*8), Y0, Y1
	VPSRLQ   $32, Y1, Y1
	VPMULUDQ Y15, Y1, Y1
	VPMULUDQ (DX)(AX*8), Y0, Y0
	VPSUBQ   Y1, Y0, Y0
	VMOVDQU  Y0, (DI)(AX*8)
	ADDQ     $4, AX
	CMPQ     AX, CX
	JB       setloop
	VZEROUPPER
	RET

accloop:
	VMOVDQU  (SI)(AX*8), Y0
	VPMULUDQ (R8)(AX*8), Y0, Y1
	VPSRLQ   $32, Y1, Y1
	VPMULUDQ Y15, Y1, Y1
	VPMULUDQ (DX)(AX*8), Y0, Y0
	VPSUBQ   Y1, Y0, Y0
	VPADDQ   (DI)(AX*8), Y0, Y0
	VMOVDQU  Y0, (DI)(AX*8)
	ADDQ     $4, AX
	CMPQ     AX, CX
	JB       accloop
	VZEROUPPER
	RET

// func csub2RowAVX2(o []uint64, q uint64)
//
// csub2Row: o from [0, 4q) to [0, q) for q < 2^30, on 32-bit halves.
TEXT ·csub2RowAVX2(SB), NOSPLIT, $0-32
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	VPBROADCASTQ q+24(FP), Y15
	VPADDQ       Y15, Y15, Y14
	XORQ         AX, AX

csubloop:
	VMOVDQU (DI)(AX*8), Y0
	VPSUBD  Y14, Y0, Y1
	VPMINUD Y1, Y0, Y0
	VPSUBD  Y15, Y0, Y1
	VPMINUD Y1, Y0, Y0
	VMOVDQU Y0, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, CX
	JB      csubloop
	VZEROUPPER
	RET
