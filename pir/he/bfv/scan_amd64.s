//go:build !purego

#include "textflag.h"

// func mulAccScanAVX2(acc0, acc1 []uint64, x0s, x1s, ws [][]uint32)
//
// MulAccScan (scan.go) eight slots j..j+7 per iteration. A 32-byte load
// of eight uint32 words gives four 64-bit lanes holding word 2t in the low
// and word 2t+1 in the high half; VPMULUDQ multiplies the low halves (the
// even slots), and after VPSRLQ $32 of both operands the high ones (the
// odd slots). Every input is below 2^32, so each product is exact; sums
// wrap modulo 2^64 (the caller bounds the number of terms). The sums of
// the even and odd slots stay in Y0, Y1 (acc0) and Y2, Y3 (acc1) while
// every row b of the batch adds x0s[b]·ws[b] and x1s[b]·ws[b], so each
// accumulator is loaded and stored once per call. In scan order the even
// lanes of slots j..j+7 sit at position p = (j &^ 15) + 4·((j >> 3) & 1)
// and the odd lanes at p + 8. len(acc0) is a multiple of 16 and at least
// 16, len(ws) >= 1, every row at least len(acc0) long (the Go wrapper
// checks). A slice header is 24 bytes: BX steps through the headers of
// x0s, x1s and ws together.
//
// The plaintext rows ws[b] are the one stream that comes from memory (the
// leaves are in L2, the accumulators in L2 or L3): the kernel prefetches
// each ws row 2048 bytes (512 slots) ahead. One iteration
// takes some 20-25 cycles for a 4-row call, so that is 64 iterations,
// about 1500 cycles or 0.5 us at 3 GHz ahead of use: several DRAM
// latencies, enough for the four rows of a call to be in flight at once,
// which the hardware prefetchers, restarting on every 16 KiB row, did not
// keep up. BenchmarkScanShape (1M-key table, the shape package pir runs,
// AVX-512 IFMA Zen 5, 2 vCPU VM): 6.7-6.8 GB/cpu-s without, 9.6-12.4 with;
// 512 bytes ahead gave 8.1-10.4, PREFETCHNTA no more than PREFETCHT0, and
// prefetching the accumulators as well was slower. A prefetch past the end
// of a row is harmless (it never faults).
TEXT ·mulAccScanAVX2(SB), NOSPLIT, $0-120
	MOVQ  acc0_base+0(FP), DI
	MOVQ  acc0_len+8(FP), CX
	MOVQ  acc1_base+24(FP), R8
	MOVQ  x0s_base+48(FP), R9
	MOVQ  x1s_base+72(FP), R10
	MOVQ  ws_base+96(FP), R11
	MOVQ  ws_len+104(FP), R12
	IMULQ $24, R12                 // end of the headers
	XORQ  AX, AX                   // slot j

loop:
	MOVQ    AX, SI                 // SI = p, the even lanes' position
	ANDQ    $-16, SI
	MOVQ    AX, DX
	SHRQ    $1, DX
	ANDQ    $4, DX
	ADDQ    DX, SI
	VMOVDQU (DI)(SI*8), Y0         // acc0, even slots
	VMOVDQU 64(DI)(SI*8), Y1       // acc0, odd slots (8 positions on)
	VMOVDQU (R8)(SI*8), Y2         // acc1, even slots
	VMOVDQU 64(R8)(SI*8), Y3       // acc1, odd slots
	XORQ    BX, BX                 // header offset 24·b

batch:
	MOVQ     (R11)(BX*1), SI       // ws[b]
	MOVQ     (R9)(BX*1), DX        // x0s[b]
	MOVQ     (R10)(BX*1), R13      // x1s[b]
	PREFETCHT0 2048(SI)(AX*4)     // ws[b], 2048 bytes ahead
	VMOVDQU  (SI)(AX*4), Y4        // w: even words low, odd words high
	VPSRLQ   $32, Y4, Y5           // w, odd words
	VMOVDQU  (DX)(AX*4), Y6        // x0
	VPSRLQ   $32, Y6, Y7
	VPMULUDQ Y6, Y4, Y6            // x0·w, even slots
	VPMULUDQ Y7, Y5, Y7            // x0·w, odd slots
	VPADDQ   Y6, Y0, Y0
	VPADDQ   Y7, Y1, Y1
	VMOVDQU  (R13)(AX*4), Y6       // x1
	VPSRLQ   $32, Y6, Y7
	VPMULUDQ Y6, Y4, Y6            // x1·w, even slots
	VPMULUDQ Y7, Y5, Y7            // x1·w, odd slots
	VPADDQ   Y6, Y2, Y2
	VPADDQ   Y7, Y3, Y3
	ADDQ     $24, BX
	CMPQ     BX, R12
	JB       batch

	MOVQ    AX, SI                 // p again (SI held ws[b])
	ANDQ    $-16, SI
	MOVQ    AX, DX
	SHRQ    $1, DX
	ANDQ    $4, DX
	ADDQ    DX, SI
	VMOVDQU Y0, (DI)(SI*8)
	VMOVDQU Y1, 64(DI)(SI*8)
	VMOVDQU Y2, (R8)(SI*8)
	VMOVDQU Y3, 64(R8)(SI*8)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JB      loop
	VZEROUPPER
	RET

