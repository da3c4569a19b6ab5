//go:build !purego

#include "textflag.h"

// NEON NTT kernels for moduli q < 2^30 (see ntt_scalar.go for the bounds
// argument and ntt_arm64.go for the Go declarations). Every residue is a
// uint64 below 4q < 2^32, so the kernels work on four 32-bit lanes:
//   - VLD2/VLD4 of 32-bit elements deinterleave four (eight) residues into
//     their low halves, which the arithmetic uses, and their high halves,
//     which are zero, are never written, and are stored back unchanged by
//     VST2/VST4 (so the two registers of a pair stay adjacent: V0/V1,
//     V2/V3, ...);
//   - the Shoup product y·w − floor(y·w'/2^32)·q takes UMULL/UMULL2 (full
//     64-bit products y·w' of the lanes) and UZP2 (their high halves), then
//     MUL and MLS modulo 2^32: the exact result lies in [0, 2q), below
//     2^32, so the low 32 bits are the result, as in forward32;
//   - for q < 2^29 (the 31 kernels) every Shoup input y is below 4q <
//     2^31, a non-negative signed 32-bit value, and so is the companion
//     w'' = floor(w·2^31/q) = floor(w'/2) (a floor of a floor: the kernels
//     shift the 32-bit companions they load right by one, COMP). Then
//     SQDMULH, (2·y·w'') >> 32 = floor(y·w''/2^31) with no saturation
//     (both factors below 2^31), is Shoup's quotient with word size 2^31:
//     y·w/q − y·w''/2^31 < y/2^31 < 1, so y·w − floor(y·w''/2^31)·q is in
//     [0, 2q) again. One multiply replaces UMULL, UMULL2 and UZP2. The
//     lazy values may differ from the 32 kernels' by q, the fully reduced
//     outputs cannot;
//   - the conditional subtraction min(x, x−c) is VSUB and VUMIN, correct
//     for x < 2c because x−c wraps above x when x < c.
// Register conventions: V30 = q, V29 = 2q in every 32-bit lane; V24, V25,
// V26 are scratch.
//
// The Go assembler has no mnemonic for these five; they are written as
// their A64 encodings (Arm ARM C7.2, size = 10, 32-bit lanes; d, n, m are
// register numbers):
//
//	UMULL   Vd.2D, Vn.2S, Vm.2S: 0x2ea0c000 | m<<16 | n<<5 | d (lanes 0, 1)
//	UMULL2  Vd.2D, Vn.4S, Vm.4S: 0x6ea0c000 | m<<16 | n<<5 | d (lanes 2, 3)
//	MUL     Vd.4S, Vn.4S, Vm.4S: 0x4ea09c00 | m<<16 | n<<5 | d (Vd = Vn·Vm mod 2^32)
//	MLS     Vd.4S, Vn.4S, Vm.4S: 0x6ea09400 | m<<16 | n<<5 | d (Vd −= Vn·Vm mod 2^32)
//	SQDMULH Vd.4S, Vn.4S, Vm.4S: 0x4ea0b400 | m<<16 | n<<5 | d (Vd = sat((2·Vn·Vm) >> 32), signed)
#define UMULL(d, n, m) WORD $(0x2ea0c000 | (m)<<16 | (n)<<5 | (d))
#define UMULL2(d, n, m) WORD $(0x6ea0c000 | (m)<<16 | (n)<<5 | (d))
#define MUL(d, n, m) WORD $(0x4ea09c00 | (m)<<16 | (n)<<5 | (d))
#define MLS(d, n, m) WORD $(0x6ea09400 | (m)<<16 | (n)<<5 | (d))
#define SQDMULH(d, n, m) WORD $(0x4ea0b400 | (m)<<16 | (n)<<5 | (d))

// SHOUP32 sets Vy = Vy·Vw − floor(Vy·Vws/2^32)·q ∈ [0, 2q) for Vy < 2^32,
// with Vws = floor(Vw·2^32/q) (register numbers y, w, ws).
#define SHOUP32(y, w, ws) \
	UMULL(24, y, ws) \
	UMULL2(25, y, ws) \
	VUZP2 V25.S4, V24.S4, V24.S4 \
	MUL(y, y, w) \
	MLS(y, 24, 30)

