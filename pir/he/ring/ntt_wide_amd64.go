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
