// The body of the forward IFMA NTT kernels (ntt_ifma_amd64.s), included
// once per variant with its butterfly FWDBF and its final reduction
// FWDFINAL to [0, q) defined. Labels are local to each TEXT symbol. The
// first radix-8 pass reads src and writes a (R14 = src − a, zero after
// it), so src must be a itself unless N >= 64 (the first pass is then
// radix 8); src and a are the same or do not overlap.

	MOVQ a_base+0(FP), DI
	MOVQ a_len+8(FP), CX
	MOVQ w_base+48(FP), SI
	MOVQ ws_base+72(FP), R8
	MOVQ src_base+24(FP), R14
	SUBQ DI, R14                   // src − a: the first radix-8 pass reads src
	MOVQ q+96(FP), AX
	SETUP
	MOVQ $1, R9                    // m: groups in this stage
	MOVQ CX, R10
	SHRQ $1, R10                   // h: half-distance

	// Three stages per pass (radix 8) while h >= 32, so that each value
	// is loaded and stored once per three stages: with a_k = x[2ih +
	// k·h/4 + j] (k < 8, j a multiple of 8 below h/4), stage (m, h) on
	// the pairs (a_k, a_k+4) with w[m+i]; stage (2m, h/2) on (a0, a2),
	// (a1, a3) with w[2m+2i] and (a4, a6), (a5, a7) with w[2m+2i+1];
	// stage (4m, h/4) on (a0, a1), (a2, a3), (a4, a5), (a6, a7) with
	// w[4m+4i+k], k < 4. R13 = h/4 values in bytes (S), R15 = 3S, DX =
	// &a4. Twiddles in Z8..Z21 (value, companion), temporaries Z23..Z26.
fstage8:
	CMPQ R10, $32
	JB   fstage4
	XORQ R11, R11                  // group i
	MOVQ DI, BX                    // &a0 of group i
	MOVQ R10, R13
	SHLQ $1, R13                   // S = h/4 values in bytes
	LEAQ (R13)(R13*2), R15         // 3S

fgroup8:
	LEAQ         (R9)(R11*1), R12
	VPBROADCASTQ (SI)(R12*8), Z8   // w[m+i]
	VPBROADCASTQ (R8)(R12*8), Z9
	SHLQ         $1, R12           // 2m+2i
	VPBROADCASTQ (SI)(R12*8), Z10  // w[2m+2i]
	VPBROADCASTQ (R8)(R12*8), Z11
	VPBROADCASTQ 8(SI)(R12*8), Z12 // w[2m+2i+1]
	VPBROADCASTQ 8(R8)(R12*8), Z13
	SHLQ         $1, R12           // 4m+4i
	VPBROADCASTQ (SI)(R12*8), Z14  // w[4m+4i]
	VPBROADCASTQ (R8)(R12*8), Z15
	VPBROADCASTQ 8(SI)(R12*8), Z16 // w[4m+4i+1]
	VPBROADCASTQ 8(R8)(R12*8), Z17
	VPBROADCASTQ 16(SI)(R12*8), Z18 // w[4m+4i+2]
	VPBROADCASTQ 16(R8)(R12*8), Z19
	VPBROADCASTQ 24(SI)(R12*8), Z20 // w[4m+4i+3]
	VPBROADCASTQ 24(R8)(R12*8), Z21
	MOVQ         R10, AX
	SHRQ         $2, AX            // h/4 values per eighth