// SHOUP31 sets Vy = Vy·Vw − floor(Vy·Vws/2^31)·q ∈ [0, 2q) for Vy < 2^31,
// with Vws = floor(Vw·2^31/q) (COMP applied to the 32-bit companion).
#define SHOUP31(y, w, ws) \
	SQDMULH(24, y, ws) \
	MUL(y, y, w) \
	MLS(y, 24, 30)

// CSUB sets X = X − C if X >= C, for X < 2C < 2^32.
#define CSUB(X, C) \
	VSUB  C, X, V26.S4 \
	VUMIN V26.S4, X, X

// FWD sets (X, Y) = (u + v, u − v + 2q) with u = CSUB(X, 2q) and
// v = SHOUP(Y, W, WS): Cooley–Tukey, X, Y in [0, 4q) in and out. X and Y
// are register operands (V0.S4), y, w, ws register numbers (y is Y's).
#define FWD(X, Y, y, w, ws) \
	CSUB(X, V29.S4) \
	SHOUP(y, w, ws) \
	VSUB Y, X, V26.S4 \
	VADD Y, X, X \
	VADD V29.S4, V26.S4, Y

// INV sets (X, Y) = (CSUB(X + Y, 2q), SHOUP(X − Y + 2q, W, WS)):
// Gentleman–Sande, X, Y in [0, 2q) in and out; operands as in FWD.
#define INV(X, Y, y, w, ws) \
	VADD  Y, X, V26.S4 \
	VSUB  Y, X, Y \
	VADD  V29.S4, Y, Y \
	VSUB  V29.S4, V26.S4, X \
	VUMIN X, V26.S4, X \
	SHOUP(y, w, ws)

// The kernels' bodies are in ntt_fwd_arm64.h and ntt_inv_arm64.h, each
// included twice: SHOUP is the Shoup product and COMP(V) what a loaded
// 32-bit companion needs (nothing, or a shift right by one).

#define SHOUP(y, w, ws) SHOUP32(y, w, ws)
#define COMP(V)

// func forward32NEON(a []uint64, w, ws []uint32, q uint64)
//
// forward32 (ntt_scalar.go): len(a) = N >= 16, a power of two, values in
// [0, 4q) in, [0, q) out; w, ws the twiddles and their 32-bit Shoup
// companions as uint32 (Table.w32, ws32u), N of each.
TEXT ·forward32NEON(SB), NOSPLIT, $0-80
#include "ntt_fwd_arm64.h"

// func inverse32NEON(a []uint64, wi, wis []uint32, q, nInv, nInvS, nInvW, nInvWS uint64)
//
// inverse32 (ntt_scalar.go): len(a) = N >= 16, a power of two, values in
// [0, q) in and out; wi, wis as uint32 (Table.wi32, wis32u); nInvS, nInvWS
// are 32-bit Shoup companions.
TEXT ·inverse32NEON(SB), NOSPLIT, $0-112
#include "ntt_inv_arm64.h"

#undef SHOUP
#undef COMP
#define SHOUP(y, w, ws) SHOUP31(y, w, ws)
#define COMP(V) VUSHR $1, V, V

// func forward31NEON(a []uint64, w, ws []uint32, q uint64)
//
// forward32NEON for q < 2^29 with the SQDMULH Shoup product; same
// arguments (the 32-bit companions, halved as they are loaded).
TEXT ·forward31NEON(SB), NOSPLIT, $0-80
#include "ntt_fwd_arm64.h"

// func inverse31NEON(a []uint64, wi, wis []uint32, q, nInv, nInvS, nInvW, nInvWS uint64)
//
// inverse32NEON for q < 2^29 with the SQDMULH Shoup product; same
// arguments (nInvS, nInvWS the 32-bit companions, halved here too).
TEXT ·inverse31NEON(SB), NOSPLIT, $0-112
#include "ntt_inv_arm64.h"
