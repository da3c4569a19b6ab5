//go:build !purego

#include "textflag.h"

// AVX-512 IFMA row kernels for moduli q < 2^50 (see word52Max in
// keyswitch52.go for the bounds, montMul52 in mul52.go for the Montgomery
// products). With β = 2^52 and the 52-bit Shoup companion
// k' = floor(k·β/q) of a constant k < q, a product x·k for x < β is
//   x·k − floor(x·k'/β)·q ∈ [0, 2q),
// computed from VPMADD52HUQ (floor(x·k'/β), exact for factors below β)
// and two VPMADD52LUQ ((x·k) mod β plus (floor(x·k'/β)·(β−q)) mod β),
// masked to 52 bits: the true value is below 2q < β, so its residue mod β
// is the value itself. Eight lanes at a time.

// SHOUP52 sets X = X·W − floor(X·WS/β)·q ∈ [0, 2q) for X < β, W < q and
// WS = floor(W·β/q), with Z29 = β−q and Z28 = β−1: T = floor(X·WS/β),
// R = X·W mod β, R += T·(β−q) mod β, X = R mod β. T and R are clobbered.
#define SHOUP52(X, W, WS, T, R) \
	VPXORQ      T, T, T   \
	VPMADD52HUQ WS, X, T  \
	VPXORQ      R, R, R   \
	VPMADD52LUQ W, X, R   \
	VPMADD52LUQ Z29, T, R \
	VPANDQ      Z28, R, X

// CSUB64 sets X = X − C if X >= C, for X < 2C. T is clobbered.
#define CSUB64(X, C, T) \
	VPSUBQ  C, X, T \
	VPMINUQ T, X, X

// SETUP52 broadcasts Z31 = q, Z30 = 2q, Z29 = β−q, Z28 = β−1 from q in AX.
// BX is clobbered.
#define SETUP52 \
	VPBROADCASTQ AX, Z31          \
	VPADDQ       Z31, Z31, Z30    \
	MOVQ         $0x0010000000000000, BX \
	SUBQ         AX, BX           \
	VPBROADCASTQ BX, Z29          \
	MOVQ         $0x000fffffffffffff, BX \
	VPBROADCASTQ BX, Z28

// MONT52 sets T = X·Y·2^{-52} mod q in (0, 2q) for X, Y < q < 2^50
// (montMul52: Z24 = q^{-1} mod β, Z31 = q): H = floor(X·Y/β),
// L = X·Y mod β, M = L·q^{-1} mod β, T = H + q − floor(M·q/β).
// L and M are clobbered.
#define MONT52(X, Y, T, L, M) \
	VPXORQ      T, T, T   \
	VPMADD52HUQ Y, X, T   \
	VPXORQ      L, L, L   \
	VPMADD52LUQ Y, X, L   \
	VPXORQ      M, M, M   \
	VPMADD52LUQ Z24, L, M \
	VPXORQ      L, L, L   \
	VPMADD52HUQ Z31, M, L \
	VPADDQ      Z31, T, T \
	VPSUBQ      L, T, T

// func keyMulRow52IFMA(o0, o1, x, k0, k1 []uint64, q, qInv, mode uint64)
//
// keyMulRow52 (keyswitch52.go): p_i = MONT52(x, k_i) ≡ x·k_i for keys in
// Montgomery form, in (0, 2q); mode 0 sets o_i = p_i, mode 1 adds p_i to
// o_i, mode 2 adds it and reduces the sum (below 4q) to [0, q). x is read
// once for both keys. len(o0) is a multiple of 8 and at least 8.
TEXT ·keyMulRow52IFMA(SB), NOSPLIT, $0-144
	MOVQ         o0_base+0(FP), DI
	MOVQ         o0_len+8(FP), CX
	MOVQ         o1_base+24(FP), R10
	MOVQ         x_base+48(FP), SI
	MOVQ         k0_base+72(FP), DX
	MOVQ         k1_base+96(FP), R8
	MOVQ         q+120(FP), AX
	SETUP52
	VPBROADCASTQ qInv+128(FP), Z24
	MOVQ         mode+136(FP), R9
	XORQ         AX, AX

kloop:
	VMOVDQU64 (SI)(AX*8), Z0
	VMOVDQU64 (DX)(AX*8), Z1
	VMOVDQU64 (R8)(AX*8), Z2
	MONT52(Z0, Z1, Z3, Z5, Z6)
	MONT52(Z0, Z2, Z4, Z7, Z8)
	TESTQ     R9, R9
	JZ        kstore
	VPADDQ    (DI)(AX*8), Z3, Z3
	VPADDQ    (R10)(AX*8), Z4, Z4
	CMPQ      R9, $2
	JNE       kstore
	CSUB64(Z3, Z30, Z5)
	CSUB64(Z3, Z31, Z5)
	CSUB64(Z4, Z30, Z6)
	CSUB64(Z4, Z31, Z6)

