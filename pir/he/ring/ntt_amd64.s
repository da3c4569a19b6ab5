//go:build !purego

#include "textflag.h"

// AVX2 NTT kernels for moduli q < 2^30 (see ntt_scalar.go for the bounds
// argument and ntt_amd64.go for the Go declarations). Every residue sits in
// a 64-bit lane and stays below 4q < 2^32, so:
//   - VPMULUDQ (low 32 bits of each lane, full 64-bit product) computes
//     y·w, y·w' and floor(y·w'/2^32)·q exactly, four lanes at a time;
//   - the conditional subtraction min(x, x−c) works on 32-bit halves
//     (VPSUBD, VPMINUD): the high halves are 0 − 0 = 0 and the low half is
//     correct for x < 2c because x−c wraps above x when x < c.
// Register conventions: Y15 = q, Y14 = 2q in every lane.

// SHOUP sets X = X·W − floor(X·WS/2^32)·q ∈ [0, 2q) for X < 2^32, with
// WS = floor(W·2^32/q). T is clobbered.
#define SHOUP(X, W, WS, T) \
	VPMULUDQ WS, X, T \
	VPSRLQ   $32, T, T \
	VPMULUDQ Y15, T, T \
	VPMULUDQ W, X, X \
	VPSUBQ   T, X, X

// CSUB sets X = X − C if X >= C, for X < 2C < 2^32. T is clobbered.
#define CSUB(X, C, T) \
	VPSUBD  C, X, T \
	VPMINUD T, X, X

// FWD sets (X, Y) = (u + v, u − v + 2q) with u = CSUB(X, 2q) and
// v = SHOUP(Y, W, WS): Cooley–Tukey, X, Y in [0, 4q) in and out.
#define FWD(X, Y, W, WS, T) \
	CSUB(X, Y14, T) \
	SHOUP(Y, W, WS, T) \
	VPSUBQ Y, X, T \
	VPADDQ Y, X, X \
	VPADDQ Y14, T, Y

// INV sets (X, Y) = (CSUB(X + Y, 2q), SHOUP(X − Y + 2q, W, WS)):
// Gentleman–Sande, X, Y in [0, 2q) in and out.
#define INV(X, Y, W, WS, T) \
	VPADDQ  Y, X, T \
	VPSUBQ  Y, X, Y \
	VPADDQ  Y14, Y, Y \
	VPSUBD  Y14, T, X \
	VPMINUD X, T, X \
	SHOUP(Y, W, WS, T)

// func forward32AVX2(a, w, ws []uint64, q, m, h uint64)
//
// The stages from (m, h) on (m·2h = N): (1, N/2) for the whole NTT, or
// where the AVX-512 passes stopped.
TEXT ·forward32AVX2(SB), NOSPLIT, $0-96
	MOVQ         a_base+0(FP), DI
	MOVQ         a_len+8(FP), CX
	MOVQ         w_base+24(FP), SI
	MOVQ         ws_base+48(FP), R8
	VPBROADCASTQ q+72(FP), Y15
	VPADDQ       Y15, Y15, Y14
	MOVQ         m+80(FP), R9      // m: groups in this stage
	MOVQ         h+88(FP), R10     // h: half-distance

	// Two stages per pass (radix 4) while h >= 8: stage (m, h) on the
	// pairs (a0, a2), (a1, a3) with w[m+i], then stage (2m, h/2) on
	// (a0, a1) with w[2m+2i] and (a2, a3) with w[2m+2i+1], where
	// a_k = x[base + k·h/2 + j] and base = 2ih. Same operations as two
	// single stages, half the loads and stores.
fstage4:
	CMPQ R10, $8
	JB   fstage
	XORQ R11, R11                  // group i
	MOVQ DI, BX                    // &a0 of group i
	MOVQ R10, R13
	SHLQ $2, R13                   // h/2 values in bytes
	LEAQ (R13)(R13*2), R15         // 3h/2 values in bytes

