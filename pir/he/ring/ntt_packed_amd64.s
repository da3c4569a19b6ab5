//go:build !purego

#include "textflag.h"

// AVX2 NTT kernels for moduli q < 2^30 on packed 32-bit lanes (see
// ntt_scalar.go for the bounds and packed32 in ntt_amd64.go). The uint64
// array is first packed in place into its first half (a32[i] = a[i]: byte
// 4i is written only after bytes 8i..8i+7 were read), the stages run on
// eight values per register, and the last pass writes uint64 again. Every
// lazy value stays below 4q < 2^32, so one dword holds it, and:
//   - VPMULLD gives y·w mod 2^32 and T·q mod 2^32 for eight lanes; the
//     Shoup result y·w − T·q is in [0, 2q) (Shoup's bound with word size
//     2^32, as in ntt_scalar.go), so its value mod 2^32 is exact;
//   - T = floor(y·w'/2^32) needs the high half of a 32×32 product, which
//     VPMULUDQ gives for the even dwords; the odd dwords are shifted down
//     (VPSRLQ) and multiplied separately, and VPBLENDD merges the two;
//   - the conditional subtraction min(x, x−c) is VPSUBD/VPMINUD.
// So a butterfly costs 13 instructions for eight lanes, where the former
// kernels on uint64 lanes (four per register) needed 20.
// Register conventions: Y15 = q, Y14 = 2q in every dword (Z15, Z14 in the
// sixteen-lane passes).

// Dword indices: packPick takes the low dword of each uint64 (the value)
// into the low 128 bits.
DATA packPick<>+0x00(SB)/4, $0
DATA packPick<>+0x04(SB)/4, $2
DATA packPick<>+0x08(SB)/4, $4
DATA packPick<>+0x0c(SB)/4, $6
DATA packPick<>+0x10(SB)/4, $0
DATA packPick<>+0x14(SB)/4, $2
DATA packPick<>+0x18(SB)/4, $4
DATA packPick<>+0x1c(SB)/4, $6
GLOBL packPick<>(SB), RODATA|NOPTR, $32


// SHOUPP sets Y = Y·W − floor(Y·WS/2^32)·q ∈ [0, 2q) in every dword, for
// W (value) and WS (its 32-bit Shoup companion) broadcast to every dword;
// WO = WS (the odd lanes' companion in the low dword of each qword) or,
// for per-lane twiddles, WS shifted down by 32. T, U are clobbered.
#define SHOUPP(Y, W, WS, WO, T, U) \
	VPMULUDQ WS, Y, T        \
	VPSRLQ   $32, Y, U       \
	VPMULUDQ WO, U, U        \
	VPSRLQ   $32, T, T       \
	VPBLENDD $0xAA, U, T, T  \
	VPMULLD  W, Y, Y         \
	VPMULLD  Y15, T, T       \
	VPSUBD   T, Y, Y

// FWDP sets (X, Y) = (u + v, u − v + 2q) with u = min(X, X − 2q) and
// v = SHOUPP(Y): Cooley–Tukey, X, Y in [0, 4q) in and out.
#define FWDP(X, Y, W, WS, WO, T, U) \
	VPSUBD  Y14, X, T            \
	VPMINUD T, X, X              \
	SHOUPP(Y, W, WS, WO, T, U)   \
	VPSUBD  Y, X, T              \
	VPADDD  Y, X, X              \
	VPADDD  Y14, T, Y

// INVP sets (X, Y) = (min(s, s − 2q), SHOUPP(X − Y + 2q)) with s = X + Y:
// Gentleman–Sande, X, Y in [0, 2q) in and out.
#define INVP(X, Y, W, WS, WO, T, U) \
	VPADDD  Y, X, T              \
	VPSUBD  Y, X, Y              \
	VPADDD  Y14, Y, Y            \
	VPSUBD  Y14, T, X            \
	VPMINUD X, T, X              \
	SHOUPP(Y, W, WS, WO, T, U)

