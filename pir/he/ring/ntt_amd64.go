//go:build !purego

package ring

import "github.com/blindlist/blindlist/pir/he/kernels"

// haveSIMD reports that the AVX2 kernels (32-bit NTT of
// ntt_packed_amd64.s, rows of rows_amd64.s) are selected
// ([kernels.Selected]); fixed at program start.
var haveSIMD = kernels.Selected() >= kernels.AVX2

// packedLastStages: the packed kernels read the twiddles of their fused
// three-stage passes from Table.wl32 and Table.wil32.
const packedLastStages = true

// simdMinN is the smallest N the packed kernels take: their fused passes
// run two pairs of eight-value blocks at a time, so N/16 must be even.
const simdMinN = 32

// haveAVX512 reports that the AVX-512F kernels (64-bit rows of
// rows_avx512_amd64.s, the sixteen-lane passes of the packed NTT, see
// packedZMM) are selected; fixed at program start.
var haveAVX512 = kernels.Selected() >= kernels.AVX512

//go:noescape
func addRow32AVX2(o, x, y []uint64, q uint64)

//go:noescape
func subRow32AVX2(o, x, y []uint64, q uint64)

//go:noescape
func negRow32AVX2(o, x []uint64, q uint64)

// rowsSIMD reports whether the AVX2 row kernels apply to modulus q.
func rowsSIMD(q uint64) bool { return haveSIMD && q < rows32Max }

// rows64SIMD reports whether the AVX-512 64-bit row kernels
// (rows_avx512_amd64.s) apply to modulus q: the AVX2 ones do not, and the
// CPU has AVX-512F.
func rows64SIMD(q uint64) bool { return haveAVX512 && !rowsSIMD(q) }

//go:noescape
func addRow64AVX512(o, x, y []uint64, q uint64)

//go:noescape
func subRow64AVX512(o, x, y []uint64, q uint64)

//go:noescape
func negRow64AVX512(o, x []uint64, q uint64)

//go:noescape
func galoisGather64AVX512(o, xs []uint64, tab []uint32, q uint64)

//go:noescape
func galoisGatherAVX2(o, xs []uint64, tab []uint32, q uint64)

// haveGroupMoves: the Galois group-move kernels (galoisMove4AVX2,
// galoisMove8AVX512 in rows_amd64.s) exist on this architecture.
const haveGroupMoves = true

//go:noescape
func galoisMove4AVX2(o, xs []uint64, src []uint32, pat []uint8, lanes []uint32)

//go:noescape
func galoisMove8AVX512(o, xs []uint64, src []uint32, pat []uint8, lanes []uint64)

// haveIFMA reports that the AVX-512 IFMA kernels (VPMADD52LUQ/VPMADD52HUQ)
// are selected for the 52-bit NTT of ntt_ifma_amd64.s; fixed at program
// start.
var haveIFMA = kernels.Selected() >= kernels.IFMA

// forward52IFMA is [Table.Forward] for q < ifmaMax with the
// 52-bit Shoup companions ws = floor(w·2^52/q); len(a) = N >= 16, a power
// of two, w and ws of length N.
//
//go:noescape
func forward52IFMA(a, src, w, ws []uint64, q uint64)

// forward52LazyIFMA is forward52IFMA without the per-butterfly reduction
// of x, for moduli with ifmaLazyFits; c = floor(2^52/q).
//
//go:noescape
func forward52LazyIFMA(a, src, w, ws []uint64, q, c uint64)

// inverse52IFMA is [Table.Inverse] for q < ifmaMax with
// 52-bit Shoup companions; same shapes as forward52IFMA.
//
//go:noescape
func inverse52IFMA(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS uint64)

// inverse52LazyIFMA is inverse52IFMA without reductions between stages,
// for moduli with invLazyFits; nq = N·q.
//
//go:noescape
func inverse52LazyIFMA(a, wi, wis []uint64, q, nInv, nInvS, nInvW, nInvWS, nq uint64)

// packedZMM is 1 when the packed NTT's wide radix-4 passes run on sixteen
// lanes (AVX-512F selected), else 0; fixed at program start. Measured on
// an AMD EPYC with AVX-512 (BenchmarkNTTKernels, N = 4096, 28-bit: 10.95
// us with eight lanes, 10.31 us with sixteen, CPU medians; issue 17).
var packedZMM = func() uint64 {
	if haveAVX512 {
		return 1
	}
	return 0
}()

// forward32Vec is the vector [Table.Forward] for q < 2^30 (t.simd): the
// packed AVX2 kernel on amd64.
func (t *Table) forward32Vec(a []uint64) {
	forward32PackedAVX2(a, a, t.w32, t.ws32u, t.wl32, t.M.Q, packedZMM)
}

// forward32VecFrom is forward32Vec of src into dst (ForwardFrom): the
// kernel packs src into dst's first half.
func (t *Table) forward32VecFrom(dst, src []uint64) {
	forward32PackedAVX2(dst, src, t.w32, t.ws32u, t.wl32, t.M.Q, packedZMM)
}

// inverse32Vec is the vector [Table.Inverse] for q < 2^30 (t.simd).
func (t *Table) inverse32Vec(a []uint64) {
	inverse32PackedAVX2(a, t.wi32, t.wis32u, t.wil32, t.M.Q, t.nInv, t.nInvS32, t.nInvW, t.nInvWS32, packedZMM)
}

// forward32PackedAVX2 is [Table.Forward] for q < 2^30 on packed 32-bit
// lanes (ntt_packed_amd64.s) of src into a (src is a, or N values not
// overlapping it): len(a) = N >= 32, a power of two; w and ws
// are the twiddles and their 32-bit Shoup companions as uint32, length N;
// wl the last three stages' twiddles in lane order (lastStageTwiddles).
//
//go:noescape
func forward32PackedAVX2(a, src []uint64, w, ws, wl []uint32, q, zmm uint64)

// inverse32PackedAVX2 is [Table.Inverse] for q < 2^30 on packed 32-bit
// lanes; same shapes as forward32PackedAVX2 (wl: the first three stages'
// inverse twiddles in lane order), nInvS and nInvWS the 32-bit companions.
//
//go:noescape
func inverse32PackedAVX2(a []uint64, wi, wis, wl []uint32, q, nInv, nInvS, nInvW, nInvWS, zmm uint64)
