//go:build !(amd64 || arm64) || purego

package kernels

// detect returns Portable: there are no vector kernels for this
// architecture or build.
func detect() Level { return Portable }
