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

// func shoupConstRowAVX2(o, x []uint64, w, ws, q, mode uint64)
//
// shoupConstRow (mul32.go): p = x·w − floor(x·ws/2^32)·q ∈ [0, 2q);
// mode 0: o = p; mode 1: o = min(o + p, o + p − 2q); mode 2: o = p mod q.
// All values below 2^32 (q < 2^30).
TEXT ·shoupConstRowAVX2(SB), NOSPLIT, $0-80
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	VPBROADCASTQ w+48(FP), Y13
	VPBROADCASTQ ws+56(FP), Y12
	VPBROADCASTQ q+64(FP), Y15
	VPADDQ       Y15, Y15, Y14
	MOVQ         mode+72(FP), R9
	XORQ         AX, AX
	CMPQ         R9, $1
	JEQ          cadd
	JHI          cred

cset:
	VMOVDQU  (SI)(AX*8), Y0
	VPMULUDQ Y12, Y0, Y1
	VPSRLQ   $32, Y1, Y1
	VPMULUDQ Y15, Y1, Y1
	VPMULUDQ Y13, Y0, Y0
	VPSUBQ   Y1, Y0, Y0
	VMOVDQU  Y0, (DI)(AX*8)
	ADDQ     $4, AX
	CMPQ     AX, CX
	JB       cset
	VZEROUPPER
	RET

cadd:
	VMOVDQU  (SI)(AX*8), Y0
	VPMULUDQ Y12, Y0, Y1
	VPSRLQ   $32, Y1, Y1
	VPMULUDQ Y15, Y1, Y1
	VPMULUDQ Y13, Y0, Y0
	VPSUBQ   Y1, Y0, Y0
	VPADDQ   (DI)(AX*8), Y0, Y0
	VPSUBD   Y14, Y0, Y1
	VPMINUD  Y1, Y0, Y0
	VMOVDQU  Y0, (DI)(AX*8)
	ADDQ     $4, AX
	CMPQ     AX, CX
	JB       cadd
	VZEROUPPER
	RET

cred:
	VMOVDQU  (SI)(AX*8), Y0
	VPMULUDQ Y12, Y0, Y1
	VPSRLQ   $32, Y1, Y1
	VPMULUDQ Y15, Y1, Y1
	VPMULUDQ Y13, Y0, Y0
	VPSUBQ   Y1, Y0, Y0
	VPSUBD   Y15, Y0, Y1
	VPMINUD  Y1, Y0, Y0
	VMOVDQU  Y0, (DI)(AX*8)
	ADDQ     $4, AX
	CMPQ     AX, CX
	JB       cred
	VZEROUPPER
	RET

// func signedAddRowAVX2(dst, acc, s, neg []uint64, e, es, q uint64)
//
// signedAddRow (mul32.go): t = s·e mod q (Shoup), t = q − t where neg is
// all ones, dst = (acc + t) mod q with acc < 2q; every value below 2^32.
TEXT ·signedAddRowAVX2(SB), NOSPLIT, $0-120
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         acc_base+24(FP), SI
	MOVQ         s_base+48(FP), DX
	MOVQ         neg_base+72(FP), R8
	VPBROADCASTQ e+96(FP), Y13
	VPBROADCASTQ es+104(FP), Y12
	VPBROADCASTQ q+112(FP), Y15
	VPADDQ       Y15, Y15, Y14
	XORQ         AX, AX

sloop:
	VMOVDQU  (DX)(AX*8), Y0
	VPMULUDQ Y12, Y0, Y1
	VPSRLQ   $32, Y1, Y1
	VPMULUDQ Y15, Y1, Y1
	VPMULUDQ Y13, Y0, Y0
	VPSUBQ   Y1, Y0, Y0         // t in [0, 2q)
	VPSUBD   Y15, Y0, Y1
	VPMINUD  Y1, Y0, Y0         // t in [0, q)
	VPSUBQ   Y0, Y15, Y1        // q − t
	VMOVDQU  (R8)(AX*8), Y2     // neg: all zero or all one bits per lane
	VPBLENDVB Y2, Y1, Y0, Y0    // Y0 = neg ? Y1 (q − t) : Y0 (t)
	VPADDQ   (SI)(AX*8), Y0, Y0 // < 3q
	VPSUBD   Y14, Y0, Y1
	VPMINUD  Y1, Y0, Y0
	VPSUBD   Y15, Y0, Y1
	VPMINUD  Y1, Y0, Y0
	VMOVDQU  Y0, (DI)(AX*8)
	ADDQ     $4, AX
	CMPQ     AX, CX
	JB       sloop
	VZEROUPPER
	RET

