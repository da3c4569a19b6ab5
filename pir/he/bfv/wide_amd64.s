//go:build !purego

#include "textflag.h"

// AVX2 row kernels for moduli q < 2^50 in float64 (the "wide" kernels; see
// wide.go for the bounds, wide_amd64.go for the Go declarations). Four
// residues per register, each an exact integer held as a double; every
// kernel reads uint64 residues and writes uint64 residues in [0, q)
// (keyMulRowWideAVX2's accumulating modes keep doubles in o between
// calls). Lengths are multiples of 4.
// Register conventions: Y15 = q, Y14 = fl(1/q), Y13 = 2^52 (its bits,
// 0x4330000000000000, also convert to and from uint64), Y8 = 0.

// MULMOD sets Y = r ≡ Y·W (mod q) for an integer |Y| <= 2^51, a constant
// W = w < q and WQ = fl(w/q): |r| < q for |Y| <= 2q (wide.go). C, H are
// clobbered.
#define MULMOD(Y, W, WQ, C, H) \
	VMULPD       WQ, Y, C \
	VROUNDPD     $0, C, C \
	VMULPD       W, Y, H \
	VFMSUB213PD  H, W, Y \
	VFNMADD231PD Y15, C, H \
	VADDPD       H, Y, Y

// VARMUL sets A = r ≡ A·B (mod q) for integers |A|, |B| < q (both vary):
// the quotient is round(fl(fl(A·B)·fl(1/q))), within 1/2 + 3.01u·q <
// 0.88 of A·B/q, so |r| < 0.88q (wide.go). C, H are clobbered.
#define VARMUL(A, B, C, H) \
	VMULPD       B, A, H \
	VMULPD       Y14, H, C \
	VROUNDPD     $0, C, C \
	VFMSUB213PD  H, B, A \
	VFNMADD231PD Y15, C, H \
	VADDPD       H, A, A

// REDUCE sets X = X − round(X·fl(1/q))·q ≡ X (mod q), |X| < q/2 + 1 for
// an integer |X| < 2^52. C is clobbered.
#define REDUCE(X, C) \
	VMULPD       Y14, X, C \
	VROUNDPD     $0, C, C \
	VFNMADD231PD Y15, C, X

// TODOUBLE converts X (uint64 lanes below 2^52) to doubles.
#define TODOUBLE(X) \
	VPOR   Y13, X, X \
	VSUBPD Y13, X, X

// OUT converts X (integer doubles, −q < X < q) to uint64 lanes in [0, q):
// q is added where X < 0 (a compare, so −0 stays 0), then the low 52 bits
// of 2^52 + X are X. C is clobbered.
#define OUT(X, C) \
	VCMPPD $1, Y8, X, C \
	VANDPD Y15, C, C \
	VADDPD C, X, X \
	VADDPD Y13, X, X \
	VXORPD Y13, X, X

// SETUP loads the register conventions other than Y15 and Y14 (which
// each kernel broadcasts from its arguments).
#define SETUP \
	MOVQ         $0x4330000000000000, AX \
	MOVQ         AX, X13 \
	VPBROADCASTQ X13, Y13 \
	VXORPD       Y8, Y8, Y8

// func keyMulRowWideAVX2(o0, o1, x, k0, k1 []uint64, q, qInv float64, mode uint64)
//
// p_i = VARMUL(x, k_i), |p_i| < 0.88q. Modes (wideSet .. wideSetOut):
// 0: o_i = p_i (doubles); 1: o_i += p_i (doubles); 2: o_i = (o_i + p_i)
// mod q, uint64 in [0, q); 3: o_i = p_i mod q, uint64.
TEXT ·keyMulRowWideAVX2(SB), NOSPLIT, $0-144
	MOVQ o0_base+0(FP), DI
	MOVQ o0_len+8(FP), CX
	MOVQ o1_base+24(FP), SI
	MOVQ x_base+48(FP), DX
	MOVQ k0_base+72(FP), R8
	MOVQ k1_base+96(FP), R9
	MOVQ mode+136(FP), R10
	VBROADCASTSD q+120(FP), Y15
	VBROADCASTSD qInv+128(FP), Y14
	SETUP
	XORQ BX, BX                     // byte offset
	SHLQ $3, CX                     // length in bytes
	CMPQ R10, $1
	JB   kset
	JE   kacc
	CMPQ R10, $2
	JE   kaccout

