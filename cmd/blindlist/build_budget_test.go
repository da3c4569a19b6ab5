package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildMemoryBudget builds one list with the compile stage in memory
// and with --memory-budget 1B --temp-dir (every key through the spill
// files) and wants the same keys file, a one-line summary of the spilled
// compile on stderr, nothing left in the temporary directory, and a usage
// error for a bad size.
func TestBuildMemoryBudget(t *testing.T) {
	dir := t.TempDir()
	block := filepath.Join(dir, "block.txt")
	os.WriteFile(block, []byte("ads.example.com\nx.ads.example.com\ntracker.example.net\nads.example.com\n"), 0o644)
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o755)
	var keys []string
	for i, budget := range []string{"unlimited", "1B"} {
		out := filepath.Join(dir, budget)
		code, stdout, stderr := runCLI(t, "", "build", "--source", block, "--no-pir", "--memory-budget", budget, "--temp-dir", tmp, "--out", out)
		if code != 0 {
			t.Fatalf("--memory-budget %s: exit %d: %s", budget, code, stderr)
		}
		if spilled := strings.Contains(stderr, "out of memory (budget 0 MiB)"); spilled != (i == 1) {
			t.Errorf("--memory-budget %s: spilled %v, stderr %q", budget, spilled, stderr)
		}
		if !strings.HasPrefix(stdout, "4 keys from 4 entries") {
			t.Errorf("--memory-budget %s: stdout %q", budget, stdout)
		}
		b, err := os.ReadFile(filepath.Join(out, "current", "keys.txt"))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, string(b))
	}
	if keys[0] != keys[1] {
		t.Errorf("keys.txt in memory %q, spilled %q", keys[0], keys[1])
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in --temp-dir: %v", left)
	}
	for _, bad := range []string{"-1", "lots", "1TB"} {
		if code, _, stderr := runCLI(t, "", "build", "--source", block, "--memory-budget", bad, "--out", filepath.Join(dir, "bad")); code != 2 || !strings.Contains(stderr, "--memory-budget") {
			t.Errorf("--memory-budget %s: exit %d, stderr %q", bad, code, stderr)
		}
	}
	for in, want := range map[string]int64{"0": 0, "512MiB": 512 << 20, "2GiB": 2 << 30, "3GB": 3 << 30, "4096": 4096, "unlimited": -1} {
		if got, err := parseMemoryBudget(in); err != nil || got != want {
			t.Errorf("parseMemoryBudget(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

// TestMaxBytes: --max-bytes takes a size as --memory-budget does; a source
// over it fails with one line naming the flag, and a bad size is a usage
// error.
func TestMaxBytes(t *testing.T) {
	dir := t.TempDir()
	block := filepath.Join(dir, "block.txt")
	os.WriteFile(block, []byte(strings.Repeat("ads.example.com\n", 200)), 0o644) // 3,200 bytes
	tests := []struct {
		size string
		code int
		want string // in stderr
	}{
		{"2KiB", 1, "raise the cap with --max-bytes"},
		{"2048", 1, "raise the cap with --max-bytes"},
		{"4KiB", 0, ""},
		{"8GiB", 0, ""},
		{"lots", 2, "--max-bytes"},
		{"-5", 2, "--max-bytes"},
	}
	for _, tc := range tests {
		code, _, stderr := runCLI(t, "", "build", "--source", block, "--no-pir", "--max-bytes", tc.size, "--out", filepath.Join(dir, "out-"+tc.size))
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("--max-bytes %s: exit %d, stderr %q; want exit %d with %q", tc.size, code, stderr, tc.code, tc.want)
		}
		if tc.code == 1 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("--max-bytes %s: more than one line: %q", tc.size, stderr)
		}
	}
	if code, _, stderr := runCLI(t, "", "bloom", "--max-bytes", "1KiB", block); code != 1 || !strings.Contains(stderr, "--max-bytes 1024") {
		t.Errorf("bloom --max-bytes 1KiB: exit %d, stderr %q", code, stderr)
	}
}

// TestBuildCPUProfile: --cpuprofile writes a profile pprof can read (gzip
// of a protobuf), and a path that cannot be created is one error line.
func TestBuildCPUProfile(t *testing.T) {
	dir := t.TempDir()
	block := filepath.Join(dir, "block.txt")
	os.WriteFile(block, []byte("ads.example.com\n"), 0o644)
	prof := filepath.Join(dir, "build.prof")
	if code, _, stderr := runCLI(t, "", "build", "--source", block, "--no-pir", "--cpuprofile", prof, "--out", filepath.Join(dir, "out")); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(prof)
	if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile %d bytes (%v), want a gzip stream", len(b), err)
	}
	code, _, stderr := runCLI(t, "", "build", "--source", block, "--no-pir", "--cpuprofile", filepath.Join(dir, "missing", "p"), "--out", filepath.Join(dir, "out"))
	if code != 1 || !strings.Contains(stderr, "--cpuprofile") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("unwritable profile: exit %d, stderr %q", code, stderr)
	}
}