// REDC sets T = X·Y·2^{-32} mod q in [0, 2q) (Montgomery, X, Y < q < 2^30;
// Y13 = −q^{-1} mod 2^32, Y15 = q). M is clobbered.
#define REDC(X, Y, T, M) \
	VPMULUDQ Y, X, T \
	VPMULUDQ Y13, T, M \
	VPMULUDQ Y15, M, M \
	VPADDQ   M, T, T \
	VPSRLQ   $32, T, T

// CSUB32 sets X = X − C if X >= C, for X < 2C < 2^32. T is clobbered.
#define CSUB32(X, C, T) \
	VPSUBD  C, X, T \
	VPMINUD T, X, X

// func tensorMontAVX2(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64)
//
// tensor32 (mul.go) four lanes at a time: d0 += x0·y0, d1 += x0·y1 +
// x1·y0, d2 += x1·y1, each product a Montgomery product, d kept in [0, q).
TEXT ·tensorMontAVX2(SB), NOSPLIT, $0-184
	MOVQ         d0_base+0(FP), DI
	MOVQ         d0_len+8(FP), CX
	MOVQ         d1_base+24(FP), SI
	MOVQ         d2_base+48(FP), DX
	MOVQ         x0_base+72(FP), R8
	MOVQ         x1_base+96(FP), R9
	MOVQ         y0_base+120(FP), R10
	MOVQ         y1_base+144(FP), R11
	VPBROADCASTQ q+168(FP), Y15
	VPBROADCASTQ qInv+176(FP), Y13
	VPADDQ       Y15, Y15, Y14
	XORQ         AX, AX

tloop:
	VMOVDQU (R8)(AX*8), Y0     // x0
	VMOVDQU (R9)(AX*8), Y1     // x1
	VMOVDQU (R10)(AX*8), Y2    // y0
	VMOVDQU (R11)(AX*8), Y3    // y1
	REDC(Y0, Y2, Y4, Y8)       // x0·y0
	REDC(Y0, Y3, Y5, Y8)       // x0·y1
	REDC(Y1, Y2, Y6, Y8)       // x1·y0
	REDC(Y1, Y3, Y7, Y8)       // x1·y1
	VPADDQ  (DI)(AX*8), Y4, Y4 // < 3q
	CSUB32(Y4, Y14, Y8)
	CSUB32(Y4, Y15, Y8)
	VMOVDQU Y4, (DI)(AX*8)
	VPADDQ  Y6, Y5, Y5         // < 4q
	CSUB32(Y5, Y14, Y8)
	VPADDQ  (SI)(AX*8), Y5, Y5 // < 3q
	CSUB32(Y5, Y14, Y8)
	CSUB32(Y5, Y15, Y8)
	VMOVDQU Y5, (SI)(AX*8)
	VPADDQ  (DX)(AX*8), Y7, Y7
	CSUB32(Y7, Y14, Y8)
	CSUB32(Y7, Y15, Y8)
	VMOVDQU Y7, (DX)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, CX
	JB      tloop
	VZEROUPPER
	RET

// func splitRowAVX2(s, p, a, b, m, ms []uint64, q uint64)
//
// splitRow (split.go), four slots at a time: s = (a + b) mod q and
// p = (a − b)·m mod q with the Shoup companion ms, for q < 2^30. Every
// value fits the low dword of its lane (the high dword is 0, as in q's
// broadcast), so the conditional subtractions work on 32-bit halves
// (VPSUBD, VPMINUD), and a − b + q, computed in 64 bits, is in (0, 2q).
// The loads of a slot come before its stores, so s may alias a or b.
TEXT ·splitRowAVX2(SB), NOSPLIT, $0-152
	MOVQ         s_base+0(FP), DI
	MOVQ         s_len+8(FP), CX
	MOVQ         p_base+24(FP), R9
	MOVQ         a_base+48(FP), SI
	MOVQ         b_base+72(FP), DX
	MOVQ         m_base+96(FP), R8
	MOVQ         ms_base+120(FP), R10
	VPBROADCASTQ q+144(FP), Y15
	XORQ         AX, AX

