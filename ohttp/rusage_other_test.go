//go:build !unix

package ohttp

import "time"

// processCPUTime is unavailable here; benchmarks then report zero CPU time.
func processCPUTime() time.Duration { return 0 }
