//go:build !purego

#include "textflag.h"

// AVX-512 IFMA NTT kernels for moduli q < 2^50. See ifmaMax in ntt.go for
// the bounds argument, ntt_amd64.go for the Go declarations. In short,
// with β = 2^52 and the 52-bit Shoup companion w' = floor(w·β/q):
//   - VPMADD52HUQ gives floor(y·w'/β) (bits 52..103 of the 104-bit product
//     of the low 52 bits of each lane), which is exact for y, w' < β;
//   - VPMADD52LUQ gives (y·w) mod β and (q̂·(β−q)) mod β; their sum mod β
//     is y·w − q̂·q mod β, and since the true value is in [0, 2q) and
//     2q < β, the mask β−1 recovers it exactly;
//   - every lazy value is below 4q < β, which is what the two products
//     need; additions and the conditional subtractions min(x, x−c) use full
//     64-bit lanes (VPMINUQ).
// Register conventions: Z31 = q, Z30 = 2q, Z29 = β−q, Z28 = β−1 in every
// lane; Z25..Z27 hold the permutation indices of the short stages.

// Lane indices for VPERMQ / VPERMI2Q (see the comments at their use).
DATA ifmaIdx4<>+0x00(SB)/8, $0
DATA ifmaIdx4<>+0x08(SB)/8, $0
DATA ifmaIdx4<>+0x10(SB)/8, $0
DATA ifmaIdx4<>+0x18(SB)/8, $0
DATA ifmaIdx4<>+0x20(SB)/8, $1
DATA ifmaIdx4<>+0x28(SB)/8, $1
DATA ifmaIdx4<>+0x30(SB)/8, $1
DATA ifmaIdx4<>+0x38(SB)/8, $1
GLOBL ifmaIdx4<>(SB), RODATA|NOPTR, $64

DATA ifmaIdx2<>+0x00(SB)/8, $0
DATA ifmaIdx2<>+0x08(SB)/8, $0
DATA ifmaIdx2<>+0x10(SB)/8, $2
DATA ifmaIdx2<>+0x18(SB)/8, $2
DATA ifmaIdx2<>+0x20(SB)/8, $1
DATA ifmaIdx2<>+0x28(SB)/8, $1
DATA ifmaIdx2<>+0x30(SB)/8, $3
DATA ifmaIdx2<>+0x38(SB)/8, $3
GLOBL ifmaIdx2<>(SB), RODATA|NOPTR, $64

DATA ifmaIdx1<>+0x00(SB)/8, $0
DATA ifmaIdx1<>+0x08(SB)/8, $1
DATA ifmaIdx1<>+0x10(SB)/8, $4
DATA ifmaIdx1<>+0x18(SB)/8, $5
DATA ifmaIdx1<>+0x20(SB)/8, $2
DATA ifmaIdx1<>+0x28(SB)/8, $3
DATA ifmaIdx1<>+0x30(SB)/8, $6
DATA ifmaIdx1<>+0x38(SB)/8, $7
GLOBL ifmaIdx1<>(SB), RODATA|NOPTR, $64

// (even, odd) interleave of two registers E, O: E[0] O[0] E[1] O[1]
// E[4] O[4] E[5] O[5], and the same from lanes 2, 3, 6, 7.
DATA ifmaZipLo<>+0x00(SB)/8, $0
DATA ifmaZipLo<>+0x08(SB)/8, $8
DATA ifmaZipLo<>+0x10(SB)/8, $1
DATA ifmaZipLo<>+0x18(SB)/8, $9
DATA ifmaZipLo<>+0x20(SB)/8, $4
DATA ifmaZipLo<>+0x28(SB)/8, $12
DATA ifmaZipLo<>+0x30(SB)/8, $5
DATA ifmaZipLo<>+0x38(SB)/8, $13
GLOBL ifmaZipLo<>(SB), RODATA|NOPTR, $64

DATA ifmaZipHi<>+0x00(SB)/8, $2
DATA ifmaZipHi<>+0x08(SB)/8, $10
DATA ifmaZipHi<>+0x10(SB)/8, $3
DATA ifmaZipHi<>+0x18(SB)/8, $11
DATA ifmaZipHi<>+0x20(SB)/8, $6
DATA ifmaZipHi<>+0x28(SB)/8, $14
DATA ifmaZipHi<>+0x30(SB)/8, $7
DATA ifmaZipHi<>+0x38(SB)/8, $15
GLOBL ifmaZipHi<>(SB), RODATA|NOPTR, $64

// The inverse of the zip: even lanes of A ‖ B (indices 8..15 are B) to
// one register, odd lanes to the other, in the order the zip reads them.
DATA ifmaUnzipE<>+0x00(SB)/8, $0
DATA ifmaUnzipE<>+0x08(SB)/8, $2
DATA ifmaUnzipE<>+0x10(SB)/8, $8
DATA ifmaUnzipE<>+0x18(SB)/8, $10
DATA ifmaUnzipE<>+0x20(SB)/8, $4
DATA ifmaUnzipE<>+0x28(SB)/8, $6
DATA ifmaUnzipE<>+0x30(SB)/8, $12
DATA ifmaUnzipE<>+0x38(SB)/8, $14
GLOBL ifmaUnzipE<>(SB), RODATA|NOPTR, $64

