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
// lanes, wrapping modulo 2^64 as the portable loop does.
#define UMLAL(d, n, m) WORD $(0x2ea08000 | (m)<<16 | (n)<<5 | (d))
#define UMLAL2(d, n, m) WORD $(0x6ea08000 | (m)<<16 | (n)<<5 | (d))

// func mulAccScanNEON(acc0, acc1 []uint64, x0s, x1s, ws [][]uint32)
//
// MulAccScan (scan.go) one block of 16 slots j..j+15 per iteration. VLD2
// of eight 32-bit words splits them into the even and the odd slots, which
// is the scan order: block positions 0-3 hold slots 0, 2, 4, 6, positions
// 4-7 slots 8-14, positions 8-11 slots 1-7 and 12-15 slots 9-15 (odd).
// The block's accumulators stay in V16-V23 (acc0, positions 0-15 two per
// register) and V24-V31 (acc1) while every row b adds x0s[b]·ws[b] and
// x1s[b]·ws[b]: UMLAL takes lanes 0-1 of a register of four slots, UMLAL2
// lanes 2-3. len(acc0) is a multiple of 16 and at least 16, len(ws) >= 1,
// every row at least len(acc0) long (the Go wrapper checks). A slice
// header is 24 bytes: R9 steps through the headers of x0s, x1s and ws
// together; R7 is the block's byte offset in the uint32 rows.
TEXT ·mulAccScanNEON(SB), NOSPLIT, $0-120
	MOVD acc0_base+0(FP), R0
	MOVD acc0_len+8(FP), R8
	MOVD acc1_base+24(FP), R1
	MOVD x0s_base+48(FP), R2
	MOVD x1s_base+72(FP), R3
	MOVD ws_base+96(FP), R4
	MOVD ws_len+104(FP), R5
	MOVD $24, R10
	MUL  R10, R5, R5                               // end of the headers
	MOVD $0, R7                                    // 4·j

loop:
	ADD  $64, R0, R13
	ADD  $64, R1, R14
	VLD1 (R0), [V16.D2, V17.D2, V18.D2, V19.D2]    // acc0, even slots
	VLD1 (R13), [V20.D2, V21.D2, V22.D2, V23.D2]   // acc0, odd slots
	VLD1 (R1), [V24.D2, V25.D2, V26.D2, V27.D2]    // acc1, even slots
	VLD1 (R14), [V28.D2, V29.D2, V30.D2, V31.D2]   // acc1, odd slots
	MOVD $0, R9                                    // header offset 24·b

batch:
	MOVD   (R4)(R9), R10                           // ws[b]
	MOVD   (R2)(R9), R11                           // x0s[b]
	MOVD   (R3)(R9), R12                           // x1s[b]
	ADD    R7, R10, R10
	ADD    R7, R11, R11
	ADD    R7, R12, R12
	VLD2.P 32(R10), [V0.S4, V1.S4]                 // w: V0 slots 0,2,4,6; V1 slots 1,3,5,7
	VLD2   (R10), [V2.S4, V3.S4]                   // w: V2 slots 8-14 even; V3 9-15 odd
	VLD2.P 32(R11), [V4.S4, V5.S4]                 // x0, the same split
	VLD2   (R11), [V6.S4, V7.S4]
	VLD2.P 32(R12), [V8.S4, V9.S4]                 // x1
	VLD2   (R12), [V10.S4, V11.S4]
	UMLAL(16, 4, 0)                                // acc0 positions 0, 1 (slots 0, 2)
	UMLAL2(17, 4, 0)                               // positions 2, 3 (slots 4, 6)
	UMLAL(18, 6, 2)                                // positions 4, 5 (slots 8, 10)
	UMLAL2(19, 6, 2)                               // positions 6, 7 (slots 12, 14)
	UMLAL(20, 5, 1)                                // positions 8, 9 (slots 1, 3)
	UMLAL2(21, 5, 1)                               // positions 10, 11 (slots 5, 7)
	UMLAL(22, 7, 3)                                // positions 12, 13 (slots 9, 11)
	UMLAL2(23, 7, 3)                               // positions 14, 15 (slots 13, 15)
	UMLAL(24, 8, 0)                                // acc1, the same positions
	UMLAL2(25, 8, 0)
	UMLAL(26, 10, 2)
	UMLAL2(27, 10, 2)
	UMLAL(28, 9, 1)
	UMLAL2(29, 9, 1)
	UMLAL(30, 11, 3)
	UMLAL2(31, 11, 3)
	ADD    $24, R9, R9
	CMP    R5, R9
	BLO    batch

	VST1.P [V16.D2, V17.D2, V18.D2, V19.D2], 64(R0)
	VST1.P [V20.D2, V21.D2, V22.D2, V23.D2], 64(R0)
	VST1.P [V24.D2, V25.D2, V26.D2, V27.D2], 64(R1)
	VST1.P [V28.D2, V29.D2, V30.D2, V31.D2], 64(R1)
	ADD    $64, R7, R7
	SUBS   $16, R8, R8
	BNE    loop
	RET
