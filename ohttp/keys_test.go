package ohttp

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestLoadOrCreateSeedConcurrent starts many "processes" on one missing
// seed file at once: all must get the same whole seed. Creating the file
// in place let a second caller read it before the first had written it
// ("seed file is 0 bytes"), which fails a gateway start; the temporary
// file and link make the seed appear whole or not at all.
func TestLoadOrCreateSeedConcurrent(t *testing.T) {
	for round := range 20 {
		dir := t.TempDir()
		path := filepath.Join(dir, "seed")
		const n = 8
		seeds := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { seeds[i], errs[i] = LoadOrCreateSeed(path, nil) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d, caller %d: %v", round, i, errs[i])
			}
			if !bytes.Equal(seeds[i], seeds[0]) {
				t.Fatalf("round %d: callers got different seeds", round)
			}
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) != 1 {
			t.Errorf("round %d: %d files left in the directory, want only the seed", round, len(ents))
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 || st.Size() != SeedSize {
			t.Errorf("seed file mode %04o size %d", st.Mode().Perm(), st.Size())
		}
	}
}

// TestLoadOrCreateSeedLeftoverTemp: a temporary file left by a crash
// before the link is ignored, and the seed is created.
func TestLoadOrCreateSeedLeftoverTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seed")
	if err := os.WriteFile(filepath.Join(dir, ".seed.tmp-123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	seed, err := LoadOrCreateSeed(path, bytes.NewReader(bytes.Repeat([]byte{7}, SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(seed, bytes.Repeat([]byte{7}, SeedSize)) {
		t.Errorf("seed %x", seed)
	}
	again, err := LoadOrCreateSeed(path, nil)
	if err != nil || !bytes.Equal(again, seed) {
		t.Errorf("second load: %x, %v", again, err)
	}
}

func TestParseSeed(t *testing.T) {
	seed := bytes.Repeat([]byte{0xfb, 0xef, 0x01, 0x7e}, SeedSize/4)
	good := map[string]string{
		"hex":             hex.EncodeToString(seed),
		"hex upper":       strings.ToUpper(hex.EncodeToString(seed)),
		"base64":          base64.StdEncoding.EncodeToString(seed),
		"base64 raw":      base64.RawStdEncoding.EncodeToString(seed),
		"base64url":       base64.URLEncoding.EncodeToString(seed),
		"base64url raw":   base64.RawURLEncoding.EncodeToString(seed),
		"trailing spaces": " " + hex.EncodeToString(seed) + "\n",
	}
	for name, text := range good {
		if got, err := ParseSeed(text); err != nil || !bytes.Equal(got, seed) {
			t.Errorf("%s: %x, %v", name, got, err)
		}
	}
	bad := map[string]string{
		"empty":        "",
		"short hex":    hex.EncodeToString(seed[:31]),
		"long base64":  base64.StdEncoding.EncodeToString(append(seed, 0)),
		"not hex":      strings.Repeat("zz", SeedSize),
		"short base64": base64.StdEncoding.EncodeToString(seed[:16]),
	}
	for name, text := range bad {
		if got, err := ParseSeed(text); err == nil {
			t.Errorf("%s: accepted as %x", name, got)
		}
	}
}

// TestReadSeedFileModes: a seed readable by others is always refused; a
// group-readable one (a Kubernetes Secret for a non-root user) only when
// the caller allows it; ReadSeedFile never creates a seed.
func TestReadSeedFileModes(t *testing.T) {
	dir := t.TempDir()
	seed := bytes.Repeat([]byte{7}, SeedSize)
	for _, tc := range []struct {
		mode        os.FileMode
		strict, grp bool // accepted without, with allowGroupReadable
	}{
		{0o600, true, true},
		{0o400, true, true},
		{0o640, false, true},
		{0o440, false, true},
		{0o660, false, false},
		{0o644, false, false},
		{0o604, false, false},
	} {
		path := filepath.Join(dir, fmt.Sprintf("seed-%04o", tc.mode))
		if err := os.WriteFile(path, seed, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, tc.mode); err != nil {
			t.Fatal(err)
		}
		for _, allow := range []bool{false, true} {
			want := tc.strict
			if allow {
				want = tc.grp
			}
			got, err := ReadSeedFile(path, allow)
			if (err == nil) != want || (err == nil && !bytes.Equal(got, seed)) {
				t.Errorf("mode %04o, allowGroupReadable %v: err %v, want accepted %v", tc.mode, allow, err, want)
			}
		}
	}
	if _, err := LoadOrCreateSeed(filepath.Join(dir, "seed-0640"), nil); err == nil {
		t.Error("LoadOrCreateSeed accepted a group-readable seed")
	}
	if _, err := ReadSeedFile(filepath.Join(dir, "absent"), true); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("absent seed: %v, want not-exist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "absent")); err == nil {
		t.Error("ReadSeedFile created a seed")
	}
}
