//go:build !amd64 || purego

package ring

// haveSIMD is false: no vector kernels on this architecture.
var haveSIMD = false

func forward32SIMD(a, w, ws []uint64, q uint64) { panic("ring: internal error: no SIMD NTT") }

func inverse32SIMD(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS uint64) {
	panic("ring: internal error: no SIMD NTT")
}
