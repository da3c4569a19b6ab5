//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// detect returns the highest level the CPU supports (x/sys/cpu reports the
// AVX-512 features only when the OS saves their state).
func detect() Level {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512IFMA && cpu.X86.HasAVX2:
		return IFMA
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX2:
		return AVX512
	case cpu.X86.HasAVX2:
		return AVX2
	}
	return Portable
}
