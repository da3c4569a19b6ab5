package cputime

import (
	"testing"
	"time"
)

// TestProcessAdvances burns CPU for a while and checks that the measured CPU
// time grows by a plausible amount, and never runs backwards.
func TestProcessAdvances(t *testing.T) {
	if !Supported() {
		if Process() != 0 {
			t.Fatal("Process is not 0 on a platform without support")
		}
		return
	}
	before := Process()
	deadline := time.Now().Add(50 * time.Millisecond)
	x := uint64(1)
	for time.Now().Before(deadline) {
		for i := 0; i < 1000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	after := Process()
	if x == 0 {
		t.Log("unreachable; keeps the loop alive")
	}
	if after < before {
		t.Fatalf("CPU time ran backwards: %v -> %v", before, after)
	}
	if got := after - before; got < 10*time.Millisecond {
		t.Errorf("50 ms of busy loop measured as %v of CPU", got)
	}
}
