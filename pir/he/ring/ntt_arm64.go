//go:build !purego

package ring

import "github.com/blindlist/blindlist/pir/he/kernels"

// haveSIMD reports that the NEON kernels (32-bit NTT of ntt_arm64.s) are
// selected ([kernels.Selected]); fixed at program start. The row kernels
// (add, sub, neg, Galois gather) have no NEON version: rowsSIMD is false
// on arm64.
var haveSIMD = kernels.Selected() == kernels.NEON

// forward32SIMD is forward32 with NEON (ntt_arm64.s); len(a) = N >= 16, a
// power of two, w and ws the twiddle tables of length N, every value
// below 4q < 2^32.
func forward32SIMD(a, w, ws []uint64, q uint64) {
	_, _ = w[len(a)-1], ws[len(a)-1] // the kernel reads w[:N], ws[:N]
	forward32NEON(a, w, ws, q)
}

// inverse32SIMD is inverse32 with NEON (ntt_arm64.s); same shapes as
// forward32SIMD, values below q.
func inverse32SIMD(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS uint64) {
	_, _ = wi[len(a)-1], wis[len(a)-1]
	inverse32NEON(a, wi, wis, q, nInv, nInvS, nInvW, nInvWS)
}

// forward32SIMDWith is forward32SIMD; arm64 has no AVX-512 passes to
// choose (the tests name every x86-64 variant through it).
func forward32SIMDWith(a, w, ws []uint64, q uint64, avx512 bool) { forward32SIMD(a, w, ws, q) }

// inverse32SIMDWith is inverse32SIMD (see forward32SIMDWith).
func inverse32SIMDWith(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS uint64, avx512 bool) {
	inverse32SIMD(a, wi, wis, q, nInv, nInvS, nInvW, nInvWS)
}

// forward32Vec is the vector [Table.Forward] for q < 2^30 (t.simd): the
// NEON kernel on arm64.
func (t *Table) forward32Vec(a []uint64) { forward32SIMD(a, t.w, t.ws32, t.M.Q) }

// inverse32Vec is the vector [Table.Inverse] for q < 2^30 (t.simd).
func (t *Table) inverse32Vec(a []uint64) {
	inverse32SIMD(a, t.wi, t.wis32, t.M.Q, t.nInv, t.nInvS32, t.nInvW, t.nInvWS32)
}

//go:noescape
func forward32NEON(a, w, ws []uint64, q uint64)

//go:noescape
func inverse32NEON(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS uint64)
