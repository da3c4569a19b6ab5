//go:build !purego

#include "textflag.h"

// AVX2 NTT kernels for moduli q < 2^50 in float64 (the "wide" kernels; see
// ntt_wide.go for the bounds, ntt_wide_amd64.go for the Go declarations).
// Four residues per register, each an exact integer held as a double.
// Register conventions: Y15 = q, Y14 = fl(1/q), Y13 = 2^52 (its bits,
// 0x4330000000000000, are also the mask that converts to and from
// uint64), Y8 = 0.

// MULMOD sets Y = r ≡ Y·W (mod q), |r| < q·(1/2 + |Y|·2^-52·(1+u)), for an
// integer |Y| <= 2^51, W = w < q, WQ = fl(w/q). C and H are clobbered.
//   C = round(Y·WQ)      quotient, within 1/2 + |Y|·2^-52·(1+u) of Y·w/q
//   H = fl(Y·W)          rounded product
//   Y = Y·W − H          its exact error (one rounding of an exact value)
//   H = H − C·q          exact (an integer below 2^53)
//   Y = H + Y            = Y·w − C·q exactly
#define MULMOD(Y, W, WQ, C, H) \
	VMULPD       WQ, Y, C \
	VROUNDPD     $0, C, C \
	VMULPD       W, Y, H \
	VFMSUB213PD  H, W, Y \
	VFNMADD231PD Y15, C, H \
	VADDPD       H, Y, Y

// REDUCE sets X = X − round(X·fl(1/q))·q ≡ X (mod q): |X| <= q/2 + 1 for
// an integer |X| <= 4q. C is clobbered.
#define REDUCE(X, C) \
	VMULPD       Y14, X, C \
	VROUNDPD     $0, C, C \
	VFNMADD231PD Y15, C, X

// TODOUBLE converts X (uint64 lanes below 2^52) to doubles: the bits
// X | 2^52's bits are the double 2^52 + X.
#define TODOUBLE(X) \
	VPOR   Y13, X, X \
	VSUBPD Y13, X, X

// OUT converts X (integer doubles, −q < X < q) to uint64 lanes in [0, q):
// q is added where X < 0 (a compare, not the sign bit, so −0 stays 0),
// then 2^52 + X (exact, X < 2^52) has X in its low 52 bits. C is
// clobbered.
#define OUT(X, C) \
	VCMPPD $1, Y8, X, C \
	VANDPD Y15, C, C \
	VADDPD C, X, X \
	VADDPD Y13, X, X \
	VXORPD Y13, X, X

// FWDFULLT: Cooley–Tukey butterfly (X, T) = (u + v, u − v) with
// u = REDUCE(X), v = MULMOD(Y, W, WQ): the second output in T (the hot
// loops store it from there; FWDFULL moves it to Y). Y, U are clobbered.
#define FWDFULLT(X, Y, W, WQ, T, U) \
	REDUCE(X, T) \
	MULMOD(Y, W, WQ, T, U) \
	VSUBPD Y, X, T \
	VADDPD Y, X, X

#define FWDFULL(X, Y, W, WQ, T, U) \
	FWDFULLT(X, Y, W, WQ, T, U) \
	VMOVAPD T, Y

// FWDLAZYT: FWDFULLT without the reduction of X.
#define FWDLAZYT(X, Y, W, WQ, T, U) \
	MULMOD(Y, W, WQ, T, U) \
	VSUBPD Y, X, T \
	VADDPD Y, X, X

// INVT: Gentleman–Sande butterfly (X, T) = (REDUCE(X + Y),
// MULMOD(X − Y, W, WQ)), the second output in T (INV moves it to Y). Y, U
// are clobbered.
#define INVT(X, Y, W, WQ, T, U) \
	VSUBPD Y, X, T \
	VADDPD Y, X, X \
	REDUCE(X, Y) \
	MULMOD(T, W, WQ, Y, U)

#define INV(X, Y, W, WQ, T, U) \
	INVT(X, Y, W, WQ, T, U) \
	VMOVAPD T, Y

// INVLAZYT: INVT without the reduction of X + Y.
#define INVLAZYT(X, Y, W, WQ, T, U) \
	VSUBPD Y, X, T \
	VADDPD Y, X, X \
	MULMOD(T, W, WQ, Y, U)

