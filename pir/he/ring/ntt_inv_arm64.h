// The body of inverse32NEON and inverse31NEON (ntt_arm64.s): SHOUP and
// COMP select the Shoup product.

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
	COMP(V18.S4)
	INV(V0.S4, V2.S4, 2, 22, 18)
	VTRN1  V2.S4, V0.S4, V4.S4                    // x: a0 a1 a4 a5
	VTRN2  V2.S4, V0.S4, V6.S4                    // y: a2 a3 a6 a7
	VLD1.P 8(R13), [V20.S2]                       // wi[N/4+2b], wi[N/4+2b+1]
	VLD1.P 8(R14), [V21.S2]
	COMP(V21.S4)
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
	COMP(V17.S4)
	ADD   $4, R11, R11
	VLD1R (R11), [V19.S4]
	COMP(V19.S4)
	LSR   $1, R5, R10
	ADD   R7, R10, R10
	LSL   $2, R10, R10                            // 4·(m/2+i)
	ADD   R2, R10, R11
	VLD1R (R11), [V20.S4]                         // wi[m/2+i]
	ADD   R3, R10, R11
	VLD1R (R11), [V21.S4]
	COMP(V21.S4)
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
	COMP(V21.S4)
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
	COMP(V21.S4)
	MOVD nInvW+96(FP), R10
	VDUP R10, V22.S4
	MOVD nInvWS+104(FP), R10
	VDUP R10, V23.S4
	COMP(V23.S4)
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