// SHOUPZP, FWDZP and INVZP are SHOUPP, FWDP and INVP on sixteen lanes
// (AVX-512F, broadcast twiddles only): Z15 = q, Z14 = 2q in every dword,
// K1 = 0xAAAA (the odd dwords), and a merge-masked VMOVDQA32 in place of
// VPBLENDD.
#define SHOUPZP(Y, W, WS, T, U) \
	VPMULUDQ  WS, Y, T        \
	VPSRLQ    $32, Y, U       \
	VPMULUDQ  WS, U, U        \
	VPSRLQ    $32, T, T       \
	VMOVDQA32 U, K1, T        \
	VPMULLD   W, Y, Y         \
	VPMULLD   Z15, T, T       \
	VPSUBD    T, Y, Y

#define FWDZP(X, Y, W, WS, T, U) \
	VPSUBD  Z14, X, T            \
	VPMINUD T, X, X              \
	SHOUPZP(Y, W, WS, T, U)      \
	VPSUBD  Y, X, T              \
	VPADDD  Y, X, X              \
	VPADDD  Z14, T, Y

#define INVZP(X, Y, W, WS, T, U) \
	VPADDD  Y, X, T              \
	VPSUBD  Y, X, Y              \
	VPADDD  Z14, Y, Y            \
	VPSUBD  Z14, T, X            \
	VPMINUD X, T, X              \
	SHOUPZP(Y, W, WS, T, U)

// ZSETUP broadcasts q and 2q to Z15, Z14 (from Y15, which every kernel
// sets to q first) and sets K1 = 0xAAAA (AVX-512F; run only when the
// caller asked for the sixteen-lane passes). AX is clobbered.
#define ZSETUP \
	VPBROADCASTD X15, Z15      \
	VPADDD       Z15, Z15, Z14 \
	MOVL         $0xAAAA, AX   \
	KMOVW        AX, K1

// CSUBP sets X = min(X, X − C) (X − C if X >= C, for X < 2C).
#define CSUBP(X, C, T) \
	VPSUBD  C, X, T \
	VPMINUD T, X, X

// func forward32PackedAVX2(a, src []uint64, w, ws, wl []uint32, q, zmm uint64)
//
// [Table.Forward] for q < 2^30; len(a) = N >= 16 a power of two, w and ws
// the uint32 twiddles and 32-bit Shoup companions of length N. With
// zmm != 0 (AVX-512F selected) the radix-4 passes with h >= 32 (quarters
// of at least 16 values) run on sixteen lanes.
TEXT ·forward32PackedAVX2(SB), NOSPLIT, $0-136
	MOVQ         a_base+0(FP), DI
	MOVQ         a_len+8(FP), CX
	MOVQ         w_base+48(FP), SI
	MOVQ         ws_base+72(FP), R8
	VPBROADCASTD q+120(FP), Y15
	VPADDD       Y15, Y15, Y14

	// Pack src into a's first half, eight values per iteration (inputs
	// below 4q < 2^32; src may be a itself: byte 4i is written only after
	// bytes 8i..8i+7 were read).
	VMOVDQU packPick<>(SB), Y13
	MOVQ    CX, AX
	SHRQ    $3, AX
	MOVQ    src_base+24(FP), BX
	MOVQ    DI, DX

fpack:
	VPERMD      (BX), Y13, Y0      // a0..a3 in the low 128 bits
	VPERMD      32(BX), Y13, Y1    // a4..a7
	VINSERTI128 $1, X1, Y0, Y0
	VMOVDQU     Y0, (DX)
	ADDQ        $64, BX
	ADDQ        $32, DX
	DECQ        AX
	JNZ         fpack

	MOVQ $1, R9                    // m: groups in this stage
	MOVQ CX, R10
	SHRQ $1, R10                   // h: half-distance

	// Two stages per pass (radix 4) while h >= 16: stage (m, h) on the
	// pairs (a0, a2), (a1, a3) with w[m+i], then stage (2m, h/2) on
	// (a0, a1) with w[2m+2i] and (a2, a3) with w[2m+2i+1], where a_k =
	// a32[2ih + k·h/2 + j], j a multiple of 8.
