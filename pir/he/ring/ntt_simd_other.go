//go:build !(amd64 || arm64) || purego

package ring

// haveSIMD is false: no vector NTT on this architecture or build.
var haveSIMD = false

func (t *Table) forward32Vec(a []uint64) { panic("ring: internal error: no SIMD NTT") }
func (t *Table) inverse32Vec(a []uint64) { panic("ring: internal error: no SIMD NTT") }
func (t *Table) forward32VecFrom(dst, src []uint64) {
	panic("ring: internal error: no SIMD NTT")
}

// simdMinN is the smallest N the vector kernels take.
const simdMinN = 16