splitloop:
	VMOVDQU  (SI)(AX*8), Y0       // a
	VMOVDQU  (DX)(AX*8), Y1       // b
	VPSUBQ   Y1, Y0, Y3
	VPADDQ   Y15, Y3, Y3          // a − b + q in (0, 2q)
	VPSUBD   Y15, Y3, Y4
	VPMINUD  Y4, Y3, Y3           // d = (a − b) mod q
	VPADDQ   Y1, Y0, Y0           // a + b < 2q
	VPSUBD   Y15, Y0, Y1
	VPMINUD  Y1, Y0, Y0
	VMOVDQU  Y0, (DI)(AX*8)
	VPMULUDQ (R10)(AX*8), Y3, Y4
	VPSRLQ   $32, Y4, Y4
	VPMULUDQ Y15, Y4, Y4
	VPMULUDQ (R8)(AX*8), Y3, Y3
	VPSUBQ   Y4, Y3, Y3           // d·m mod q in [0, 2q)
	VPSUBD   Y15, Y3, Y4
	VPMINUD  Y4, Y3, Y3
	VMOVDQU  Y3, (R9)(AX*8)
	ADDQ     $4, AX
	CMPQ     AX, CX
	JB       splitloop
	VZEROUPPER
	RET

// func splitRowAVX512(s, p, a, b, m, ms []uint64, q uint64)
//
// splitRowAVX2 eight slots at a time, with the 64-bit VPMINUQ of
// AVX-512F for the conditional subtractions. Same preconditions with 8
// for 4.
TEXT ·splitRowAVX512(SB), NOSPLIT, $0-152
	MOVQ         s_base+0(FP), DI
	MOVQ         s_len+8(FP), CX
	MOVQ         p_base+24(FP), R9
	MOVQ         a_base+48(FP), SI
	MOVQ         b_base+72(FP), DX
	MOVQ         m_base+96(FP), R8
	MOVQ         ms_base+120(FP), R10
	VPBROADCASTQ q+144(FP), Z15
	XORQ         AX, AX

zsplitloop:
	VMOVDQU64 (SI)(AX*8), Z0      // a
	VMOVDQU64 (DX)(AX*8), Z1      // b
	VPSUBQ    Z1, Z0, Z3
	VPADDQ    Z15, Z3, Z3         // a − b + q in (0, 2q)
	VPSUBQ    Z15, Z3, Z4
	VPMINUQ   Z4, Z3, Z3          // d = (a − b) mod q
	VPADDQ    Z1, Z0, Z0          // a + b < 2q
	VPSUBQ    Z15, Z0, Z1
	VPMINUQ   Z1, Z0, Z0
	VMOVDQU64 Z0, (DI)(AX*8)
	VPMULUDQ  (R10)(AX*8), Z3, Z4
	VPSRLQ    $32, Z4, Z4
	VPMULUDQ  Z15, Z4, Z4
	VPMULUDQ  (R8)(AX*8), Z3, Z3
	VPSUBQ    Z4, Z3, Z3          // d·m mod q in [0, 2q)
	VPSUBQ    Z15, Z3, Z4
	VPMINUQ   Z4, Z3, Z3
	VMOVDQU64 Z3, (R9)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        zsplitloop
	VZEROUPPER
	RET

// func roundDiffAVX2(dst, last []uint64, qLast, half, hmK uint64)
//
// roundDiff (rns52.go) four slots at a time: r = (last + half) mod qLast
// (last + half < 2·qLast < 2^63, so the sign of last + half − qLast
// selects), dst = hmK − r. len(dst) is a multiple of 4 and at least 4.
TEXT ·roundDiffAVX2(SB), NOSPLIT, $0-72
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         last_base+24(FP), DX
	VPBROADCASTQ qLast+48(FP), Y12
	VPBROADCASTQ half+56(FP), Y11
	VPBROADCASTQ hmK+64(FP), Y10
	XORQ         BX, BX
	SHLQ         $3, CX

