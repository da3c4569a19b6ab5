//go:build !purego

package ring

import "github.com/blindlist/blindlist/pir/he/kernels"

// haveSIMD reports that the NEON kernels (32-bit NTT of ntt_arm64.s) are
// selected ([kernels.Selected]); fixed at program start. The row kernels
// (add, sub, neg, Galois gather) have no NEON version: rowsSIMD is false
// on arm64.
var haveSIMD = kernels.Selected() == kernels.NEON

// neon31Max bounds the moduli of the SQDMULH kernels (forward31NEON,
// inverse31NEON): q < 2^29, so that every Shoup input (below 4q) is below
// 2^31, a non-negative signed 32-bit value (see ntt_arm64.s). Larger
// moduli below 2^30 take the UMULL kernels.
const neon31Max = 1 << 29

// forward32Vec is the vector [Table.Forward] for q < 2^30 (t.simd): the
// NEON kernels on arm64, with the uint32 twiddle tables; len(a) = N >= 16,
// every value below 4q < 2^32.
func (t *Table) forward32Vec(a []uint64) {
	_, _ = t.w32[len(a)-1], t.ws32u[len(a)-1] // the kernel reads N of each
	if t.M.Q < neon31Max {
		forward31NEON(a, t.w32, t.ws32u, t.M.Q)
		return
	}
	forward32NEON(a, t.w32, t.ws32u, t.M.Q)
}

// forward32VecFrom is forward32Vec of a copy of src in dst (ForwardFrom).
func (t *Table) forward32VecFrom(dst, src []uint64) {
	copy(dst, src)
	t.forward32Vec(dst)
}

// inverse32Vec is the vector [Table.Inverse] for q < 2^30 (t.simd); values
// below q.
func (t *Table) inverse32Vec(a []uint64) {
	_, _ = t.wi32[len(a)-1], t.wis32u[len(a)-1]
	if t.M.Q < neon31Max {
		inverse31NEON(a, t.wi32, t.wis32u, t.M.Q, t.nInv, t.nInvS32, t.nInvW, t.nInvWS32)
		return
	}
	inverse32NEON(a, t.wi32, t.wis32u, t.M.Q, t.nInv, t.nInvS32, t.nInvW, t.nInvWS32)
}

// forward32NEON is forward32 in NEON for q < 2^30 (UMULL Shoup products).
//
//go:noescape
func forward32NEON(a []uint64, w, ws []uint32, q uint64)

// inverse32NEON is inverse32 in NEON for q < 2^30.
//
//go:noescape
func inverse32NEON(a []uint64, wi, wis []uint32, q, nInv, nInvS, nInvW, nInvWS uint64)

// forward31NEON is forward32NEON for q < neon31Max (SQDMULH Shoup
// products), same arguments.
//
//go:noescape
func forward31NEON(a []uint64, w, ws []uint32, q uint64)

// inverse31NEON is inverse32NEON for q < neon31Max, same arguments.
//
//go:noescape
func inverse31NEON(a []uint64, wi, wis []uint32, q, nInv, nInvS, nInvW, nInvWS uint64)

// simdMinN is the smallest N the vector kernels take.
const simdMinN = 16
