package pir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/internal/testvec"
)

var vectorSets = []string{"A", "B", "D", "E", "F", "bench100k"}

// TestLoadAppleShards loads every shard Apple's PIRProcessDatabase wrote and
// writes it back byte for byte: the .bin and the .params.txtpb (whose bytes
// must not depend on the build of blindlist either).
func TestLoadAppleShards(t *testing.T) {
	for _, set := range vectorSets {
		t.Run(set, func(t *testing.T) {
			dir := testvec.Path(t, "pir", set)
			dbs, err := LoadShards(context.Background(), dir, "url")
			if err != nil {
				t.Fatal(err)
			}
			for i, db := range dbs {
				_, params := ShardPaths(dir, "url", i)
				b, err := marshalParams(db.Params(), true)
				if err != nil {
					t.Fatal(err)
				}
				want, err := os.ReadFile(params)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, want) {
					t.Errorf("shard %d: written .params.txtpb differs from Apple's:\n%s", i, b)
				}
				if testing.Short() && set == "bench100k" {
					continue // the .bin round trip is the slow part
				}
				bin, _ := ShardPaths(dir, "url", i)
				want, err = os.ReadFile(bin)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if _, err := db.WriteTo(&buf); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("shard %d: rewritten .bin differs from Apple's", i)
				}
			}
		})
	}
}

func TestReadDatabaseBadInput(t *testing.T) {
	dir := testvec.Path(t, "pir", "A")
	bin, params := ShardPaths(dir, "url", 0)
	p, err := ReadParamsFile(params)
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte(nil), good...), 0),
		"version":   append([]byte{2}, good[1:]...),
		"count":     append([]byte{1, 9, 0, 0, 0}, good[5:]...),
		"tag":       append(append([]byte(nil), good[:5]...), append([]byte{7}, good[6:]...)...),
	}
	// a residue equal to its modulus: first 27 bits all ones ≥ q0.
	over := append([]byte(nil), good...)
	first := 5
	for first < len(over) && over[first] == 0 {
		first++
	}
	copy(over[first+1:], []byte{0xff, 0xff, 0xff, 0xff})
	bad["residue"] = over
	for name, b := range bad {
		if _, err := ReadDatabase(bytes.NewReader(b), p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzReadDatabase(f *testing.F) {
	dir := testvec.Path(f, "pir", "D")
	bin, params := ShardPaths(dir, "url", 0)
	p, err := ReadParamsFile(params)
	if err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(bin)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[:100])
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		db, err := ReadDatabase(bytes.NewReader(b), p)
		if err != nil {
			return
		}
		var out bytes.Buffer
		db.WriteTo(&out)
		if !bytes.Equal(out.Bytes(), b) {
			t.Fatal("decode then encode changed the bytes")
		}
	})
}

// TestWriteShardFilesDurable checks that each shard file is fsynced under
// its temporary name before the rename and its directory after it, that
// the files are readable by a server running as another user (0644), and
// that no temporary file is left behind.
func TestWriteShardFilesDurable(t *testing.T) {
	dbs, err := ProcessKeywords(context.Background(), testRows(20, func(int) int { return 1 }),
		ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin, params := ShardPaths(dir, "url", 0)
	var events []string
	testingOnlySynced = func(path string) {
		switch {
		case path == dir:
			_, berr := os.Stat(bin)
			events = append(events, fmt.Sprintf("dir bin-exists=%v", berr == nil))
		case strings.HasPrefix(filepath.Base(path), ".url-0.bin.tmp"):
			_, berr := os.Stat(bin)
			events = append(events, fmt.Sprintf("bin-tmp bin-exists=%v", berr == nil))
		case strings.HasPrefix(filepath.Base(path), ".url-0.params.txtpb.tmp"):
			events = append(events, "params-tmp")
		default:
			events = append(events, "other "+path)
		}
	}
	defer func() { testingOnlySynced = nil }()
	if err := WriteShard(dir, "url", 0, dbs[0]); err != nil {
		t.Fatal(err)
	}
	want := []string{"bin-tmp bin-exists=false", "dir bin-exists=true", "params-tmp", "dir bin-exists=true"}
	if !slices.Equal(events, want) {
		t.Errorf("fsync order %q, want %q", events, want)
	}
	for _, path := range []string{bin, params} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", filepath.Base(path), fi.Mode().Perm())
		}
	}
	if _, err := LoadDatabase(bin, params); err != nil {
		t.Errorf("written shard does not load: %v", err)
	}
	assertOnlyFiles(t, dir, "url-0.bin", "url-0.params.txtpb")
}

// TestWriteFileAtomicFailure checks that a failed write keeps the old file
// and removes its temporary file.
func TestWriteFileAtomicFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "url-0.bin")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	err := writeFileAtomic(path, func(w io.Writer) error {
		w.Write([]byte("half a shard"))
		return boom
	})
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "pir: ") {
		t.Fatalf("err %v, want a pir: error wrapping the write error", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("file holds %q after a failed write, want the old content", b)
	}
	assertOnlyFiles(t, dir, "url-0.bin")
}

func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, names) {
		t.Errorf("directory holds %q, want %q", got, names)
	}
}

// failAfter returns r's bytes, then err instead of io.EOF.
type failAfter struct {
	r   io.Reader
	err error
}

func (f *failAfter) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		err = f.err
	}
	return n, err
}

// TestReadDatabaseReadError checks that a read error after the last
// plaintext is reported as such, not as trailing bytes.
func TestReadDatabaseReadError(t *testing.T) {
	bin, params := ShardPaths(testvec.Path(t, "pir", "A"), "url", 0)
	p, err := ReadParamsFile(params)
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("input/output error")
	if _, err := ReadDatabase(&failAfter{bytes.NewReader(good), boom}, p); !errors.Is(err, boom) {
		t.Errorf("err %v, want the read error", err)
	}
}
