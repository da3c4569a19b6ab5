// The body of the inverse IFMA NTT kernels (ntt_ifma_amd64.s), included
// once per variant with its butterfly INVBF defined and Z20 = C, the
// multiple of q the last stage adds to u − v (2q for INV52, whose values
// stay below 2q; N·q for INV52LAZY). SETUP must have run (AX = q).
// Labels are local to each TEXT symbol.

	MOVQ a_base+0(FP), DI
	MOVQ a_len+8(FP), CX
	MOVQ wi_base+24(FP), SI
	MOVQ wis_base+48(FP), R8

	// The first three stages (h = 1, 2, 4 with m = N/2, N/4, N/8), fused,
	// on blocks c of 16 values: the forward's last three in reverse, same
	// lane layouts and twiddle placement.
	VMOVDQU64 ifmaIdx4<>(SB), Z27
	VMOVDQU64 ifmaIdx2<>(SB), Z26
	VMOVDQU64 ifmaIdx1<>(SB), Z25
	VMOVDQU64 ifmaUnzipE<>(SB), Z24
	VMOVDQU64 ifmaUnzipO<>(SB), Z23
	VMOVDQU64 ifmaPairLo<>(SB), Z22
	VMOVDQU64 ifmaPairHi<>(SB), Z21
	MOVQ      CX, R9
	SHRQ      $3, R9               // N/8
	LEAQ      (SI)(R9*8), R11      // &wi[N/8]
	LEAQ      (R8)(R9*8), R12
	LEAQ      (R9)(R9*1), AX       // N/4
	LEAQ      (SI)(AX*8), R13      // &wi[N/4]
	LEAQ      (R8)(AX*8), R14
	SHLQ      $1, AX               // N/2
	LEAQ      (SI)(AX*8), R15      // &wi[N/2]
	LEAQ      (R8)(AX*8), DX
	MOVQ      CX, AX
	SHRQ      $4, AX
	MOVQ      DI, BX

	// Two blocks per iteration, interleaved (see the forward's flast32):
	// the second block's registers are Z6..Z11, Z14, Z15.
ifirst32:
	CMPQ AX, $2
	JB   ifirst1

	VMOVDQU64 (BX), Z0
	VMOVDQU64 64(BX), Z1
	VMOVDQU64 128(BX), Z6
	VMOVDQU64 192(BX), Z7

	VMOVDQA64 Z24, Z2
	VPERMI2Q  Z1, Z0, Z2
	VMOVDQA64 Z23, Z3
	VPERMI2Q  Z1, Z0, Z3
	VMOVDQA64 Z24, Z8
	VPERMI2Q  Z7, Z6, Z8
	VMOVDQA64 Z23, Z9
	VPERMI2Q  Z7, Z6, Z9
	VPERMQ    (R15), Z25, Z13
	VPERMQ    (DX), Z25, Z12
	VPERMQ    64(R15), Z25, Z15
	VPERMQ    64(DX), Z25, Z14
	INVBF(Z2, Z3, Z13, Z12, Z4, Z5)
	INVBF(Z8, Z9, Z15, Z14, Z10, Z11)

	VPUNPCKLQDQ Z3, Z2, Z0
	VPUNPCKHQDQ Z3, Z2, Z1
	VPUNPCKLQDQ Z9, Z8, Z6
	VPUNPCKHQDQ Z9, Z8, Z7
	VPERMQ      (R13), Z26, Z13
	VPERMQ      (R14), Z26, Z12
	VPERMQ      32(R13), Z26, Z15
	VPERMQ      32(R14), Z26, Z14
	INVBF(Z0, Z1, Z13, Z12, Z4, Z5)
	INVBF(Z6, Z7, Z15, Z14, Z10, Z11)

	VMOVDQA64 Z22, Z2
	VPERMI2Q  Z1, Z0, Z2
	VMOVDQA64 Z21, Z3
	VPERMI2Q  Z1, Z0, Z3
	VMOVDQA64 Z22, Z8
	VPERMI2Q  Z7, Z6, Z8
	VMOVDQA64 Z21, Z9
	VPERMI2Q  Z7, Z6, Z9
	VPERMQ    (R11), Z27, Z13
	VPERMQ    (R12), Z27, Z12
	VPERMQ    16(R11), Z27, Z15
	VPERMQ    16(R12), Z27, Z14
	INVBF(Z2, Z3, Z13, Z12, Z4, Z5)
	INVBF(Z8, Z9, Z15, Z14, Z10, Z11)

	VSHUFI64X2 $0x44, Z3, Z2, Z0
	VSHUFI64X2 $0xEE, Z3, Z2, Z1
	VSHUFI64X2 $0x44, Z9, Z8, Z6
	VSHUFI64X2 $0xEE, Z9, Z8, Z7
	VMOVDQU64  Z0, (BX)
	VMOVDQU64  Z1, 64(BX)
	VMOVDQU64  Z6, 128(BX)
	VMOVDQU64  Z7, 192(BX)
	ADDQ       $256, BX
	ADDQ       $32, R11
	ADDQ       $32, R12
	ADDQ       $64, R13
	ADDQ       $64, R14
	ADDQ       $128, R15
	ADDQ       $128, DX
	SUBQ       $2, AX
	JMP        ifirst32

	// One block left (N = 16).
