//go:build !purego

package ring

import "golang.org/x/sys/cpu"

// haveSIMD reports AVX2 support, which the 32-bit NTT kernels of
// ntt_amd64.s need. It is fixed at program start (read-only afterwards).
var haveSIMD = cpu.X86.HasAVX2

// forward32SIMD is forward32 with AVX2 (ntt_amd64.s); len(a) = N >= 16, a
// power of two, w and ws the twiddle tables of length N.
func forward32SIMD(a, w, ws []uint64, q uint64) {
	_, _ = w[len(a)-1], ws[len(a)-1] // the kernel reads w[:N], ws[:N]
	forward32AVX2(a, w, ws, q)
}

// inverse32SIMD is inverse32 with AVX2 (ntt_amd64.s); same shapes as
// forward32SIMD.
func inverse32SIMD(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS uint64) {
	_, _ = wi[len(a)-1], wis[len(a)-1]
	inverse32AVX2(a, wi, wis, q, nInv, nInvS, nInvW, nInvWS)
}

//go:noescape
func forward32AVX2(a, w, ws []uint64, q uint64)

//go:noescape
func inverse32AVX2(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS uint64)

//go:noescape
func addRow32AVX2(o, x, y []uint64, q uint64)

//go:noescape
func subRow32AVX2(o, x, y []uint64, q uint64)

//go:noescape
func negRow32AVX2(o, x []uint64, q uint64)

// rowsSIMD reports whether the AVX2 row kernels apply to modulus q.
func rowsSIMD(q uint64) bool { return haveSIMD && q < rows32Max }

//go:noescape
func galoisGatherAVX2(o, xs []uint64, tab []uint32, q uint64)