fgroup4:
	LEAQ         (R9)(R11*1), R12
	VPBROADCASTQ (SI)(R12*8), Y13  // w[m+i]
	VPBROADCASTQ (R8)(R12*8), Y12
	SHLQ         $1, R12           // 2m+2i
	VPBROADCASTQ (SI)(R12*8), Y11  // w[2m+2i]
	VPBROADCASTQ (R8)(R12*8), Y10
	VPBROADCASTQ 8(SI)(R12*8), Y9  // w[2m+2i+1]
	VPBROADCASTQ 8(R8)(R12*8), Y8
	MOVQ         R10, AX
	SHRQ         $1, AX            // h/2 values per quarter

floop4:
	VMOVDQU (BX), Y0
	VMOVDQU (BX)(R13*1), Y1
	VMOVDQU (BX)(R13*2), Y2
	VMOVDQU (BX)(R15*1), Y3
	FWD(Y0, Y2, Y13, Y12, Y4)
	FWD(Y1, Y3, Y13, Y12, Y4)
	FWD(Y0, Y1, Y11, Y10, Y4)
	FWD(Y2, Y3, Y9, Y8, Y4)
	VMOVDQU Y0, (BX)
	VMOVDQU Y1, (BX)(R13*1)
	VMOVDQU Y2, (BX)(R13*2)
	VMOVDQU Y3, (BX)(R15*1)
	ADDQ    $32, BX
	SUBQ    $4, AX
	JNZ     floop4
	ADDQ    R15, BX                // next group: base + 2h
	INCQ    R11
	CMPQ    R11, R9
	JB      fgroup4
	SHLQ    $2, R9
	SHRQ    $2, R10
	JMP     fstage4

	// One single stage when h = 4 remains (odd number of stages above 2).
fstage:
	CMPQ R10, $4
	JB   flast
	XORQ R11, R11                  // group i
	MOVQ DI, BX                    // &x[0] of group i

fgroup:
	LEAQ         (R9)(R11*1), R12
	VPBROADCASTQ (SI)(R12*8), Y13  // w[m+i]
	VPBROADCASTQ (R8)(R12*8), Y12  // w'[m+i]
	LEAQ         (BX)(R10*8), DX   // &y[0] = &x[h]
	MOVQ         R10, R13

floop:
	VMOVDQU (BX), Y0
	VMOVDQU (DX), Y1
	FWD(Y0, Y1, Y13, Y12, Y2)
	VMOVDQU Y0, (BX)
	VMOVDQU Y1, (DX)
	ADDQ    $32, BX
	ADDQ    $32, DX
	SUBQ    $4, R13
	JNZ     floop
	MOVQ    DX, BX                 // the next group starts after this y half
	INCQ    R11
	CMPQ    R11, R9
	JB      fgroup
	SHLQ    $1, R9
	SHRQ    $1, R10
	JMP     fstage

	// The last two stages (h = 2 with m = N/4, h = 1 with m = N/2), fused,
	// on blocks of 8 values a0..a7, followed by the reduction to [0, q).
flast:
	LEAQ (SI)(R9*8), R11           // &w[N/4]
	LEAQ (R8)(R9*8), R12           // &w'[N/4]
	LEAQ (R9)(R9*1), AX            // N/2
	LEAQ (SI)(AX*8), R13           // &w[N/2]
	LEAQ (R8)(AX*8), R14           // &w'[N/2]
	MOVQ CX, DX
	SHRQ $3, DX
	MOVQ DI, BX