ksetout:
	VMOVDQU (DX)(BX*1), Y0
	VMOVDQU (R8)(BX*1), Y1
	VMOVDQU (R9)(BX*1), Y2
	TODOUBLE(Y0)
	TODOUBLE(Y1)
	TODOUBLE(Y2)
	VARMUL(Y1, Y0, Y3, Y4)
	VARMUL(Y2, Y0, Y5, Y6)
	OUT(Y1, Y3)
	OUT(Y2, Y5)
	VMOVDQU Y1, (DI)(BX*1)
	VMOVDQU Y2, (SI)(BX*1)
	ADDQ    $32, BX
	CMPQ    BX, CX
	JB      ksetout
	VZEROUPPER
	RET

kset:
	VMOVDQU (DX)(BX*1), Y0
	VMOVDQU (R8)(BX*1), Y1
	VMOVDQU (R9)(BX*1), Y2
	TODOUBLE(Y0)
	TODOUBLE(Y1)
	TODOUBLE(Y2)
	VARMUL(Y1, Y0, Y3, Y4)
	VARMUL(Y2, Y0, Y5, Y6)
	VMOVUPD Y1, (DI)(BX*1)
	VMOVUPD Y2, (SI)(BX*1)
	ADDQ    $32, BX
	CMPQ    BX, CX
	JB      kset
	VZEROUPPER
	RET

kacc:
	VMOVDQU (DX)(BX*1), Y0
	VMOVDQU (R8)(BX*1), Y1
	VMOVDQU (R9)(BX*1), Y2
	TODOUBLE(Y0)
	TODOUBLE(Y1)
	TODOUBLE(Y2)
	VARMUL(Y1, Y0, Y3, Y4)
	VARMUL(Y2, Y0, Y5, Y6)
	VADDPD  (DI)(BX*1), Y1, Y1
	VADDPD  (SI)(BX*1), Y2, Y2
	VMOVUPD Y1, (DI)(BX*1)
	VMOVUPD Y2, (SI)(BX*1)
	ADDQ    $32, BX
	CMPQ    BX, CX
	JB      kacc
	VZEROUPPER
	RET

kaccout:
	VMOVDQU (DX)(BX*1), Y0
	VMOVDQU (R8)(BX*1), Y1
	VMOVDQU (R9)(BX*1), Y2
	TODOUBLE(Y0)
	TODOUBLE(Y1)
	TODOUBLE(Y2)
	VARMUL(Y1, Y0, Y3, Y4)
	VARMUL(Y2, Y0, Y5, Y6)
	VADDPD  (DI)(BX*1), Y1, Y1
	VADDPD  (SI)(BX*1), Y2, Y2
	REDUCE(Y1, Y3)
	REDUCE(Y2, Y5)
	OUT(Y1, Y3)
	OUT(Y2, Y5)
	VMOVDQU Y1, (DI)(BX*1)
	VMOVDQU Y2, (SI)(BX*1)
	ADDQ    $32, BX
	CMPQ    BX, CX
	JB      kaccout
	VZEROUPPER
	RET

// func dropWideAVX2(dst, src, last []uint64, qLast, half, hmK uint64, q, qInv, inv, invQ float64)
//
// drop52Go's row: r = (last + half) mod qLast (integer lanes: r − qLast
// is negative, as a signed 64-bit value, exactly when r < qLast, and
// VBLENDVPD selects on that sign), v = src + hmK − r in (0, 2^52), then
// dst = REDUCE(v)·inv mod q in [0, q).
TEXT ·dropWideAVX2(SB), NOSPLIT, $0-128
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         src_base+24(FP), SI
	MOVQ         last_base+48(FP), DX
	VPBROADCASTQ qLast+72(FP), Y12
	VPBROADCASTQ half+80(FP), Y11
	VPBROADCASTQ hmK+88(FP), Y10
	VBROADCASTSD q+96(FP), Y15
	VBROADCASTSD qInv+104(FP), Y14
	SETUP
	VBROADCASTSD inv+112(FP), Y9
	VBROADCASTSD invQ+120(FP), Y7
	XORQ         BX, BX
	SHLQ         $3, CX

dloop:
	VMOVDQU   (DX)(BX*1), Y0
	VPADDQ    Y11, Y0, Y0           // r = last + half
	VPSUBQ    Y12, Y0, Y1           // r − qLast
	VBLENDVPD Y1, Y0, Y1, Y0        // r < qLast ? r : r − qLast
	VMOVDQU   (SI)(BX*1), Y2
	VPADDQ    Y10, Y2, Y2
	VPSUBQ    Y0, Y2, Y2            // v = x + hmK − r
	TODOUBLE(Y2)
	REDUCE(Y2, Y3)
	MULMOD(Y2, Y9, Y7, Y3, Y4)
	OUT(Y2, Y3)
	VMOVDQU   Y2, (DI)(BX*1)
	ADDQ      $32, BX
	CMPQ      BX, CX
	JB        dloop
	VZEROUPPER
	RET

