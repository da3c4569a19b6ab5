//go:build !purego

#include "textflag.h"

// AVX-512 radix-4 passes of the 32-bit NTT (see ntt_amd64.s for the
// arithmetic): the same butterflies on eight lanes. Z15 = q, Z14 = 2q.

#define SHOUPZ(X, W, WS, T) \
	VPMULUDQ WS, X, T \
	VPSRLQ   $32, T, T \
	VPMULUDQ Z15, T, T \
	VPMULUDQ W, X, X \
	VPSUBQ   T, X, X

#define CSUBZ(X, C, T) \
	VPSUBD  C, X, T \
	VPMINUD T, X, X

#define FWDZ(X, Y, W, WS, T) \
	CSUBZ(X, Z14, T) \
	SHOUPZ(Y, W, WS, T) \
	VPSUBQ Y, X, T \
	VPADDQ Y, X, X \
	VPADDQ Z14, T, Y

#define INVZ(X, Y, W, WS, T) \
	VPADDQ  Y, X, T \
	VPSUBQ  Y, X, Y \
	VPADDQ  Z14, Y, Y \
	VPSUBD  Z14, T, X \
	VPMINUD X, T, X \
	SHOUPZ(Y, W, WS, T)

// func fwdRadix4AVX512(a, w, ws []uint64, q, m, h uint64)
//
// Forward stages (m, h) and (2m, h/2) in one pass; h/2 is a multiple of 8.
TEXT ·fwdRadix4AVX512(SB), NOSPLIT, $0-96
	MOVQ         a_base+0(FP), DI
	MOVQ         w_base+24(FP), SI
	MOVQ         ws_base+48(FP), R8
	VPBROADCASTQ q+72(FP), Z15
	VPADDQ       Z15, Z15, Z14
	MOVQ         m+80(FP), R9
	MOVQ         h+88(FP), R10
	XORQ         R11, R11          // group i
	MOVQ         DI, BX            // &a0 of group i
	MOVQ         R10, R13
	SHLQ         $2, R13           // h/2 values in bytes
	LEAQ         (R13)(R13*2), R15 // 3h/2 values in bytes

zfgroup:
	LEAQ         (R9)(R11*1), R12
	VPBROADCASTQ (SI)(R12*8), Z13  // w[m+i]
	VPBROADCASTQ (R8)(R12*8), Z12
	SHLQ         $1, R12           // 2m+2i
	VPBROADCASTQ (SI)(R12*8), Z11  // w[2m+2i]
	VPBROADCASTQ (R8)(R12*8), Z10
	VPBROADCASTQ 8(SI)(R12*8), Z9  // w[2m+2i+1]
	VPBROADCASTQ 8(R8)(R12*8), Z8
	MOVQ         R10, AX
	SHRQ         $1, AX

zfloop:
	VMOVDQU64 (BX), Z0
	VMOVDQU64 (BX)(R13*1), Z1
	VMOVDQU64 (BX)(R13*2), Z2
	VMOVDQU64 (BX)(R15*1), Z3
	FWDZ(Z0, Z2, Z13, Z12, Z4)
	FWDZ(Z1, Z3, Z13, Z12, Z5)
	FWDZ(Z0, Z1, Z11, Z10, Z4)
	FWDZ(Z2, Z3, Z9, Z8, Z5)
	VMOVDQU64 Z0, (BX)
	VMOVDQU64 Z1, (BX)(R13*1)
	VMOVDQU64 Z2, (BX)(R13*2)
	VMOVDQU64 Z3, (BX)(R15*1)
	ADDQ      $64, BX
	SUBQ      $8, AX
	JNZ       zfloop
	ADDQ      R15, BX
	INCQ      R11
	CMPQ      R11, R9
	JB        zfgroup
	VZEROUPPER
	RET
