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

// func galoisMove4AVX2(o, xs []uint64, src []uint32, pat []uint8, lanes []uint32)
//
// Basis.GaloisEvalPermute (galois.go) four slots per iteration: output
// group v (slots 4v..4v+3) is the input group at slot src[v] with its
// 64-bit lanes in the order lanes[8·pat[v]..+7] (dword indices for
// VPERMD, two per lane), so one VPERMD with a memory operand moves it.
// len(o) = 4·len(src), len(pat) >= len(src), every src[v] + 3 <
// len(xs) and every pat[v] names an order of lanes (NewGaloisEvalPlan
// builds them so).
TEXT ·galoisMove4AVX2(SB), NOSPLIT, $0-120
	MOVQ o_base+0(FP), DI
	MOVQ xs_base+24(FP), SI
	MOVQ src_base+48(FP), R8
	MOVQ src_len+56(FP), CX
	MOVQ pat_base+72(FP), R9
	MOVQ lanes_base+96(FP), R10
	XORQ AX, AX                    // group v

mloop4:
	MOVL    (R8)(AX*4), DX         // source slot
	MOVBQZX (R9)(AX*1), BX         // lane order
	SHLQ    $5, BX                 // 32 bytes per order
	VMOVDQU (R10)(BX*1), Y1
	VPERMD  (SI)(DX*8), Y1, Y0
	MOVQ    AX, BX
	SHLQ    $5, BX
	VMOVDQU Y0, (DI)(BX*1)
	INCQ    AX
	CMPQ    AX, CX
	JB      mloop4
	VZEROUPPER
	RET

// func galoisMove8AVX512(o, xs []uint64, src []uint32, pat []uint8, lanes []uint64)
//
// galoisMove4AVX2 for groups of eight slots: one VPERMQ with the qword
// indices lanes[8·pat[v]..+7] moves input slots src[v]..src[v]+7 to output
// slots 8v..8v+7. Same preconditions with 8 for 4.
TEXT ·galoisMove8AVX512(SB), NOSPLIT, $0-120
	MOVQ o_base+0(FP), DI
	MOVQ xs_base+24(FP), SI
	MOVQ src_base+48(FP), R8
	MOVQ src_len+56(FP), CX
	MOVQ pat_base+72(FP), R9
	MOVQ lanes_base+96(FP), R10
	XORQ AX, AX                    // group v

mloop8:
	MOVL      (R8)(AX*4), DX       // source slot
	MOVBQZX   (R9)(AX*1), BX       // lane order
	SHLQ      $6, BX               // 64 bytes per order
	VMOVDQU64 (R10)(BX*1), Z1
	VPERMQ    (SI)(DX*8), Z1, Z0
	MOVQ      AX, BX
	SHLQ      $6, BX
	VMOVDQU64 Z0, (DI)(BX*1)
	INCQ      AX
	CMPQ      AX, CX
	JB        mloop8
	VZEROUPPER
	RET
