//go:build !purego

#include "textflag.h"

// AVX-512 IFMA row kernels for moduli q < 2^50 (see keyswitch52.go for the
// bounds). With β = 2^52 and the 52-bit Shoup companion k' = floor(k·β/q)
// of a constant k < q, a product x·k for x < β is
//   x·k − floor(x·k'/β)·q ∈ [0, 2q),
// computed from VPMADD52HUQ (floor(x·k'/β), exact for factors below β)
// and two VPMADD52LUQ ((x·k) mod β plus (floor(x·k'/β)·(β−q)) mod β),
// masked to 52 bits: the true value is below 2q < β, so its residue mod β
// is the value itself. Eight lanes at a time.

// func shoupRow52IFMA(o, x, k, ks []uint64, q, mode uint64)
//
// shoupRow52 (keyswitch52.go): mode 0 sets o = x·k lazily, mode 1 adds it
// to o, mode 2 adds it and reduces the sum (below 4q) to [0, q). len(o)
// is a multiple of 8 and at least 8.
TEXT ·shoupRow52IFMA(SB), NOSPLIT, $0-112
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         k_base+48(FP), DX
	MOVQ         ks_base+72(FP), R8
	MOVQ         q+96(FP), AX
	VPBROADCASTQ AX, Z31           // q
	VPADDQ       Z31, Z31, Z30     // 2q
	MOVQ         $0x0010000000000000, BX
	SUBQ         AX, BX
	VPBROADCASTQ BX, Z29           // β − q
	MOVQ         $0x000fffffffffffff, BX
	VPBROADCASTQ BX, Z28           // β − 1
	MOVQ         mode+104(FP), R9
	XORQ         AX, AX

loop:
	VMOVDQU64   (SI)(AX*8), Z0
	VPXORQ      Z1, Z1, Z1
	VPMADD52HUQ (R8)(AX*8), Z0, Z1 // floor(x·k'/β)
	VPXORQ      Z2, Z2, Z2
	VPMADD52LUQ (DX)(AX*8), Z0, Z2 // x·k mod β
	VPMADD52LUQ Z29, Z1, Z2        // + floor(x·k'/β)·(β−q) mod β
	VPANDQ      Z28, Z2, Z2        // x·k − floor(x·k'/β)·q ∈ [0, 2q)
	TESTQ       R9, R9
	JZ          store
	VPADDQ      (DI)(AX*8), Z2, Z2
	CMPQ        R9, $2
	JNE         store
	VPSUBQ      Z30, Z2, Z3
	VPMINUQ     Z3, Z2, Z2
	VPSUBQ      Z31, Z2, Z3
	VPMINUQ     Z3, Z2, Z2

store:
	VMOVDQU64 Z2, (DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        loop
	VZEROUPPER
	RET