floop8:
	LEAQ      (BX)(R13*4), DX      // &a4
	LEAQ      (BX)(R14*1), R12     // where a0..a3 are read: src in the first pass
	VMOVDQU64 (R12), Z0
	VMOVDQU64 (R12)(R13*1), Z1
	VMOVDQU64 (R12)(R13*2), Z2
	VMOVDQU64 (R12)(R15*1), Z3
	LEAQ      (R12)(R13*4), R12    // and a4..a7
	VMOVDQU64 (R12), Z4
	VMOVDQU64 (R12)(R13*1), Z5
	VMOVDQU64 (R12)(R13*2), Z6
	VMOVDQU64 (R12)(R15*1), Z7
	FWDBF(Z0, Z4, Z8, Z9, Z23, Z24)
	FWDBF(Z1, Z5, Z8, Z9, Z25, Z26)
	FWDBF(Z2, Z6, Z8, Z9, Z23, Z24)
	FWDBF(Z3, Z7, Z8, Z9, Z25, Z26)
	FWDBF(Z0, Z2, Z10, Z11, Z23, Z24)
	FWDBF(Z1, Z3, Z10, Z11, Z25, Z26)
	FWDBF(Z4, Z6, Z12, Z13, Z23, Z24)
	FWDBF(Z5, Z7, Z12, Z13, Z25, Z26)
	FWDBF(Z0, Z1, Z14, Z15, Z23, Z24)
	FWDBF(Z2, Z3, Z16, Z17, Z25, Z26)
	FWDBF(Z4, Z5, Z18, Z19, Z23, Z24)
	FWDBF(Z6, Z7, Z20, Z21, Z25, Z26)
	VMOVDQU64 Z0, (BX)
	VMOVDQU64 Z1, (BX)(R13*1)
	VMOVDQU64 Z2, (BX)(R13*2)
	VMOVDQU64 Z3, (BX)(R15*1)
	VMOVDQU64 Z4, (DX)
	VMOVDQU64 Z5, (DX)(R13*1)
	VMOVDQU64 Z6, (DX)(R13*2)
	VMOVDQU64 Z7, (DX)(R15*1)
	ADDQ      $64, BX
	SUBQ      $8, AX
	JNZ       floop8
	LEAQ      (BX)(R13*4), BX      // next group: base + 8S (BX is base + S)
	ADDQ      R15, BX
	INCQ      R11
	CMPQ      R11, R9
	JB        fgroup8
	SHLQ      $3, R9
	SHRQ      $3, R10
	XORQ      R14, R14             // later passes work in place
	JMP       fstage8

	// Two stages per pass (radix 4) while h >= 16: stage (m, h) on the
	// pairs (a0, a2), (a1, a3) with w[m+i], then stage (2m, h/2) on
	// (a0, a1) with w[2m+2i] and (a2, a3) with w[2m+2i+1], where
	// a_k = x[2ih + k·h/2 + j], j a multiple of 8.
fstage4:
	CMPQ R10, $16
	JB   fstage
	XORQ R11, R11                  // group i
	MOVQ DI, BX                    // &a0 of group i
	MOVQ R10, R13
	SHLQ $2, R13                   // h/2 values in bytes
	LEAQ (R13)(R13*2), R15         // 3h/2 values in bytes

fgroup4:
	LEAQ         (R9)(R11*1), R12
	VPBROADCASTQ (SI)(R12*8), Z13  // w[m+i]
	VPBROADCASTQ (R8)(R12*8), Z12
	SHLQ         $1, R12           // 2m+2i
	VPBROADCASTQ (SI)(R12*8), Z11  // w[2m+2i]
	VPBROADCASTQ (R8)(R12*8), Z10
	VPBROADCASTQ 8(SI)(R12*8), Z9  // w[2m+2i+1]
	VPBROADCASTQ 8(R8)(R12*8), Z8
	MOVQ         R10, AX
	SHRQ         $1, AX            // h/2 values per quarter

floop4:
	VMOVDQU64 (BX), Z0
	VMOVDQU64 (BX)(R13*1), Z1
	VMOVDQU64 (BX)(R13*2), Z2
	VMOVDQU64 (BX)(R15*1), Z3
	FWDBF(Z0, Z2, Z13, Z12, Z4, Z5)
	FWDBF(Z1, Z3, Z13, Z12, Z6, Z7)
	FWDBF(Z0, Z1, Z11, Z10, Z4, Z5)
	FWDBF(Z2, Z3, Z9, Z8, Z6, Z7)
	VMOVDQU64 Z0, (BX)
	VMOVDQU64 Z1, (BX)(R13*1)
	VMOVDQU64 Z2, (BX)(R13*2)
	VMOVDQU64 Z3, (BX)(R15*1)
	ADDQ      $64, BX
	SUBQ      $8, AX
	JNZ       floop4
	ADDQ      R15, BX              // next group: base + 2h
	INCQ      R11
	CMPQ      R11, R9
	JB        fgroup4
	SHLQ      $2, R9
	SHRQ      $2, R10
	JMP       fstage4

	// One single stage when h = 8 remains (log2(N) − 3 stages above the
	// last three is odd): one register per half group.