// func mulAccScanAVX512(acc0, acc1 []uint64, x0s, x1s, ws [][]uint32)
//
// MulAccScan (scan.go) one block of 16 slots j..j+15 per iteration, as
// mulAccScanAVX2 does eight: a 64-byte load gives eight lanes of word
// pairs, VPMULUDQ multiplies the even words, VPSRLQ $32 and VPMULUDQ the
// odd ones. In scan order the block's even slots are the eight positions
// from j and its odd slots the eight from j + 8, so the sums stay in
// Z0, Z1 (acc0) and Z2, Z3 (acc1) and are stored back in place. Same
// preconditions and the same prefetch of the ws rows as mulAccScanAVX2
// (one per 64-byte line here).
TEXT ·mulAccScanAVX512(SB), NOSPLIT, $0-120
	MOVQ  acc0_base+0(FP), DI
	MOVQ  acc0_len+8(FP), CX
	MOVQ  acc1_base+24(FP), R8
	MOVQ  x0s_base+48(FP), R9
	MOVQ  x1s_base+72(FP), R10
	MOVQ  ws_base+96(FP), R11
	MOVQ  ws_len+104(FP), R12
	IMULQ $24, R12                 // end of the headers
	XORQ  AX, AX                   // slot j, a multiple of 16

loop:
	VMOVDQU64 (DI)(AX*8), Z0       // acc0, even slots
	VMOVDQU64 64(DI)(AX*8), Z1     // acc0, odd slots
	VMOVDQU64 (R8)(AX*8), Z2       // acc1, even slots
	VMOVDQU64 64(R8)(AX*8), Z3     // acc1, odd slots
	XORQ      BX, BX               // header offset 24·b

batch:
	MOVQ      (R11)(BX*1), SI      // ws[b]
	MOVQ      (R9)(BX*1), DX       // x0s[b]
	MOVQ      (R10)(BX*1), R13     // x1s[b]
	PREFETCHT0 2048(SI)(AX*4)     // ws[b], 2048 bytes ahead
	VMOVDQU64 (SI)(AX*4), Z4       // w: even words low, odd words high
	VPSRLQ    $32, Z4, Z5          // w, odd words
	VMOVDQU64 (DX)(AX*4), Z6       // x0
	VPSRLQ    $32, Z6, Z7
	VPMULUDQ  Z6, Z4, Z6           // x0·w, even slots
	VPMULUDQ  Z7, Z5, Z7           // x0·w, odd slots
	VPADDQ    Z6, Z0, Z0
	VPADDQ    Z7, Z1, Z1
	VMOVDQU64 (R13)(AX*4), Z6      // x1
	VPSRLQ    $32, Z6, Z7
	VPMULUDQ  Z6, Z4, Z6           // x1·w, even slots
	VPMULUDQ  Z7, Z5, Z7           // x1·w, odd slots
	VPADDQ    Z6, Z2, Z2
	VPADDQ    Z7, Z3, Z3
	ADDQ      $24, BX
	CMPQ      BX, R12
	JB        batch

	VMOVDQU64 Z0, (DI)(AX*8)
	VMOVDQU64 Z1, 64(DI)(AX*8)
	VMOVDQU64 Z2, (R8)(AX*8)
	VMOVDQU64 Z3, 64(R8)(AX*8)
	ADDQ      $16, AX
	CMPQ      AX, CX
	JB        loop
	VZEROUPPER
	RET