ifirst1:
	TESTQ AX, AX
	JZ    imiddle

ifirst16:
	VMOVDQU64 (BX), Z0             // a0 .. a7
	VMOVDQU64 64(BX), Z1           // a8 .. a15

	// h = 1: x = a0 a2 a8 a10 a4 a6 a12 a14, y = a1 a3 a9 a11 a5 a7 a13 a15.
	VMOVDQA64 Z24, Z2
	VPERMI2Q  Z1, Z0, Z2
	VMOVDQA64 Z23, Z3
	VPERMI2Q  Z1, Z0, Z3
	VPERMQ    (R15), Z25, Z13
	VPERMQ    (DX), Z25, Z12
	INVBF(Z2, Z3, Z13, Z12, Z4, Z5)

	// h = 2: x = a0a1 a8a9 a4a5 a12a13, y = a2a3 a10a11 a6a7 a14a15.
	VPUNPCKLQDQ Z3, Z2, Z0
	VPUNPCKHQDQ Z3, Z2, Z1
	VPERMQ      (R13), Z26, Z13
	VPERMQ      (R14), Z26, Z12
	INVBF(Z0, Z1, Z13, Z12, Z4, Z5)

	// h = 4: x = a0..a3 a8..a11, y = a4..a7 a12..a15.
	VMOVDQA64 Z22, Z2
	VPERMI2Q  Z1, Z0, Z2
	VMOVDQA64 Z21, Z3
	VPERMI2Q  Z1, Z0, Z3
	VPERMQ    (R11), Z27, Z13
	VPERMQ    (R12), Z27, Z12
	INVBF(Z2, Z3, Z13, Z12, Z4, Z5)

	VSHUFI64X2 $0x44, Z3, Z2, Z0   // a0 .. a7
	VSHUFI64X2 $0xEE, Z3, Z2, Z1   // a8 .. a15
	VMOVDQU64  Z0, (BX)
	VMOVDQU64  Z1, 64(BX)
	ADDQ       $128, BX
	ADDQ       $16, R11
	ADDQ       $16, R12
	ADDQ       $32, R13
	ADDQ       $32, R14
	ADDQ       $64, R15
	ADDQ       $64, DX
	DECQ       AX
	JNZ        ifirst16

imiddle:

	// Middle stages h = 8, 16, ... while m >= 2: three per pass (radix 8)
	// while m >= 8, so that each value is loaded and stored once per
	// three stages. With a_k = x[8ih + k·h + j] (k < 8, j a multiple of
	// 8 below h): stage (m, h) on (a0, a1), (a2, a3), (a4, a5), (a6, a7)
	// with wi[m+4i+k], k < 4; stage (m/2, 2h) on (a0, a2), (a1, a3) with
	// wi[m/2+2i] and (a4, a6), (a5, a7) with wi[m/2+2i+1]; stage
	// (m/4, 4h) on (a_k, a_k+4) with wi[m/4+i]. R13 = h values in bytes
	// (S), R15 = 3S, DX = &a4, R14 = m/4 blocks. Twiddles in Z8..Z19,
	// Z21, Z22 (Z20 is C), temporaries Z23..Z26.
	MOVQ CX, R9
	SHRQ $4, R9                    // m = N/16
	MOVQ $8, R10                   // h

