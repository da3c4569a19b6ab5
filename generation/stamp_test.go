//go:build linux

package generation

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blindlist/blindlist/pir"
)

// stampedRoot builds a 3-shard generation whose files all carry an old
// mtime, verifies it in full (which writes the stamp), and then moves every
// stamp entry's check time an hour on, as if the files had last changed
// long before they were stamped (what a restart a while after the build
// sees). Any later write, truncation or touch sets a new mtime, so it
// differs from the stamp whatever the file system's clock granularity.
func stampedRoot(t *testing.T) (root, id string) {
	t.Helper()
	src := writeList(t, t.TempDir(), "a.txt", "k", 40)
	root = filepath.Join(t.TempDir(), "db")
	res, err := Build(context.Background(), root, testConfig(src, 3))
	if err != nil {
		t.Fatal(err)
	}
	id = res.Generation.ID()
	old := time.Now().Add(-time.Hour)
	for _, f := range res.Generation.Manifest.Files {
		if err := os.Chtimes(filepath.Join(res.Generation.Dir, f.Name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	g, err := OpenIDFull(root, id)
	if err != nil {
		t.Fatal(err)
	}
	if g.Hashed != totalBytes(g) {
		t.Fatalf("full open hashed %d bytes, the files hold %d", g.Hashed, totalBytes(g))
	}
	editStamp(t, root, id, func(s *stampFile) {
		for i := range s.Files {
			s.Files[i].Checked += int64(time.Hour)
		}
	})
	return root, id
}

func totalBytes(g *Generation) int64 {
	var n int64
	for _, f := range g.Manifest.Files {
		n += f.Bytes
	}
	return n
}

func editStamp(t *testing.T, root, id string, edit func(*stampFile)) {
	t.Helper()
	var s stampFile
	if err := json.Unmarshal(mustRead(t, stampPath(root, id)), &s); err != nil {
		t.Fatal(err)
	}
	edit(&s)
	raw, _ := json.Marshal(s)
	if err := os.WriteFile(stampPath(root, id), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// serveFile returns the path of shard 1's serve-ready file (the one served
// from a memory map).
func serveFile(t *testing.T, root, id string) string {
	t.Helper()
	m, err := ReadManifest(root, id)
	if err != nil {
		t.Fatal(err)
	}
	bin, _ := pir.ShardPaths(filepath.Join(root, GenerationsDir, id), m.Stem, 1)
	return pir.ServePath(bin)
}

func TestStampSkipsHashing(t *testing.T) {
	root, id := stampedRoot(t)
	for i := range 2 { // a restart reads the same stamp again
		g, err := OpenID(root, id)
		if err != nil {
			t.Fatal(err)
		}
		if g.Hashed != 0 {
			t.Fatalf("open %d: hashed %d bytes; every file is stamped", i, g.Hashed)
		}
	}
	g, err := OpenIDFull(root, id)
	if err != nil {
		t.Fatal(err)
	}
	if g.Hashed != totalBytes(g) || g.Hashed == 0 {
		t.Fatalf("OpenIDFull hashed %d of %d bytes", g.Hashed, totalBytes(g))
	}
}

// TestStampFreshNotTrusted: an entry taken within stampMargin of the file's
// last change (a write in the same clock tick would not show) is not
// trusted, so the file is hashed and the entry taken again.
func TestStampFreshNotTrusted(t *testing.T) {
	root, id := stampedRoot(t)
	path := serveFile(t, root, id)
	name := filepath.Base(path)
	editStamp(t, root, id, func(s *stampFile) {
		for i := range s.Files {
			if s.Files[i].Name == name {
				s.Files[i].Checked = s.Files[i].Mtime + int64(time.Second)
			}
		}
	})
	g, err := OpenID(root, id)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if g.Hashed != st.Size() {
		t.Fatalf("hashed %d bytes, want the one racy file's %d", g.Hashed, st.Size())
	}
}

func TestStampCatchesChanges(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(t *testing.T, path string)
		ok     bool // same content: re-verified, not refused
	}{
		{"truncated", func(t *testing.T, p string) {
			st, _ := os.Stat(p)
			if err := os.Truncate(p, st.Size()-1); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"rewritten same size", func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			// One bit of the last residue, in place: same size, same
			// inode, and a mapped read would serve it.
			raw, _ := os.ReadFile(p)
			if _, err := f.WriteAt([]byte{raw[len(raw)-1] ^ 1}, int64(len(raw)-1)); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}, false},
		{"replaced same size", func(t *testing.T, p string) {
			raw, _ := os.ReadFile(p)
			raw[100] ^= 0x80
			if err := os.WriteFile(p+".new", raw, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(p+".new", p); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"touched", func(t *testing.T, p string) {
			now := time.Now()
			if err := os.Chtimes(p, now, now); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"copied back unchanged", func(t *testing.T, p string) {
			raw, _ := os.ReadFile(p)
			if err := os.WriteFile(p+".new", raw, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(p+".new", p); err != nil {
				t.Fatal(err)
			}
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root, id := stampedRoot(t)
			path := serveFile(t, root, id)
			tt.change(t, path)
			g, err := OpenID(root, id)
			if !tt.ok {
				if err == nil || !strings.Contains(err.Error(), filepath.Base(path)) {
					t.Fatalf("OpenID after the change: %v, want it refused naming %s", err, filepath.Base(path))
				}
				if _, err := OpenID(root, id); err == nil {
					t.Fatal("refused once, then trusted")
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenID: %v (content unchanged)", err)
			}
			st, _ := os.Stat(path)
			if g.Hashed != st.Size() {
				t.Fatalf("hashed %d bytes, want the changed file's %d", g.Hashed, st.Size())
			}
		})
	}
}

// TestStampBadStampNeverTrusts: a corrupt stamp, one of another
// generation, or one whose digest is not the manifest's, means a full
// check (and, the files being whole, a good stamp written again).
func TestStampBadStampNeverTrusts(t *testing.T) {
	for _, tt := range []struct {
		name  string
		spoil func(t *testing.T, root, id string)
	}{
		{"garbage", func(t *testing.T, root, id string) {
			os.WriteFile(stampPath(root, id), []byte("{not json"), 0o644)
		}},
		{"other generation", func(t *testing.T, root, id string) {
			editStamp(t, root, id, func(s *stampFile) { s.Generation = "999999" })
		}},
		{"other format", func(t *testing.T, root, id string) {
			editStamp(t, root, id, func(s *stampFile) { s.Format++ })
		}},
		{"other digest", func(t *testing.T, root, id string) {
			editStamp(t, root, id, func(s *stampFile) {
				for i := range s.Files {
					s.Files[i].SHA256 = strings.Repeat("0", 64)
				}
			})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root, id := stampedRoot(t)
			tt.spoil(t, root, id)
			g, err := OpenID(root, id)
			if err != nil {
				t.Fatal(err)
			}
			if g.Hashed != totalBytes(g) {
				t.Fatalf("hashed %d of %d bytes under a bad stamp", g.Hashed, totalBytes(g))
			}
			if s := readStamp(root, id); len(s) != len(g.Manifest.Files) {
				t.Fatalf("stamp rewritten with %d entries, want %d", len(s), len(g.Manifest.Files))
			}
		})
	}
	// A digest in the stamp that is not the manifest's never vouches for a
	// file, even one whose identity matches: a corrupt file stays refused.
	root, id := stampedRoot(t)
	path := serveFile(t, root, id)
	raw, _ := os.ReadFile(path)
	raw[len(raw)-1] ^= 1
	os.WriteFile(path, raw, 0o644)
	if _, err := OpenID(root, id); err == nil {
		t.Fatal("a corrupt file was trusted")
	}
}

// TestStampWrittenByBuild: a build stamps the files it wrote, outside the
// generation directory (which holds only listed files), and pruning a
// generation removes its stamp.
func TestStampWrittenByBuild(t *testing.T) {
	src := writeList(t, t.TempDir(), "a.txt", "k", 40)
	root := filepath.Join(t.TempDir(), "db")
	c := testConfig(src, 2)
	c.Keep = 1
	res, err := Build(context.Background(), root, c)
	if err != nil {
		t.Fatal(err)
	}
	first := res.Generation.ID()
	s := readStamp(root, first)
	for _, f := range res.Generation.Manifest.Files {
		if e, ok := s[f.Name]; !ok || e.SHA256 != f.SHA256 || e.Bytes != f.Bytes {
			t.Fatalf("stamp of %s: %+v, manifest %+v", f.Name, e, f)
		}
	}
	if _, err := OpenID(root, first); err != nil {
		t.Fatal(err)
	}
	c.Block[0] = writeList(t, t.TempDir(), "b.txt", "n", 40)
	res, err = Build(context.Background(), root, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stampPath(root, first)); !os.IsNotExist(err) {
		t.Fatalf("stamp of pruned generation %s: %v", first, err)
	}
	if _, err := os.Stat(stampPath(root, res.Generation.ID())); err != nil {
		t.Fatal(err)
	}
}

// TestUpdateTrustsPreviousStamp: an in-place shard update reads the
// previous generation's shard files without hashing them again when their
// verification stamp holds, and hashes them when it does not (here: a
// chmod, which changes ctime, on every previous file).
func TestUpdateTrustsPreviousStamp(t *testing.T) {
	for _, tc := range []struct {
		name  string
		touch bool
		want  string
	}{
		// 3 shards × (.bin, .serve, params): the updated one and the two
		// kept ones are all checked before reuse.
		{"stamped", false, "9 trusted by their verification stamp, 0 bytes hashed"},
		{"touched", true, "0 trusted by their verification stamp, "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, id := stampedRoot(t)
			if tc.touch {
				g, err := OpenIDFull(root, id)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range g.Manifest.Files {
					if err := os.Chmod(filepath.Join(g.Dir, f.Name), 0o640); err != nil {
						t.Fatal(err)
					}
				}
			}
			var logs strings.Builder
			c := testConfig(writeList(t, t.TempDir(), "a.txt", "k", 41), 3) // one key more
			c.Logf = func(format string, args ...any) { fmt.Fprintf(&logs, format+"\n", args...) }
			if _, err := Build(context.Background(), root, c); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), "1 updated in place") || !strings.Contains(logs.String(), tc.want) {
				t.Fatalf("log does not say %q:\n%s", tc.want, logs.String())
			}
			if tc.touch && strings.Contains(logs.String(), ", 0 bytes hashed") {
				t.Fatalf("touched files were not hashed:\n%s", logs.String())
			}
		})
	}
}
