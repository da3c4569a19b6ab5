package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerationsVerify: `generations verify` hashes every file of the
// current generation whatever its stamp says, and refuses a damaged one
// naming the file.
func TestGenerationsVerify(t *testing.T) {
	dir := t.TempDir()
	block, out := filepath.Join(dir, "block.txt"), filepath.Join(dir, "out")
	if err := os.WriteFile(block, []byte("a.example.com\nb.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "", "build", "--source", block, "--no-pir", "--out", out); code != 0 {
		t.Fatalf("build: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "", "generations", "verify", "--db", out)
	if code != 0 || !strings.Contains(stdout, "generation 000001 of") || strings.Contains(stdout, " 0 bytes hashed") {
		t.Fatalf("verify: exit %d\n%s%s", code, stdout, stderr)
	}
	keys := filepath.Join(out, "generations", "000001", "keys.txt")
	raw, err := os.ReadFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	raw[0] ^= 1
	if err := os.WriteFile(keys, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "", "generations", "verify", "--db", out, "000001"); code == 0 || !strings.Contains(stderr, "keys.txt") {
		t.Fatalf("verify of a damaged generation: exit %d: %s", code, stderr)
	}
}