// SETUP loads the constants of the register conventions.
#define SETUP \
	VBROADCASTSD q+72(FP), Y15 \
	VBROADCASTSD qInv+80(FP), Y14 \
	MOVQ         $0x4330000000000000, AX \
	MOVQ         AX, X13 \
	VPBROADCASTQ X13, Y13 \
	VXORPD       Y8, Y8, Y8

// func forwardWideAVX2(a []uint64, w, wq []float64, q, qInv float64, lazy uint64)
TEXT ·forwardWideAVX2(SB), NOSPLIT, $0-96
	MOVQ a_base+0(FP), DI
	MOVQ a_len+8(FP), CX
	MOVQ w_base+24(FP), SI
	MOVQ wq_base+48(FP), R8
	MOVQ lazy+88(FP), DX
	SETUP
	LEAQ (DI)(CX*8), R15            // end of a

	// First stage (m = 1, h = N/2, twiddle w[1]): convert both halves
	// from uint64 in [0, 4q) and reduce them to |x| <= q/2 + 1 first.
	MOVQ         CX, R13
	SHLQ         $2, R13            // h in bytes
	VBROADCASTSD 8(SI), Y12
	VBROADCASTSD 8(R8), Y11
	MOVQ         DI, AX
	LEAQ         (DI)(R13*1), R14   // end of the x half

ffirst:
	VMOVDQU (AX), Y0
	VMOVDQU (AX)(R13*1), Y1
	TODOUBLE(Y0)
	TODOUBLE(Y1)
	REDUCE(Y1, Y2)
	FWDFULLT(Y0, Y1, Y12, Y11, Y2, Y3)
	VMOVUPD Y0, (AX)
	VMOVUPD Y2, (AX)(R13*1)
	ADDQ    $32, AX
	CMPQ    AX, R14
	JB      ffirst

	// Stages m = 2 .. while h >= 4: group i (2h values from 2ih) with
	// twiddle w[m+i], four butterflies per step.
	MOVQ $2, R9                     // m
	MOVQ CX, R10
	SHRQ $2, R10                    // h = N/4

fstage:
	CMPQ R10, $4
	JB   fh2
	MOVQ R10, R13
	SHLQ $3, R13                    // h in bytes
	XORQ R11, R11                   // group i
	MOVQ DI, BX                     // &x of group i

fgroup:
	LEAQ         (R9)(R11*1), R12
	VBROADCASTSD (SI)(R12*8), Y12   // w[m+i]
	VBROADCASTSD (R8)(R12*8), Y11   // wq[m+i]
	MOVQ         BX, AX
	LEAQ         (BX)(R13*1), R14   // end of the x half
	TESTQ        DX, DX
	JZ           floopfull

floop:
	VMOVUPD (AX), Y0
	VMOVUPD (AX)(R13*1), Y1
	FWDLAZYT(Y0, Y1, Y12, Y11, Y2, Y3)
	VMOVUPD Y0, (AX)
	VMOVUPD Y2, (AX)(R13*1)
	ADDQ    $32, AX
	CMPQ    AX, R14
	JB      floop
	JMP     fnext

floopfull:
	VMOVUPD (AX), Y0
	VMOVUPD (AX)(R13*1), Y1
	FWDFULLT(Y0, Y1, Y12, Y11, Y2, Y3)
	VMOVUPD Y0, (AX)
	VMOVUPD Y2, (AX)(R13*1)
	ADDQ    $32, AX
	CMPQ    AX, R14
	JB      floopfull

fnext:
	LEAQ (BX)(R13*2), BX
	INCQ R11
	CMPQ R11, R9
	JB   fgroup
	SHLQ $1, R9
	SHRQ $1, R10
	JMP  fstage

	// Stage h = 2 (m = N/4): two groups per step. A = [x0 x1 y0 y1] of
	// group 2p, B the same of group 2p+1; X = [A.lo B.lo], Y = [A.hi B.hi]
	// and the twiddles [w w w' w'] (VPERMPD 0x50 of w[m+2p], w[m+2p+1]).
	// Reads w[m+2p .. m+2p+3], all below N.
