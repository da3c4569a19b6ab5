//go:build !purego

#include "textflag.h"

// AVX-512F row kernels for moduli 2^31 <= q < 2^62 (the smaller ones take
// the AVX2 kernels of rows_amd64.s): the same operations on eight 64-bit
// lanes, with the conditional subtraction min(s, s−q) on whole lanes
// (VPMINUQ), exact for s < 2q < 2^63. len(o) is a multiple of 8 and at
// least 8.

// func addRow64AVX512(o, x, y []uint64, q uint64)
TEXT ·addRow64AVX512(SB), NOSPLIT, $0-80
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         y_base+48(FP), DX
	VPBROADCASTQ q+72(FP), Z15
	XORQ         AX, AX

addloop:
	VMOVDQU64 (SI)(AX*8), Z0
	VPADDQ    (DX)(AX*8), Z0, Z0
	VPSUBQ    Z15, Z0, Z1
	VPMINUQ   Z1, Z0, Z0
	VMOVDQU64 Z0, (DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        addloop
	VZEROUPPER
	RET

// func subRow64AVX512(o, x, y []uint64, q uint64)
TEXT ·subRow64AVX512(SB), NOSPLIT, $0-80
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         y_base+48(FP), DX
	VPBROADCASTQ q+72(FP), Z15
	XORQ         AX, AX

subloop:
	VMOVDQU64 (SI)(AX*8), Z0
	VPSUBQ    (DX)(AX*8), Z0, Z0
	VPADDQ    Z15, Z0, Z0
	VPSUBQ    Z15, Z0, Z1
	VPMINUQ   Z1, Z0, Z0
	VMOVDQU64 Z0, (DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        subloop
	VZEROUPPER
	RET

// func negRow64AVX512(o, x []uint64, q uint64)
TEXT ·negRow64AVX512(SB), NOSPLIT, $0-56
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	VPBROADCASTQ q+48(FP), Z15
	XORQ         AX, AX

negloop:
	VMOVDQU64 (SI)(AX*8), Z1
	VPSUBQ    Z1, Z15, Z0
	VPSUBQ    Z15, Z0, Z1
	VPMINUQ   Z1, Z0, Z0
	VMOVDQU64 Z0, (DI)(AX*8)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        negloop
	VZEROUPPER
	RET

// func galoisGather64AVX512(o, xs []uint64, tab []uint32, q uint64)
//
// galoisTabRow (galois.go): o[k] = ±xs[tab[k] & (2^31−1)], negated (q − v,
// and 0 stays 0) when bit 31 of tab[k] is set; eight lanes per
// VPGATHERDQ. len(o) = len(tab) is a multiple of 8; every index is below
// len(xs) < 2^31.
TEXT ·galoisGather64AVX512(SB), NOSPLIT, $0-80
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         xs_base+24(FP), SI
	MOVQ         tab_base+48(FP), DX
	VPBROADCASTQ q+72(FP), Z15
	MOVQ         $0x8000000000000000, AX
	VPBROADCASTQ AX, Z14           // the sign bit of a sign-extended entry
	MOVL         $0x7fffffff, AX
	MOVQ         AX, X13
	VPBROADCASTD X13, Y13          // index mask
	XORQ         AX, AX

gloop:
	VMOVDQU    (DX)(AX*4), Y0      // eight table entries
	VPMOVSXDQ  Y0, Z1              // bit 31 of each entry now bit 63
	VPTESTMQ   Z14, Z1, K2         // K2: the lanes to negate
	VPAND      Y13, Y0, Y0         // source indices
	KXNORW     K1, K1, K1          // gather mask: all lanes
	VPGATHERDQ (SI)(Y0*8), K1, Z3
	VPSUBQ     Z3, Z15, Z4         // q − v in (0, q]
	VPSUBQ     Z15, Z4, Z5
	VPMINUQ    Z5, Z4, Z4          // −v mod q
	VMOVDQA64  Z4, K2, Z3          // negated lanes
	VMOVDQU64  Z3, (DI)(AX*8)
	ADDQ       $8, AX
	CMPQ       AX, CX
	JB         gloop
	VZEROUPPER
	RET
