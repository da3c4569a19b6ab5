//go:build !linux

package e2e

// peakRSS returns 0: the peak resident set is only read on Linux.
func peakRSS() uint64 { return 0 }