rdloop:
	VMOVDQU   (DX)(BX*1), Y0
	VPADDQ    Y11, Y0, Y0          // last + half
	VPSUBQ    Y12, Y0, Y1          // − qLast, negative iff last + half < qLast
	VBLENDVPD Y1, Y0, Y1, Y0       // r
	VPSUBQ    Y0, Y10, Y0          // hmK − r
	VMOVDQU   Y0, (DI)(BX*1)
	ADDQ      $32, BX
	CMPQ      BX, CX
	JB        rdloop
	VZEROUPPER
	RET

// func liftSignAVX2(rAbs, neg, v, cs []uint64, mTilde, negQInv, stride uint64)
//
// liftSignRows (mul32.go) four slots at a time: X = Σ_i v_i·cs[i] mod
// 2^32 from VPMULUDQ of the low halves (row i of v at 8·stride·i bytes,
// every value below 2^32), r = (X·negQInv) mod m̃ (m̃ = 2^16 or 2^32,
// negQInv < m̃), neg = all ones where r >= m̃/2, rAbs = neg ? m̃ − r : r.
// len(rAbs) = len(neg) is a multiple of 4 and at least 4, len(cs) >= 1,
// stride >= len(rAbs), len(v) >= (len(cs)−1)·stride + len(rAbs).
TEXT ·liftSignAVX2(SB), NOSPLIT, $0-120
	MOVQ         rAbs_base+0(FP), DI
	MOVQ         rAbs_len+8(FP), CX
	MOVQ         neg_base+24(FP), R8
	MOVQ         v_base+48(FP), SI
	MOVQ         cs_base+72(FP), R9
	MOVQ         cs_len+80(FP), R10
	MOVQ         mTilde+96(FP), AX
	VPBROADCASTQ mTilde+96(FP), Y15
	DECQ         AX
	MOVQ         AX, X14
	VPBROADCASTQ X14, Y14           // m̃ − 1
	SHRQ         $1, AX
	MOVQ         AX, X13
	VPBROADCASTQ X13, Y13           // m̃/2 − 1
	VPBROADCASTQ negQInv+104(FP), Y12
	MOVQ         stride+112(FP), R11
	SHLQ         $3, R11            // bytes per row
	SHLQ         $3, CX             // end
	XORQ         AX, AX             // byte offset of the slot

lsloop:
	VPXOR        Y0, Y0, Y0
	LEAQ         (SI)(AX*1), BX     // &v[0][j]
	XORQ         DX, DX

lsrow:
	VPBROADCASTQ (R9)(DX*8), Y2
	VPMULUDQ     (BX), Y2, Y1       // v_i·cs[i], low halves: exact mod 2^32
	VPADDQ       Y1, Y0, Y0
	ADDQ         R11, BX
	INCQ         DX
	CMPQ         DX, R10
	JB           lsrow

	VPMULUDQ  Y12, Y0, Y0           // X·negQInv, low half of X
	VPAND     Y14, Y0, Y0           // r
	VPCMPGTQ  Y13, Y0, Y1           // neg: r > m̃/2 − 1
	VPSUBQ    Y0, Y15, Y2           // m̃ − r
	VPBLENDVB Y1, Y2, Y0, Y0
	VMOVDQU   Y0, (DI)(AX*1)
	VMOVDQU   Y1, (R8)(AX*1)
	ADDQ      $32, AX
	CMPQ      AX, CX
	JB        lsloop
	VZEROUPPER
	RET

// func roundDiffAVX512(dst, last []uint64, qLast, half, hmK uint64)
//
// roundDiffAVX2 eight slots at a time: r = min(last + half, last + half −
// qLast) as unsigned 64-bit values (VPMINUQ; the difference wraps above
// 2^63 when last + half < qLast), dst = hmK − r. Same preconditions with 8
// for 4.
TEXT ·roundDiffAVX512(SB), NOSPLIT, $0-72
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         last_base+24(FP), DX
	VPBROADCASTQ qLast+48(FP), Z12
	VPBROADCASTQ half+56(FP), Z11
	VPBROADCASTQ hmK+64(FP), Z10
	XORQ         BX, BX
	SHLQ         $3, CX

