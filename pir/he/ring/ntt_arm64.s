//go:build !purego

#include "textflag.h"

// NEON NTT kernels for moduli q < 2^30 (see ntt_scalar.go for the bounds
// argument and ntt_arm64.go for the Go declarations). Every residue is a
// uint64 below 4q < 2^32, so the kernels work on four 32-bit lanes:
//   - VLD2/VLD4 of 32-bit elements deinterleave four (eight) residues into
//     their low halves, which the arithmetic uses, and their high halves,
//     which are zero, are never written, and are stored back unchanged by
//     VST2/VST4 (so the two registers of a pair stay adjacent: V0/V1,
//     V2/V3, ...);
//   - the Shoup product y·w − floor(y·w'/2^32)·q takes UMULL/UMULL2 (full
//     64-bit products y·w' of the lanes) and UZP2 (their high halves), then
//     MUL and MLS modulo 2^32: the exact result lies in [0, 2q), below
//     2^32, so the low 32 bits are the result, as in forward32;
//   - the conditional subtraction min(x, x−c) is VSUB and VUMIN, correct
//     for x < 2c because x−c wraps above x when x < c.
// Register conventions: V30 = q, V29 = 2q in every 32-bit lane; V24, V25,
// V26 are scratch.
//
// The Go assembler has no mnemonic for these four; they are written as
// their A64 encodings (Arm ARM C7.2, size = 10, 32-bit lanes; d, n, m are
// register numbers):
//
//	UMULL  Vd.2D, Vn.2S, Vm.2S: 0x2ea0c000 | m<<16 | n<<5 | d (lanes 0, 1)
//	UMULL2 Vd.2D, Vn.4S, Vm.4S: 0x6ea0c000 | m<<16 | n<<5 | d (lanes 2, 3)
//	MUL    Vd.4S, Vn.4S, Vm.4S: 0x4ea09c00 | m<<16 | n<<5 | d (Vd = Vn·Vm mod 2^32)
//	MLS    Vd.4S, Vn.4S, Vm.4S: 0x6ea09400 | m<<16 | n<<5 | d (Vd −= Vn·Vm mod 2^32)
#define UMULL(d, n, m) WORD $(0x2ea0c000 | (m)<<16 | (n)<<5 | (d))
#define UMULL2(d, n, m) WORD $(0x6ea0c000 | (m)<<16 | (n)<<5 | (d))
#define MUL(d, n, m) WORD $(0x4ea09c00 | (m)<<16 | (n)<<5 | (d))
#define MLS(d, n, m) WORD $(0x6ea09400 | (m)<<16 | (n)<<5 | (d))

// SHOUP sets Vy = Vy·Vw − floor(Vy·Vws/2^32)·q ∈ [0, 2q) for Vy < 2^32,
// with Vws = floor(Vw·2^32/q) (register numbers y, w, ws).
#define SHOUP(y, w, ws) \
	UMULL(24, y, ws) \
	UMULL2(25, y, ws) \
	VUZP2 V25.S4, V24.S4, V24.S4 \
	MUL(y, y, w) \
	MLS(y, 24, 30)

// CSUB sets X = X − C if X >= C, for X < 2C < 2^32.
#define CSUB(X, C) \
	VSUB  C, X, V26.S4 \
	VUMIN V26.S4, X, X

// FWD sets (X, Y) = (u + v, u − v + 2q) with u = CSUB(X, 2q) and
// v = SHOUP(Y, W, WS): Cooley–Tukey, X, Y in [0, 4q) in and out. X and Y
// are register operands (V0.S4), y, w, ws register numbers (y is Y's).
#define FWD(X, Y, y, w, ws) \
	CSUB(X, V29.S4) \
	SHOUP(y, w, ws) \
	VSUB Y, X, V26.S4 \
	VADD Y, X, X \
	VADD V29.S4, V26.S4, Y

// INV sets (X, Y) = (CSUB(X + Y, 2q), SHOUP(X − Y + 2q, W, WS)):
// Gentleman–Sande, X, Y in [0, 2q) in and out; operands as in FWD.
#define INV(X, Y, y, w, ws) \
	VADD  Y, X, V26.S4 \
	VSUB  Y, X, Y \
	VADD  V29.S4, Y, Y \
	VSUB  V29.S4, V26.S4, X \
	VUMIN X, V26.S4, X \
	SHOUP(y, w, ws)