kstore:
	VMOVDQU64 Z3, (DI)(AX*8)
	VMOVDQU64 Z4, (R10)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        kloop
	VZEROUPPER
	RET

// func drop52IFMA(dst, src, last []uint64, qLast, half, q, hmK, inv, invS uint64)
//
// drop52 (rns.go) eight lanes at a time: r = (last + half) mod qLast,
// v = x + hmK − r < 2^52, dst = v·inv mod q. len(dst) is a multiple of 8
// and at least 8.
TEXT ·drop52IFMA(SB), NOSPLIT, $0-120
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         src_base+24(FP), SI
	MOVQ         last_base+48(FP), DX
	MOVQ         q+88(FP), AX
	SETUP52
	VPBROADCASTQ qLast+72(FP), Z27
	VPBROADCASTQ half+80(FP), Z26
	VPBROADCASTQ hmK+96(FP), Z25
	VPBROADCASTQ inv+104(FP), Z24
	VPBROADCASTQ invS+112(FP), Z23
	XORQ         AX, AX

dloop:
	VMOVDQU64 (DX)(AX*8), Z0
	VPADDQ    Z26, Z0, Z0          // last + half < 2·qLast
	CSUB64(Z0, Z27, Z1)            // r
	VMOVDQU64 (SI)(AX*8), Z1
	VPADDQ    Z25, Z1, Z1
	VPSUBQ    Z0, Z1, Z1           // v = x + hmK − r
	SHOUP52(Z1, Z24, Z23, Z2, Z3)
	CSUB64(Z1, Z31, Z2)
	VMOVDQU64 Z1, (DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        dloop
	VZEROUPPER
	RET

// func mulAddConst52IFMA(dst, x, t []uint64, w, ws, q uint64)
//
// dst = (x·w + t) mod q for x < β, t < q, ws = floor(w·β/q): the lazy
// product is below 2q, the sum below 3q. len(dst) is a multiple of 8 and
// at least 8.
TEXT ·mulAddConst52IFMA(SB), NOSPLIT, $0-96
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         t_base+48(FP), DX
	MOVQ         q+88(FP), AX
	SETUP52
	VPBROADCASTQ w+72(FP), Z24
	VPBROADCASTQ ws+80(FP), Z23
	XORQ         AX, AX

mloop:
	VMOVDQU64 (SI)(AX*8), Z0
	SHOUP52(Z0, Z24, Z23, Z1, Z2)
	VPADDQ    (DX)(AX*8), Z0, Z0
	CSUB64(Z0, Z30, Z1)
	CSUB64(Z0, Z31, Z1)
	VMOVDQU64 Z0, (DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        mloop
	VZEROUPPER
	RET

// func addMulConst52IFMA(dst, x, t []uint64, w, ws, q uint64)
//
// dst = (x + t)·w mod q for x + t < β, ws = floor(w·β/q): the lazy
// product is below 2q. len(dst) is a multiple of 8 and at least 8.
TEXT ·addMulConst52IFMA(SB), NOSPLIT, $0-96
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         t_base+48(FP), DX
	MOVQ         q+88(FP), AX
	SETUP52
	VPBROADCASTQ w+72(FP), Z24
	VPBROADCASTQ ws+80(FP), Z23
	XORQ         AX, AX

amloop:
	VMOVDQU64 (SI)(AX*8), Z0
	VPADDQ    (DX)(AX*8), Z0, Z0
	SHOUP52(Z0, Z24, Z23, Z1, Z2)
	CSUB64(Z0, Z31, Z1)
	VMOVDQU64 Z0, (DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        amloop
	VZEROUPPER
	RET

// func shoupConstRow52IFMA(o, x []uint64, w, ws, q, mode uint64)
//
// shoupConstRow52 (mul52.go): p = x·w − floor(x·ws/β)·q ∈ [0, 2q); mode 0:
// o = p; 1: o = o + p kept in [0, 2q); 2: o = p mod q; 3: o = (o + p) mod
// q. len(o) is a multiple of 8 and at least 8.
TEXT ·shoupConstRow52IFMA(SB), NOSPLIT, $0-80
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         q+64(FP), AX
	SETUP52
	VPBROADCASTQ w+48(FP), Z24
	VPBROADCASTQ ws+56(FP), Z23
	MOVQ         mode+72(FP), R9
	XORQ         AX, AX

cloop:
	VMOVDQU64 (SI)(AX*8), Z0
	SHOUP52(Z0, Z24, Z23, Z1, Z2)
	CMPQ      R9, $2
	JEQ       cred
	JB        cnored
	VPADDQ    (DI)(AX*8), Z0, Z0   // mode 3: o + p < 4q
	CSUB64(Z0, Z30, Z1)

cred:
	CSUB64(Z0, Z31, Z1)
	JMP cstore

cnored:
	TESTQ  R9, R9
	JZ     cstore
	VPADDQ (DI)(AX*8), Z0, Z0      // mode 1: o + p < 4q
	CSUB64(Z0, Z30, Z1)

cstore:
	VMOVDQU64 Z0, (DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        cloop
	VZEROUPPER
	RET

// func signedAddRow52IFMA(dst, acc, s, neg []uint64, e, es, q uint64)
//
// signedAddRow52 (mul52.go): t = s·e mod q (Shoup), t = q − t where neg is
// all ones, dst = (acc + t) mod q with acc < 2q. len(dst) is a multiple of
// 8 and at least 8.
TEXT ·signedAddRow52IFMA(SB), NOSPLIT, $0-120
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         acc_base+24(FP), SI
	MOVQ         s_base+48(FP), DX
	MOVQ         neg_base+72(FP), R8
	MOVQ         q+112(FP), AX
	SETUP52
	VPBROADCASTQ e+96(FP), Z24
	VPBROADCASTQ es+104(FP), Z23
	XORQ         AX, AX

sloop:
	VMOVDQU64 (DX)(AX*8), Z0
	SHOUP52(Z0, Z24, Z23, Z1, Z2)  // t in [0, 2q)
	CSUB64(Z0, Z31, Z1)            // t in [0, q)
	VMOVDQU64 (R8)(AX*8), Z1       // neg: all zero or all one bits per lane
	VPTESTMQ  Z1, Z1, K1           // K1: the lanes where neg is set
	VPSUBQ    Z0, Z31, Z2          // q − t
	VMOVDQA64 Z2, K1, Z0           // t = q − t in those lanes
	VPADDQ    (SI)(AX*8), Z0, Z0   // < 3q
	CSUB64(Z0, Z30, Z1)
	CSUB64(Z0, Z31, Z1)
	VMOVDQU64 Z0, (DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        sloop
	VZEROUPPER
	RET

// func tensorMont52IFMA(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64)
//
// tensor52 (mul52.go) eight lanes at a time: d0 += x0·y0, d1 += x0·y1 +
// x1·y0, d2 += x1·y1, each product a Montgomery product, d kept in [0, q).
TEXT ·tensorMont52IFMA(SB), NOSPLIT, $0-184
	MOVQ         d0_base+0(FP), DI
	MOVQ         d0_len+8(FP), CX
	MOVQ         d1_base+24(FP), SI
	MOVQ         d2_base+48(FP), DX
	MOVQ         x0_base+72(FP), R8
	MOVQ         x1_base+96(FP), R9
	MOVQ         y0_base+120(FP), R10
	MOVQ         y1_base+144(FP), R11
	MOVQ         q+168(FP), AX
	SETUP52
	VPBROADCASTQ qInv+176(FP), Z24
	XORQ         AX, AX

tloop:
	VMOVDQU64 (R8)(AX*8), Z0       // x0
	VMOVDQU64 (R9)(AX*8), Z1       // x1
	VMOVDQU64 (R10)(AX*8), Z2      // y0
	VMOVDQU64 (R11)(AX*8), Z3      // y1
	MONT52(Z0, Z2, Z4, Z8, Z9)     // x0·y0
	MONT52(Z0, Z3, Z5, Z10, Z11)   // x0·y1
	MONT52(Z1, Z2, Z6, Z12, Z13)   // x1·y0
	MONT52(Z1, Z3, Z7, Z14, Z15)   // x1·y1
	VPADDQ    (DI)(AX*8), Z4, Z4   // < 3q
	CSUB64(Z4, Z30, Z8)
	CSUB64(Z4, Z31, Z8)
	VMOVDQU64 Z4, (DI)(AX*8)
	VPADDQ    Z6, Z5, Z5           // < 4q
	CSUB64(Z5, Z30, Z8)
	VPADDQ    (SI)(AX*8), Z5, Z5   // < 3q
	CSUB64(Z5, Z30, Z8)
	CSUB64(Z5, Z31, Z8)
	VMOVDQU64 Z5, (SI)(AX*8)
	VPADDQ    (DX)(AX*8), Z7, Z7
	CSUB64(Z7, Z30, Z8)
	CSUB64(Z7, Z31, Z8)
	VMOVDQU64 Z7, (DX)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        tloop
	VZEROUPPER
	RET
