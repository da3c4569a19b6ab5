//go:build !amd64 || purego

package ring

func addRow32AVX2(o, x, y []uint64, q uint64) { panic("ring: internal error: no SIMD rows") }
func subRow32AVX2(o, x, y []uint64, q uint64) { panic("ring: internal error: no SIMD rows") }
func negRow32AVX2(o, x []uint64, q uint64)    { panic("ring: internal error: no SIMD rows") }

func rowsSIMD(q uint64) bool { return false }

func galoisGatherAVX2(o, xs []uint64, tab []uint32, q uint64) {
	panic("ring: internal error: no SIMD rows")
}

// haveAVX512 is false: no x86-64 vector kernels on this architecture.
var haveAVX512 = false

// haveIFMA is false: no IFMA kernels on this architecture.
var haveIFMA = false

func forward52IFMA(a, src, w, ws []uint64, q uint64) { panic("ring: internal error: no IFMA NTT") }

func inverse52IFMA(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS uint64) {
	panic("ring: internal error: no IFMA NTT")
}

func rows64SIMD(q uint64) bool { return false }

func addRow64AVX512(o, x, y []uint64, q uint64) { panic("ring: internal error: no SIMD rows") }
func subRow64AVX512(o, x, y []uint64, q uint64) { panic("ring: internal error: no SIMD rows") }
func negRow64AVX512(o, x []uint64, q uint64)    { panic("ring: internal error: no SIMD rows") }

func galoisGather64AVX512(o, xs []uint64, tab []uint32, q uint64) {
	panic("ring: internal error: no SIMD rows")
}

func forward52LazyIFMA(a, src, w, ws []uint64, q, c uint64) {
	panic("ring: internal error: no IFMA NTT")
}

func inverse52LazyIFMA(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS, nq uint64) {
	panic("ring: internal error: no IFMA NTT")
}

func forward32PackedAVX2(a, src []uint64, w, ws, wl []uint32, q, zmm uint64) {
	panic("ring: internal error: no SIMD NTT")
}

func inverse32PackedAVX2(a []uint64, wi, wis, wl []uint32, q, nInv, nInvS, nInvW, nInvWS, zmm uint64) {
	panic("ring: internal error: no SIMD NTT")
}

// packedLastStages is false: only the amd64 packed kernel reads Table.wl32.
const packedLastStages = false

// haveGroupMoves is false: no Galois group-move kernels here.
const haveGroupMoves = false

func galoisMove4AVX2(o, xs []uint64, src []uint32, pat []uint8, lanes []uint32) {
	panic("ring: internal error: no SIMD rows")
}

func galoisMove8AVX512(o, xs []uint64, src []uint32, pat []uint8, lanes []uint64) {
	panic("ring: internal error: no SIMD rows")
}
