package generation

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/pir"
)

// servedKeys opens the published generation of root as a server would
// (verifying it), loads every shard, and returns its keys.txt.
func servedKeys(t *testing.T, root string) (string, *Generation) {
	t.Helper()
	g, err := Open(root)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	shards := make([]*pir.Database, g.Manifest.ShardCount)
	for i := range shards {
		bin, params := pir.ShardPaths(g.Dir, g.Manifest.Stem, i)
		if shards[i], err = pir.LoadDatabase(bin, params); err != nil {
			t.Fatalf("generation %s shard %d: %v", g.ID(), i, err)
		}
	}
	srv, err := pir.NewServer(shards, pir.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Config().ID; string(got) == "" || len(g.Manifest.ConfigID) != 64 {
		t.Fatalf("config id %x, manifest %q", got, g.Manifest.ConfigID)
	}
	return string(mustRead(t, filepath.Join(g.Dir, KeysFile))), g
}

// TestPublishCrashKeepsPrevious stops a build at every publish step, as a
// kill would (no clean-up), and checks that the root then serves one whole
// generation: the previous one before the atomic switch, the new one after
// it; and that the next build cleans up and publishes.
func TestPublishCrashKeepsPrevious(t *testing.T) {
	src := t.TempDir()
	a, b := writeList(t, src, "a.txt", "old", 20), writeList(t, src, "b.txt", "new", 20)
	ctx := context.Background()
	steps := []struct {
		step    string
		shard   bool // fail in the PIR stage instead
		servesB bool
	}{
		{step: "shard 1 staged", shard: true},
		{step: "prefilter-written"},
		{step: "shards-written"},
		{step: "staged"},
		{step: "renamed"},
		{step: "link-created"},
		{step: "link-renamed", servesB: true},
		{step: "published", servesB: true},
	}
	// Spilled: the compile goes through its spill files and the PIR stage
	// runs beside the prefilter pass (writeBesidePIR).
	for _, tt := range steps {
		for _, spilled := range []bool{false, true} {
			name := tt.step
			config := func(path blocklist.Source) Config {
				c := testConfig(path, 3)
				if spilled {
					c.MemoryBudget, c.Workers = 1, 2
				}
				return c
			}
			if spilled {
				name += "/spilled"
			}
			t.Run(name, func(t *testing.T) {
				root := filepath.Join(t.TempDir(), "db")
				if _, err := Build(ctx, root, config(a)); err != nil {
					t.Fatal(err)
				}
				before, g0 := servedKeys(t, root)
				c := config(b)
				kill := errors.New("killed")
				if tt.shard {
					c.testingOnlyShardDone = func(s int) error {
						if s == 1 {
							return kill
						}
						return nil
					}
				} else {
					c.testingOnlyCrash = func(step string) error {
						if step == tt.step {
							return kill
						}
						return nil
					}
				}
				if _, err := Build(ctx, root, c); !errors.Is(err, kill) {
					t.Fatalf("Build: %v, want the kill", err)
				}
				got, g := servedKeys(t, root)
				if tt.servesB {
					if !strings.Contains(got, "new00.example.com") || strings.Contains(got, "old00.example.com") {
						t.Errorf("after the switch, served keys:\n%s", got)
					}
				} else if got != before || g.ID() != g0.ID() {
					t.Errorf("before the switch, generation %s -> %s, keys changed", g0.ID(), g.ID())
				}
				res, err := Build(ctx, root, config(b))
				if err != nil {
					t.Fatalf("build after the crash: %v", err)
				}
				if got, _ := servedKeys(t, root); !strings.Contains(got, "new00.example.com") {
					t.Errorf("build after the crash serves:\n%s", got)
				}
				left, _ := filepath.Glob(filepath.Join(root, GenerationsDir, stagingPrefix+"*"))
				links, _ := filepath.Glob(filepath.Join(root, ".current-*"))
				if len(left)+len(links) != 0 {
					t.Errorf("leftovers after the next build: %v %v", left, links)
				}
				if res.Generation.Manifest.Added != 0 && tt.servesB {
					t.Errorf("rebuilding the same keys added %d", res.Generation.Manifest.Added)
				}
			})
		}
	}
}

// TestPublishSharesUnchangedShards checks that an incremental build links
// the unchanged shards of the previous generation (same inode) and that
// the previous generation's files stay as they were.
func TestPublishSharesUnchangedShards(t *testing.T) {
	src := t.TempDir()
	root := filepath.Join(t.TempDir(), "db")
	ctx := context.Background()
	var keys []string
	for i := range 40 {
		keys = append(keys, "k"+string(rune('a'+i%26))+strings.Repeat("x", i/26)+".example")
	}
	p := filepath.Join(src, "list.txt")
	write := func(ks []string) {
		if err := os.WriteFile(p, []byte(strings.Join(ks, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(keys)
	c := testConfig(sourceOf(t, p), 4)
	r1, err := Build(ctx, root, c)
	if err != nil {
		t.Fatal(err)
	}
	write(append(keys, "added.example"))
	r2, err := Build(ctx, root, c)
	if err != nil {
		t.Fatal(err)
	}
	if m := r2.Generation.Manifest; m.Added != 1 || m.Removed != 0 || m.Previous != r1.Generation.ID() {
		t.Errorf("second generation: +%d -%d previous %q", m.Added, m.Removed, m.Previous)
	}
	changed := shardOfKey(t, "added.example", 4)
	shared := 0
	for i := range 4 {
		b1, _ := pir.ShardPaths(r1.Generation.Dir, "url", i)
		b2, _ := pir.ShardPaths(r2.Generation.Dir, "url", i)
		if sameFile(t, b1, b2) != sameFile(t, pir.ServePath(b1), pir.ServePath(b2)) {
			t.Errorf("shard %d: .bin and .serve are not shared alike", i)
		}
		if sameFile(t, b1, b2) {
			shared++
			if i == changed {
				t.Errorf("shard %d changed but is shared", i)
			}
		} else if i != changed {
			t.Errorf("unchanged shard %d is not shared", i)
		}
	}
	if shared != 3 {
		t.Errorf("%d shards shared, want 3", shared)
	}
	if _, err := OpenID(root, r1.Generation.ID()); err != nil {
		t.Errorf("previous generation no longer verifies: %v", err)
	}
}

func sourceOf(t *testing.T, path string) blocklist.Source {
	t.Helper()
	s, err := blocklist.ParseSource("domains:" + path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func shardOfKey(t *testing.T, key string, n int) int {
	t.Helper()
	s, err := pir.ShardingFunction{}.ShardIndex([]byte(key), n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	fa, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := os.Stat(b)
	if err != nil {
		t.Fatal(err)
	}
	sa, sb := fa.Sys().(*syscall.Stat_t), fb.Sys().(*syscall.Stat_t)
	return sa.Ino == sb.Ino && sa.Dev == sb.Dev
}

// TestOpenRefusesBadGeneration damages a published generation in each way
// a server must notice and checks that Open refuses it, naming the fault.
func TestOpenRefusesBadGeneration(t *testing.T) {
	src := writeList(t, t.TempDir(), "a.txt", "v", 12)
	tests := []struct {
		name   string
		damage func(t *testing.T, g *Generation)
		want   string
	}{
		{"flipped shard byte", func(t *testing.T, g *Generation) {
			bin, _ := pir.ShardPaths(g.Dir, "url", 1)
			b := mustRead(t, bin)
			b[len(b)/2] ^= 1
			os.Remove(bin) // a new file: the shared inode of other generations stays intact
			os.WriteFile(bin, b, 0o644)
		}, "url-1.bin: "},
		{"truncated serve-ready shard", func(t *testing.T, g *Generation) {
			bin, _ := pir.ShardPaths(g.Dir, "url", 0)
			b := mustRead(t, pir.ServePath(bin))
			os.Remove(pir.ServePath(bin))
			os.WriteFile(pir.ServePath(bin), b[:len(b)-4096], 0o644)
		}, "url-0.serve: "},
		{"truncated prefilter", func(t *testing.T, g *Generation) {
			os.Truncate(filepath.Join(g.Dir, "prefilter.bin"), 3)
		}, "prefilter.bin: 3 bytes"},
		{"missing shard", func(t *testing.T, g *Generation) {
			_, params := pir.ShardPaths(g.Dir, "url", 2)
			os.Remove(params)
		}, "missing or unreadable file"},
		{"extra shard", func(t *testing.T, g *Generation) {
			bin, _ := pir.ShardPaths(g.Dir, "url", 3)
			os.WriteFile(bin, []byte("x"), 0o644)
		}, "url-3.bin is not in generation.json"},
		{"shard count edited", func(t *testing.T, g *Generation) {
			editManifest(t, g, func(m *GenerationManifest) { m.ShardCount = 1 })
		}, "holds more than its 1 shards"},
		{"pir manifest disagrees", func(t *testing.T, g *Generation) {
			editManifest(t, g, func(m *GenerationManifest) { m.ShardCount = 4 })
		}, "shard 3 of 4"},
		{"unreadable manifest", func(t *testing.T, g *Generation) {
			os.WriteFile(filepath.Join(g.Dir, GenerationFile), []byte("{"), 0o644)
		}, "generation.json is unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			r, err := Build(context.Background(), root, testConfig(src, 3))
			if err != nil {
				t.Fatal(err)
			}
			tt.damage(t, r.Generation)
			_, err = Open(root)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v, want %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "generation 000001") {
				t.Errorf("error %q does not name the generation", err)
			}
		})
	}
}

func editManifest(t *testing.T, g *Generation, edit func(*GenerationManifest)) {
	t.Helper()
	m := g.Manifest
	edit(&m)
	b, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(g.Dir, GenerationFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestKeepListRollback builds more generations than Keep, checks that the
// oldest are pruned, and rolls back to the previous one.
func TestKeepListRollback(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "db")
	ctx := context.Background()
	var ids []string
	for i := range 4 {
		c := testConfig(writeList(t, dir, "l.txt", "g"+string(rune('a'+i)), 5), 1)
		c.Keep = 2
		r, err := Build(ctx, root, c)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.Generation.ID())
	}
	list, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[3] {
		t.Fatalf("kept %v, want %v", list, ids[2:])
	}
	if err := Rollback(root, ids[2]); err != nil {
		t.Fatal(err)
	}
	if got, _ := servedKeys(t, root); !strings.Contains(got, "gc00.example.com") {
		t.Errorf("after rollback serves:\n%s", got)
	}
	if err := Rollback(root, ids[0]); err == nil || !strings.Contains(err.Error(), "not rolling back") {
		t.Errorf("rollback to a pruned generation: %v", err)
	}
	if cur, _ := CurrentID(root); cur != ids[2] {
		t.Errorf("current %s after a refused rollback, want %s", cur, ids[2])
	}
}

// TestMigrateFlatLayout builds over the flat layout of earlier versions:
// the new generation reuses its shards and the flat files go away.
func TestMigrateFlatLayout(t *testing.T) {
	src := writeList(t, t.TempDir(), "a.txt", "m", 10)
	root := t.TempDir()
	flat, err := Build(context.Background(), t.TempDir(), testConfig(src, 2))
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(flat.Generation.Dir)
	for _, e := range ents {
		if e.Name() != GenerationFile {
			os.WriteFile(filepath.Join(root, e.Name()), mustRead(t, filepath.Join(flat.Generation.Dir, e.Name())), 0o644)
		}
	}
	r, err := Build(context.Background(), root, testConfig(src, 2))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Migrated || r.Generation.Manifest.Added != 0 {
		t.Errorf("migrated %v, added %d", r.Migrated, r.Generation.Manifest.Added)
	}
	for _, name := range []string{KeysFile, PIRManifestFile, "url-0.bin", "prefilter.bin"} {
		if fileExists(filepath.Join(root, name)) {
			t.Errorf("flat %s left after migration", name)
		}
	}
	if d, err := Resolve(root); err != nil || d != r.Generation.Dir {
		t.Errorf("Resolve: %q, %v", d, err)
	}
}