// func forward32NEON(a []uint64, w, ws []uint32, q uint64)
//
// forward32 (ntt_scalar.go): len(a) = N >= 16, a power of two, values in
// [0, 4q) in, [0, q) out; w, ws the twiddles and their 32-bit Shoup
// companions as uint32 (Table.w32, ws32u), N of each.
TEXT ·forward32NEON(SB), NOSPLIT, $0-80
	MOVD a_base+0(FP), R0
	MOVD a_len+8(FP), R1
	MOVD w_base+24(FP), R2
	MOVD ws_base+48(FP), R3
	MOVD q+72(FP), R4
	VDUP R4, V30.S4
	VADD V30.S4, V30.S4, V29.S4
	MOVD $1, R5                                   // m: groups in this stage
	LSR  $1, R1, R6                               // h: half-distance

	// Two stages per pass (radix 4) while h >= 8: stage (m, h) on the
	// pairs (a0, a2), (a1, a3) with w[m+i], then stage (2m, h/2) on
	// (a0, a1) with w[2m+2i] and (a2, a3) with w[2m+2i+1], where
	// a_k = a[2ih + k·h/2 + j], j < h/2; the same butterflies as two single
	// stages, each value loaded and stored once instead of twice.
fstage4:
	CMP  $8, R6
	BLO  fstage
	MOVD $0, R7                                   // group i
	MOVD R0, R8                                   // &a0 of group i
	LSL  $2, R6, R9                               // h/2 values in bytes

fgroup4:
	ADD   R5, R7, R10
	LSL   $2, R10, R10
	ADD   R2, R10, R11
	VLD1R (R11), [V20.S4]                         // w[m+i]
	ADD   R3, R10, R11
	VLD1R (R11), [V21.S4]
	ADD   R10, R10, R10                           // 4·(2m+2i)
	ADD   R2, R10, R11
	VLD1R (R11), [V16.S4]                         // w[2m+2i]
	ADD   $4, R11, R11
	VLD1R (R11), [V18.S4]                         // w[2m+2i+1]
	ADD   R3, R10, R11
	VLD1R (R11), [V17.S4]
	ADD   $4, R11, R11
	VLD1R (R11), [V19.S4]
	MOVD  R8, R11                                 // &a0
	ADD   R9, R11, R12                            // &a1
	ADD   R9, R12, R13                            // &a2
	ADD   R9, R13, R14                            // &a3
	LSR   $1, R6, R15                             // h/2 values per quarter

floop4:
	VLD2   (R11), [V0.S4, V1.S4]
	VLD2   (R12), [V2.S4, V3.S4]
	VLD2   (R13), [V4.S4, V5.S4]
	VLD2   (R14), [V6.S4, V7.S4]
	FWD(V0.S4, V4.S4, 4, 20, 21)                  // (a0, a2), w[m+i]
	FWD(V2.S4, V6.S4, 6, 20, 21)                  // (a1, a3), w[m+i]
	FWD(V0.S4, V2.S4, 2, 16, 17)                  // (a0, a1), w[2m+2i]
	FWD(V4.S4, V6.S4, 6, 18, 19)                  // (a2, a3), w[2m+2i+1]
	VST2.P [V0.S4, V1.S4], 32(R11)
	VST2.P [V2.S4, V3.S4], 32(R12)
	VST2.P [V4.S4, V5.S4], 32(R13)
	VST2.P [V6.S4, V7.S4], 32(R14)
	SUBS   $4, R15, R15
	BNE    floop4
	MOVD   R14, R8                                // next group: base + 2h
	ADD    $1, R7, R7
	CMP    R5, R7
	BLO    fgroup4
	LSL    $2, R5, R5
	LSR    $2, R6, R6
	B      fstage4

	// One single stage when h = 4 remains (an odd number of stages above
	// the last two): group i has x = a[2ih : 2ih+h] and y = a[2ih+h :
	// 2ih+2h], twiddle w[m+i]; four butterflies per step.
