//go:build !purego

package ring

// haveWide reports that the wide AVX2 NTT (ntt_wide_amd64.s) serves
// moduli 2^30 <= q < 2^50 (at the AVX2 and AVX-512 levels; IFMA kernels
// take precedence where selected); fixed at program start.
var haveWide = haveSIMD && !haveIFMA

// forwardWideAVX2 is [Table.Forward] for q < wideMax in float64 (see
// ntt_wide.go): len(a) = N >= 16, a power of two, inputs in [0, 4q),
// outputs in [0, q); w, wq the float64 twiddles and quotients of length
// N; lazy = 1 when wideLazyFits.
//
//go:noescape
func forwardWideAVX2(a []uint64, w, wq []float64, q, qInv float64, lazy uint64)

// inverseWideAVX2 is [Table.Inverse] for q < wideMax in float64: inputs
// in [0, 2q), outputs in [0, q); same shapes as forwardWideAVX2; lazy = 1
// when wideInvLazyFits.
//
//go:noescape
func inverseWideAVX2(a []uint64, wi, wiq []float64, q, qInv, nInv, nInvQ, nInvW, nInvWQ float64, lazy uint64)

// rows64AVX2 reports whether the AVX2 64-bit add/sub/neg rows
// (rows_wide_amd64.s) apply to modulus q: at the avx2 level (the AVX-512
// rows take over from the avx512 level on), for 2^31 <= q < 2^62.
func rows64AVX2(q uint64) bool { return haveSIMD && !haveAVX512 && !rowsSIMD(q) && q < 1<<62 }

// mulRowsWide reports whether the float64 slot-wise product
// (mulRowWideAVX2) serves modulus q: 2^30 <= q < 2^50 at every level from
// avx2 on (no other vector kernel multiplies such residues slot-wise).
func mulRowsWide(q uint64) bool { return haveSIMD && q >= lane32Max && q < wideMax }

// mulRowWide sets o = x·y mod q slot-wise for x, y < q < 2^50, len(o) a
// multiple of 4.
func mulRowWide(o, x, y []uint64, q uint64) {
	fq := float64(q)
	mulRowWideAVX2(o, x[:len(o)], y[:len(o)], fq, 1/fq)
}

//go:noescape
func addRow64AVX2(o, x, y []uint64, q uint64)

//go:noescape
func subRow64AVX2(o, x, y []uint64, q uint64)

//go:noescape
func negRow64AVX2(o, x []uint64, q uint64)

//go:noescape
func mulRowWideAVX2(o, x, y []uint64, q, qInv float64)
