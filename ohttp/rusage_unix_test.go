//go:build unix

package ohttp

import (
	"syscall"
	"time"
)

// processCPUTime is the user plus system CPU time of the whole process.
// Benchmarks report it per operation beside wall time because the machine
// they run on is shared: wall time then counts waiting for a core, CPU time
// does not.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