fstage:
	CMP  $4, R6
	BLO  flast
	MOVD $0, R7                                   // group i
	MOVD R0, R8                                   // &x[0] of group i
	LSL  $3, R6, R9                               // h values in bytes

fgroup:
	ADD   R5, R7, R10
	LSL   $2, R10, R10
	ADD   R2, R10, R11
	VLD1R (R11), [V20.S4]                         // w[m+i] in every lane
	ADD   R3, R10, R11
	VLD1R (R11), [V21.S4]                         // w'[m+i]
	MOVD  R8, R11                                 // &x[j]
	ADD   R9, R8, R12                             // &y[j] = &x[j+h]
	MOVD  R6, R13

floop:
	VLD2   (R11), [V0.S4, V1.S4]                  // V0: x[j..j+3]
	VLD2   (R12), [V2.S4, V3.S4]                  // V2: y[j..j+3]
	FWD(V0.S4, V2.S4, 2, 20, 21)
	VST2.P [V0.S4, V1.S4], 32(R11)
	VST2.P [V2.S4, V3.S4], 32(R12)
	SUBS   $4, R13, R13
	BNE    floop
	MOVD   R12, R8                                // the next group starts after this y half
	ADD    $1, R7, R7
	CMP    R5, R7
	BLO    fgroup
	LSL    $1, R5, R5
	LSR    $1, R6, R6
	B      fstage

	// The last two stages (h = 2 with m = N/4, h = 1 with m = N/2), fused,
	// on blocks of eight values a0..a7, then the reduction to [0, q).
	// VLD4 puts a0 a2 a4 a6 in V0 and a1 a3 a5 a7 in V2 (V1, V3: the zero
	// high halves); TRN1/TRN2 regroup lanes between the stages.
flast:
	LSL  $2, R5, R10
	ADD  R2, R10, R11                             // &w[N/4]
	ADD  R3, R10, R12                             // &w'[N/4]
	ADD  R10, R10, R10
	ADD  R2, R10, R13                             // &w[N/2]
	ADD  R3, R10, R14                             // &w'[N/2]
	LSR  $3, R1, R15                              // N/8 blocks
	MOVD R0, R8

flast8:
	VLD4   (R8), [V0.S4, V1.S4, V2.S4, V3.S4]     // V0: a0 a2 a4 a6, V2: a1 a3 a5 a7
	VTRN1  V2.S4, V0.S4, V4.S4                    // x: a0 a1 a4 a5
	VTRN2  V2.S4, V0.S4, V6.S4                    // y: a2 a3 a6 a7
	VLD1.P 8(R11), [V20.S2]                       // w[N/4+2b], w[N/4+2b+1]
	VLD1.P 8(R12), [V21.S2]
	VZIP1  V20.S4, V20.S4, V20.S4                 // w[N/4+2b] w[N/4+2b] w[N/4+2b+1] w[N/4+2b+1]
	VZIP1  V21.S4, V21.S4, V21.S4
	FWD(V4.S4, V6.S4, 6, 20, 21)
	VTRN1  V6.S4, V4.S4, V0.S4                    // x: a0 a2 a4 a6
	VTRN2  V6.S4, V4.S4, V2.S4                    // y: a1 a3 a5 a7
	VLD1.P 16(R13), [V22.S4]                      // w[N/2+4b .. N/2+4b+3]
	VLD1.P 16(R14), [V18.S4]                      // w'[N/2+4b ..]
	FWD(V0.S4, V2.S4, 2, 22, 18)
	CSUB(V0.S4, V29.S4)
	CSUB(V0.S4, V30.S4)
	CSUB(V2.S4, V29.S4)
	CSUB(V2.S4, V30.S4)
	VST4.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R8)
	SUBS   $1, R15, R15
	BNE    flast8
	RET

