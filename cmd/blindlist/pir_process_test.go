package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
			if strings.HasPrefix(line, fmt.Sprintf("blindlist: processed shard %d of %d, ETA ", i+1, shards)) {
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

// TestPIRProcessStaleShards re-processes into a directory that holds more
// shards from an earlier run: the stale higher shards must go, or loading
// would serve a config with the old shard count and route keywords to
// shards that do not hold them (present keys reported absent).
func TestPIRProcessStaleShards(t *testing.T) {
	tmp := t.TempDir()
	shards := filepath.Join(tmp, "shards")
	if err := os.Mkdir(shards, 0o755); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, run := range []struct{ shards, prefix string }{{"4", "old"}, {"2", "new"}} {
		keys = keys[:0]
		for i := range 300 {
			keys = append(keys, fmt.Sprintf("%s%d.example/p", run.prefix, i))
		}
		in := filepath.Join(tmp, "keys.txt")
		if err := os.WriteFile(in, []byte(strings.Join(keys, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, errOut := runCLI(t, "", "pir", "process", "--input", in, "--out", shards, "--shard-count", run.shards); code != 0 {
			t.Fatalf("process %s shards: exit %d: %s", run.shards, code, errOut)
		}
	}
	ents, err := os.ReadDir(shards)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{"url-0.bin", "url-0.params.txtpb", "url-1.bin", "url-1.params.txtpb"}; !slices.Equal(names, want) {
		t.Errorf("directory holds %q, want %q", names, want)
	}
	kws := keys[:6]
	if out := pirRoundTrip(t, tmp, shards, kws); out != strings.Repeat("present 31\n", len(kws)) {
		t.Errorf("lookups printed\n%s", out)
	}
}