flast8:
	VMOVDQU    (BX), Y0            // a0 a1 a2 a3
	VMOVDQU    32(BX), Y1          // a4 a5 a6 a7
	VPERM2I128 $0x20, Y1, Y0, Y2   // x: a0 a1 a4 a5
	VPERM2I128 $0x31, Y1, Y0, Y3   // y: a2 a3 a6 a7
	VPERMQ     $0x50, (R11), Y4    // w[2b] w[2b] w[2b+1] w[2b+1]
	VPERMQ     $0x50, (R12), Y5
	FWD(Y2, Y3, Y4, Y5, Y6)
	VPUNPCKLQDQ Y3, Y2, Y0         // x: a0 a2 a4 a6
	VPUNPCKHQDQ Y3, Y2, Y1         // y: a1 a3 a5 a7
	VMOVDQU     (R13), Y4          // w[4b .. 4b+3]
	VMOVDQU     (R14), Y5
	FWD(Y0, Y1, Y4, Y5, Y6)
	CSUB(Y0, Y14, Y6)
	CSUB(Y0, Y15, Y6)
	CSUB(Y1, Y14, Y6)
	CSUB(Y1, Y15, Y6)
	VPUNPCKLQDQ Y1, Y0, Y2         // a0 a1 a4 a5
	VPUNPCKHQDQ Y1, Y0, Y3         // a2 a3 a6 a7
	VPERM2I128  $0x20, Y3, Y2, Y0  // a0 a1 a2 a3
	VPERM2I128  $0x31, Y3, Y2, Y1  // a4 a5 a6 a7
	VMOVDQU     Y0, (BX)
	VMOVDQU     Y1, 32(BX)
	ADDQ        $64, BX
	ADDQ        $16, R11
	ADDQ        $16, R12
	ADDQ        $32, R13
	ADDQ        $32, R14
	DECQ        DX
	JNZ         flast8
	VZEROUPPER
	RET

// SHOUPZ and INVZ are SHOUP and INV on eight lanes (AVX-512, Z15 = q,
// Z14 = 2q).
#define SHOUPZ(X, W, WS, T) \
	VPMULUDQ WS, X, T \
	VPSRLQ   $32, T, T \
	VPMULUDQ Z15, T, T \
	VPMULUDQ W, X, X \
	VPSUBQ   T, X, X

#define INVZ(X, Y, W, WS, T) \
	VPADDQ  Y, X, T \
	VPSUBQ  Y, X, Y \
	VPADDQ  Z14, Y, Y \
	VPSUBD  Z14, T, X \
	VPMINUD X, T, X \
	SHOUPZ(Y, W, WS, T)

// func inverse32AVX2(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS, avx512 uint64)
//
// With avx512 != 0 (AVX-512F available), the radix-4 passes with h >= 8
// run on eight lanes.
TEXT ·inverse32AVX2(SB), NOSPLIT, $0-120
	MOVQ         a_base+0(FP), DI
	MOVQ         a_len+8(FP), CX
	MOVQ         wi_base+24(FP), SI
	MOVQ         wis_base+48(FP), R8
	VPBROADCASTQ q+72(FP), Y15
	VPADDQ       Y15, Y15, Y14

	// The first two stages (h = 1 with m = N/2, h = 2 with m = N/4), fused,
	// on blocks of 8 values a0..a7.
	MOVQ CX, R9
	SHRQ $2, R9                    // N/4
	LEAQ (R9)(R9*1), AX            // N/2
	LEAQ (SI)(AX*8), R13           // &wi[N/2]
	LEAQ (R8)(AX*8), R14
	LEAQ (SI)(R9*8), R11           // &wi[N/4]
	LEAQ (R8)(R9*8), R12
	MOVQ CX, DX
	SHRQ $3, DX
	MOVQ DI, BX