// func inverse32NEON(a []uint64, wi, wis []uint32, q, nInv, nInvS, nInvW, nInvWS uint64)
//
// inverse32 (ntt_scalar.go): len(a) = N >= 16, a power of two, values in
// [0, q) in and out; wi, wis as uint32 (Table.wi32, wis32u); nInvS, nInvWS
// are 32-bit Shoup companions.
TEXT ·inverse32NEON(SB), NOSPLIT, $0-112
	MOVD a_base+0(FP), R0
	MOVD a_len+8(FP), R1
	MOVD wi_base+24(FP), R2
	MOVD wis_base+48(FP), R3
	MOVD q+72(FP), R4
	VDUP R4, V30.S4
	VADD V30.S4, V30.S4, V29.S4

	// The first two stages (h = 1 with m = N/2, h = 2 with m = N/4), fused,
	// on blocks of eight values a0..a7 (lanes as in flast8).
	LSR  $1, R1, R10
	LSL  $2, R10, R10
	ADD  R2, R10, R11                             // &wi[N/2]
	ADD  R3, R10, R12
	LSR  $1, R10, R10
	ADD  R2, R10, R13                             // &wi[N/4]
	ADD  R3, R10, R14
	LSR  $3, R1, R15                              // N/8 blocks
	MOVD R0, R8

ifirst8:
	VLD4   (R8), [V0.S4, V1.S4, V2.S4, V3.S4]     // x: a0 a2 a4 a6, y: a1 a3 a5 a7
	VLD1.P 16(R11), [V22.S4]                      // wi[N/2+4b .. N/2+4b+3]
	VLD1.P 16(R12), [V18.S4]
	INV(V0.S4, V2.S4, 2, 22, 18)
	VTRN1  V2.S4, V0.S4, V4.S4                    // x: a0 a1 a4 a5
	VTRN2  V2.S4, V0.S4, V6.S4                    // y: a2 a3 a6 a7
	VLD1.P 8(R13), [V20.S2]                       // wi[N/4+2b], wi[N/4+2b+1]
	VLD1.P 8(R14), [V21.S2]
	VZIP1  V20.S4, V20.S4, V20.S4                 // each twice
	VZIP1  V21.S4, V21.S4, V21.S4
	INV(V4.S4, V6.S4, 6, 20, 21)
	VTRN1  V6.S4, V4.S4, V0.S4                    // a0 a2 a4 a6
	VTRN2  V6.S4, V4.S4, V2.S4                    // a1 a3 a5 a7
	VST4.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R8)
	SUBS   $1, R15, R15
	BNE    ifirst8

	// Middle stages h = 4, 8, ... while m >= 2, two per pass (radix 4)
	// while m >= 4: stage (m, h) on (a0, a1) with wi[m+2i] and (a2, a3)
	// with wi[m+2i+1], then stage (m/2, 2h) on (a0, a2), (a1, a3) with
	// wi[m/2+i], where a_k = a[4ih + k·h + j], j < h, block i < m/2.
	LSR  $3, R1, R5                               // m = N/8
	MOVD $4, R6                                   // h

istage4:
	CMP  $4, R5
	BLO  istage
	MOVD $0, R7                                   // block i
	MOVD R0, R8                                   // &a0 of block i
	LSL  $3, R6, R9                               // h values in bytes

igroup4:
	ADD   R7, R7, R10
	ADD   R5, R10, R10
	LSL   $2, R10, R10                            // 4·(m+2i)
	ADD   R2, R10, R11
	VLD1R (R11), [V16.S4]                         // wi[m+2i]
	ADD   $4, R11, R11
	VLD1R (R11), [V18.S4]                         // wi[m+2i+1]
	ADD   R3, R10, R11
	VLD1R (R11), [V17.S4]
	ADD   $4, R11, R11
	VLD1R (R11), [V19.S4]
	LSR   $1, R5, R10
	ADD   R7, R10, R10
	LSL   $2, R10, R10                            // 4·(m/2+i)
	ADD   R2, R10, R11
	VLD1R (R11), [V20.S4]                         // wi[m/2+i]
	ADD   R3, R10, R11
	VLD1R (R11), [V21.S4]
	MOVD  R8, R11                                 // &a0
	ADD   R9, R11, R12                            // &a1
	ADD   R9, R12, R13                            // &a2
	ADD   R9, R13, R14                            // &a3
	MOVD  R6, R15                                 // h values per quarter