DATA ifmaUnzipO<>+0x00(SB)/8, $1
DATA ifmaUnzipO<>+0x08(SB)/8, $3
DATA ifmaUnzipO<>+0x10(SB)/8, $9
DATA ifmaUnzipO<>+0x18(SB)/8, $11
DATA ifmaUnzipO<>+0x20(SB)/8, $5
DATA ifmaUnzipO<>+0x28(SB)/8, $7
DATA ifmaUnzipO<>+0x30(SB)/8, $13
DATA ifmaUnzipO<>+0x38(SB)/8, $15
GLOBL ifmaUnzipO<>(SB), RODATA|NOPTR, $64

// 128-bit-lane interleave for the inverse's h = 2 → h = 4 step:
// X = A.l0 B.l0 A.l1 B.l1, Y = A.l2 B.l2 A.l3 B.l3 (lK = lanes 2K, 2K+1).
DATA ifmaPairLo<>+0x00(SB)/8, $0
DATA ifmaPairLo<>+0x08(SB)/8, $1
DATA ifmaPairLo<>+0x10(SB)/8, $8
DATA ifmaPairLo<>+0x18(SB)/8, $9
DATA ifmaPairLo<>+0x20(SB)/8, $2
DATA ifmaPairLo<>+0x28(SB)/8, $3
DATA ifmaPairLo<>+0x30(SB)/8, $10
DATA ifmaPairLo<>+0x38(SB)/8, $11
GLOBL ifmaPairLo<>(SB), RODATA|NOPTR, $64

DATA ifmaPairHi<>+0x00(SB)/8, $4
DATA ifmaPairHi<>+0x08(SB)/8, $5
DATA ifmaPairHi<>+0x10(SB)/8, $12
DATA ifmaPairHi<>+0x18(SB)/8, $13
DATA ifmaPairHi<>+0x20(SB)/8, $6
DATA ifmaPairHi<>+0x28(SB)/8, $7
DATA ifmaPairHi<>+0x30(SB)/8, $14
DATA ifmaPairHi<>+0x38(SB)/8, $15
GLOBL ifmaPairHi<>(SB), RODATA|NOPTR, $64

// SHOUP52 sets X = X·W − floor(X·WS/β)·q ∈ [0, 2q) for X < 4q < β, with
// WS = floor(W·β/q): T = floor(X·WS/β), R = X·W mod β, R += T·(β−q)
// mod β, X = R mod β. T and R are clobbered.
#define SHOUP52(X, W, WS, T, R) \
	VPXORQ      T, T, T   \
	VPMADD52HUQ WS, X, T  \
	VPXORQ      R, R, R   \
	VPMADD52LUQ W, X, R   \
	VPMADD52LUQ Z29, T, R \
	VPANDQ      Z28, R, X

// CSUB64 sets X = X − C if X >= C, for X < 2C. T is clobbered.
#define CSUB64(X, C, T) \
	VPSUBQ  C, X, T \
	VPMINUQ T, X, X

// FWD52 sets (X, Y) = (u + v, u − v + 2q) with u = CSUB64(X, 2q) and
// v = SHOUP52(Y, W, WS): Cooley–Tukey, X, Y in [0, 4q) in and out.
#define FWD52(X, Y, W, WS, T, R) \
	CSUB64(X, Z30, T)         \
	SHOUP52(Y, W, WS, T, R)   \
	VPSUBQ Y, X, T            \
	VPADDQ Y, X, X            \
	VPADDQ Z30, T, Y

// INV52 sets (X, Y) = (CSUB64(X + Y, 2q), SHOUP52(X − Y + 2q, W, WS)):
// Gentleman–Sande, X, Y in [0, 2q) in and out.
#define INV52(X, Y, W, WS, T, R) \
	VPADDQ  Y, X, T         \
	VPSUBQ  Y, X, Y         \
	VPADDQ  Z30, Y, Y       \
	VPSUBQ  Z30, T, X       \
	VPMINUQ X, T, X         \
	SHOUP52(Y, W, WS, T, R)

// SETUP broadcasts the constants from q (in AX): Z31 = q, Z30 = 2q,
// Z29 = β−q, Z28 = β−1. AX is clobbered.
#define SETUP \
	VPBROADCASTQ AX, Z31   \
	VPADDQ       Z31, Z31, Z30 \
	MOVQ         $0x000fffffffffffff, AX \
	VPBROADCASTQ AX, Z28   \
	VPSUBQ       Z31, Z28, Z29 \
	MOVQ         $1, AX    \
	VPBROADCASTQ AX, Z27   \
	VPADDQ       Z27, Z29, Z29

