//go:build !amd64 || purego

package ring

// haveWide is false: no vector kernels on this architecture.
var haveWide = false

func forwardWideAVX2(a []uint64, w, wq []float64, q, qInv float64, lazy uint64) {
	panic("ring: internal error: no wide NTT")
}

func inverseWideAVX2(a []uint64, wi, wiq []float64, q, qInv, nInv, nInvQ, nInvW, nInvWQ float64, lazy uint64) {
	panic("ring: internal error: no wide NTT")
}

func rows64AVX2(q uint64) bool  { return false }
func mulRowsWide(q uint64) bool { return false }

func mulRowWide(o, x, y []uint64, q uint64)   { panic("ring: internal error: no wide rows") }
func addRow64AVX2(o, x, y []uint64, q uint64) { panic("ring: internal error: no wide rows") }
func subRow64AVX2(o, x, y []uint64, q uint64) { panic("ring: internal error: no wide rows") }
func negRow64AVX2(o, x []uint64, q uint64)    { panic("ring: internal error: no wide rows") }