ifirst8:
	VMOVDQU     (BX), Y0           // a0 a1 a2 a3
	VMOVDQU     32(BX), Y1         // a4 a5 a6 a7
	VPUNPCKLQDQ Y1, Y0, Y2         // x: a0 a4 a2 a6 (groups 4b, 4b+2, 4b+1, 4b+3)
	VPUNPCKHQDQ Y1, Y0, Y3         // y: a1 a5 a3 a7
	VPERMQ      $0xD8, (R13), Y4   // wi[4b] wi[4b+2] wi[4b+1] wi[4b+3]
	VPERMQ      $0xD8, (R14), Y5
	INV(Y2, Y3, Y4, Y5, Y6)
	VPUNPCKLQDQ Y3, Y2, Y0         // a0 a1 a2 a3
	VPUNPCKHQDQ Y3, Y2, Y1         // a4 a5 a6 a7
	VPERM2I128  $0x20, Y1, Y0, Y2  // x: a0 a1 a4 a5
	VPERM2I128  $0x31, Y1, Y0, Y3  // y: a2 a3 a6 a7
	VPERMQ      $0x50, (R11), Y4   // wi[2b] wi[2b] wi[2b+1] wi[2b+1]
	VPERMQ      $0x50, (R12), Y5
	INV(Y2, Y3, Y4, Y5, Y6)
	VPERM2I128  $0x20, Y3, Y2, Y0  // a0 a1 a2 a3
	VPERM2I128  $0x31, Y3, Y2, Y1  // a4 a5 a6 a7
	VMOVDQU     Y0, (BX)
	VMOVDQU     Y1, 32(BX)
	ADDQ        $64, BX
	ADDQ        $32, R13
	ADDQ        $32, R14
	ADDQ        $16, R11
	ADDQ        $16, R12
	DECQ        DX
	JNZ         ifirst8

	// Middle stages h = 4, 8, ... while m >= 2, two per pass (radix 4)
	// while m >= 4: stage (m, h) on (a0, a1) with wi[m+2i] and (a2, a3)
	// with wi[m+2i+1], then stage (m/2, 2h) on (a0, a2), (a1, a3) with
	// wi[m/2+i], where a_k = x[4ih + k·h + j].
	MOVQ CX, R9
	SHRQ $3, R9                    // m = N/8
	MOVQ $4, R10                   // h
	MOVQ avx512+112(FP), DX

istage4:
	CMPQ R9, $4
	JB   istage
	XORQ R11, R11                  // block i
	MOVQ DI, BX
	MOVQ R10, R13
	SHLQ $3, R13                   // h values in bytes
	LEAQ (R13)(R13*2), R15         // 3h values in bytes
	MOVQ R9, R14
	SHRQ $1, R14                   // m/2 blocks
	TESTQ DX, DX
	JZ    igroup4
	CMPQ  R10, $8
	JAE   zigroup4

igroup4:
	LEAQ         (R9)(R11*2), R12
	VPBROADCASTQ (SI)(R12*8), Y13  // wi[m+2i]
	VPBROADCASTQ (R8)(R12*8), Y12
	VPBROADCASTQ 8(SI)(R12*8), Y11 // wi[m+2i+1]
	VPBROADCASTQ 8(R8)(R12*8), Y10
	LEAQ         (R14)(R11*1), R12
	VPBROADCASTQ (SI)(R12*8), Y9   // wi[m/2+i]
	VPBROADCASTQ (R8)(R12*8), Y8
	MOVQ         R10, AX

iloop4:
	VMOVDQU (BX), Y0
	VMOVDQU (BX)(R13*1), Y1
	VMOVDQU (BX)(R13*2), Y2
	VMOVDQU (BX)(R15*1), Y3
	INV(Y0, Y1, Y13, Y12, Y4)
	INV(Y2, Y3, Y11, Y10, Y4)
	INV(Y0, Y2, Y9, Y8, Y4)
	INV(Y1, Y3, Y9, Y8, Y4)
	VMOVDQU Y0, (BX)
	VMOVDQU Y1, (BX)(R13*1)
	VMOVDQU Y2, (BX)(R13*2)
	VMOVDQU Y3, (BX)(R15*1)
	ADDQ    $32, BX
	SUBQ    $4, AX
	JNZ     iloop4
	ADDQ    R15, BX                // next block: base + 4h
	INCQ    R11
	CMPQ    R11, R14
	JB      igroup4
	SHRQ    $2, R9
	SHLQ    $2, R10
	JMP     istage4

	// The same pass on eight lanes (AVX-512, h >= 8).
zigroup4:
	VPBROADCASTQ q+72(FP), Z15
	VPADDQ       Z15, Z15, Z14

