//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// detect returns the highest level the CPU supports (x/sys/cpu reports the
// AVX and AVX-512 features only when the OS saves their state).
func detect() Level {
	return x86Level(x86Features{
		avx2: cpu.X86.HasAVX2, fma: cpu.X86.HasFMA,
		avx512f: cpu.X86.HasAVX512F, avx512ifma: cpu.X86.HasAVX512IFMA,
	})
}

// x86Features are the CPUID features the x86-64 levels use.
type x86Features struct {
	avx2, fma, avx512f, avx512ifma bool
}

// x86Level returns the highest level features f allow. Every level from
// AVX2 up runs float64 FMA kernels (VFMSUB213PD, VFNMADD231PD: ring's wide
// NTT and MulCoeffs rows for moduli 2^30..2^50, the latter at the IFMA
// level too, and bfv's wide rows), so each needs FMA besides AVX2: AVX2 and
// FMA are separate CPUID bits, and a virtual machine may expose one
// without the other. Such a CPU gets the portable kernels.
func x86Level(f x86Features) Level {
	if !f.avx2 || !f.fma {
		return Portable
	}
	switch {
	case f.avx512f && f.avx512ifma:
		return IFMA
	case f.avx512f:
		return AVX512
	}
	return AVX2
}