fstage4:
	CMPQ R10, $16
	JB   fstage
	XORQ R11, R11                  // group i
	MOVQ DI, BX                    // &a0 of group i
	MOVQ R10, R13
	SHLQ $1, R13                   // h/2 values in bytes
	LEAQ (R13)(R13*2), R15         // 3h/2 values in bytes
	CMPQ R10, $32
	JB   fgroup4
	MOVQ zmm+128(FP), R14
	TESTQ R14, R14
	JNZ  zfpass4

fgroup4:
	LEAQ         (R9)(R11*1), R12
	VPBROADCASTD (SI)(R12*4), Y13  // w[m+i]
	VPBROADCASTD (R8)(R12*4), Y12
	SHLQ         $1, R12           // 2m+2i
	VPBROADCASTD (SI)(R12*4), Y11  // w[2m+2i]
	VPBROADCASTD (R8)(R12*4), Y10
	VPBROADCASTD 4(SI)(R12*4), Y9  // w[2m+2i+1]
	VPBROADCASTD 4(R8)(R12*4), Y8
	MOVQ         R10, AX
	SHRQ         $1, AX            // h/2 values per quarter

floop4:
	VMOVDQU (BX), Y0
	VMOVDQU (BX)(R13*1), Y1
	VMOVDQU (BX)(R13*2), Y2
	VMOVDQU (BX)(R15*1), Y3
	FWDP(Y0, Y2, Y13, Y12, Y12, Y4, Y5)
	FWDP(Y1, Y3, Y13, Y12, Y12, Y6, Y7)
	FWDP(Y0, Y1, Y11, Y10, Y10, Y4, Y5)
	FWDP(Y2, Y3, Y9, Y8, Y8, Y6, Y7)
	VMOVDQU Y0, (BX)
	VMOVDQU Y1, (BX)(R13*1)
	VMOVDQU Y2, (BX)(R13*2)
	VMOVDQU Y3, (BX)(R15*1)
	ADDQ    $32, BX
	SUBQ    $8, AX
	JNZ     floop4
	ADDQ    R15, BX                // next group: base + 2h
	INCQ    R11
	CMPQ    R11, R9
	JB      fgroup4
	SHLQ    $2, R9
	SHRQ    $2, R10
	JMP     fstage4

	// The same pass on sixteen lanes (AVX-512F, h >= 32).
zfpass4:
	ZSETUP

zfgroup4:
	LEAQ         (R9)(R11*1), R12
	VPBROADCASTD (SI)(R12*4), Z13  // w[m+i]
	VPBROADCASTD (R8)(R12*4), Z12
	SHLQ         $1, R12           // 2m+2i
	VPBROADCASTD (SI)(R12*4), Z11  // w[2m+2i]
	VPBROADCASTD (R8)(R12*4), Z10
	VPBROADCASTD 4(SI)(R12*4), Z9  // w[2m+2i+1]
	VPBROADCASTD 4(R8)(R12*4), Z8
	MOVQ         R10, AX
	SHRQ         $1, AX            // h/2 values per quarter

zfloop4:
	VMOVDQU32 (BX), Z0
	VMOVDQU32 (BX)(R13*1), Z1
	VMOVDQU32 (BX)(R13*2), Z2
	VMOVDQU32 (BX)(R15*1), Z3
	FWDZP(Z0, Z2, Z13, Z12, Z4, Z5)
	FWDZP(Z1, Z3, Z13, Z12, Z6, Z7)
	FWDZP(Z0, Z1, Z11, Z10, Z4, Z5)
	FWDZP(Z2, Z3, Z9, Z8, Z6, Z7)
	VMOVDQU32 Z0, (BX)
	VMOVDQU32 Z1, (BX)(R13*1)
	VMOVDQU32 Z2, (BX)(R13*2)
	VMOVDQU32 Z3, (BX)(R15*1)
	ADDQ      $64, BX
	SUBQ      $16, AX
	JNZ       zfloop4
	ADDQ      R15, BX              // next group: base + 2h
	INCQ      R11
	CMPQ      R11, R9
	JB        zfgroup4
	SHLQ      $2, R9
	SHRQ      $2, R10
	JMP       fstage4

	// One single stage when h = 8 remains: one register per half group.
