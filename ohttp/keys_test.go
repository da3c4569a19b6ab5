package ohttp

import (
	"bytes"
	"os"
	"path/filepath"
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
