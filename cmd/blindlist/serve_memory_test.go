package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/api"
	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir"
)

// TestServeMemoryLimitChoice: the soft memory limit is twice the shard
// files' bytes plus the headroom, across usecases and shards; the config
// field replaces it; GOMEMLIMIT in the environment wins over both.
func TestServeMemoryLimitChoice(t *testing.T) {
	dir := t.TempDir()
	sizes := map[string][]int{"a": {1000, 2500}, "b": {40000}}
	var total int64
	for stem, ss := range sizes {
		for i, n := range ss {
			bin, params := pir.ShardPaths(dir, stem, i)
			if err := os.WriteFile(bin, make([]byte, n), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(params, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			total += int64(n)
		}
	}
	toks := filepath.Join(dir, "tokens")
	if err := os.WriteFile(toks, []byte("AAAA\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	config := func(limits string) *api.FileConfig {
		t.Helper()
		fc, err := api.ParseFileConfig([]byte(fmt.Sprintf(`{"listen": "127.0.0.1:0", "dataDir": "state", "limits": {%s},
		  "vendors": [{"name": "v", "tiers": [{"name": "t", "tokensFile": %q}], "usecases": [
		    {"name": "com.a.url.filtering", "directory": ".", "fileStem": "a", "shardCount": 2},
		    {"name": "com.b.url.filtering", "directory": ".", "fileStem": "b", "shardCount": 1}]}]}`, limits, toks)), dir)
		if err != nil {
			t.Fatal(err)
		}
		return fc
	}
	noEnv := func(string) (string, bool) { return "", false }
	env := func(k string) (string, bool) { return "900MiB", k == "GOMEMLIMIT" }
	cases := []struct {
		name   string
		limits string
		env    func(string) (string, bool)
		want   int64
		source string
	}{
		{"automatic", "", noEnv, 2*total + api.MemoryHeadroomBytes, fmt.Sprintf("2 x %d shard bytes + %d", total, api.MemoryHeadroomBytes)},
		{"configured", `"memoryLimitBytes": 536870912`, noEnv, 512 << 20, "limits.memoryLimitBytes"},
		{"none", `"memoryLimitBytes": -1`, noEnv, -1, "none"},
		{"GOMEMLIMIT over automatic", "", env, -1, "GOMEMLIMIT"},
		{"GOMEMLIMIT over configured", `"memoryLimitBytes": 536870912`, env, -1, "GOMEMLIMIT"},
	}
	for _, c := range cases {
		got, source, err := memoryLimit(config(c.limits), c.env)
		if err != nil || got != c.want || source != c.source {
			t.Errorf("%s: %d from %q (%v), want %d from %q", c.name, got, source, err, c.want, c.source)
		}
	}
	if err := os.Remove(filepath.Join(dir, "b-0.bin")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := memoryLimit(config(""), noEnv); err == nil {
		t.Error("a missing shard file gave a limit")
	}
}

// TestServeSetsMemoryLimit runs serve with the automatic limit: the runtime
// limit is set from Apple's set A shard bytes and logged once.
func TestServeSetsMemoryLimit(t *testing.T) {
	if v, ok := os.LookupEnv("GOMEMLIMIT"); ok && v != "" {
		t.Skip("GOMEMLIMIT is set for this test run, and wins")
	}
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	db := testvec.Path(t, "pir", "A")
	fc := &api.FileConfig{Vendors: []api.VendorConfig{{Usecases: []api.UsecaseConfig{{Directory: db, FileStem: "url", ShardCount: 1}}}}}
	n, err := api.ShardBytes(fc)
	if err != nil || n == 0 {
		t.Fatalf("shard bytes of set A: %d, %v", n, err)
	}
	want := api.AutoMemoryLimit(n)
	p := startServe(t, "--db", db, "--usecase", serveTestUsecase, "--listen", "127.0.0.1:0", "--state", t.TempDir(),
		"--memory-limit", "0")
	got := debug.SetMemoryLimit(-1)
	p.stop()
	debug.SetMemoryLimit(math.MaxInt64)
	if got != want {
		t.Errorf("runtime memory limit %d, want %d", got, want)
	}
	if logged := fmt.Sprintf("bytes=%d", want); strings.Count(p.stderr.String(), `msg="memory limit"`) != 1 || !strings.Contains(p.stderr.String(), logged) {
		t.Errorf("want one memory limit log line with %s:\n%s", logged, p.stderr.String())
	}
}
