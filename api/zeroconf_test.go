package api

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestZeroConfigShardsDurable processes a keys.txt the way `serve --db`
// does and checks what was fsynced: every shard file and the directory
// before the rename publishes it, then the parent after the rename.
func TestZeroConfigShardsDurable(t *testing.T) {
	db, state := t.TempDir(), filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(filepath.Join(db, "keys.txt"), []byte("# test\nexample.com\nwww.example.org/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var synced []string
	testingOnlySynced = func(p string) { synced = append(synced, p) }
	t.Cleanup(func() { testingOnlySynced = nil })
	fc, err := ZeroConfig(t.Context(), ZeroConfigOptions{DB: db, Usecase: "com.example.app.url.filtering", Listen: "127.0.0.1:0", State: state})
	if err != nil {
		t.Fatal(err)
	}
	dir := fc.Vendors[0].Usecases[0].Directory
	if filepath.Dir(dir) != state || !strings.HasPrefix(filepath.Base(dir), "db-") {
		t.Fatalf("shards in %s, want a db-* directory under %s", dir, state)
	}
	tmp := dir + ".tmp"
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ent := range ents {
		want = append(want, filepath.Join(tmp, ent.Name()))
	}
	if len(want) < 2 {
		t.Fatalf("%s holds %d files, want a .bin and a .params.txtpb", dir, len(want))
	}
	want = append(want, tmp, state)
	slices.Sort(want[:len(want)-2])
	got := slices.Clone(synced)
	if len(got) >= 2 {
		slices.Sort(got[:len(got)-2])
	}
	if !slices.Equal(got, want) {
		t.Errorf("synced\n%q\nwant (files, the directory before its rename, then the parent)\n%q", got, want)
	}
	// A restart reuses the processed directory without processing again.
	synced = nil
	if _, err := ZeroConfig(t.Context(), ZeroConfigOptions{DB: db, Usecase: "com.example.app.url.filtering", Listen: "127.0.0.1:0", State: state}); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(synced, func(p string) bool { return strings.HasPrefix(p, tmp) }) {
		t.Errorf("restart processed the database again: %q", synced)
	}
}
