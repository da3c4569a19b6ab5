package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// TestServesPatchedGeneration loads, as `serve` does (verified generation,
// memory-mapped shards, the previous generation kept for devices that hold
// its configuration), a generation whose shard an in-place update wrote as
// a patch over the previous generation's file, and looks keys up through
// the usecase with encrypted queries: the added key is found in the new
// generation only, an old one in both, an absent one in neither.
func TestServesPatchedGeneration(t *testing.T) {
	root := filepath.Join(t.TempDir(), "db")
	const n = 20000
	g1 := buildGeneration(t, root, "p", n, 1)
	g2 := buildGeneration(t, root, "p", n+3, 1)
	if _, err := os.Stat(filepath.Join(g2.Dir, "url-0.base.serve")); err != nil {
		t.Fatalf("the update did not write a patch: %v", err)
	}
	if g1.Manifest.ConfigID != g2.Manifest.ConfigID {
		t.Fatal("an in-place update changed the config id")
	}
	entries, err := LoadEntriesWithHistory(context.Background(), generationConfig(root, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || len(entries[0].Previous) != 1 {
		t.Fatalf("loaded %d entries, want the current generation and one previous", len(entries))
	}
	added, old, absent := fmt.Sprintf("p%02d.example.com", n+1), "p12345.example.com", fmt.Sprintf("p%02d.example.com", n+3)
	for _, tc := range []struct {
		name  string
		u     Usecase
		found map[string]bool
	}{
		{"patched (current)", entries[0].Usecase, map[string]bool{added: true, old: true, absent: false}},
		{"whole (previous)", entries[0].Previous[0], map[string]bool{added: false, old: true, absent: false}},
	} {
		for kw, want := range tc.found {
			if got := usecaseLookup(t, tc.u, kw); got != want {
				t.Errorf("%s: %s found %v, want %v", tc.name, kw, got, want)
			}
		}
	}
}

// usecaseLookup looks keyword up in u as a device does: a client from the
// usecase's config, an uploaded evaluation key, an encrypted query, the
// usecase's answer, decrypted.
func usecaseLookup(t *testing.T, u Usecase, keyword string) bool {
	t.Helper()
	resp := &apipb.ConfigResponse{Configs: map[string]*apipb.Config{"u": u.Config()}}
	cc, err := pir.ClientConfigFromResponse(resp, "u")
	if err != nil {
		t.Fatal(err)
	}
	c, err := pir.NewClient(cc, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.EvaluationKey(1, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := u.ParseKey(up.GetEvaluationKey())
	if err != nil {
		t.Fatal(err)
	}
	q, req, err := c.NewQuery([]byte(keyword), nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := u.Answer(context.Background(), key, req)
	if err != nil {
		t.Fatal(err)
	}
	v, ok, err := c.Decrypt(q, ans)
	if err != nil {
		t.Fatal(err)
	}
	if ok && !bytes.Equal(v, []byte("1")) {
		t.Fatalf("%s: value %q", keyword, v)
	}
	return ok
}