istage8:
	CMPQ R9, $8
	JB   istage4
	XORQ R11, R11                  // block i
	MOVQ DI, BX
	MOVQ R10, R13
	SHLQ $3, R13                   // S = h values in bytes
	LEAQ (R13)(R13*2), R15         // 3S
	MOVQ R9, R14
	SHRQ $2, R14                   // m/4 blocks

igroup8:
	LEAQ         (R9)(R11*4), R12
	VPBROADCASTQ (SI)(R12*8), Z8   // wi[m+4i]
	VPBROADCASTQ (R8)(R12*8), Z9
	VPBROADCASTQ 8(SI)(R12*8), Z10 // wi[m+4i+1]
	VPBROADCASTQ 8(R8)(R12*8), Z11
	VPBROADCASTQ 16(SI)(R12*8), Z12 // wi[m+4i+2]
	VPBROADCASTQ 16(R8)(R12*8), Z13
	VPBROADCASTQ 24(SI)(R12*8), Z14 // wi[m+4i+3]
	VPBROADCASTQ 24(R8)(R12*8), Z15
	MOVQ         R9, R12
	SHRQ         $1, R12
	LEAQ         (R12)(R11*2), R12 // m/2+2i
	VPBROADCASTQ (SI)(R12*8), Z16  // wi[m/2+2i]
	VPBROADCASTQ (R8)(R12*8), Z17
	VPBROADCASTQ 8(SI)(R12*8), Z18 // wi[m/2+2i+1]
	VPBROADCASTQ 8(R8)(R12*8), Z19
	LEAQ         (R14)(R11*1), R12 // m/4+i
	VPBROADCASTQ (SI)(R12*8), Z21  // wi[m/4+i]
	VPBROADCASTQ (R8)(R12*8), Z22
	MOVQ         R10, AX

iloop8:
	LEAQ      (BX)(R13*4), DX      // &a4
	VMOVDQU64 (BX), Z0
	VMOVDQU64 (BX)(R13*1), Z1
	VMOVDQU64 (BX)(R13*2), Z2
	VMOVDQU64 (BX)(R15*1), Z3
	VMOVDQU64 (DX), Z4
	VMOVDQU64 (DX)(R13*1), Z5
	VMOVDQU64 (DX)(R13*2), Z6
	VMOVDQU64 (DX)(R15*1), Z7
	INVBF(Z0, Z1, Z8, Z9, Z23, Z24)
	INVBF(Z2, Z3, Z10, Z11, Z25, Z26)
	INVBF(Z4, Z5, Z12, Z13, Z23, Z24)
	INVBF(Z6, Z7, Z14, Z15, Z25, Z26)
	INVBF(Z0, Z2, Z16, Z17, Z23, Z24)
	INVBF(Z1, Z3, Z16, Z17, Z25, Z26)
	INVBF(Z4, Z6, Z18, Z19, Z23, Z24)
	INVBF(Z5, Z7, Z18, Z19, Z25, Z26)
	INVBF(Z0, Z4, Z21, Z22, Z23, Z24)
	INVBF(Z1, Z5, Z21, Z22, Z25, Z26)
	INVBF(Z2, Z6, Z21, Z22, Z23, Z24)
	INVBF(Z3, Z7, Z21, Z22, Z25, Z26)
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
	JNZ       iloop8
	LEAQ      (BX)(R13*4), BX      // next block: base + 8S (BX is base + S)
	ADDQ      R15, BX
	INCQ      R11
	CMPQ      R11, R14
	JB        igroup8
	SHRQ      $3, R9
	SHLQ      $3, R10
	JMP       istage8

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

