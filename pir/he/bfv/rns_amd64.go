//go:build !purego

package bfv

import "golang.org/x/sys/cpu"

// haveSIMD reports AVX2 support for the vector kernels of rns_amd64.s. It
// is fixed at program start (read-only afterwards).
var haveSIMD = cpu.X86.HasAVX2

//go:noescape
func drop32AVX2(dst, src, last []uint64, qLast, half, q, hmK, inv, invS32 uint64)