fstage:
	CMPQ R10, $8
	JB   flast
	XORQ R11, R11                  // group i
	MOVQ DI, BX

fgroup:
	LEAQ         (R9)(R11*1), R12
	VPBROADCASTD (SI)(R12*4), Y13  // w[m+i]
	VPBROADCASTD (R8)(R12*4), Y12
	VMOVDQU      (BX), Y0
	VMOVDQU      32(BX), Y1
	FWDP(Y0, Y1, Y13, Y12, Y12, Y4, Y5)
	VMOVDQU      Y0, (BX)
	VMOVDQU      Y1, 32(BX)
	ADDQ         $64, BX
	INCQ         R11
	CMPQ         R11, R9
	JB           fgroup

	// The last three stages (h = 4, 2, 1 with m = N/8, N/4, N/2), fused,
	// on pairs p of blocks c0 = 2p, c1 = 2p+1 of eight values, then the
	// reduction to [0, q) and the uint64 stores. The pairs run from the
	// last to the first: pair p writes bytes 128p..128p+127, the packed
	// values of pairs 2p and 2p+1, which are done (or, for p = 0, loaded).
	// Two pairs, p and p−1, go through each iteration of flast2, their
	// steps interleaved: each pair's steps form one long dependent chain
	// (shuffle, butterfly, shuffle, ...), so a second, independent chain
	// keeps the vector units busy. Both pairs are loaded before either is
	// stored; pair p−1 writes the packed values of pairs 2p−2 and 2p−1,
	// which are p−1 and p themselves or done. Their twiddles come whole
	// from wl (lastStageTwiddles: per pair, per stage, eight lane twiddles
	// and their companions; VPSHUFD $0xF5 gives the odd lanes' companions
	// in the even dwords, as the per-lane SHOUPP wants). N >= 32, so the
	// pair count N/16 is even.
flast:
	MOVQ    wl_base+96(FP), R11
	MOVQ    CX, R9
	SHRQ    $4, R9
	DECQ    R9                     // p

