//go:build !purego

package kernels

// detect returns NEON: Advanced SIMD (ASIMD) is part of the arm64 baseline
// Go targets (GOARM64=v8.0 requires it, and the Go runtime's own arm64
// assembly, such as internal/bytealg, uses it unconditionally), so no
// feature bit needs to be read.
func detect() Level { return NEON }