#define FWDBF(X, Y, W, WS, T, R) FWD52(X, Y, W, WS, T, R)
#define FWDFINAL(X, T) CSUB64(X, Z30, T) \
	CSUB64(X, Z31, T)

// func forward52IFMA(a, w, ws []uint64, q uint64)
//
// The whole forward NTT (body in ntt_ifma_fwd_amd64.h); len(a) = N >= 16,
// w and ws of length N.
TEXT ·forward52IFMA(SB), NOSPLIT, $0-80
#include "ntt_ifma_fwd_amd64.h"

#undef FWDBF
#undef FWDFINAL

// FWD52LAZY is FWD52 without the reduction of X: (X, Y) = (X + v,
// X − v + 2q), both below B + 2q for X, Y < B (see forward52LazyIFMA).
#define FWD52LAZY(X, Y, W, WS, T, R) \
	SHOUP52(Y, W, WS, T, R)   \
	VPSUBQ Y, X, T            \
	VPADDQ Y, X, X            \
	VPADDQ Z30, T, Y

// REDUCE52 sets X = X mod q for X < β: Shoup's product by w = 1, with
// w' = floor(β/q) in Z22, gives X − floor(X·w'/β)·q ∈ [0, 2q) (T =
// floor(X·w'/β), X += T·(β−q) mod β, X mod β), then one conditional
// subtraction. T is clobbered.
#define REDUCE52(X, T) \
	VPXORQ      T, T, T   \
	VPMADD52HUQ Z22, X, T \
	VPMADD52LUQ Z29, T, X \
	VPANDQ      Z28, X, X \
	CSUB64(X, Z31, T)

#define FWDBF(X, Y, W, WS, T, R) FWD52LAZY(X, Y, W, WS, T, R)
#define FWDFINAL(X, T) REDUCE52(X, T)

// func forward52LazyIFMA(a, w, ws []uint64, q, c uint64)
//
// forward52IFMA without the per-butterfly reduction of x, for moduli with
// (4 + 2·log2(N))·q < β (see ifmaLazy in ntt.go), and c = floor(β/q) for
// the final reduction.
TEXT ·forward52LazyIFMA(SB), NOSPLIT, $0-88
	VPBROADCASTQ c+80(FP), Z22
#include "ntt_ifma_fwd_amd64.h"

// func inverse52IFMA(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS uint64)
//
// The whole inverse NTT; len(a) = N >= 16, wi and wis of length N.
TEXT ·inverse52IFMA(SB), NOSPLIT, $0-112
	MOVQ a_base+0(FP), DI
	MOVQ a_len+8(FP), CX
	MOVQ wi_base+24(FP), SI
	MOVQ wis_base+48(FP), R8
	MOVQ q+72(FP), AX
	SETUP

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
	INV52(Z2, Z3, Z13, Z12, Z4, Z5)

	// h = 2: x = a0a1 a8a9 a4a5 a12a13, y = a2a3 a10a11 a6a7 a14a15.
	VPUNPCKLQDQ Z3, Z2, Z0
	VPUNPCKHQDQ Z3, Z2, Z1
	VPERMQ      (R13), Z26, Z13
	VPERMQ      (R14), Z26, Z12
	INV52(Z0, Z1, Z13, Z12, Z4, Z5)

	// h = 4: x = a0..a3 a8..a11, y = a4..a7 a12..a15.
	VMOVDQA64 Z22, Z2
	VPERMI2Q  Z1, Z0, Z2
	VMOVDQA64 Z21, Z3
	VPERMI2Q  Z1, Z0, Z3
	VPERMQ    (R11), Z27, Z13
	VPERMQ    (R12), Z27, Z12
	INV52(Z2, Z3, Z13, Z12, Z4, Z5)

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

	// Middle stages h = 8, 16, ... while m >= 2, two per pass (radix 4)
	// while m >= 4: stage (m, h) on (a0, a1) with wi[m+2i] and (a2, a3)
	// with wi[m+2i+1], then stage (m/2, 2h) on (a0, a2), (a1, a3) with
	// wi[m/2+i], where a_k = x[4ih + k·h + j], j a multiple of 8.
	MOVQ CX, R9
	SHRQ $4, R9                    // m = N/16
	MOVQ $8, R10                   // h

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
	INV52(Z0, Z1, Z13, Z12, Z4, Z5)
	INV52(Z2, Z3, Z11, Z10, Z6, Z7)
	INV52(Z0, Z2, Z9, Z8, Z4, Z5)
	INV52(Z1, Z3, Z9, Z8, Z6, Z7)
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
	INV52(Z0, Z1, Z13, Z12, Z4, Z5)
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
	// x' = (u+v)·N^{-1}, y' = (u−v+2q)·N^{-1}·wi[1], reduced to [0, q);
	// u+v and u−v+2q are below 4q < β.
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
	VPADDQ    Z30, Z3, Z3
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