zrdloop:
	VMOVDQU64 (DX)(BX*1), Z0
	VPADDQ    Z11, Z0, Z0          // last + half
	VPSUBQ    Z12, Z0, Z1
	VPMINUQ   Z1, Z0, Z0           // r
	VPSUBQ    Z0, Z10, Z0          // hmK − r
	VMOVDQU64 Z0, (DI)(BX*1)
	ADDQ      $64, BX
	CMPQ      BX, CX
	JB        zrdloop
	VZEROUPPER
	RET

// func addMulConst32AVX2(dst, x, t []uint64, w, ws, q uint64)
//
// addMulConst32 (rns.go) four slots at a time: v = x + t < 2q < 2^31,
// p = v·w − floor(v·ws/2^32)·q ∈ [0, 2q), dst = p mod q (one conditional
// subtraction on 32-bit halves). len(dst) is a multiple of 4 and at
// least 4.
TEXT ·addMulConst32AVX2(SB), NOSPLIT, $0-96
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         t_base+48(FP), DX
	VPBROADCASTQ w+72(FP), Y13
	VPBROADCASTQ ws+80(FP), Y12
	VPBROADCASTQ q+88(FP), Y15
	XORQ         AX, AX

am32loop:
	VMOVDQU  (SI)(AX*8), Y0
	VPADDQ   (DX)(AX*8), Y0, Y0   // v = x + t
	VPMULUDQ Y12, Y0, Y1
	VPSRLQ   $32, Y1, Y1
	VPMULUDQ Y15, Y1, Y1
	VPMULUDQ Y13, Y0, Y0
	VPSUBQ   Y1, Y0, Y0           // [0, 2q)
	VPSUBD   Y15, Y0, Y1
	VPMINUD  Y1, Y0, Y0
	VMOVDQU  Y0, (DI)(AX*8)
	ADDQ     $4, AX
	CMPQ     AX, CX
	JB       am32loop
	VZEROUPPER
	RET

// REDC32 sets V = (V + M·q)/2^32 with M = (V mod 2^32)·qInvNeg mod 2^32
// (Y12 = qInvNeg, Y15 = q): V·2^{-32} mod q, below 3q for V < 2q·2^32.
// M is clobbered.
#define REDC32(V, M) \
	VPMULUDQ Y12, V, M \
	VPMULUDQ Y15, M, M \
	VPADDQ   M, V, V   \
	VPSRLQ   $32, V, V

// SCANRED sets X = acc mod q in [0, q) for a 64-bit acc in X (Y13 =
// 2^64 mod q, Y14 = 2^32 mod q): V = (acc >> 32)·Y13 + (acc mod 2^32)·Y14
// ≡ acc·2^32, V < 2q·2^32, then REDC32 and two conditional subtractions
// on the low dwords (every value below 3q < 2^32). T, M are clobbered.
#define SCANRED(X, T, M) \
	VPSRLQ   $32, X, T  \
	VPMULUDQ Y13, T, T  \
	VPMULUDQ Y14, X, X  \
	VPADDQ   T, X, X    \
	REDC32(X, M)        \
	VPSUBD   Y15, X, T  \
	VPMINUD  T, X, X    \
	VPSUBD   Y15, X, T  \
	VPMINUD  T, X, X

// func addScanRowAVX2(o, acc []uint64, q, qInvNeg, c32, c64 uint64)
//
// AddScanRow (scan.go) for q < 2^30 (so that V + M·q < 3q·2^32 < 2^64),
// eight slots per iteration: the even slots' sums E = acc[p..p+3] and the
// odd slots' O = acc[p+8..p+11] (p = (j &^ 15) + 4·((j >> 3) & 1), the
// scan order) are reduced (SCANRED), interleaved back to slot order
// (VPUNPCKLQDQ/VPUNPCKHQDQ, VPERM2I128) and added to o[j..j+7] mod q.
// len(o) = len(acc) is a multiple of 16 and at least 16.
TEXT ·addScanRowAVX2(SB), NOSPLIT, $0-80
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         acc_base+24(FP), SI
	VPBROADCASTQ q+48(FP), Y15
	VPBROADCASTQ qInvNeg+56(FP), Y12
	VPBROADCASTQ c32+64(FP), Y14
	VPBROADCASTQ c64+72(FP), Y13
	XORQ         AX, AX            // slot j

