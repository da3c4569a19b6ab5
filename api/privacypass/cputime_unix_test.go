//go:build unix

package privacypass

import (
	"syscall"
	"time"
)

// processCPU returns the user+system CPU time of the process, so benchmarks
// can report CPU per operation, which waiting for a busy core does not inflate.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