fstage:
	CMPQ R10, $8
	JB   flast
	XORQ R11, R11                  // group i
	MOVQ DI, BX

fgroup:
	LEAQ         (R9)(R11*1), R12
	VPBROADCASTQ (SI)(R12*8), Z13  // w[m+i]
	VPBROADCASTQ (R8)(R12*8), Z12
	VMOVDQU64    (BX), Z0
	VMOVDQU64    64(BX), Z1
	FWDBF(Z0, Z1, Z13, Z12, Z4, Z5)
	VMOVDQU64    Z0, (BX)
	VMOVDQU64    Z1, 64(BX)
	ADDQ         $128, BX
	INCQ         R11
	CMPQ         R11, R9
	JB           fgroup
	SHLQ         $1, R9

	// The last three stages (h = 4, 2, 1 with m = N/8, N/4, N/2), fused,
	// on blocks c of 16 values a0..a15, then the reduction to [0, q). R9
	// is N/8 here. The twiddles of block c are w[N/8+2c+k] (k < 2),
	// w[N/4+4c+k] (k < 4) and w[N/2+8c+k] (k < 8); VPERMQ reads eight
	// of them (in bounds: the largest index read is N/2+4 < N) and places
	// each in the lanes of its pairs.
flast:
	VMOVDQU64 ifmaIdx4<>(SB), Z27
	VMOVDQU64 ifmaIdx2<>(SB), Z26
	VMOVDQU64 ifmaIdx1<>(SB), Z25
	VMOVDQU64 ifmaZipLo<>(SB), Z24
	VMOVDQU64 ifmaZipHi<>(SB), Z23
	LEAQ      (SI)(R9*8), R11      // &w[N/8]
	LEAQ      (R8)(R9*8), R12
	LEAQ      (R9)(R9*1), AX       // N/4
	LEAQ      (SI)(AX*8), R13      // &w[N/4]
	LEAQ      (R8)(AX*8), R14
	SHLQ      $1, AX               // N/2
	LEAQ      (SI)(AX*8), R15      // &w[N/2]
	LEAQ      (R8)(AX*8), DX
	MOVQ      CX, AX
	SHRQ      $4, AX               // N/16 blocks
	MOVQ      DI, BX

	// Two blocks per iteration, their steps interleaved: each block is
	// one dependent chain (shuffle, butterfly, shuffle, ...), so one
	// block alone leaves the multipliers idle. The second block's
	// registers are Z6..Z11, Z14, Z15, its twiddles 16, 32 and 64 bytes
	// further on.
flast32:
	CMPQ AX, $2
	JB   flast1

	VMOVDQU64 (BX), Z0
	VMOVDQU64 64(BX), Z1
	VMOVDQU64 128(BX), Z6
	VMOVDQU64 192(BX), Z7

	VSHUFI64X2 $0x44, Z1, Z0, Z2
	VSHUFI64X2 $0xEE, Z1, Z0, Z3
	VSHUFI64X2 $0x44, Z7, Z6, Z8
	VSHUFI64X2 $0xEE, Z7, Z6, Z9
	VPERMQ     (R11), Z27, Z13
	VPERMQ     (R12), Z27, Z12
	VPERMQ     16(R11), Z27, Z15
	VPERMQ     16(R12), Z27, Z14
	FWDBF(Z2, Z3, Z13, Z12, Z4, Z5)
	FWDBF(Z8, Z9, Z15, Z14, Z10, Z11)

	VSHUFI64X2 $0x88, Z3, Z2, Z0
	VSHUFI64X2 $0xDD, Z3, Z2, Z1
	VSHUFI64X2 $0x88, Z9, Z8, Z6
	VSHUFI64X2 $0xDD, Z9, Z8, Z7
	VPERMQ     (R13), Z26, Z13
	VPERMQ     (R14), Z26, Z12
	VPERMQ     32(R13), Z26, Z15
	VPERMQ     32(R14), Z26, Z14
	FWDBF(Z0, Z1, Z13, Z12, Z4, Z5)
	FWDBF(Z6, Z7, Z15, Z14, Z10, Z11)

	VPUNPCKLQDQ Z1, Z0, Z2
	VPUNPCKHQDQ Z1, Z0, Z3
	VPUNPCKLQDQ Z7, Z6, Z8
	VPUNPCKHQDQ Z7, Z6, Z9
	VPERMQ      (R15), Z25, Z13
	VPERMQ      (DX), Z25, Z12
	VPERMQ      64(R15), Z25, Z15
	VPERMQ      64(DX), Z25, Z14
	FWDBF(Z2, Z3, Z13, Z12, Z4, Z5)
	FWDBF(Z8, Z9, Z15, Z14, Z10, Z11)
	FWDFINAL(Z2, Z4)
	FWDFINAL(Z3, Z5)
	FWDFINAL(Z8, Z10)
	FWDFINAL(Z9, Z11)

	VMOVDQA64 Z24, Z0
	VPERMI2Q  Z3, Z2, Z0
	VMOVDQA64 Z23, Z1
	VPERMI2Q  Z3, Z2, Z1
	VMOVDQA64 Z24, Z6
	VPERMI2Q  Z9, Z8, Z6
	VMOVDQA64 Z23, Z7
	VPERMI2Q  Z9, Z8, Z7
	VMOVDQU64 Z0, (BX)
	VMOVDQU64 Z1, 64(BX)
	VMOVDQU64 Z6, 128(BX)
	VMOVDQU64 Z7, 192(BX)
	ADDQ      $256, BX
	ADDQ      $32, R11
	ADDQ      $32, R12
	ADDQ      $64, R13
	ADDQ      $64, R14
	ADDQ      $128, R15
	ADDQ      $128, DX
	SUBQ      $2, AX
	JMP       flast32

	// One block left (N/16 odd: N = 16).