asloop:
	MOVQ    AX, BX                 // p
	ANDQ    $-16, BX
	MOVQ    AX, DX
	SHRQ    $1, DX
	ANDQ    $4, DX
	ADDQ    DX, BX
	VMOVDQU (SI)(BX*8), Y0         // E: slots j, j+2, j+4, j+6
	VMOVDQU 64(SI)(BX*8), Y1       // O: slots j+1, j+3, j+5, j+7
	SCANRED(Y0, Y2, Y3)
	SCANRED(Y1, Y2, Y3)
	VPUNPCKLQDQ Y1, Y0, Y2         // j, j+1 | j+4, j+5
	VPUNPCKHQDQ Y1, Y0, Y3         // j+2, j+3 | j+6, j+7
	VPERM2I128  $0x20, Y3, Y2, Y0  // j .. j+3
	VPERM2I128  $0x31, Y3, Y2, Y1  // j+4 .. j+7
	VPADDQ      (DI)(AX*8), Y0, Y0
	VPADDQ      32(DI)(AX*8), Y1, Y1
	VPSUBD      Y15, Y0, Y2
	VPMINUD     Y2, Y0, Y0
	VPSUBD      Y15, Y1, Y2
	VPMINUD     Y2, Y1, Y1
	VMOVDQU     Y0, (DI)(AX*8)
	VMOVDQU     Y1, 32(DI)(AX*8)
	ADDQ        $8, AX
	CMPQ        AX, CX
	JB          asloop
	VZEROUPPER
	RET

// The AVX-512F versions of the 32-bit rows (shoupConstRow, signedAddRow,
// tensor32) at the avx512 and ifma levels: eight lanes, the same Shoup and
// Montgomery products on the low dwords (VPMULUDQ), VPMINUQ for the
// conditional subtractions. Lengths are multiples of 8.

// SHOUP32Z sets X = X·W − floor(X·WS/2^32)·q ∈ [0, 2q) for X < 2^32 (Z15 =
// q). T is clobbered.
#define SHOUP32Z(X, W, WS, T) \
	VPMULUDQ WS, X, T \
	VPSRLQ   $32, T, T \
	VPMULUDQ Z15, T, T \
	VPMULUDQ W, X, X  \
	VPSUBQ   T, X, X

// CSUBZ sets X = X − C if X >= C, for X < 2C. T is clobbered.
#define CSUBZ(X, C, T) \
	VPSUBQ  C, X, T \
	VPMINUQ T, X, X

// func shoupConstRowAVX512(o, x []uint64, w, ws, q, mode uint64)
//
// shoupConstRowAVX2 on eight lanes, modes 0 to 2.
TEXT ·shoupConstRowAVX512(SB), NOSPLIT, $0-80
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	VPBROADCASTQ w+48(FP), Z13
	VPBROADCASTQ ws+56(FP), Z12
	VPBROADCASTQ q+64(FP), Z15
	VPADDQ       Z15, Z15, Z14
	MOVQ         mode+72(FP), R9
	XORQ         AX, AX
	CMPQ         R9, $1
	JEQ          zcadd
	JHI          zcred