flast2:
	MOVQ       R9, BX
	SHLQ       $6, BX
	ADDQ       DI, BX              // packed pair p; pair p−1 at −64
	IMUL3Q     $192, R9, R12
	ADDQ       R11, R12            // wl record of pair p; p−1 at −192
	VMOVDQU    (BX), Y0            // p: c0
	VMOVDQU    32(BX), Y1          // p: c1
	VMOVDQU    -64(BX), Y6         // p−1: c0
	VMOVDQU    -32(BX), Y7         // p−1: c1

	// h = 4: X = c0 v0..v3 | c1 v0..v3, Y = c0 v4..v7 | c1 v4..v7.
	VPERM2I128 $0x20, Y1, Y0, Y2
	VPERM2I128 $0x31, Y1, Y0, Y3
	VPERM2I128 $0x20, Y7, Y6, Y8
	VPERM2I128 $0x31, Y7, Y6, Y9
	VPSHUFD    $0xF5, 32(R12), Y10
	VPSHUFD    $0xF5, -160(R12), Y11
	FWDP(Y2, Y3, (R12), 32(R12), Y10, Y4, Y5)
	FWDP(Y8, Y9, -192(R12), -160(R12), Y11, Y4, Y5)

	// h = 2: X = v0 v1 v4 v5, Y = v2 v3 v6 v7 (each 128-bit half).
	VPUNPCKLQDQ Y3, Y2, Y0
	VPUNPCKHQDQ Y3, Y2, Y1
	VPUNPCKLQDQ Y9, Y8, Y6
	VPUNPCKHQDQ Y9, Y8, Y7
	VPSHUFD     $0xF5, 96(R12), Y10
	VPSHUFD     $0xF5, -96(R12), Y11
	FWDP(Y0, Y1, 64(R12), 96(R12), Y10, Y4, Y5)
	FWDP(Y6, Y7, -128(R12), -96(R12), Y11, Y4, Y5)

	// h = 1: X = v0 v4 v2 v6, Y = v1 v5 v3 v7.
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VSHUFPS $0x88, Y7, Y6, Y8
	VSHUFPS $0xDD, Y7, Y6, Y9
	VPSHUFD $0xF5, 160(R12), Y10
	VPSHUFD $0xF5, -32(R12), Y11
	FWDP(Y2, Y3, 128(R12), 160(R12), Y10, Y4, Y5)
	FWDP(Y8, Y9, -64(R12), -32(R12), Y11, Y4, Y5)
	CSUBP(Y2, Y14, Y4)
	CSUBP(Y3, Y14, Y5)
	CSUBP(Y8, Y14, Y10)
	CSUBP(Y9, Y14, Y11)
	CSUBP(Y2, Y15, Y4)
	CSUBP(Y3, Y15, Y5)
	CSUBP(Y8, Y15, Y10)
	CSUBP(Y9, Y15, Y11)

	// Back to order and widened, pair p to bytes 128p.., p−1 to 128p−128...
	VPUNPCKLDQ   Y3, Y2, Y0
	VPUNPCKHDQ   Y3, Y2, Y1
	VPUNPCKLDQ   Y9, Y8, Y6
	VPUNPCKHDQ   Y9, Y8, Y7
	VPUNPCKLQDQ  Y1, Y0, Y2
	VPUNPCKHQDQ  Y1, Y0, Y3
	VPUNPCKLQDQ  Y7, Y6, Y8
	VPUNPCKHQDQ  Y7, Y6, Y9
	MOVQ         R9, BX
	SHLQ         $7, BX
	ADDQ         DI, BX
	VPMOVZXDQ    X2, Y4
	VPMOVZXDQ    X3, Y5
	VPMOVZXDQ    X8, Y10
	VPMOVZXDQ    X9, Y11
	VEXTRACTI128 $1, Y2, X2
	VEXTRACTI128 $1, Y3, X3
	VEXTRACTI128 $1, Y8, X8
	VEXTRACTI128 $1, Y9, X9
	VPMOVZXDQ    X2, Y12
	VPMOVZXDQ    X3, Y13
	VPMOVZXDQ    X8, Y0
	VPMOVZXDQ    X9, Y1
	VMOVDQU      Y4, (BX)
	VMOVDQU      Y5, 32(BX)
	VMOVDQU      Y12, 64(BX)
	VMOVDQU      Y13, 96(BX)
	VMOVDQU      Y10, -128(BX)
	VMOVDQU      Y11, -96(BX)
	VMOVDQU      Y0, -64(BX)
	VMOVDQU      Y1, -32(BX)
	SUBQ         $2, R9
	CMPQ         R9, $1
	JGE          flast2

fdone:
	VZEROUPPER
	RET

// func inverse32PackedAVX2(a []uint64, wi, wis, wl []uint32, q, nInv, nInvS, nInvW, nInvWS, zmm uint64)
//
// [Table.Inverse] for q < 2^30; len(a) = N >= 16 a power of two, wi and
// wis the uint32 inverse twiddles and companions of length N. With
// zmm != 0 (AVX-512F selected) the radix-4 passes with h >= 16 run on
// sixteen lanes.
TEXT ·inverse32PackedAVX2(SB), NOSPLIT, $0-144
	MOVQ         a_base+0(FP), DI
	MOVQ         a_len+8(FP), CX
	MOVQ         wi_base+24(FP), SI
	MOVQ         wis_base+48(FP), R8
	VPBROADCASTD q+96(FP), Y15
	VPADDD       Y15, Y15, Y14

	// The first three stages (h = 1, 2, 4 with m = N/2, N/4, N/8), fused,
	// on pairs p of blocks c0 = 2p, c1 = 2p+1 of eight values read as
	// uint64 and written packed (bytes 64p..64p+63, already read): the
	// forward's last three in reverse, same lane layouts and twiddles.
	// With an even pair count, ifirst2 takes two pairs, p and p+1, per
	// iteration, interleaved (as the forward's flast2), with the twiddles
	// read whole from wl (lastStageTwiddles of the inverse twiddles); both
	// are loaded before either is stored, and their packed bytes
	// (64p..64p+127) are uint64 values of pairs up to p+1, all read. N >=
	// 32, so the pair count N/16 is even.
	VMOVDQU packPick<>(SB), Y13
	MOVQ    CX, AX
	SHRQ    $4, AX                 // N/16 pairs
	MOVQ    wl_base+72(FP), R12
	MOVQ    DI, BX                 // uint64 pair p
	MOVQ    DI, R9                 // packed pair p

