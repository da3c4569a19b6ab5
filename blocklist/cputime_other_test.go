//go:build !unix

package blocklist

import (
	"testing"
	"time"
)

// processCPU is not measured on this platform; benchmarks then report
// wall-clock rates only.
func processCPU(testing.TB) time.Duration { return 0 }
