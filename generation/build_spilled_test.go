package generation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/blocklist"
)

// spillSources writes several sources with duplicates (within and across
// files), keys covered by parents, AdBlock exceptions and allow entries
// below blocked parents, and URL keys; extra adds lines (a second build).
func spillSources(t *testing.T, dir string, n int, extra string) (block, allow []blocklist.Source) {
	t.Helper()
	var hosts, abp, al strings.Builder
	for i := range n {
		fmt.Fprintf(&hosts, "0.0.0.0 h%d.example%d.com\n", i, i%13)
		if i%7 == 0 {
			fmt.Fprintf(&hosts, "0.0.0.0 H%d.Example%d.com # duplicate\n", i, i%13)
		}
	}
	hosts.WriteString(extra)
	for i := range n / 4 {
		fmt.Fprintf(&abp, "||a%d.example%d.net^\n", i, i%5)
		fmt.Fprintf(&abp, "||h%d.example%d.com^$third-party\n", i*3, (i*3)%13)
		if i%50 == 0 {
			fmt.Fprintf(&abp, "||example%d.net^\n@@||keep%d.example%d.net^\n||x%d.example%d.org/path/\n", i%5, i, i%5, i, i%3)
		}
	}
	for i := range 13 {
		fmt.Fprintf(&al, "sub.example%d.com\n", i)
	}
	al.WriteString("h5.example5.com\n")
	write := func(name, format, text string) blocklist.Source {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := blocklist.ParseSource(format + ":" + p)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	hosts.WriteString("0.0.0.0 example3.com\n0.0.0.0 example4.com\n")
	block = []blocklist.Source{write("hosts.txt", "hosts", hosts.String()), write("list.txt", "abp", abp.String()),
		write("hosts2.txt", "hosts", "0.0.0.0 h1.example1.com\n0.0.0.0 late.example9.com\n")}
	allow = []blocklist.Source{write("allow.txt", "domains", al.String())}
	return block, allow
}

// generationFiles returns the files of root's current generation, with
// the build time stamps removed from the manifests (and the digests of
// the two manifests holding them from generation.json).
func generationFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	dir := filepath.Join(root, "current")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".json") {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"built", "created"} {
				delete(m, k)
			}
			if files, ok := m["files"].([]any); ok { // the digests of the two manifests with time stamps
				m["files"] = slices.DeleteFunc(files, func(f any) bool {
					name := f.(map[string]any)["name"]
					return name == ManifestFile || name == PIRManifestFile
				})
			}
			if b, err = json.Marshal(m); err != nil {
				t.Fatal(err)
			}
		}
		files[e.Name()] = b
	}
	return files
}

// TestBuildSpilledMatchesMemory builds the same sources with the compile
// stage in memory and with a 1-byte budget (every key through the spill
// partitions, the sorted runs and the merge; the key files, prefilter
// and PIR routing from the keys file), then a second build that adds and
// removes keys on top of each, and wants identical generations: keys,
// key database, provenance, prefilter, shards and every manifest (time
// stamps aside), including the added and removed counts.
func TestBuildSpilledMatchesMemory(t *testing.T) {
	for _, parents := range []bool{false, true} {
		t.Run(fmt.Sprintf("allow-removes-parents=%v", parents), func(t *testing.T) {
			srcDir, tmp := t.TempDir(), t.TempDir()
			mem, spilled := filepath.Join(t.TempDir(), "mem"), filepath.Join(t.TempDir(), "spilled")
			for round, extra := range []string{"", "0.0.0.0 new1.example2.com\n0.0.0.0 new2.example7.com\n"} {
				n := 4000 - 500*round // the second round drops keys too
				block, allow := spillSources(t, srcDir, n, extra)
				cfg := Config{Block: block, Allow: allow, Tolerance: 0.001, Workers: 2, PIR: PIRConfig{Shards: 3},
					Compile: blocklist.Options{AllowRemovesParents: parents, TestIdentity: true}}
				cfg.MemoryBudget = -1
				rm, err := Build(context.Background(), mem, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if rm.Keys == nil || rm.KeyCount != len(rm.Keys) {
					t.Fatalf("in-memory build: %d keys, KeyCount %d", len(rm.Keys), rm.KeyCount)
				}
				cfg.MemoryBudget, cfg.TempDir = 1, tmp
				var lines []string
				cfg.Logf = func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }
				rs, err := Build(context.Background(), spilled, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if rs.Keys != nil || rs.KeyCount != rm.KeyCount {
					t.Fatalf("spilled build: Keys %v, KeyCount %d, want nil and %d", rs.Keys != nil, rs.KeyCount, rm.KeyCount)
				}
				if !strings.Contains(strings.Join(lines, "\n"), "out of memory") {
					t.Errorf("no summary line of the spilled compile in %q", lines)
				}
				if left, _ := os.ReadDir(tmp); len(left) != 0 {
					t.Errorf("spill files left in --temp-dir: %v", left)
				}
				a, b := generationFiles(t, mem), generationFiles(t, spilled)
				if len(a) != len(b) || len(a) < 10 {
					t.Fatalf("%d files in memory, %d spilled", len(a), len(b))
				}
				for name, data := range a {
					if !bytes.Equal(data, b[name]) {
						t.Errorf("round %d: %s differs (%d bytes in memory, %d spilled)", round, name, len(data), len(b[name]))
					}
				}
				if m := rs.Generation.Manifest; round == 1 {
					if m.Added == 0 || m.Removed == 0 {
						t.Errorf("second build: +%d -%d, want keys both added and removed", m.Added, m.Removed)
					}
					// The counts come from the delta merged beside the PIR
					// routing; a plain merge of the two key files agrees.
					gens := filepath.Join(spilled, GenerationsDir)
					added, removed := diffKeys(context.Background(), filepath.Join(gens, m.Previous, KeysFile),
						keySource{path: filepath.Join(gens, m.ID, KeysFile), n: m.Keys})
					if m.Added != added || m.Removed != removed {
						t.Errorf("second build: +%d -%d recorded, the key files differ by +%d -%d", m.Added, m.Removed, added, removed)
					}
				}
			}
		})
	}
}

// TestBuildRemovesStaleSpillDirs checks that a build removes the spill
// directory of a build that died (its lock is free) and keeps one whose
// build is still running (its lock is held), and removes its own.
func TestBuildRemovesStaleSpillDirs(t *testing.T) {
	out := t.TempDir()
	dead, live := filepath.Join(out, spillPrefix+"dead"), filepath.Join(out, spillPrefix+"live")
	for _, d := range []string{dead, live} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "in-0"), []byte("x"), 0o600)
	}
	os.WriteFile(filepath.Join(dead, lockFile), nil, 0o644)
	unlock, err := lock(live)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	cfg := testConfig(writeList(t, t.TempDir(), "a.txt", "a", 50), 1)
	cfg.PIR.Disabled, cfg.MemoryBudget = true, 1
	if _, err := Build(context.Background(), out, cfg); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(out, spillPrefix+"*"))
	if len(left) != 1 || left[0] != live {
		t.Errorf("spill directories after the build: %v, want only %s", left, live)
	}
}
