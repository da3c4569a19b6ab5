// Package cputime reads the CPU time the whole process has used, for
// benchmarks that report CPU per operation beside wall time.
//
// The machines blindlist is measured on are often shared: wall time then
// counts waiting for a core, CPU time (user + system, getrusage) does not.
// Benchmarks take [Process] before and after their loop and report the
// difference per operation.
package cputime

import "time"

// Process returns the user plus system CPU time the process has used so far,
// or 0 where the platform cannot tell (see [Supported]).
func Process() time.Duration { return process() }

// Supported reports whether [Process] measures anything on this platform.
func Supported() bool { return supported }