fh2:
	LEAQ (SI)(R9*8), R11
	LEAQ (R8)(R9*8), R12
	MOVQ DI, BX

fh2loop:
	VMOVUPD    (BX), Y4
	VMOVUPD    32(BX), Y5
	VPERM2F128 $0x20, Y5, Y4, Y0
	VPERM2F128 $0x31, Y5, Y4, Y1
	VPERMPD    $0x50, (R11), Y12
	VPERMPD    $0x50, (R12), Y11
	FWDFULL(Y0, Y1, Y12, Y11, Y2, Y3)
	VPERM2F128 $0x20, Y1, Y0, Y4
	VPERM2F128 $0x31, Y1, Y0, Y5
	VMOVUPD    Y4, (BX)
	VMOVUPD    Y5, 32(BX)
	ADDQ       $64, BX
	ADDQ       $16, R11
	ADDQ       $16, R12
	CMPQ       BX, R15
	JB         fh2loop

	// Last stage h = 1 (m = N/2): four groups per step. A = [x0 y0 x1 y1],
	// B = [x2 y2 x3 y3]; X = unpacklo = [x0 x2 x1 x3], Y = unpackhi, and
	// the twiddles w[m+4p..m+4p+3] permuted the same way (VPERMPD 0xD8).
	// Both outputs are reduced and converted to uint64 in [0, q).
	SHLQ $1, R9
	LEAQ (SI)(R9*8), R11
	LEAQ (R8)(R9*8), R12
	MOVQ DI, BX

fh1loop:
	VMOVUPD   (BX), Y4
	VMOVUPD   32(BX), Y5
	VUNPCKLPD Y5, Y4, Y0
	VUNPCKHPD Y5, Y4, Y1
	VPERMPD   $0xD8, (R11), Y12
	VPERMPD   $0xD8, (R12), Y11
	FWDFULL(Y0, Y1, Y12, Y11, Y2, Y3)
	REDUCE(Y0, Y2)
	REDUCE(Y1, Y3)
	OUT(Y0, Y2)
	OUT(Y1, Y3)
	VUNPCKLPD Y1, Y0, Y4
	VUNPCKHPD Y1, Y0, Y5
	VMOVDQU   Y4, (BX)
	VMOVDQU   Y5, 32(BX)
	ADDQ      $64, BX
	ADDQ      $32, R11
	ADDQ      $32, R12
	CMPQ      BX, R15
	JB        fh1loop

	VZEROUPPER
	RET

// func inverseWideAVX2(a []uint64, wi, wiq []float64, q, qInv, nInv, nInvQ, nInvW, nInvWQ float64, lazy uint64)
TEXT ·inverseWideAVX2(SB), NOSPLIT, $0-128
	MOVQ a_base+0(FP), DI
	MOVQ a_len+8(FP), CX
	MOVQ wi_base+24(FP), SI
	MOVQ wiq_base+48(FP), R8
	MOVQ lazy+120(FP), DX
	SETUP
	LEAQ (DI)(CX*8), R15            // end of a

	// First stage h = 1 (m = N/2), converting the inputs (uint64 in
	// [0, 2q)); same lane layout as the forward's last stage.
	MOVQ CX, R9
	SHRQ $1, R9                     // m = N/2
	LEAQ (SI)(R9*8), R11
	LEAQ (R8)(R9*8), R12
	MOVQ DI, BX

ih1loop:
	VMOVDQU   (BX), Y4
	VMOVDQU   32(BX), Y5
	TODOUBLE(Y4)
	TODOUBLE(Y5)
	VUNPCKLPD Y5, Y4, Y0
	VUNPCKHPD Y5, Y4, Y1
	VPERMPD   $0xD8, (R11), Y12
	VPERMPD   $0xD8, (R12), Y11
	INV(Y0, Y1, Y12, Y11, Y2, Y3)
	VUNPCKLPD Y1, Y0, Y4
	VUNPCKHPD Y1, Y0, Y5
	VMOVUPD   Y4, (BX)
	VMOVUPD   Y5, 32(BX)
	ADDQ      $64, BX
	ADDQ      $32, R11
	ADDQ      $32, R12
	CMPQ      BX, R15
	JB        ih1loop

	// Stage h = 2 (m = N/4); lane layout as the forward's.
	SHRQ $1, R9
	LEAQ (SI)(R9*8), R11
	LEAQ (R8)(R9*8), R12
	MOVQ DI, BX

