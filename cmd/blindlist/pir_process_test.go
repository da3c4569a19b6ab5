package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPIRProcessConcurrentShardOutput processes several shards on parallel
// workers with validation and progress, whose lines are printed from the
// shard goroutines: every line must arrive whole and exactly once (go test
// -race fails here when the writes to stderr are not serialized).
func TestPIRProcessConcurrentShardOutput(t *testing.T) {
	const shards = 6
	tmp := t.TempDir()
	var keys []string
	for i := range 60 {
		keys = append(keys, fmt.Sprintf("host%d.example", i))
	}
	in := filepath.Join(tmp, "keys.txt")
	if err := os.WriteFile(in, []byte(strings.Join(keys, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "", "pir", "process", "--input", in, "--out", tmp, "--shard-count", fmt.Sprint(shards),
		"--workers", "4", "--trials", "1", "--progress")
	if code != 0 {
		t.Fatalf("process: exit %d: %s", code, errOut)
	}
	counts := map[string]int{}
	for line := range strings.SplitSeq(strings.TrimSpace(errOut), "\n") {
		if !strings.HasPrefix(line, "blindlist: ") {
			t.Errorf("interleaved or broken line %q", line)
		}
		for i := range shards {
			if strings.HasPrefix(line, fmt.Sprintf("blindlist: shard %d validated: ", i)) {
				counts[fmt.Sprint("validated ", i)]++
			}
			if line == fmt.Sprintf("blindlist: processed shard %d of %d", i+1, shards) {
				counts[fmt.Sprint("progress ", i+1)]++
			}
		}
	}
	for i := range shards {
		for _, k := range []string{fmt.Sprint("validated ", i), fmt.Sprint("progress ", i+1)} {
			if counts[k] != 1 {
				t.Errorf("%q printed %d times, want once; stderr:\n%s", k, counts[k], errOut)
			}
		}
	}
}