ifirst2:
	VPERMD      (BX), Y13, Y0
	VPERMD      32(BX), Y13, Y1
	VINSERTI128 $1, X1, Y0, Y0     // p: c0
	VPERMD      64(BX), Y13, Y1
	VPERMD      96(BX), Y13, Y2
	VINSERTI128 $1, X2, Y1, Y1     // p: c1
	VPERMD      128(BX), Y13, Y6
	VPERMD      160(BX), Y13, Y7
	VINSERTI128 $1, X7, Y6, Y6     // p+1: c0
	VPERMD      192(BX), Y13, Y7
	VPERMD      224(BX), Y13, Y8
	VINSERTI128 $1, X8, Y7, Y7     // p+1: c1

	// h = 1.
	VPERM2I128  $0x20, Y1, Y0, Y2
	VPERM2I128  $0x31, Y1, Y0, Y3
	VPERM2I128  $0x20, Y7, Y6, Y8
	VPERM2I128  $0x31, Y7, Y6, Y9
	VPUNPCKLQDQ Y3, Y2, Y0
	VPUNPCKHQDQ Y3, Y2, Y1
	VPUNPCKLQDQ Y9, Y8, Y6
	VPUNPCKHQDQ Y9, Y8, Y7
	VSHUFPS     $0x88, Y1, Y0, Y2
	VSHUFPS     $0xDD, Y1, Y0, Y3
	VSHUFPS     $0x88, Y7, Y6, Y8
	VSHUFPS     $0xDD, Y7, Y6, Y9
	VPSHUFD     $0xF5, 160(R12), Y10
	VPSHUFD     $0xF5, 352(R12), Y11
	INVP(Y2, Y3, 128(R12), 160(R12), Y10, Y4, Y5)
	INVP(Y8, Y9, 320(R12), 352(R12), Y11, Y4, Y5)

	// h = 2.
	VPUNPCKLDQ Y3, Y2, Y0
	VPUNPCKHDQ Y3, Y2, Y1
	VPUNPCKLDQ Y9, Y8, Y6
	VPUNPCKHDQ Y9, Y8, Y7
	VPSHUFD    $0xF5, 96(R12), Y10
	VPSHUFD    $0xF5, 288(R12), Y11
	INVP(Y0, Y1, 64(R12), 96(R12), Y10, Y4, Y5)
	INVP(Y6, Y7, 256(R12), 288(R12), Y11, Y4, Y5)

	// h = 4.
	VPUNPCKLQDQ Y1, Y0, Y2
	VPUNPCKHQDQ Y1, Y0, Y3
	VPUNPCKLQDQ Y7, Y6, Y8
	VPUNPCKHQDQ Y7, Y6, Y9
	VPSHUFD     $0xF5, 32(R12), Y10
	VPSHUFD     $0xF5, 224(R12), Y11
	INVP(Y2, Y3, (R12), 32(R12), Y10, Y4, Y5)
	INVP(Y8, Y9, 192(R12), 224(R12), Y11, Y4, Y5)

	VPERM2I128 $0x20, Y3, Y2, Y0   // p: c0
	VPERM2I128 $0x31, Y3, Y2, Y1   // p: c1
	VPERM2I128 $0x20, Y9, Y8, Y6   // p+1: c0
	VPERM2I128 $0x31, Y9, Y8, Y7   // p+1: c1
	VMOVDQU    Y0, (R9)
	VMOVDQU    Y1, 32(R9)
	VMOVDQU    Y6, 64(R9)
	VMOVDQU    Y7, 96(R9)
	ADDQ       $256, BX
	ADDQ       $128, R9
	ADDQ       $384, R12
	SUBQ       $2, AX
	JNZ        ifirst2

	// Middle stages h = 8, 16, ... while m >= 2, two per pass (radix 4)
	// while m >= 4: stage (m, h) on (a0, a1) with wi[m+2i] and (a2, a3)
	// with wi[m+2i+1], then stage (m/2, 2h) on (a0, a2), (a1, a3) with
	// wi[m/2+i], where a_k = a32[4ih + k·h + j], j a multiple of 8.
	MOVQ CX, R9
	SHRQ $4, R9                    // m = N/16
	MOVQ $8, R10                   // h

