//go:build !purego

#include "textflag.h"

// AVX2 row kernels for moduli q < 2^31: every residue and every
// intermediate (< 2q) fits in the low 32 bits of its 64-bit lane, so the
// conditional subtraction is min(s, s−q) on 32-bit halves (VPSUBD,
// VPMINUD; see ntt_packed_amd64.s). len(o) is a multiple of 4 and at least 4.

// func addRow32AVX2(o, x, y []uint64, q uint64)
TEXT ·addRow32AVX2(SB), NOSPLIT, $0-80
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         y_base+48(FP), DX
	VPBROADCASTQ q+72(FP), Y15
	XORQ         AX, AX

addloop:
	VMOVDQU (SI)(AX*8), Y0
	VPADDQ  (DX)(AX*8), Y0, Y0
	VPSUBD  Y15, Y0, Y1
	VPMINUD Y1, Y0, Y0
	VMOVDQU Y0, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, CX
	JB      addloop
	VZEROUPPER
	RET

// func subRow32AVX2(o, x, y []uint64, q uint64)
TEXT ·subRow32AVX2(SB), NOSPLIT, $0-80
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         y_base+48(FP), DX
	VPBROADCASTQ q+72(FP), Y15
	XORQ         AX, AX

subloop:
	VMOVDQU (SI)(AX*8), Y0
	VPSUBQ  (DX)(AX*8), Y0, Y0
	VPADDQ  Y15, Y0, Y0
	VPSUBD  Y15, Y0, Y1
	VPMINUD Y1, Y0, Y0
	VMOVDQU Y0, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, CX
	JB      subloop
	VZEROUPPER
	RET

// func negRow32AVX2(o, x []uint64, q uint64)
TEXT ·negRow32AVX2(SB), NOSPLIT, $0-56
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	VPBROADCASTQ q+48(FP), Y15
	XORQ         AX, AX

negloop:
	VMOVDQU (SI)(AX*8), Y1
	VPSUBQ  Y1, Y15, Y0
	VPSUBD  Y15, Y0, Y1
	VPMINUD Y1, Y0, Y0
	VMOVDQU Y0, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, CX
	JB      negloop
	VZEROUPPER
	RET

// func galoisGatherAVX2(o, xs []uint64, tab []uint32, q uint64)
//
// galoisTabRow (galois.go): o[k] = ±xs[tab[k] & (2^31−1)], negated (q − v,
// and 0 stays 0) when bit 31 of tab[k] is set; four lanes per VPGATHERDQ.
// len(o) = len(tab) is a multiple of 4; every index is below len(xs) and
// q < 2^31.
TEXT ·galoisGatherAVX2(SB), NOSPLIT, $0-80
	MOVQ         o_base+0(FP), DI
	MOVQ         o_len+8(FP), CX
	MOVQ         xs_base+24(FP), SI
	MOVQ         tab_base+48(FP), DX
	VPBROADCASTQ q+72(FP), Y15
	MOVL         $0x7fffffff, AX
	MOVQ         AX, X14
	VPBROADCASTD X14, X14
	XORQ         AX, AX

gloop:
	VMOVDQU      (DX)(AX*4), X0  // four table entries
	VPSRAD       $31, X0, X1     // 0 or all ones per entry
	VPMOVSXDQ    X1, Y1          // negation mask per lane
	VPAND        X14, X0, X0     // source indices
	VPCMPEQD     Y2, Y2, Y2      // gather mask: all lanes
	VPGATHERDQ   Y2, (SI)(X0*8), Y3
	VPSUBQ       Y3, Y15, Y4     // q − v in (0, q]
	VPSUBD       Y15, Y4, Y5
	VPMINUD      Y5, Y4, Y4      // −v mod q
	VPBLENDVB    Y1, Y4, Y3, Y3  // mask ? −v : v
	VMOVDQU      Y3, (DI)(AX*8)
	ADDQ         $4, AX
	CMPQ         AX, CX
	JB           gloop
	VZEROUPPER
	RET
