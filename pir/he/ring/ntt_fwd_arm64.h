// The body of forward32NEON and forward31NEON (ntt_arm64.s): SHOUP and
// COMP select the Shoup product.

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
	COMP(V21.S4)
	ADD   R10, R10, R10                           // 4·(2m+2i)
	ADD   R2, R10, R11
	VLD1R (R11), [V16.S4]                         // w[2m+2i]
	ADD   $4, R11, R11
	VLD1R (R11), [V18.S4]                         // w[2m+2i+1]
	ADD   R3, R10, R11
	VLD1R (R11), [V17.S4]
	COMP(V17.S4)
	ADD   $4, R11, R11
	VLD1R (R11), [V19.S4]
	COMP(V19.S4)
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
	COMP(V21.S4)
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
	COMP(V21.S4)
	VZIP1  V20.S4, V20.S4, V20.S4                 // w[N/4+2b] w[N/4+2b] w[N/4+2b+1] w[N/4+2b+1]
	VZIP1  V21.S4, V21.S4, V21.S4
	FWD(V4.S4, V6.S4, 6, 20, 21)
	VTRN1  V6.S4, V4.S4, V0.S4                    // x: a0 a2 a4 a6
	VTRN2  V6.S4, V4.S4, V2.S4                    // y: a1 a3 a5 a7
	VLD1.P 16(R13), [V22.S4]                      // w[N/2+4b .. N/2+4b+3]
	VLD1.P 16(R14), [V18.S4]                      // w'[N/2+4b ..]
	COMP(V18.S4)
	FWD(V0.S4, V2.S4, 2, 22, 18)
	CSUB(V0.S4, V29.S4)
	CSUB(V0.S4, V30.S4)
	CSUB(V2.S4, V29.S4)
	CSUB(V2.S4, V30.S4)
	VST4.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R8)
	SUBS   $1, R15, R15
	BNE    flast8
	RET
