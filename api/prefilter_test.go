package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/generation"
)

// buildKeys publishes a generation of exactly these domains into root.
func buildKeys(t *testing.T, root string, domains ...string) *generation.Generation {
	t.Helper()
	list := filepath.Join(t.TempDir(), "list.txt")
	if err := os.WriteFile(list, []byte(strings.Join(domains, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := blocklist.ParseSource("domains:" + list)
	if err != nil {
		t.Fatal(err)
	}
	res, err := generation.Build(context.Background(), root, generation.Config{
		Block: []blocklist.Source{src}, Tolerance: 0.001, Workers: 1, PIR: generation.PIRConfig{Shards: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Generation
}

// servedList is what the replicas serve, set by the test.
type servedList struct {
	mu  sync.Mutex
	ids []string
}

func (s *servedList) set(ids ...string) { s.mu.Lock(); s.ids = ids; s.mu.Unlock() }
func (s *servedList) get(context.Context, string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids, nil
}

func getWith(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// The transport must not decompress behind our back.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestPrefilterEndpoint checks the metadata, ETag and 304, the bits (raw
// and gzip, hashing to the tag), older generations' bits, the order rule
// across replicas, and the bearer token.
func TestPrefilterEndpoint(t *testing.T) {
	const usecase = "com.example.app.url.filtering"
	root := filepath.Join(t.TempDir(), "db")
	g1 := buildKeys(t, root, "a.example.com", "b.example.com", "c.example.com")
	g2 := buildKeys(t, root, "a.example.com", "b.example.com", "c.example.com", "added.example.com")
	served := &servedList{}
	p, err := NewPrefilters(PrefilterConfig{CacheControl: "public, max-age=60"}, served.get, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Configure(PrefilterConfig{CacheControl: "public, max-age=60"}, map[string]string{usecase: root}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	meta := func() (PrefilterMetadata, *http.Response) {
		t.Helper()
		resp, body := getWith(t, srv.URL+"/prefilter/"+usecase)
		var m PrefilterMetadata
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatalf("metadata %s: %v", body, err)
			}
		}
		return m, resp
	}

	// Order across replicas (client-spec §7): one replica still on g1
	// holds back g2 (it adds a key).
	type order struct {
		served []string
		want   string
	}
	for _, tt := range []order{
		{[]string{g1.ID()}, g1.ID()},
		{[]string{g2.ID(), g1.ID()}, g1.ID()},
		{[]string{g1.ID(), g2.ID()}, g1.ID()},
		{[]string{g2.ID()}, g2.ID()},
	} {
		served.set(tt.served...)
		if m, resp := meta(); resp.StatusCode != http.StatusOK || m.Generation != tt.want {
			t.Errorf("replicas serving %v: status %d, generation %q; want %s", tt.served, resp.StatusCode, m.Generation, tt.want)
		}
	}
	// g3 only removes keys: it needs no wait, even for a replica on g1.
	g3 := buildKeys(t, root, "a.example.com", "b.example.com")
	for _, tt := range []order{
		{[]string{g1.ID()}, g3.ID()},
		{[]string{g2.ID(), g1.ID()}, g3.ID()},
	} {
		served.set(tt.served...)
		if m, resp := meta(); resp.StatusCode != http.StatusOK || m.Generation != tt.want {
			t.Errorf("replicas serving %v: status %d, generation %q; want %s", tt.served, resp.StatusCode, m.Generation, tt.want)
		}
	}
	served.set()
	if _, resp := meta(); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("no replica serving: status %d, want 503", resp.StatusCode)
	}

	served.set(g2.ID())
	m, resp := meta()
	bits, err := os.ReadFile(filepath.Join(g3.Dir, "prefilter.bin"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bits)
	pm := g3.Manifest.Prefilter
	want := PrefilterMetadata{Tag: hex.EncodeToString(sum[:]), BitCount: pm.BitCount, HashCount: pm.HashCount, MurmurSeed: pm.MurmurSeed,
		KeyCount: 2, Generation: g3.ID(), Created: g3.Manifest.Created, BitsURL: "/prefilter/" + usecase + "/" + hex.EncodeToString(sum[:]) + ".bin"}
	if m != want {
		t.Errorf("metadata\n%+v\nwant\n%+v", m, want)
	}
	if resp.Header.Get("ETag") != `"`+want.Tag+`"` || resp.Header.Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("headers %v", resp.Header)
	}
	for _, inm := range []string{`"` + want.Tag + `"`, `W/"` + want.Tag + `"`, `"x", "` + want.Tag + `"`, "*"} {
		if resp, body := getWith(t, srv.URL+"/prefilter/"+usecase, "If-None-Match", inm); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("If-None-Match %s: %d", inm, resp.StatusCode)
		}
	}
	if resp, _ := getWith(t, srv.URL+"/prefilter/"+usecase, "If-None-Match", `"`+g1.Manifest.Prefilter.Tag+`"`); resp.StatusCode != http.StatusOK {
		t.Errorf("stale If-None-Match: %d", resp.StatusCode)
	}

	// The bits: raw, gzip, and an older kept generation's.
	resp, body := getWith(t, srv.URL+m.BitsURL)
	if got := sha256.Sum256(body); resp.StatusCode != 200 || hex.EncodeToString(got[:]) != m.Tag ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("bits: %d, %d bytes, headers %v", resp.StatusCode, len(body), resp.Header)
	}
	resp, body = getWith(t, srv.URL+m.BitsURL, "Accept-Encoding", "br, gzip")
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip bits: %v %v", err, resp.Header)
	}
	if plain, _ := io.ReadAll(zr); !bytes.Equal(plain, bits) {
		t.Error("gzip bits differ")
	}
	old := "/prefilter/" + usecase + "/" + g1.Manifest.Prefilter.Tag + ".bin"
	if resp, body := getWith(t, srv.URL+old); resp.StatusCode != 200 || len(body) != g1.Manifest.Prefilter.ByteCount {
		t.Errorf("older generation's bits: %d, %d bytes", resp.StatusCode, len(body))
	}
	for _, path := range []string{
		"/prefilter/" + usecase + "/" + strings.Repeat("0", 64) + ".bin",
		"/prefilter/" + usecase + "/" + m.Tag,
		"/prefilter/" + usecase + "/" + strings.ToUpper(m.Tag) + ".bin",
		"/prefilter/other.url.filtering",
	} {
		if resp, _ := getWith(t, srv.URL+path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}

	// A bearer token, when configured, guards both routes.
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte("s3cret\n"), 0o600)
	if err := p.Configure(PrefilterConfig{BearerTokenFile: tokFile}, nil); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/prefilter/" + usecase, m.BitsURL} {
		if resp, _ := getWith(t, srv.URL+path); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without token: %d", path, resp.StatusCode)
		}
		if resp, _ := getWith(t, srv.URL+path, "Authorization", "Bearer wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d", path, resp.StatusCode)
		}
		if resp, _ := getWith(t, srv.URL+path, "Authorization", "Bearer s3cret"); resp.StatusCode != http.StatusOK {
			t.Errorf("%s with the token: %d", path, resp.StatusCode)
		}
	}
}
