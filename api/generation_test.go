package api

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/generation"
	"github.com/blindlist/blindlist/pir"
)

// buildGeneration publishes a generation of n keys prefix%02d.example.com
// into root with the given shard count.
func buildGeneration(t *testing.T, root, prefix string, n, shards int) *generation.Generation {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s%02d.example.com\n", prefix, i)
	}
	list := filepath.Join(t.TempDir(), "list.txt")
	if err := os.WriteFile(list, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := blocklist.ParseSource("domains:" + list)
	if err != nil {
		t.Fatal(err)
	}
	res, err := generation.Build(context.Background(), root, generation.Config{
		Block: []blocklist.Source{src}, Tolerance: 0.001, Workers: 1, PIR: generation.PIRConfig{Shards: shards},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Generation
}

func generationConfig(root string, shards, versions int) *FileConfig {
	return &FileConfig{Vendors: []VendorConfig{{Name: "v", Usecases: []UsecaseConfig{{
		Name: "u.url.filtering", Directory: root, FileStem: "url", ShardCount: shards, VersionCount: versions,
	}}}}}
}

// TestGenerationHistoryAfterRestart publishes two generations and loads
// them as a restarted server does: the previous configuration must stay
// answerable (no 410 for devices that still hold it).
func TestGenerationHistoryAfterRestart(t *testing.T) {
	root := filepath.Join(t.TempDir(), "db")
	// Another shard count: another configuration (the config id depends
	// on the shard parameters only).
	g1 := buildGeneration(t, root, "a", 12, 2)
	g2 := buildGeneration(t, root, "b", 12, 3)
	if g1.Manifest.ConfigID == g2.Manifest.ConfigID {
		t.Fatal("two shard counts gave one config id")
	}
	entries, err := LoadEntriesWithHistory(context.Background(), generationConfig(root, 3, 2))
	if err != nil {
		t.Fatal(err)
	}
	var reg Registry
	if err := reg.Replace(entries); err != nil {
		t.Fatal(err)
	}
	ids := reg.Versions()["u.url.filtering"]
	if len(ids) != 2 || fmt.Sprintf("%x", ids[0]) != g1.Manifest.ConfigID || fmt.Sprintf("%x", ids[1]) != g2.Manifest.ConfigID {
		t.Fatalf("versions after restart %x, want [%s %s]", ids, g1.Manifest.ConfigID, g2.Manifest.ConfigID)
	}
	// Without history (a reload), only the current one is loaded.
	plain, err := LoadEntries(context.Background(), generationConfig(root, 3, 2))
	if err != nil || len(plain[0].Previous) != 0 {
		t.Fatalf("LoadEntries: %v, %d previous", err, len(plain[0].Previous))
	}
}

// TestShardCountMismatch checks that a configuration whose shardCount
// disagrees with the generation or the folder is an error naming both
// numbers, never a subset served.
func TestShardCountMismatch(t *testing.T) {
	root := filepath.Join(t.TempDir(), "db")
	g := buildGeneration(t, root, "s", 30, 3)
	flat := t.TempDir()
	for i := range 3 {
		bin, params := pir.ShardPaths(g.Dir, "url", i)
		for _, p := range []string{bin, params} {
			if err := os.Link(p, filepath.Join(flat, filepath.Base(p))); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name, dir string
		shards    int
		want      string
	}{
		{"generation, fewer", root, 1, "shardCount is 1 in the configuration but generation 000001 of " + root + " has 3 shards"},
		{"generation, more", root, 5, "shardCount is 5 in the configuration but generation 000001 of " + root + " has 3 shards"},
		{"flat, fewer", flat, 1, "shardCount is 1 in the configuration but " + flat + " holds 3 shards"},
		{"flat, more", flat, 4, "shardCount is 4 in the configuration but " + flat + " holds 3 shards"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadEntries(context.Background(), generationConfig(tt.dir, tt.shards, 1))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadEntries: %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := LoadEntries(context.Background(), generationConfig(root, 3, 1)); err != nil {
		t.Errorf("matching count: %v", err)
	}
}

// TestReloadRefusesCorruptGeneration publishes a generation, damages it,
// and checks that a reload refuses it with its id and keeps serving the
// previous configuration.
func TestReloadRefusesCorruptGeneration(t *testing.T) {
	root := filepath.Join(t.TempDir(), "db")
	g1 := buildGeneration(t, root, "c", 10, 2)
	entries, err := LoadEntries(context.Background(), generationConfig(root, 2, 2))
	if err != nil {
		t.Fatal(err)
	}
	var reg Registry
	if err := reg.Replace(entries); err != nil {
		t.Fatal(err)
	}
	g2 := buildGeneration(t, root, "d", 10, 2)
	bin, _ := pir.ShardPaths(g2.Dir, "url", 0)
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	os.Remove(bin) // the first generation's link keeps the original
	if err := os.WriteFile(bin, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadEntries(context.Background(), generationConfig(root, 2, 2))
	if err == nil || !strings.Contains(err.Error(), "refusing generation 000002") || !strings.Contains(err.Error(), "url-0.bin") {
		t.Fatalf("reload of a damaged generation: %v", err)
	}
	if ids := reg.Versions()["u.url.filtering"]; len(ids) != 1 || fmt.Sprintf("%x", ids[0]) != g1.Manifest.ConfigID {
		t.Errorf("served %x after a refused reload, want %s", ids, g1.Manifest.ConfigID)
	}
}