ih2loop:
	VMOVUPD    (BX), Y4
	VMOVUPD    32(BX), Y5
	VPERM2F128 $0x20, Y5, Y4, Y0
	VPERM2F128 $0x31, Y5, Y4, Y1
	VPERMPD    $0x50, (R11), Y12
	VPERMPD    $0x50, (R12), Y11
	INV(Y0, Y1, Y12, Y11, Y2, Y3)
	VPERM2F128 $0x20, Y1, Y0, Y4
	VPERM2F128 $0x31, Y1, Y0, Y5
	VMOVUPD    Y4, (BX)
	VMOVUPD    Y5, 32(BX)
	ADDQ       $64, BX
	ADDQ       $16, R11
	ADDQ       $16, R12
	CMPQ       BX, R15
	JB         ih2loop

	// Stages h = 4 .. while m >= 2: group i with twiddle wi[m+i]; with
	// lazy set, x + y is not reduced (see ntt_wide.go).
	SHRQ $1, R9                     // m = N/8
	MOVQ $4, R10                    // h

istage:
	CMPQ R9, $2
	JB   ilast
	MOVQ R10, R13
	SHLQ $3, R13                    // h in bytes
	XORQ R11, R11
	MOVQ DI, BX

igroup:
	LEAQ         (R9)(R11*1), R12
	VBROADCASTSD (SI)(R12*8), Y12
	VBROADCASTSD (R8)(R12*8), Y11
	MOVQ         BX, AX
	LEAQ         (BX)(R13*1), R14
	TESTQ        DX, DX
	JNZ          iloopLazy

iloop:
	VMOVUPD (AX), Y0
	VMOVUPD (AX)(R13*1), Y1
	INVT(Y0, Y1, Y12, Y11, Y2, Y3)
	VMOVUPD Y0, (AX)
	VMOVUPD Y2, (AX)(R13*1)
	ADDQ    $32, AX
	CMPQ    AX, R14
	JB      iloop
	JMP     inext

iloopLazy:
	VMOVUPD (AX), Y0
	VMOVUPD (AX)(R13*1), Y1
	INVLAZYT(Y0, Y1, Y12, Y11, Y2, Y3)
	VMOVUPD Y0, (AX)
	VMOVUPD Y2, (AX)(R13*1)
	ADDQ    $32, AX
	CMPQ    AX, R14
	JB      iloopLazy

inext:
	LEAQ    (BX)(R13*2), BX
	INCQ    R11
	CMPQ    R11, R9
	JB      igroup
	SHRQ    $1, R9
	SHLQ    $1, R10
	JMP     istage

	// Last stage (m = 1, h = N/2) merged with N^{-1}: x' = (x+y)·N^{-1},
	// y' = (x−y)·N^{-1}·w[1]^{-1}, converted to uint64 in [0, q).
ilast:
	VBROADCASTSD nInv+88(FP), Y12
	VBROADCASTSD nInvQ+96(FP), Y11
	VBROADCASTSD nInvW+104(FP), Y10
	VBROADCASTSD nInvWQ+112(FP), Y9
	MOVQ         CX, R13
	SHLQ         $2, R13            // N/2 in bytes
	MOVQ         DI, AX
	LEAQ         (DI)(R13*1), R14

ilastloop:
	VMOVUPD (AX), Y0
	VMOVUPD (AX)(R13*1), Y1
	VSUBPD  Y1, Y0, Y4
	VADDPD  Y1, Y0, Y0
	MULMOD(Y0, Y12, Y11, Y2, Y3)
	MULMOD(Y4, Y10, Y9, Y2, Y3)
	OUT(Y0, Y2)
	OUT(Y4, Y3)
	VMOVDQU Y0, (AX)
	VMOVDQU Y4, (AX)(R13*1)
	ADDQ    $32, AX
	CMPQ    AX, R14
	JB      ilastloop

	VZEROUPPER
	RET
