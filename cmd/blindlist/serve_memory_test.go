package main

import (
	"context"
	"fmt"
	"io"
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
// files' bytes plus the key cache budget plus the headroom, across
// usecases and shards; the config field replaces it; GOMEMLIMIT in the
// environment wins over both.
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
	auto := func(cache int64) string {
		return fmt.Sprintf("2 x %d shard bytes + %d key cache bytes + %d", total, cache, api.MemoryHeadroomBytes)
	}
	const headroom = api.MemoryHeadroomBytes
	cases := []struct {
		name   string
		limits string
		env    func(string) (string, bool)
		want   int64
		source string
	}{
		{"automatic", "", noEnv, 2*total + 256<<20 + headroom, auto(256 << 20)},
		{"automatic, 64 MiB cache", `"keyCacheBytes": 67108864`, noEnv, 2*total + 64<<20 + headroom, auto(64 << 20)},
		{"automatic, no cache", `"keyCacheBytes": -1`, noEnv, 2*total + headroom, auto(0)},
		{"configured", `"memoryLimitBytes": 536870912`, noEnv, 512 << 20, "limits.memoryLimitBytes"},
		{"none", `"memoryLimitBytes": -1`, noEnv, -1, "none"},
		{"GOMEMLIMIT over automatic", "", env, -1, "GOMEMLIMIT"},
		{"GOMEMLIMIT over configured", `"memoryLimitBytes": 536870912`, env, -1, "GOMEMLIMIT"},
	}
	for _, c := range cases {
		fc := config(c.limits)
		got, source, err := memoryLimit(fc, fc.Limits.KeyCacheBudget(), c.env)
		if err != nil || got != c.want || source != c.source {
			t.Errorf("%s: %d from %q (%v), want %d from %q", c.name, got, source, err, c.want, c.source)
		}
	}
	// A shard served from its memory-mapped serve-ready file adds nothing
	// to the heap, so nothing to the limit.
	if err := os.WriteFile(filepath.Join(dir, "b-0.serve"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _, err := memoryLimit(config(`"keyCacheBytes": -1`), 0, noEnv); err != nil || got != 2*(total-40000)+headroom {
		t.Errorf("b-0 mapped: limit %d (%v), want %d", got, err, 2*(total-40000)+headroom)
	}
	if err := os.Remove(filepath.Join(dir, "b-0.serve")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "b-0.bin")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := memoryLimit(config(""), 0, noEnv); err == nil {
		t.Error("a missing shard file gave a limit")
	}
}

// TestServeSetsMemoryLimit runs serve with the automatic limit: the runtime
// limit is set from Apple's set A shard bytes and the key cache budget
// (default, or --key-cache-bytes) and logged once.
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
	cases := []struct {
		flags []string
		cache int64
	}{
		{nil, api.DefaultKeyCacheBytes},
		{[]string{"--key-cache-bytes", "8388608"}, 8 << 20},
		{[]string{"--key-cache-bytes", "-1"}, 0},
	}
	for _, c := range cases {
		want := api.AutoMemoryLimit(n, c.cache)
		args := append([]string{"--db", db, "--usecase", serveTestUsecase, "--listen", "127.0.0.1:0", "--state", t.TempDir(),
			"--memory-limit", "0"}, c.flags...)
		p := startServe(t, args...)
		got := debug.SetMemoryLimit(-1)
		p.stop()
		debug.SetMemoryLimit(math.MaxInt64)
		if got != want {
			t.Errorf("%v: runtime memory limit %d, want %d", c.flags, got, want)
		}
		if logged := fmt.Sprintf("bytes=%d", want); strings.Count(p.stderr.String(), `msg="memory limit"`) != 1 || !strings.Contains(p.stderr.String(), logged) {
			t.Errorf("%v: want one memory limit log line with %s:\n%s", c.flags, logged, p.stderr.String())
		}
	}
}

// TestServeKeyCacheBytesFlag: out-of-range --key-cache-bytes values are
// usage errors (exit 2) that name the flag.
func TestServeKeyCacheBytesFlag(t *testing.T) {
	for _, v := range []string{"-2", "1000", "1048575"} {
		var stderr strings.Builder
		code := run(context.Background(), []string{"serve", "--db", t.TempDir(), "--usecase", serveTestUsecase, "--key-cache-bytes", v},
			strings.NewReader(""), io.Discard, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), "--key-cache-bytes "+v) {
			t.Errorf("--key-cache-bytes %s: exit %d, stderr %q; want 2 naming the flag", v, code, stderr.String())
		}
	}
}