zigroup4b:
	LEAQ         (R9)(R11*2), R12
	VPBROADCASTQ (SI)(R12*8), Z13  // wi[m+2i]
	VPBROADCASTQ (R8)(R12*8), Z12
	VPBROADCASTQ 8(SI)(R12*8), Z11 // wi[m+2i+1]
	VPBROADCASTQ 8(R8)(R12*8), Z10
	LEAQ         (R14)(R11*1), R12
	VPBROADCASTQ (SI)(R12*8), Z9   // wi[m/2+i]
	VPBROADCASTQ (R8)(R12*8), Z8
	MOVQ         R10, AX

ziloop4:
	VMOVDQU64 (BX), Z0
	VMOVDQU64 (BX)(R13*1), Z1
	VMOVDQU64 (BX)(R13*2), Z2
	VMOVDQU64 (BX)(R15*1), Z3
	INVZ(Z0, Z1, Z13, Z12, Z4)
	INVZ(Z2, Z3, Z11, Z10, Z5)
	INVZ(Z0, Z2, Z9, Z8, Z4)
	INVZ(Z1, Z3, Z9, Z8, Z5)
	VMOVDQU64 Z0, (BX)
	VMOVDQU64 Z1, (BX)(R13*1)
	VMOVDQU64 Z2, (BX)(R13*2)
	VMOVDQU64 Z3, (BX)(R15*1)
	ADDQ      $64, BX
	SUBQ      $8, AX
	JNZ       ziloop4
	ADDQ      R15, BX
	INCQ      R11
	CMPQ      R11, R14
	JB        zigroup4b
	SHRQ      $2, R9
	SHLQ      $2, R10
	JMP       istage4

	// One single stage when m = 2 remains.
istage:
	CMPQ R9, $2
	JB   ilast
	XORQ R11, R11
	MOVQ DI, BX

igroup:
	LEAQ         (R9)(R11*1), R12
	VPBROADCASTQ (SI)(R12*8), Y13
	VPBROADCASTQ (R8)(R12*8), Y12
	LEAQ         (BX)(R10*8), DX
	MOVQ         R10, R13

iloop:
	VMOVDQU (BX), Y0
	VMOVDQU (DX), Y1
	INV(Y0, Y1, Y13, Y12, Y2)
	VMOVDQU Y0, (BX)
	VMOVDQU Y1, (DX)
	ADDQ    $32, BX
	ADDQ    $32, DX
	SUBQ    $4, R13
	JNZ     iloop
	MOVQ    DX, BX
	INCQ    R11
	CMPQ    R11, R9
	JB      igroup
	SHRQ    $1, R9
	SHLQ    $1, R10
	JMP     istage

	// Last stage (m = 1, h = N/2) merged with N^{-1}:
	// x' = (u+v)·N^{-1}, y' = (u−v+2q)·N^{-1}·wi[1], reduced to [0, q).
ilast:
	VPBROADCASTQ nInv+80(FP), Y13
	VPBROADCASTQ nInvS+88(FP), Y12
	VPBROADCASTQ nInvW+96(FP), Y11
	VPBROADCASTQ nInvWS+104(FP), Y10
	MOVQ         CX, R13
	SHRQ         $1, R13
	MOVQ         DI, BX
	LEAQ         (DI)(R13*8), DX

ilastloop:
	VMOVDQU (BX), Y0
	VMOVDQU (DX), Y1
	VPADDQ  Y1, Y0, Y2
	VPSUBQ  Y1, Y0, Y3
	VPADDQ  Y14, Y3, Y3
	SHOUP(Y2, Y13, Y12, Y4)
	SHOUP(Y3, Y11, Y10, Y4)
	CSUB(Y2, Y15, Y4)
	CSUB(Y3, Y15, Y4)
	VMOVDQU Y2, (BX)
	VMOVDQU Y3, (DX)
	ADDQ    $32, BX
	ADDQ    $32, DX
	SUBQ    $4, R13
	JNZ     ilastloop
	VZEROUPPER
	RET