zcset:
	VMOVDQU64 (SI)(AX*8), Z0
	SHOUP32Z(Z0, Z13, Z12, Z1)
	VMOVDQU64 Z0, (DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        zcset
	VZEROUPPER
	RET

zcadd:
	VMOVDQU64 (SI)(AX*8), Z0
	SHOUP32Z(Z0, Z13, Z12, Z1)
	VPADDQ    (DI)(AX*8), Z0, Z0
	CSUBZ(Z0, Z14, Z1)
	VMOVDQU64 Z0, (DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        zcadd
	VZEROUPPER
	RET

zcred:
	VMOVDQU64 (SI)(AX*8), Z0
	SHOUP32Z(Z0, Z13, Z12, Z1)
	CSUBZ(Z0, Z15, Z1)
	VMOVDQU64 Z0, (DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        zcred
	VZEROUPPER
	RET

// func signedAddRowAVX512(dst, acc, s, neg []uint64, e, es, q uint64)
//
// signedAddRowAVX2 on eight lanes: VPTESTMQ turns the all-ones lanes of
// neg into a mask for a merge-masked move of q − t.
TEXT ·signedAddRowAVX512(SB), NOSPLIT, $0-120
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         acc_base+24(FP), SI
	MOVQ         s_base+48(FP), DX
	MOVQ         neg_base+72(FP), R8
	VPBROADCASTQ e+96(FP), Z13
	VPBROADCASTQ es+104(FP), Z12
	VPBROADCASTQ q+112(FP), Z15
	VPADDQ       Z15, Z15, Z14
	XORQ         AX, AX

zsloop:
	VMOVDQU64 (DX)(AX*8), Z0
	SHOUP32Z(Z0, Z13, Z12, Z1)      // t in [0, 2q)
	CSUBZ(Z0, Z15, Z1)              // t in [0, q)
	VPSUBQ    Z0, Z15, Z1           // q − t
	VMOVDQU64 (R8)(AX*8), Z2
	VPTESTMQ  Z2, Z2, K1            // neg lanes
	VMOVDQA64 Z1, K1, Z0            // neg ? q − t : t
	VPADDQ    (SI)(AX*8), Z0, Z0    // < 3q
	CSUBZ(Z0, Z14, Z1)
	CSUBZ(Z0, Z15, Z1)
	VMOVDQU64 Z0, (DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        zsloop
	VZEROUPPER
	RET

// REDCZ sets T = X·Y·2^{-32} mod q in [0, 2q) (Z13 = −q^{-1} mod 2^32,
// Z15 = q), as REDC. M is clobbered.
#define REDCZ(X, Y, T, M) \
	VPMULUDQ Y, X, T   \
	VPMULUDQ Z13, T, M \
	VPMULUDQ Z15, M, M \
	VPADDQ   M, T, T   \
	VPSRLQ   $32, T, T

// func tensorMontAVX512(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64)
//
// tensorMontAVX2 on eight lanes.
TEXT ·tensorMontAVX512(SB), NOSPLIT, $0-184
	MOVQ         d0_base+0(FP), DI
	MOVQ         d0_len+8(FP), CX
	MOVQ         d1_base+24(FP), SI
	MOVQ         d2_base+48(FP), DX
	MOVQ         x0_base+72(FP), R8
	MOVQ         x1_base+96(FP), R9
	MOVQ         y0_base+120(FP), R10
	MOVQ         y1_base+144(FP), R11
	VPBROADCASTQ q+168(FP), Z15
	VPBROADCASTQ qInv+176(FP), Z13
	VPADDQ       Z15, Z15, Z14
	XORQ         AX, AX

ztloop:
	VMOVDQU64 (R8)(AX*8), Z0     // x0
	VMOVDQU64 (R9)(AX*8), Z1     // x1
	VMOVDQU64 (R10)(AX*8), Z2    // y0
	VMOVDQU64 (R11)(AX*8), Z3    // y1
	REDCZ(Z0, Z2, Z4, Z8)        // x0·y0
	REDCZ(Z0, Z3, Z5, Z8)        // x0·y1
	REDCZ(Z1, Z2, Z6, Z8)        // x1·y0
	REDCZ(Z1, Z3, Z7, Z8)        // x1·y1
	VPADDQ    (DI)(AX*8), Z4, Z4 // < 3q
	CSUBZ(Z4, Z14, Z8)
	CSUBZ(Z4, Z15, Z8)
	VMOVDQU64 Z4, (DI)(AX*8)
	VPADDQ    Z6, Z5, Z5         // < 4q
	CSUBZ(Z5, Z14, Z8)
	VPADDQ    (SI)(AX*8), Z5, Z5 // < 3q
	CSUBZ(Z5, Z14, Z8)
	CSUBZ(Z5, Z15, Z8)
	VMOVDQU64 Z5, (SI)(AX*8)
	VPADDQ    (DX)(AX*8), Z7, Z7
	CSUBZ(Z7, Z14, Z8)
	CSUBZ(Z7, Z15, Z8)
	VMOVDQU64 Z7, (DX)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        ztloop
	VZEROUPPER
	RET
