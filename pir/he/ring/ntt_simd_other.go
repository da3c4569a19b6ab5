//go:build !(amd64 || arm64) || purego

package ring

// haveSIMD is false: no vector NTT on this architecture or build.
var haveSIMD = false

func forward32SIMD(a, w, ws []uint64, q uint64) { panic("ring: internal error: no SIMD NTT") }

func inverse32SIMD(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS uint64) {
	panic("ring: internal error: no SIMD NTT")
}

func forward32SIMDWith(a, w, ws []uint64, q uint64, avx512 bool) {
	panic("ring: internal error: no SIMD NTT")
}

func inverse32SIMDWith(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS uint64, avx512 bool) {
	panic("ring: internal error: no SIMD NTT")
}

func (t *Table) forward32Vec(a []uint64) { panic("ring: internal error: no SIMD NTT") }
func (t *Table) inverse32Vec(a []uint64) { panic("ring: internal error: no SIMD NTT") }