istage4:
	CMPQ R9, $4
	JB   istage
	XORQ R11, R11                  // block i
	MOVQ DI, BX
	MOVQ R10, R13
	SHLQ $2, R13                   // h values in bytes
	LEAQ (R13)(R13*2), R15         // 3h values in bytes
	MOVQ R9, R14
	SHRQ $1, R14                   // m/2 blocks
	CMPQ R10, $16
	JB   igroup4
	MOVQ zmm+136(FP), DX
	TESTQ DX, DX
	JNZ  zipass4

igroup4:
	LEAQ         (R9)(R11*2), R12
	VPBROADCASTD (SI)(R12*4), Y13  // wi[m+2i]
	VPBROADCASTD (R8)(R12*4), Y12
	VPBROADCASTD 4(SI)(R12*4), Y11 // wi[m+2i+1]
	VPBROADCASTD 4(R8)(R12*4), Y10
	LEAQ         (R14)(R11*1), R12
	VPBROADCASTD (SI)(R12*4), Y9   // wi[m/2+i]
	VPBROADCASTD (R8)(R12*4), Y8
	MOVQ         R10, AX

iloop4:
	VMOVDQU (BX), Y0
	VMOVDQU (BX)(R13*1), Y1
	VMOVDQU (BX)(R13*2), Y2
	VMOVDQU (BX)(R15*1), Y3
	INVP(Y0, Y1, Y13, Y12, Y12, Y4, Y5)
	INVP(Y2, Y3, Y11, Y10, Y10, Y6, Y7)
	INVP(Y0, Y2, Y9, Y8, Y8, Y4, Y5)
	INVP(Y1, Y3, Y9, Y8, Y8, Y6, Y7)
	VMOVDQU Y0, (BX)
	VMOVDQU Y1, (BX)(R13*1)
	VMOVDQU Y2, (BX)(R13*2)
	VMOVDQU Y3, (BX)(R15*1)
	ADDQ    $32, BX
	SUBQ    $8, AX
	JNZ     iloop4
	ADDQ    R15, BX                // next block: base + 4h
	INCQ    R11
	CMPQ    R11, R14
	JB      igroup4
	SHRQ    $2, R9
	SHLQ    $2, R10
	JMP     istage4

	// The same pass on sixteen lanes (AVX-512F, h >= 16).
zipass4:
	ZSETUP

zigroup4:
	LEAQ         (R9)(R11*2), R12
	VPBROADCASTD (SI)(R12*4), Z13  // wi[m+2i]
	VPBROADCASTD (R8)(R12*4), Z12
	VPBROADCASTD 4(SI)(R12*4), Z11 // wi[m+2i+1]
	VPBROADCASTD 4(R8)(R12*4), Z10
	LEAQ         (R14)(R11*1), R12
	VPBROADCASTD (SI)(R12*4), Z9   // wi[m/2+i]
	VPBROADCASTD (R8)(R12*4), Z8
	MOVQ         R10, AX