// func mulAddConstWideAVX2(dst, x, t []uint64, q, qInv, w, wq float64)
//
// dst = (x·w + t) mod q for x < 2^52, t < q (dst may alias t).
TEXT ·mulAddConstWideAVX2(SB), NOSPLIT, $0-104
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         t_base+48(FP), DX
	VBROADCASTSD q+72(FP), Y15
	VBROADCASTSD qInv+80(FP), Y14
	SETUP
	VBROADCASTSD w+88(FP), Y12
	VBROADCASTSD wq+96(FP), Y11
	XORQ         BX, BX
	SHLQ         $3, CX

mloop:
	VMOVDQU (SI)(BX*1), Y0
	VMOVDQU (DX)(BX*1), Y1
	TODOUBLE(Y0)
	TODOUBLE(Y1)
	REDUCE(Y0, Y2)
	MULMOD(Y0, Y12, Y11, Y2, Y3)
	VADDPD  Y1, Y0, Y0              // |x·w + t| < 2q
	REDUCE(Y0, Y2)
	OUT(Y0, Y2)
	VMOVDQU Y0, (DI)(BX*1)
	ADDQ    $32, BX
	CMPQ    BX, CX
	JB      mloop
	VZEROUPPER
	RET

// func addMulConstWideAVX2(dst, x, t []uint64, q, qInv, w, wq float64)
//
// dst = (x + t)·w mod q for x, t < 2^52 with t < q: x is reduced first
// (|x| < q/2 + 1), so |x + t| < 2q, MULMOD's bound.
TEXT ·addMulConstWideAVX2(SB), NOSPLIT, $0-104
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         t_base+48(FP), DX
	VBROADCASTSD q+72(FP), Y15
	VBROADCASTSD qInv+80(FP), Y14
	SETUP
	VBROADCASTSD w+88(FP), Y12
	VBROADCASTSD wq+96(FP), Y11
	XORQ         BX, BX
	SHLQ         $3, CX

amloop:
	VMOVDQU (SI)(BX*1), Y0
	VMOVDQU (DX)(BX*1), Y1
	TODOUBLE(Y0)
	TODOUBLE(Y1)
	REDUCE(Y0, Y2)
	VADDPD  Y1, Y0, Y0              // |x + t| < 2q
	MULMOD(Y0, Y12, Y11, Y2, Y3)
	OUT(Y0, Y2)
	VMOVDQU Y0, (DI)(BX*1)
	ADDQ    $32, BX
	CMPQ    BX, CX
	JB      amloop
	VZEROUPPER
	RET

// func shoupConstRowWideAVX2(o, x []uint64, q, qInv, w, wq float64, mode uint64)
//
// p = x·w mod q for x < 2^52; modes shoupSet and shoupReduce: o = p;
// shoupAdd and shoupAddReduce: o = (o + p) mod q, for o < 2^52. Every
// output is in [0, q), which meets every mode's bound.
TEXT ·shoupConstRowWideAVX2(SB), NOSPLIT, $0-88
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         mode+80(FP), R10
	VBROADCASTSD q+48(FP), Y15
	VBROADCASTSD qInv+56(FP), Y14
	SETUP
	VBROADCASTSD w+64(FP), Y12
	VBROADCASTSD wq+72(FP), Y11
	XORQ         BX, BX
	SHLQ         $3, CX
	ANDQ         $1, R10            // shoupAdd = 1, shoupAddReduce = 3
	JNZ          sadd

sset:
	VMOVDQU (SI)(BX*1), Y0
	TODOUBLE(Y0)
	REDUCE(Y0, Y2)
	MULMOD(Y0, Y12, Y11, Y2, Y3)
	OUT(Y0, Y2)
	VMOVDQU Y0, (DI)(BX*1)
	ADDQ    $32, BX
	CMPQ    BX, CX
	JB      sset
	VZEROUPPER
	RET

sadd:
	VMOVDQU (SI)(BX*1), Y0
	VMOVDQU (DI)(BX*1), Y1
	TODOUBLE(Y0)
	TODOUBLE(Y1)
	REDUCE(Y0, Y2)
	MULMOD(Y0, Y12, Y11, Y2, Y3)
	VADDPD  Y1, Y0, Y0              // |p + o| < 2^52 + q
	REDUCE(Y0, Y2)
	OUT(Y0, Y2)
	VMOVDQU Y0, (DI)(BX*1)
	ADDQ    $32, BX
	CMPQ    BX, CX
	JB      sadd
	VZEROUPPER
	RET