// func mulAcc26AVX2(a, b, c []uint64, xs, ys [][]uint64)
//
// mulAcc26 (ops26.go) eight slots per iteration: the columns a, b, c of
// the slots stay in Y0-Y5 while every term t splits xs[t] and ys[t] into
// 26-bit digits (VPAND with Y15 = 2^26 − 1, VPSRLQ 26; digits below 2^26,
// so the VPMULUDQ products are exact) and adds x0·y0 to a, x0·y1 + x1·y0
// to b, x1·y1 to c. len(a) is a multiple of 8 and at least 8,
// len(xs) = len(ys) >= 1, every row at least len(a) long (the Go wrapper
// checks); BX steps through the 24-byte slice headers of xs and ys.
TEXT ·mulAcc26AVX2(SB), NOSPLIT, $0-120
	MOVQ         a_base+0(FP), DI
	MOVQ         a_len+8(FP), CX
	MOVQ         b_base+24(FP), R8
	MOVQ         c_base+48(FP), R9
	MOVQ         xs_base+72(FP), R10
	MOVQ         ys_base+96(FP), R11
	MOVQ         ys_len+104(FP), R12
	IMULQ        $24, R12
	MOVQ         $0x3ffffff, DX
	MOVQ         DX, X15
	VPBROADCASTQ X15, Y15
	XORQ         AX, AX

loop:
	VMOVDQU (DI)(AX*8), Y0
	VMOVDQU 32(DI)(AX*8), Y1
	VMOVDQU (R8)(AX*8), Y2
	VMOVDQU 32(R8)(AX*8), Y3
	VMOVDQU (R9)(AX*8), Y4
	VMOVDQU 32(R9)(AX*8), Y5
	XORQ    BX, BX

term:
	MOVQ (R10)(BX*1), SI // xs[t]
	MOVQ (R11)(BX*1), DX // ys[t]

	// slots j..j+3
	VMOVDQU  (SI)(AX*8), Y6
	VMOVDQU  (DX)(AX*8), Y7
	VPSRLQ   $26, Y6, Y8   // x1
	VPSRLQ   $26, Y7, Y9   // y1
	VPAND    Y15, Y6, Y6   // x0
	VPAND    Y15, Y7, Y7   // y0
	VPMULUDQ Y7, Y6, Y10   // x0·y0
	VPADDQ   Y10, Y0, Y0
	VPMULUDQ Y9, Y6, Y10   // x0·y1
	VPMULUDQ Y7, Y8, Y11   // x1·y0
	VPADDQ   Y10, Y2, Y2
	VPADDQ   Y11, Y2, Y2
	VPMULUDQ Y9, Y8, Y8    // x1·y1
	VPADDQ   Y8, Y4, Y4

	// slots j+4..j+7
	VMOVDQU  32(SI)(AX*8), Y6
	VMOVDQU  32(DX)(AX*8), Y7
	VPSRLQ   $26, Y6, Y8
	VPSRLQ   $26, Y7, Y9
	VPAND    Y15, Y6, Y6
	VPAND    Y15, Y7, Y7
	VPMULUDQ Y7, Y6, Y10
	VPADDQ   Y10, Y1, Y1
	VPMULUDQ Y9, Y6, Y10
	VPMULUDQ Y7, Y8, Y11
	VPADDQ   Y10, Y3, Y3
	VPADDQ   Y11, Y3, Y3
	VPMULUDQ Y9, Y8, Y8
	VPADDQ   Y8, Y5, Y5

	ADDQ $24, BX
	CMPQ BX, R12
	JB   term

	VMOVDQU Y0, (DI)(AX*8)
	VMOVDQU Y1, 32(DI)(AX*8)
	VMOVDQU Y2, (R8)(AX*8)
	VMOVDQU Y3, 32(R8)(AX*8)
	VMOVDQU Y4, (R9)(AX*8)
	VMOVDQU Y5, 32(R9)(AX*8)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JB      loop
	VZEROUPPER
	RET

// func mulAccRowsAVX2(acc []uint64, xs, ys [][]uint64)
//
// mulAccRows (scan_wide.go) eight slots per iteration: acc[j] += Σ_t
// xs[t][j]·ys[t][j] with the sums of the eight slots in Y0, Y1 across all
// terms, so acc is loaded and stored once per call. Every input is below
// 2^32 (residues modulo q < 2^30), so VPMULUDQ, which multiplies the low
// 32 bits of each 64-bit lane, gives the exact product; sums wrap modulo
// 2^64 (the caller bounds the number of terms). len(acc) is a multiple of
// 16 and at least 16, len(xs) = len(ys) >= 1, every row at least len(acc)
// long (the Go wrapper checks); BX steps through the 24-byte slice
// headers of xs and ys together.
TEXT ·mulAccRowsAVX2(SB), NOSPLIT, $0-72
	MOVQ  acc_base+0(FP), DI
	MOVQ  acc_len+8(FP), CX
	MOVQ  xs_base+24(FP), R9
	MOVQ  ys_base+48(FP), R10
	MOVQ  ys_len+56(FP), R12
	IMULQ $24, R12                 // end of the headers
	XORQ  AX, AX                   // slot j

