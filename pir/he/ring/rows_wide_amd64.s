//go:build !purego

#include "textflag.h"

// AVX2 row kernels for moduli of 31 bits and more at the avx2 level (the
// 32-bit rows of rows_amd64.s serve smaller moduli, the AVX-512 rows of
// rows_avx512_amd64.s larger ones from the avx512 level on). len(o) is a
// multiple of 4 and at least 4.
//
// The 64-bit rows (q < 2^62): a sum or difference s < 2q < 2^63 is
// reduced by min(s, s − q) on whole lanes; AVX2 has no unsigned 64-bit
// minimum, but s − q, read as a signed value, is negative exactly when
// s < q (both are below 2^63), and VBLENDVPD selects on that sign bit.

// CSUB64 sets S = S − q if S >= q, for S < 2q < 2^63 and Y15 = q. T is
// clobbered.
#define CSUB64(S, T) \
	VPSUBQ    Y15, S, T \
	VBLENDVPD T, S, T, S

// func addRow64AVX2(o, x, y []uint64, q uint64)
TEXT ·addRow64AVX2(SB), NOSPLIT, $0-80
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         y_base+48(FP), DX
	VPBROADCASTQ q+72(FP), Y15
	XORQ         AX, AX

addloop:
	VMOVDQU (SI)(AX*8), Y0
	VPADDQ  (DX)(AX*8), Y0, Y0
	CSUB64(Y0, Y1)
	VMOVDQU Y0, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, CX
	JB      addloop
	VZEROUPPER
	RET

// func subRow64AVX2(o, x, y []uint64, q uint64)
TEXT ·subRow64AVX2(SB), NOSPLIT, $0-80
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         y_base+48(FP), DX
	VPBROADCASTQ q+72(FP), Y15
	XORQ         AX, AX

subloop:
	VMOVDQU (SI)(AX*8), Y0
	VPSUBQ  (DX)(AX*8), Y0, Y0
	VPADDQ  Y15, Y0, Y0             // x − y + q in (0, 2q)
	CSUB64(Y0, Y1)
	VMOVDQU Y0, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, CX
	JB      subloop
	VZEROUPPER
	RET

// func negRow64AVX2(o, x []uint64, q uint64)
TEXT ·negRow64AVX2(SB), NOSPLIT, $0-56
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	VPBROADCASTQ q+48(FP), Y15
	XORQ         AX, AX

negloop:
	VMOVDQU (SI)(AX*8), Y1
	VPSUBQ  Y1, Y15, Y0             // q − x in (0, q]
	CSUB64(Y0, Y1)
	VMOVDQU Y0, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, CX
	JB      negloop
	VZEROUPPER
	RET

// func mulRowWideAVX2(o, x, y []uint64, q, qInv float64)
//
// o = x·y mod q slot-wise for x, y < q < 2^50, in float64 (ntt_wide.go):
// with H = fl(x·y), c = round(fl(H·fl(1/q))) is within 0.88 of x·y/q
// (three roundings of a quotient below 2^50), L = fma(x, y, −H) is the
// exact error of H, and r = fma(−c, q, H) + L = x·y − c·q exactly, |r| <
// 0.88q; q is added to a negative r and the result converted back.
TEXT ·mulRowWideAVX2(SB), NOSPLIT, $0-88
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         y_base+48(FP), DX
	VBROADCASTSD q+72(FP), Y15
	VBROADCASTSD qInv+80(FP), Y14
	MOVQ         $0x4330000000000000, AX
	MOVQ         AX, X13
	VPBROADCASTQ X13, Y13           // 2^52: its bits convert uint64 <-> double
	VXORPD       Y8, Y8, Y8
	XORQ         AX, AX

mulloop:
	VMOVDQU      (SI)(AX*8), Y0
	VMOVDQU      (DX)(AX*8), Y1
	VPOR         Y13, Y0, Y0
	VSUBPD       Y13, Y0, Y0        // x as a double
	VPOR         Y13, Y1, Y1
	VSUBPD       Y13, Y1, Y1        // y as a double
	VMULPD       Y1, Y0, Y3         // H = fl(x·y)
	VMULPD       Y14, Y3, Y2
	VROUNDPD     $0, Y2, Y2         // c
	VFMSUB213PD  Y3, Y1, Y0         // L = x·y − H
	VFNMADD231PD Y15, Y2, Y3        // H − c·q
	VADDPD       Y3, Y0, Y0         // r = x·y − c·q
	VCMPPD       $1, Y8, Y0, Y2     // r < 0
	VANDPD       Y15, Y2, Y2
	VADDPD       Y2, Y0, Y0         // [0, q)
	VADDPD       Y13, Y0, Y0
	VXORPD       Y13, Y0, Y0        // back to uint64
	VMOVDQU      Y0, (DI)(AX*8)
	ADDQ         $4, AX
	CMPQ         AX, CX
	JB           mulloop
	VZEROUPPER
	RET