// func signedAddRowWideAVX2(dst, acc, s, neg []uint64, q, qInv, e, eq float64)
//
// dst = (acc ± s·e) mod q, − where neg is all ones, for acc, s < 2^52.
// The sign is applied by XOR of the double's sign bit (neg AND −0.0).
TEXT ·signedAddRowWideAVX2(SB), NOSPLIT, $0-128
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         acc_base+24(FP), SI
	MOVQ         s_base+48(FP), DX
	MOVQ         neg_base+72(FP), R8
	VBROADCASTSD q+96(FP), Y15
	VBROADCASTSD qInv+104(FP), Y14
	SETUP
	VBROADCASTSD e+112(FP), Y12
	VBROADCASTSD eq+120(FP), Y11
	MOVQ         $0x8000000000000000, AX
	MOVQ         AX, X10
	VPBROADCASTQ X10, Y10           // the sign bit
	XORQ         BX, BX
	SHLQ         $3, CX

aloop:
	VMOVDQU (DX)(BX*1), Y0
	VMOVDQU (SI)(BX*1), Y1
	TODOUBLE(Y0)
	TODOUBLE(Y1)
	REDUCE(Y0, Y2)
	MULMOD(Y0, Y12, Y11, Y2, Y3)
	VANDPD  (R8)(BX*1), Y10, Y2
	VXORPD  Y2, Y0, Y0              // ±s·e, |·| < q
	VADDPD  Y1, Y0, Y0
	REDUCE(Y0, Y2)
	OUT(Y0, Y2)
	VMOVDQU Y0, (DI)(BX*1)
	ADDQ    $32, BX
	CMPQ    BX, CX
	JB      aloop
	VZEROUPPER
	RET

// func tensorWideAVX2(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv, r, rq float64)
//
// (d0, d1, d2) = (d0 + x0·y0·r, d1 + (x0·y1 + x1·y0)·r, d2 + x1·y1·r) mod
// q for d, x, y < q and the constant r < q (2^-52 mod q, the Montgomery
// factor of tensor52): x0·r and x1·r first (MULMOD, |·| < q), then four
// VARMULs (|·| < 0.88q), sums below 3q, REDUCE, OUT.
TEXT ·tensorWideAVX2(SB), NOSPLIT, $0-200
	MOVQ         d0_base+0(FP), DI
	MOVQ         d0_len+8(FP), CX
	MOVQ         d1_base+24(FP), SI
	MOVQ         d2_base+48(FP), DX
	MOVQ         x0_base+72(FP), R8
	MOVQ         x1_base+96(FP), R9
	MOVQ         y0_base+120(FP), R10
	MOVQ         y1_base+144(FP), R11
	VBROADCASTSD q+168(FP), Y15
	VBROADCASTSD qInv+176(FP), Y14
	SETUP
	VBROADCASTSD r+184(FP), Y12
	VBROADCASTSD rq+192(FP), Y11
	XORQ         BX, BX
	SHLQ         $3, CX

tloop:
	VMOVDQU (R8)(BX*1), Y0
	VMOVDQU (R9)(BX*1), Y1
	VMOVDQU (R10)(BX*1), Y2
	VMOVDQU (R11)(BX*1), Y3
	TODOUBLE(Y0)
	TODOUBLE(Y1)
	TODOUBLE(Y2)
	TODOUBLE(Y3)
	MULMOD(Y0, Y12, Y11, Y4, Y5)    // x0·r
	MULMOD(Y1, Y12, Y11, Y4, Y5)    // x1·r
	VMOVAPD Y0, Y6
	VARMUL(Y6, Y3, Y4, Y5)          // x0·r·y1
	VMOVAPD Y1, Y7
	VARMUL(Y7, Y2, Y4, Y5)          // x1·r·y0
	VADDPD  Y7, Y6, Y6
	VARMUL(Y0, Y2, Y4, Y5)          // x0·r·y0
	VARMUL(Y1, Y3, Y4, Y5)          // x1·r·y1
	VMOVDQU (DI)(BX*1), Y2
	VMOVDQU (SI)(BX*1), Y3
	VMOVDQU (DX)(BX*1), Y7
	TODOUBLE(Y2)
	TODOUBLE(Y3)
	TODOUBLE(Y7)
	VADDPD  Y2, Y0, Y0
	VADDPD  Y3, Y6, Y6
	VADDPD  Y7, Y1, Y1
	REDUCE(Y0, Y4)
	REDUCE(Y6, Y4)
	REDUCE(Y1, Y4)
	OUT(Y0, Y4)
	OUT(Y6, Y4)
	OUT(Y1, Y4)
	VMOVDQU Y0, (DI)(BX*1)
	VMOVDQU Y6, (SI)(BX*1)
	VMOVDQU Y1, (DX)(BX*1)
	ADDQ    $32, BX
	CMPQ    BX, CX
	JB      tloop
	VZEROUPPER
	RET