flast1:
	TESTQ AX, AX
	JZ    fdone

flast16:
	VMOVDQU64 (BX), Z0             // a0 .. a7
	VMOVDQU64 64(BX), Z1           // a8 .. a15

	// h = 4: x = a0..a3 a8..a11, y = a4..a7 a12..a15; groups 2c, 2c+1.
	VSHUFI64X2 $0x44, Z1, Z0, Z2
	VSHUFI64X2 $0xEE, Z1, Z0, Z3
	VPERMQ     (R11), Z27, Z13     // w[N/8+2c] ×4, w[N/8+2c+1] ×4
	VPERMQ     (R12), Z27, Z12
	FWDBF(Z2, Z3, Z13, Z12, Z4, Z5)

	// h = 2: x = a0a1 a8a9 a4a5 a12a13, y = a2a3 a10a11 a6a7 a14a15
	// (128-bit lanes 0, 2 of each, then 1, 3); groups 4c+0, 2, 1, 3.
	VSHUFI64X2 $0x88, Z3, Z2, Z0
	VSHUFI64X2 $0xDD, Z3, Z2, Z1
	VPERMQ     (R13), Z26, Z13
	VPERMQ     (R14), Z26, Z12
	FWDBF(Z0, Z1, Z13, Z12, Z4, Z5)

	// h = 1: x = a0 a2 a8 a10 a4 a6 a12 a14, y = a1 a3 a9 a11 a5 a7 a13
	// a15 (low and high quadwords of each 128-bit lane); groups 8c + 0,
	// 1, 4, 5, 2, 3, 6, 7.
	VPUNPCKLQDQ Z1, Z0, Z2
	VPUNPCKHQDQ Z1, Z0, Z3
	VPERMQ      (R15), Z25, Z13
	VPERMQ      (DX), Z25, Z12
	FWDBF(Z2, Z3, Z13, Z12, Z4, Z5)
	FWDFINAL(Z2, Z4)
	FWDFINAL(Z3, Z5)

	// Back to order: a0..a7 = x0 y0 x1 y1 x4 y4 x5 y5, a8..a15 = x2 y2
	// x3 y3 x6 y6 x7 y7.
	VMOVDQA64 Z24, Z0
	VPERMI2Q  Z3, Z2, Z0
	VMOVDQA64 Z23, Z1
	VPERMI2Q  Z3, Z2, Z1
	VMOVDQU64 Z0, (BX)
	VMOVDQU64 Z1, 64(BX)
	ADDQ      $128, BX
	ADDQ      $16, R11
	ADDQ      $16, R12
	ADDQ      $32, R13
	ADDQ      $32, R14
	ADDQ      $64, R15
	ADDQ      $64, DX
	DECQ      AX
	JNZ       flast16

fdone:
	VZEROUPPER
	RET
