package generation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/bloom"
)

// writeList writes n domains prefix00.example.com … into dir/name and
// returns it as a domains source.
func writeList(t *testing.T, dir, name, prefix string, n int) blocklist.Source {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s%02d.example.com\n", prefix, i)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := blocklist.ParseSource("domains:" + p)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// testConfig is a small, quiet build of src.
func testConfig(src blocklist.Source, shards int) Config {
	return Config{
		Block:     []blocklist.Source{src},
		Tolerance: 0.001,
		Workers:   1,
		PIR:       PIRConfig{Shards: shards},
	}
}

// TestBuildConfigErrors checks that bad settings fail before any output is
// written, each with its own message.
func TestBuildConfigErrors(t *testing.T) {
	src := writeList(t, t.TempDir(), "a.txt", "a", 3)
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"tolerance zero", func(c *Config) { c.Tolerance = 0 }, "tolerance 0 is outside (0, 1)"},
		{"tolerance one", func(c *Config) { c.Tolerance = 1 }, "tolerance 1 is outside (0, 1)"},
		{"no source", func(c *Config) { c.Block = nil }, "no block list source"},
		{"negative shards", func(c *Config) { c.PIR.Shards = -1 }, "-1 shards"},
		{"too many shards", func(c *Config) { c.PIR.Shards = 1<<16 + 1 }, "65537 shards"},
		{"hash functions", func(c *Config) { c.PIR.HashFunctions = 9 }, "9 cuckoo hash functions"},
		{"stem with slash", func(c *Config) { c.PIR.Stem = "a/b" }, `shard stem "a/b"`},
		{"preset", func(c *Config) { c.PIR.Preset = "nope" }, `preset "nope"`},
		{"symmetric without PIR", func(c *Config) { c.PIR.Disabled, c.PIR.SymmetricKeyFile = true, "k" }, "symmetric key needs the PIR stage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			c := testConfig(src, 1)
			tt.modify(&c)
			_, err := Build(context.Background(), out, c)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "generation: ") {
				t.Fatalf("Build: %v, want %q", err, tt.want)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("output directory created by a rejected build (%v)", err)
			}
		})
	}
}

// TestBuildNoKeys checks that a list with nothing usable is ErrNoKeys and
// still returns the report that says why.
func TestBuildNoKeys(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(p, []byte("not a host!\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := blocklist.ParseSource("domains:" + p)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Build(context.Background(), filepath.Join(dir, "out"), testConfig(src, 1))
	if !errors.Is(err, ErrNoKeys) {
		t.Fatalf("Build: %v, want ErrNoKeys", err)
	}
	if res == nil || res.Report == nil || res.Report.ProblemCount != 1 {
		t.Fatalf("result %+v: want the report with one problem", res)
	}
}

// TestBuildSeed checks that the seed is derived from the keys unless given.
func TestBuildSeed(t *testing.T) {
	src := writeList(t, t.TempDir(), "a.txt", "s", 5)
	ctx := context.Background()
	res, err := Build(ctx, t.TempDir(), testConfig(src, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Filter.Params().Seed, SeedFromKeys(res.Keys); got != want || !res.Manifest.Sizing.SeedDerived {
		t.Errorf("derived seed %d (derived %v), want %d", got, res.Manifest.Sizing.SeedDerived, want)
	}
	c := testConfig(src, 1)
	seed := uint32(7)
	c.Seed = &seed
	dir := t.TempDir()
	if res, err = Build(ctx, dir, c); err != nil {
		t.Fatal(err)
	}
	f, err := bloom.ReadDir(res.Generation.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if f.Params().Seed != 7 || res.Manifest.Sizing.SeedDerived {
		t.Errorf("seed %d derived %v, want 7 given", f.Params().Seed, res.Manifest.Sizing.SeedDerived)
	}
}
