//go:build !purego

#include "textflag.h"

// NEON kernels of the database scan (scan.go) for arm64. The Go assembler
// has no mnemonic for the widening multiply-accumulate, so it is written
// as its A64 encoding (Arm ARM C7.2, UMLAL/UMLAL2 by vector, size = 10:
// 32-bit sources, 64-bit accumulators):
//
//	UMLAL  Vd.2D, Vn.2S, Vm.2S: 0x2ea08000 | m<<16 | n<<5 | d
//	UMLAL2 Vd.2D, Vn.4S, Vm.4S: 0x6ea08000 | m<<16 | n<<5 | d (Q = 1: lanes 2, 3)
//
// each Vd lane += Vn lane × Vm lane, the full 64-bit product of two 32-bit
// lanes, wrapping modulo 2^64 as the portable loop does. Every residue is
// a uint64 below 2^32: VLD2 of 32-bit elements deinterleaves four of them
// into their low halves (one register, the residues) and their high halves
// (another, all zero, unused).
#define UMLAL(d, n, m) WORD $(0x2ea08000 | (m)<<16 | (n)<<5 | (d))
#define UMLAL2(d, n, m) WORD $(0x6ea08000 | (m)<<16 | (n)<<5 | (d))

// func mulAccNarrowNEON(acc0, acc1, x0, x1 []uint64, w []uint32)
//
// MulAccNarrow eight slots per iteration: acc0 += x0·w, acc1 += x1·w.
// len(w) is a multiple of 8 and at least 8; the other slices are at least
// as long (the Go wrapper checks).
TEXT ·mulAccNarrowNEON(SB), NOSPLIT, $0-120
	MOVD acc0_base+0(FP), R0
	MOVD acc1_base+24(FP), R1
	MOVD x0_base+48(FP), R2
	MOVD x1_base+72(FP), R3
	MOVD w_base+96(FP), R4
	MOVD w_len+104(FP), R5

loop:
	VLD1.P 32(R4), [V0.S4, V1.S4]                  // w[j..j+7]
	VLD2.P 32(R2), [V2.S4, V3.S4]                  // V2: x0[j..j+3]
	VLD2.P 32(R2), [V4.S4, V5.S4]                  // V4: x0[j+4..j+7]
	VLD2.P 32(R3), [V6.S4, V7.S4]                  // V6: x1[j..j+3]
	VLD2.P 32(R3), [V8.S4, V9.S4]                  // V8: x1[j+4..j+7]
	VLD1   (R0), [V16.D2, V17.D2, V18.D2, V19.D2]  // acc0[j..j+7]
	VLD1   (R1), [V20.D2, V21.D2, V22.D2, V23.D2]  // acc1[j..j+7]
	UMLAL(16, 2, 0)                                // acc0[j, j+1]   += x0·w
	UMLAL2(17, 2, 0)                               // acc0[j+2, j+3]
	UMLAL(18, 4, 1)                                // acc0[j+4, j+5]
	UMLAL2(19, 4, 1)                               // acc0[j+6, j+7]
	UMLAL(20, 6, 0)                                // acc1[j, j+1]   += x1·w
	UMLAL2(21, 6, 0)
	UMLAL(22, 8, 1)
	UMLAL2(23, 8, 1)
	VST1.P [V16.D2, V17.D2, V18.D2, V19.D2], 64(R0)
	VST1.P [V20.D2, V21.D2, V22.D2, V23.D2], 64(R1)
	SUBS   $8, R5, R5
	BNE    loop
	RET

// func mulAccNarrowBatchNEON(acc0, acc1 []uint64, x0s, x1s [][]uint64, ws [][]uint32)
//
// MulAccNarrowBatch eight slots per iteration: the accumulators of the
// slots stay in V16-V23 while every row b adds x0s[b]·ws[b] and
// x1s[b]·ws[b]. len(acc0) is a multiple of 8 and at least 8, len(ws) >= 1,
// every row at least len(acc0) long (the Go wrapper checks). A slice
// header is 24 bytes: R9 steps through the headers of x0s, x1s and ws
// together; R6 and R7 are the slot's byte offsets in the uint64 and uint32
// rows.
TEXT ·mulAccNarrowBatchNEON(SB), NOSPLIT, $0-120
	MOVD acc0_base+0(FP), R0
	MOVD acc0_len+8(FP), R8
	MOVD acc1_base+24(FP), R1
	MOVD x0s_base+48(FP), R2
	MOVD x1s_base+72(FP), R3
	MOVD ws_base+96(FP), R4
	MOVD ws_len+104(FP), R5
	MOVD $24, R10
	MUL  R10, R5, R5                               // end of the headers
	MOVD $0, R6                                    // 8·j
	MOVD $0, R7                                    // 4·j

loop:
	VLD1 (R0), [V16.D2, V17.D2, V18.D2, V19.D2]    // acc0[j..j+7]
	VLD1 (R1), [V20.D2, V21.D2, V22.D2, V23.D2]    // acc1[j..j+7]
	MOVD $0, R9                                    // header offset 24·b

batch:
	MOVD   (R4)(R9), R10                           // ws[b]
	MOVD   (R2)(R9), R11                           // x0s[b]
	MOVD   (R3)(R9), R12                           // x1s[b]
	ADD    R7, R10, R10
	ADD    R6, R11, R11
	ADD    R6, R12, R12
	VLD1   (R10), [V0.S4, V1.S4]                   // ws[b][j..j+7]
	VLD2.P 32(R11), [V2.S4, V3.S4]                 // V2: x0s[b][j..j+3]
	VLD2   (R11), [V4.S4, V5.S4]                   // V4: x0s[b][j+4..j+7]
	VLD2.P 32(R12), [V6.S4, V7.S4]                 // V6: x1s[b][j..j+3]
	VLD2   (R12), [V8.S4, V9.S4]                   // V8: x1s[b][j+4..j+7]
	UMLAL(16, 2, 0)
	UMLAL2(17, 2, 0)
	UMLAL(18, 4, 1)
	UMLAL2(19, 4, 1)
	UMLAL(20, 6, 0)
	UMLAL2(21, 6, 0)
	UMLAL(22, 8, 1)
	UMLAL2(23, 8, 1)
	ADD    $24, R9, R9
	CMP    R5, R9
	BLO    batch

	VST1.P [V16.D2, V17.D2, V18.D2, V19.D2], 64(R0)
	VST1.P [V20.D2, V21.D2, V22.D2, V23.D2], 64(R1)
	ADD    $64, R6, R6
	ADD    $32, R7, R7
	SUBS   $8, R8, R8
	BNE    loop
	RET