iloop4:
	VLD2   (R11), [V0.S4, V1.S4]
	VLD2   (R12), [V2.S4, V3.S4]
	VLD2   (R13), [V4.S4, V5.S4]
	VLD2   (R14), [V6.S4, V7.S4]
	INV(V0.S4, V2.S4, 2, 16, 17)                  // (a0, a1), wi[m+2i]
	INV(V4.S4, V6.S4, 6, 18, 19)                  // (a2, a3), wi[m+2i+1]
	INV(V0.S4, V4.S4, 4, 20, 21)                  // (a0, a2), wi[m/2+i]
	INV(V2.S4, V6.S4, 6, 20, 21)                  // (a1, a3), wi[m/2+i]
	VST2.P [V0.S4, V1.S4], 32(R11)
	VST2.P [V2.S4, V3.S4], 32(R12)
	VST2.P [V4.S4, V5.S4], 32(R13)
	VST2.P [V6.S4, V7.S4], 32(R14)
	SUBS   $4, R15, R15
	BNE    iloop4
	MOVD   R14, R8                                // next block: base + 4h
	ADD    $1, R7, R7
	LSR    $1, R5, R10
	CMP    R10, R7
	BLO    igroup4
	LSR    $2, R5, R5
	LSL    $2, R6, R6
	B      istage4

	// One single stage when m = 2 remains: group i has x = a[2ih : 2ih+h]
	// and y = a[2ih+h : 2ih+2h], twiddle wi[m+i].
istage:
	CMP  $2, R5
	BLO  ilast
	MOVD $0, R7
	MOVD R0, R8
	LSL  $3, R6, R9

igroup:
	ADD   R5, R7, R10
	LSL   $2, R10, R10
	ADD   R2, R10, R11
	VLD1R (R11), [V20.S4]                         // wi[m+i]
	ADD   R3, R10, R11
	VLD1R (R11), [V21.S4]
	MOVD  R8, R11
	ADD   R9, R8, R12
	MOVD  R6, R13

iloop:
	VLD2   (R11), [V0.S4, V1.S4]
	VLD2   (R12), [V2.S4, V3.S4]
	INV(V0.S4, V2.S4, 2, 20, 21)
	VST2.P [V0.S4, V1.S4], 32(R11)
	VST2.P [V2.S4, V3.S4], 32(R12)
	SUBS   $4, R13, R13
	BNE    iloop
	MOVD   R12, R8
	ADD    $1, R7, R7
	CMP    R5, R7
	BLO    igroup
	LSR    $1, R5, R5
	LSL    $1, R6, R6
	B      istage

	// Last stage (m = 1, h = N/2) merged with N^{-1}:
	// x' = (u+v)·N^{-1}, y' = (u−v+2q)·N^{-1}·wi[1], reduced to [0, q).
ilast:
	MOVD nInv+80(FP), R10
	VDUP R10, V20.S4
	MOVD nInvS+88(FP), R10
	VDUP R10, V21.S4
	MOVD nInvW+96(FP), R10
	VDUP R10, V22.S4
	MOVD nInvWS+104(FP), R10
	VDUP R10, V23.S4
	LSR  $1, R1, R13
	MOVD R0, R11
	LSL  $3, R13, R12
	ADD  R0, R12, R12                             // &a[N/2]

ilastloop:
	VLD2   (R11), [V0.S4, V1.S4]                  // u
	VLD2   (R12), [V2.S4, V3.S4]                  // v
	VADD   V2.S4, V0.S4, V4.S4                    // u + v < 4q
	VSUB   V2.S4, V0.S4, V6.S4
	VADD   V29.S4, V6.S4, V6.S4                   // u − v + 2q < 4q
	SHOUP(4, 20, 21)
	SHOUP(6, 22, 23)
	VSUB   V30.S4, V4.S4, V26.S4
	VUMIN  V26.S4, V4.S4, V0.S4                   // CSUB(u + v, q)
	VSUB   V30.S4, V6.S4, V26.S4
	VUMIN  V26.S4, V6.S4, V2.S4
	VST2.P [V0.S4, V1.S4], 32(R11)
	VST2.P [V2.S4, V3.S4], 32(R12)
	SUBS   $4, R13, R13
	BNE    ilastloop
	RET
