package generation

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir"
)

// TestUpdateWritesPatches: small changes to a large shard are written as
// patches over a hard link to the first generation's whole serve-ready
// file (no .bin, a few plaintexts written), a second update keeps that
// base, pruning the generation that wrote the base keeps it for the ones
// that use it, and every generation verifies in full and answers real PIR
// queries for its own keys.
func TestUpdateWritesPatches(t *testing.T) {
	ctx := context.Background()
	srcDir := t.TempDir()
	root := filepath.Join(t.TempDir(), "db")
	const base = 20000
	build := func(n int) *Result {
		t.Helper()
		c := testConfig(writeList(t, srcDir, "a.txt", "k", n), 1)
		c.Keep = 2
		res, err := Build(ctx, root, c)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	g1 := build(base)
	serve1 := filepath.Join(g1.Generation.Dir, "url-0.serve")
	st1, err := os.Stat(serve1)
	if err != nil {
		t.Fatal(err)
	}
	// The whole file lives in the base store, named by its content; the
	// generation links to it.
	target, err := os.Readlink(serve1)
	if err != nil || target != filepath.Join("..", "..", BasesDir, g1.PIR.Shards[0].Serve.SHA256+".serve") {
		t.Fatalf("url-0.serve links to %q (%v), want the base store's file named by its SHA-256", target, err)
	}
	baseFile := filepath.Join(root, BasesDir, g1.PIR.Shards[0].Serve.SHA256+".serve")
	id1, ok := pathID(baseFile)
	if !ok {
		t.Fatal("no identity for the base file")
	}
	var prevPatch int64
	for step, n := range []int{base + 5, base + 9} {
		res := build(n)
		s := res.PIR.Shards[0]
		if s.Bin.Name != "" || s.ServeBase.Name != "url-0.base.serve" {
			t.Fatalf("update %d: shard files %+v, want a patch over a base and no .bin", step+1, s)
		}
		dir := res.Generation.Dir
		bst, err := os.Stat(filepath.Join(dir, s.ServeBase.Name))
		if err != nil {
			t.Fatal(err)
		}
		if !os.SameFile(bst, st1) {
			t.Errorf("update %d: the base is not the first generation's serve-ready file (a link)", step+1)
		}
		if s.Serve.Bytes > st1.Size()/8 || s.Serve.Bytes <= prevPatch {
			t.Errorf("update %d: patch of %d bytes over a base of %d (previous patch %d)", step+1, s.Serve.Bytes, st1.Size(), prevPatch)
		}
		prevPatch = s.Serve.Bytes
		if _, err := OpenIDFull(root, res.Generation.ID()); err != nil {
			t.Fatalf("update %d: %v", step+1, err)
		}
		var added, absent []string
		for i := base; i < n; i++ {
			added = append(added, fmt.Sprintf("k%02d.example.com", i))
		}
		absent = append(absent, fmt.Sprintf("k%02d.example.com", n), "absent.example.org")
		lookupGeneration(t, dir, append(added, "k00.example.com", "k19999.example.com"), absent)
	}
	// Keep = 2: the first generation is gone, its file lives on as the
	// current generation's base.
	if _, err := os.Stat(g1.Generation.Dir); !os.IsNotExist(err) {
		t.Fatalf("first generation not pruned: %v", err)
	}
	g, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenIDFull(root, g.ID()); err != nil {
		t.Fatal(err)
	}
	lookupGeneration(t, g.Dir, []string{"k20008.example.com", "k12345.example.com"}, []string{"k20009.example.com"})
	// Linking the base into two more generations and pruning the one that
	// wrote it left the base's identity (so its stamp entries) as it was:
	// a hard link would have set its ctime each time.
	if id, ok := pathID(baseFile); !ok || id != id1 {
		t.Errorf("the base's identity changed from %+v to %+v (%v)", id1, id, ok)
	}

	// A list that is mostly new rewrites the shard whole, with its .bin.
	res := build(base / 2)
	if s := res.PIR.Shards[0]; s.ServeBase.Name != "" || s.Bin.Name == "" {
		t.Errorf("after a large change the shard is %+v, want whole with a .bin", s)
	}
	lookupGeneration(t, res.Generation.Dir, []string{"k9999.example.com"}, []string{"k10000.example.com"})
	// The old base is still linked by the kept generation before; once
	// that one is pruned too, nothing links it and it is removed.
	if _, err := os.Stat(baseFile); err != nil {
		t.Fatalf("a base a kept generation links was removed: %v", err)
	}
	build(base/2 + 1)
	if _, err := os.Stat(baseFile); !os.IsNotExist(err) {
		t.Errorf("a base no generation links is still in the store (%v)", err)
	}
	ents, err := os.ReadDir(filepath.Join(root, BasesDir))
	if err != nil || len(ents) != 1 {
		t.Errorf("base store holds %d files (%v), want one: the whole file of the list's half, which the newest generation patches", len(ents), err)
	}
}

// lookupGeneration serves the shards of the generation in dir in process
// and looks each key up with the Go client, through encrypted queries as a
// device sends them: present keys must be found with value "1", absent
// ones not at all.
func lookupGeneration(t *testing.T, dir string, present, absent []string) {
	t.Helper()
	ctx := context.Background()
	dbs, err := pir.LoadShards(ctx, dir, "url")
	if err != nil {
		t.Fatal(err)
	}
	s, err := pir.NewServer(dbs, pir.ServerOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := pir.ClientConfigFromResponse(s.Config().ConfigResponse("u"), "u")
	if err != nil {
		t.Fatal(err)
	}
	c, err := pir.NewClient(cc, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.EvaluationKey(0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.ParseEvaluationKey(up.GetEvaluationKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range append(present, absent...) {
		v, ok, err := c.Lookup(ctx, s, key, []byte(k), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		want := !slices.Contains(absent, k)
		if ok != want || (ok && !bytes.Equal(v, []byte(PIRValue))) {
			t.Errorf("%s: found %v (%q), want %v", k, ok, v, want)
		}
	}
}