ziloop4:
	VMOVDQU32 (BX), Z0
	VMOVDQU32 (BX)(R13*1), Z1
	VMOVDQU32 (BX)(R13*2), Z2
	VMOVDQU32 (BX)(R15*1), Z3
	INVZP(Z0, Z1, Z13, Z12, Z4, Z5)
	INVZP(Z2, Z3, Z11, Z10, Z6, Z7)
	INVZP(Z0, Z2, Z9, Z8, Z4, Z5)
	INVZP(Z1, Z3, Z9, Z8, Z6, Z7)
	VMOVDQU32 Z0, (BX)
	VMOVDQU32 Z1, (BX)(R13*1)
	VMOVDQU32 Z2, (BX)(R13*2)
	VMOVDQU32 Z3, (BX)(R15*1)
	ADDQ      $64, BX
	SUBQ      $16, AX
	JNZ       ziloop4
	ADDQ      R15, BX              // next block: base + 4h
	INCQ      R11
	CMPQ      R11, R14
	JB        zigroup4
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
	VPBROADCASTD (SI)(R12*4), Y13
	VPBROADCASTD (R8)(R12*4), Y12
	LEAQ         (BX)(R10*4), DX   // &y[0] = &x[h]
	MOVQ         R10, R13

iloop:
	VMOVDQU (BX), Y0
	VMOVDQU (DX), Y1
	INVP(Y0, Y1, Y13, Y12, Y12, Y4, Y5)
	VMOVDQU Y0, (BX)
	VMOVDQU Y1, (DX)
	ADDQ    $32, BX
	ADDQ    $32, DX
	SUBQ    $8, R13
	JNZ     iloop
	MOVQ    DX, BX
	INCQ    R11
	CMPQ    R11, R9
	JB      igroup
	SHRQ    $1, R9
	SHLQ    $1, R10
	JMP     istage

	// Last stage (m = 1, h = N/2) merged with N^{-1}:
	// x' = (u+v)·N^{-1}, y' = (u−v+2q)·N^{-1}·wi[1], reduced to [0, q)
	// (u+v and u−v+2q are below 4q < 2^32). y' is written as uint64 to
	// a[N/2:] (bytes 4N.., outside the packed values); x' stays packed in
	// place and is widened afterwards.
ilast:
	VPBROADCASTD nInv+104(FP), Y13
	VPBROADCASTD nInvS+112(FP), Y12
	VPBROADCASTD nInvW+120(FP), Y11
	VPBROADCASTD nInvWS+128(FP), Y10
	MOVQ         CX, R13
	SHRQ         $1, R13           // N/2
	MOVQ         DI, BX            // packed x
	LEAQ         (DI)(R13*4), DX   // packed y
	LEAQ         (DI)(R13*8), R9   // uint64 a[N/2]

ilastloop:
	VMOVDQU (BX), Y0
	VMOVDQU (DX), Y1
	VPADDD  Y1, Y0, Y2
	VPSUBD  Y1, Y0, Y3
	VPADDD  Y14, Y3, Y3
	SHOUPP(Y2, Y13, Y12, Y12, Y4, Y5)
	SHOUPP(Y3, Y11, Y10, Y10, Y6, Y7)
	CSUBP(Y2, Y15, Y4)
	CSUBP(Y3, Y15, Y6)
	VMOVDQU Y2, (BX)
	VPMOVZXDQ X3, Y4
	VEXTRACTI128 $1, Y3, X3
	VPMOVZXDQ X3, Y5
	VMOVDQU Y4, (R9)
	VMOVDQU Y5, 32(R9)
	ADDQ    $32, BX
	ADDQ    $32, DX
	ADDQ    $64, R9
	SUBQ    $8, R13
	JNZ     ilastloop

	// Widen x' (a32[0:N/2]) to uint64, last block first: block b writes
	// bytes 64b..64b+63, the packed values of blocks 2b and 2b+1, which
	// are done (or, for b = 0, loaded).
	MOVQ CX, AX
	SHRQ $4, AX                    // N/16 blocks of eight
	DECQ AX

iwiden:
	MOVQ      AX, BX
	SHLQ      $5, BX
	ADDQ      DI, BX
	VPMOVZXDQ (BX), Y0
	VPMOVZXDQ 16(BX), Y1
	MOVQ      AX, DX
	SHLQ      $6, DX
	ADDQ      DI, DX
	VMOVDQU   Y0, (DX)
	VMOVDQU   Y1, 32(DX)
	DECQ      AX
	JGE       iwiden
	VZEROUPPER
	RET