loop:
	VMOVDQU (DI)(AX*8), Y0         // acc[j..j+3]
	VMOVDQU 32(DI)(AX*8), Y1       // acc[j+4..j+7]
	XORQ    BX, BX                 // header offset 24·t

term:
	MOVQ     (R9)(BX*1), SI        // xs[t]
	MOVQ     (R10)(BX*1), DX       // ys[t]
	VMOVDQU  (SI)(AX*8), Y2
	VMOVDQU  32(SI)(AX*8), Y3
	VPMULUDQ (DX)(AX*8), Y2, Y2    // x·y, exact
	VPMULUDQ 32(DX)(AX*8), Y3, Y3
	VPADDQ   Y2, Y0, Y0
	VPADDQ   Y3, Y1, Y1
	ADDQ     $24, BX
	CMPQ     BX, R12
	JB       term

	VMOVDQU Y0, (DI)(AX*8)
	VMOVDQU Y1, 32(DI)(AX*8)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JB      loop
	VZEROUPPER
	RET

// func mulAccRowsAVX512(acc []uint64, xs, ys [][]uint64)
//
// mulAccRows sixteen slots per iteration, as mulAccRowsAVX2 with the sums
// in Z0, Z1. Same preconditions.
TEXT ·mulAccRowsAVX512(SB), NOSPLIT, $0-72
	MOVQ  acc_base+0(FP), DI
	MOVQ  acc_len+8(FP), CX
	MOVQ  xs_base+24(FP), R9
	MOVQ  ys_base+48(FP), R10
	MOVQ  ys_len+56(FP), R12
	IMULQ $24, R12                 // end of the headers
	XORQ  AX, AX                   // slot j

loop:
	VMOVDQU64 (DI)(AX*8), Z0       // acc[j..j+7]
	VMOVDQU64 64(DI)(AX*8), Z1     // acc[j+8..j+15]
	XORQ      BX, BX               // header offset 24·t

term:
	MOVQ      (R9)(BX*1), SI       // xs[t]
	MOVQ      (R10)(BX*1), DX      // ys[t]
	VMOVDQU64 (SI)(AX*8), Z2
	VMOVDQU64 64(SI)(AX*8), Z3
	VPMULUDQ  (DX)(AX*8), Z2, Z2   // x·y, exact
	VPMULUDQ  64(DX)(AX*8), Z3, Z3
	VPADDQ    Z2, Z0, Z0
	VPADDQ    Z3, Z1, Z1
	ADDQ      $24, BX
	CMPQ      BX, R12
	JB        term

	VMOVDQU64 Z0, (DI)(AX*8)
	VMOVDQU64 Z1, 64(DI)(AX*8)
	ADDQ      $16, AX
	CMPQ      AX, CX
	JB        loop
	VZEROUPPER
	RET

// func narrowRowAVX2(dst []uint32, src []uint64)
//
// NarrowRow (scan.go) eight slots per iteration: VPSHUFD $0x08 moves the
// low dword of each qword of a 128-bit lane to that lane's low 64 bits,
// VPERMQ $0x08 brings the two lanes' low halves together, and VINSERTI128
// joins the words of two loads. len(dst) is a multiple of 8 and at least
// 8, len(src) >= len(dst) (the Go wrapper checks).
TEXT ·narrowRowAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	XORQ AX, AX                    // slot j

loop:
	VPSHUFD     $0x08, (SI)(AX*8), Y0    // src[j..j+3]: low dwords to each lane's low half
	VPSHUFD     $0x08, 32(SI)(AX*8), Y1  // src[j+4..j+7]
	VPERMQ      $0x08, Y0, Y0
	VPERMQ      $0x08, Y1, Y1
	VINSERTI128 $1, X1, Y0, Y0
	VMOVDQU     Y0, (DI)(AX*4)
	ADDQ        $8, AX
	CMPQ        AX, CX
	JB          loop
	VZEROUPPER
	RET

// func narrowRowAVX512(dst []uint32, src []uint64)
//
// NarrowRow (scan.go) eight slots per iteration: VPMOVQD truncates the
// eight qwords of a 64-byte load to the eight dwords of a 32-byte store.
// Same preconditions as narrowRowAVX2.
TEXT ·narrowRowAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	XORQ AX, AX                    // slot j

zloop:
	VMOVDQU64 (SI)(AX*8), Z0
	VPMOVQD   Z0, Y1
	VMOVDQU   Y1, (DI)(AX*4)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JB        zloop
	VZEROUPPER
	RET
