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

// func forward52IFMA(a, src, w, ws []uint64, q uint64)
//
// The whole forward NTT (body in ntt_ifma_fwd_amd64.h); len(a) = N >= 16,
// w and ws of length N.
TEXT ·forward52IFMA(SB), NOSPLIT, $0-104
#include "ntt_ifma_fwd_amd64.h"

#undef FWDBF
#undef FWDFINAL

// FWD52LAZY is FWD52 without the reduction of X: (X, Y) = (X + v,
// X − v + 2q), both below B + 2q for X, Y < B (see forward52LazyIFMA),
// and without the mask of SHOUP52: T = floor(Y·WS/β), X += (Y·W mod β) +
// (T·(β−q) mod β) ≡ X + v (mod β), Y = 2X + 2q − (X + v). Only the value
// mod β of each lane is exact (a lane may carry multiples of β above bit
// 52), which is enough: every true value is below β, additions and
// subtractions are exact mod 2^64 and so mod β, and VPMADD52* read only
// the low 52 bits of their factors; REDUCE52 masks at the end. R holds
// 2X + 2q; T, R are clobbered.
#define FWD52LAZY(X, Y, W, WS, T, R) \
	VPXORQ      T, T, T   \
	VPMADD52HUQ WS, Y, T  \
	VPADDQ      X, X, R   \
	VPMADD52LUQ W, Y, X   \
	VPMADD52LUQ Z29, T, X \
	VPADDQ      Z30, R, R \
	VPSUBQ      X, R, Y

// REDUCE52 sets X = X mod q for X < β (X's low 52 bits; bits above are
// ignored, see FWD52LAZY): Shoup's product by w = 1, with
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

// func forward52LazyIFMA(a, src, w, ws []uint64, q, c uint64)
//
// forward52IFMA without the per-butterfly reduction of x, for moduli with
// (4 + 2·log2(N))·q < β (see ifmaLazy in ntt.go), and c = floor(β/q) for
// the final reduction.
TEXT ·forward52LazyIFMA(SB), NOSPLIT, $0-112
	VPBROADCASTQ c+104(FP), Z22
#include "ntt_ifma_fwd_amd64.h"

#define INVBF(X, Y, W, WS, T, R) INV52(X, Y, W, WS, T, R)

// func inverse52IFMA(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS uint64)
//
// The whole inverse NTT (body in ntt_ifma_inv_amd64.h); len(a) = N >= 16,
// wi and wis of length N. Values stay below 2q between stages.
TEXT ·inverse52IFMA(SB), NOSPLIT, $0-112
	MOVQ      q+72(FP), AX
	SETUP
	VMOVDQA64 Z30, Z20             // C = 2q
#include "ntt_ifma_inv_amd64.h"

#undef INVBF

// INV52LAZY is the Gentleman–Sande butterfly without reductions:
// (X, Y) = (X + Y, SHOUP(X − Y + C, W, WS)) with C = Z20 = N·q, the
// Shoup result left unmasked. Bounds (see invLazyFits in ntt.go): stage s
// (s = 0 first) gets values below A_s = 2^(s+1)·q, so X + Y < A_{s+1},
// X − Y + C < A_s + C <= 2Nq <= β (Y < A_s <= C), and the product is in
// [0, 2q) <= A_{s+1}. Only the value mod β of each lane is exact: the
// unmasked product may carry β (the sum of two 52-bit low halves), and
// additions carry it on; but every true value is below β, every step is
// a ring operation mod 2^64 (hence mod β), and VPMADD52* read only the
// low 52 bits of their factors, so the products see the true values. The
// last stage masks. D = X − Y + C is kept in R; T, R are clobbered.
#define INV52LAZY(X, Y, W, WS, T, R) \
	VPSUBQ      Y, X, R   \
	VPADDQ      Y, X, X   \
	VPADDQ      Z20, R, R \
	VPXORQ      T, T, T   \
	VPMADD52HUQ WS, R, T  \
	VPXORQ      Y, Y, Y   \
	VPMADD52LUQ W, R, Y   \
	VPMADD52LUQ Z29, T, Y

#define INVBF(X, Y, W, WS, T, R) INV52LAZY(X, Y, W, WS, T, R)

// func inverse52LazyIFMA(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS, nq uint64)
//
// inverse52IFMA without reductions between stages, for moduli with
// 2·N·q <= β (see invLazyFits in ntt.go), c = N·q.
TEXT ·inverse52LazyIFMA(SB), NOSPLIT, $0-120
	MOVQ         q+72(FP), AX
	SETUP
	VPBROADCASTQ nq+112(FP), Z20
#include "ntt_ifma_inv_amd64.h"
