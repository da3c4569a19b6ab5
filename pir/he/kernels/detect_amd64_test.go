//go:build !purego

package kernels

import "testing"

// TestX86Level checks the level each combination of CPU features gets:
// every x86-64 vector level runs float64 FMA kernels (the wide NTT, rows
// and key switching for moduli 2^30..2^50, and MulCoeffs rows at every
// level), so a CPU (or a virtual machine's CPUID) with AVX2 but without
// FMA must get the portable kernels, not an illegal instruction.
func TestX86Level(t *testing.T) {
	for _, c := range []struct {
		f    x86Features
		want Level
	}{
		{x86Features{}, Portable},
		{x86Features{fma: true}, Portable},
		{x86Features{avx2: true}, Portable},
		{x86Features{avx2: true, avx512f: true, avx512ifma: true}, Portable},
		{x86Features{avx2: true, fma: true}, AVX2},
		{x86Features{avx2: true, fma: true, avx512ifma: true}, AVX2},
		{x86Features{avx2: true, fma: true, avx512f: true}, AVX512},
		{x86Features{avx2: true, fma: true, avx512f: true, avx512ifma: true}, IFMA},
		{x86Features{fma: true, avx512f: true, avx512ifma: true}, Portable},
	} {
		if got := x86Level(c.f); got != c.want {
			t.Errorf("%+v: level %v, want %v", c.f, got, c.want)
		}
	}
}