igroup4:
	LEAQ         (R9)(R11*2), R12
	VPBROADCASTQ (SI)(R12*8), Z13  // wi[m+2i]
	VPBROADCASTQ (R8)(R12*8), Z12
	VPBROADCASTQ 8(SI)(R12*8), Z11 // wi[m+2i+1]
	VPBROADCASTQ 8(R8)(R12*8), Z10
	LEAQ         (R14)(R11*1), R12
	VPBROADCASTQ (SI)(R12*8), Z9   // wi[m/2+i]
	VPBROADCASTQ (R8)(R12*8), Z8
	MOVQ         R10, AX

iloop4:
	VMOVDQU64 (BX), Z0
	VMOVDQU64 (BX)(R13*1), Z1
	VMOVDQU64 (BX)(R13*2), Z2
	VMOVDQU64 (BX)(R15*1), Z3
	INVBF(Z0, Z1, Z13, Z12, Z4, Z5)
	INVBF(Z2, Z3, Z11, Z10, Z6, Z7)
	INVBF(Z0, Z2, Z9, Z8, Z4, Z5)
	INVBF(Z1, Z3, Z9, Z8, Z6, Z7)
	VMOVDQU64 Z0, (BX)
	VMOVDQU64 Z1, (BX)(R13*1)
	VMOVDQU64 Z2, (BX)(R13*2)
	VMOVDQU64 Z3, (BX)(R15*1)
	ADDQ      $64, BX
	SUBQ      $8, AX
	JNZ       iloop4
	ADDQ      R15, BX              // next block: base + 4h
	INCQ      R11
	CMPQ      R11, R14
	JB        igroup4
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
	VPBROADCASTQ (SI)(R12*8), Z13
	VPBROADCASTQ (R8)(R12*8), Z12
	LEAQ         (BX)(R10*8), DX   // &y[0] = &x[h]
	MOVQ         R10, R13

iloop:
	VMOVDQU64 (BX), Z0
	VMOVDQU64 (DX), Z1
	INVBF(Z0, Z1, Z13, Z12, Z4, Z5)
	VMOVDQU64 Z0, (BX)
	VMOVDQU64 Z1, (DX)
	ADDQ      $64, BX
	ADDQ      $64, DX
	SUBQ      $8, R13
	JNZ       iloop
	MOVQ      DX, BX               // the next group starts after this y half
	INCQ      R11
	CMPQ      R11, R9
	JB        igroup

	// Last stage (m = 1, h = N/2) merged with N^{-1}:
	// x' = (u+v)·N^{-1}, y' = (u−v+C)·N^{-1}·wi[1] with C = Z20 (a
	// multiple of q above every v), reduced to [0, q): SHOUP52 reads the
	// low 52 bits of u+v and u−v+C, which are their values (below β, see
	// INVBF), and masks its result to [0, 2q).
ilast:
	VPBROADCASTQ nInv+80(FP), Z13
	VPBROADCASTQ nInvS+88(FP), Z12
	VPBROADCASTQ nInvW+96(FP), Z11
	VPBROADCASTQ nInvWS+104(FP), Z10
	MOVQ         CX, R13
	SHRQ         $1, R13
	MOVQ         DI, BX
	LEAQ         (DI)(R13*8), DX

ilastloop:
	VMOVDQU64 (BX), Z0
	VMOVDQU64 (DX), Z1
	VPADDQ    Z1, Z0, Z2
	VPSUBQ    Z1, Z0, Z3
	VPADDQ    Z20, Z3, Z3
	SHOUP52(Z2, Z13, Z12, Z4, Z5)
	SHOUP52(Z3, Z11, Z10, Z6, Z7)
	CSUB64(Z2, Z31, Z4)
	CSUB64(Z3, Z31, Z6)
	VMOVDQU64 Z2, (BX)
	VMOVDQU64 Z3, (DX)
	ADDQ      $64, BX
	ADDQ      $64, DX
	SUBQ      $8, R13
	JNZ       ilastloop
	VZEROUPPER
	RET
