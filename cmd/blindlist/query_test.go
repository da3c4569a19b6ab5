package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/e2e"
	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/ohttp"
)

const queryTestToken = "cXVlcnkgdGVzdCB1c2VyIHRva2Vu"

// startQueryStack serves the demo list on loopback: one replica, an OHTTP
// gateway and a relay.
func startQueryStack(t *testing.T) (*e2e.Stack, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := e2e.BuildDemo(ctx, filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.OpenBolt(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	key, err := privacypass.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := privacypass.NewKeyring([]privacypass.KeySpec{{Key: key, Tier: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e2e.StartStack(ctx, e2e.StackConfig{
		DB: db, Usecase: "com.example.app.url.filtering", Keyring: ring,
		UserTokens: map[string]string{queryTestToken: "t"},
		NewStores: func(int) (store.KV, store.SpentSet, error) {
			kv, err := b.KV("k", store.Limits{TTL: time.Hour, MaxKeyBytes: 128, MaxValueBytes: 4 << 20})
			if err != nil {
				return nil, nil, err
			}
			sp, err := b.SpentSet("s", time.Hour)
			return kv, sp, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	tokFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokFile, []byte("# user token\n"+queryTestToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s, tokFile
}

func TestQuery(t *testing.T) {
	s, tokFile := startQueryStack(t)
	base := []string{"query", "--service", s.BalancerURL, "--usecase", "com.example.app.url.filtering", "--token-file", tokFile}
	urls := []string{"https://www.apple.com/url-filter-test", "https://tracker.example.net/p", "https://www.apple.com/"}
	want := []string{"deny", "deny", "allow"}

	tests := []struct {
		name string
		args []string
	}{
		{"direct", nil},
		{"gateway", []string{"--gateway", s.GatewayURL}},
		{"relay", []string{"--gateway", s.GatewayURL, "--relay", s.RelayURL}},
		{"no prefilter", []string{"--gateway", s.GatewayURL, "--relay", s.RelayURL}},
		// The names a device uses, which resolve only inside the stack: the
		// directory comes from --directory, everything else via the relay.
		{"host names", []string{"--service", "https://" + e2e.ServiceHost, "--issuer", "https://" + e2e.IssuerHost,
			"--directory", s.BalancerURL, "--gateway", s.GatewayURL, "--relay", s.RelayURL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append(append([]string{}, base...), tt.args...), "--json")
			if tt.name != "no prefilter" {
				args = append(args, "--prefilter", filepath.Join(filepath.Dir(tokFile), "db"))
			}
			code, out, errs := runCLI(t, "", append(args, urls...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != len(urls) {
				t.Fatalf("got %d lines, want %d: %s", len(lines), len(urls), out)
			}
			for i, l := range lines {
				var v verdictJSON
				if err := json.Unmarshal([]byte(l), &v); err != nil {
					t.Fatal(err)
				}
				if v.URL != urls[i] || v.Verdict != want[i] {
					t.Errorf("%s: verdict %q, want %q (%s)", urls[i], v.Verdict, want[i], l)
				}
				if tt.name == "no prefilter" && len(v.Candidates) != v.SubURLs {
					t.Errorf("%s: without prefilter %d of %d sub-URLs looked up", urls[i], len(v.Candidates), v.SubURLs)
				}
			}
		})
	}

	t.Run("text", func(t *testing.T) {
		code, out, errs := runCLI(t, "", append(base, "https://www.apple.com/url-filter-test")...)
		if code != 0 || !strings.HasPrefix(out, "https://www.apple.com/url-filter-test: deny (matched apple.com/url-filter-test)\n") ||
			!strings.Contains(out, "query ") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
		}
	})
}

func TestQueryErrors(t *testing.T) {
	s, tokFile := startQueryStack(t)
	bad := filepath.Join(t.TempDir(), "bad-token")
	if err := os.WriteFile(bad, []byte("bm90IGEgdG9rZW4=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("# nothing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"help", []string{"-h"}, 0, ""},
		{"bad flag", []string{"--nope", "u"}, 2, "blindlist: error: query: unknown flag --nope (see 'blindlist query -h')"},
		{"no url", []string{"--service", "x"}, 2, "blindlist: error: query: no URL given"},
		{"no service", []string{"--usecase", "u", "--token-file", tokFile, "https://a.example/"}, 2, "blindlist: error: query: no service"},
		{"no usecase", []string{"--service", s.BalancerURL, "--token-file", tokFile, "https://a.example/"}, 2, "no usecase"},
		{"no token", []string{"--service", s.BalancerURL, "--usecase", "u", "https://a.example/"}, 2, "no user token"},
		{"relay without gateway", []string{"--service", s.BalancerURL, "--usecase", "u", "--token-file", tokFile, "--relay", s.RelayURL, "https://a.example/"}, 2, "--relay needs --gateway"},
		{"empty token file", []string{"--service", s.BalancerURL, "--usecase", "u", "--token-file", empty, "https://a.example/"}, 1, "no user token in"},
		{"missing prefilter", []string{"--service", s.BalancerURL, "--usecase", "u", "--token-file", tokFile, "--prefilter", t.TempDir(), "https://a.example/"}, 1, "reading the prefilter"},
		{"unknown user token", []string{"--service", s.BalancerURL, "--usecase", "com.example.app.url.filtering", "--token-file", bad, "https://www.apple.com/url-filter-test"}, 1, "blindlist: hint: check the user token"},
		{"unknown usecase", []string{"--service", s.BalancerURL, "--usecase", "com.other.app.url.filtering", "--token-file", tokFile, "https://www.apple.com/url-filter-test"}, 1, "status 404"},
		{"bad url", []string{"--service", s.BalancerURL, "--usecase", "u", "--token-file", tokFile, "::not a url"}, 1, "blindlist: error: ::not a url"},
		{"gateway down", []string{"--service", s.BalancerURL, "--usecase", "u", "--token-file", tokFile, "--gateway", "http://127.0.0.1:1", "https://a.example/"}, 1, "gateway key configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", append([]string{"query"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errs, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tt.code, tt.stderr)
			}
			if tt.name == "help" && !strings.HasPrefix(out, "Usage: blindlist query") {
				t.Errorf("help: stdout %q", out)
			}
		})
	}
}

func TestDemo(t *testing.T) {
	out := t.TempDir()
	code, stdout, errs := runCLI(t, "", "demo", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for i, u := range demoURLs {
		want := "deny"
		if i >= 4 {
			want = "allow"
		}
		if !strings.Contains(stdout, u+": "+want+" ") {
			t.Errorf("demo output lacks %q: %s", u+": "+want, stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(cur(t, filepath.Join(out, "db")), "url-0.bin")); err != nil {
		t.Errorf("--out: %v", err)
	}

	code, stdout, _ = runCLI(t, "", "demo", "--json", "https://tracker.example.net/")
	var v verdictJSON
	if code != 0 || json.Unmarshal([]byte(stdout), &v) != nil || v.Verdict != "deny" {
		t.Errorf("demo --json URL: exit %d, %q", code, stdout)
	}
	if code, stdout, _ := runCLI(t, "", "demo", "-h"); code != 0 || !strings.HasPrefix(stdout, "Usage: blindlist demo") {
		t.Errorf("demo -h: exit %d, %q", code, stdout)
	}
	if code, _, errs := runCLI(t, "", "demo", "--bogus"); code != 2 || !strings.Contains(errs, "demo: unknown flag --bogus") {
		t.Errorf("demo --bogus: exit %d, %q", code, errs)
	}
}

// TestQueryStaleKeyConfig: when the gateway behind the relay does not know
// the key configuration read from --gateway, the error says the key
// configuration is probably stale and a hint says what to do, whether the
// gateway answers as ours does (400 with the RFC 9458 "ohttp-key" problem)
// or as ohttp-go based gateways do (401 without a problem document).
func TestQueryStaleKeyConfig(t *testing.T) {
	s, tokFile := startQueryStack(t)
	// A real gateway of ours with another key id: the relay's actual gateway.
	other, err := ohttp.DeriveKeySet(bytes.Repeat([]byte{9}, ohttp.SeedSize), []uint8{200}, nil, ohttp.DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	gw, err := ohttp.New(ohttp.Config{Keys: other, Targets: map[string]http.Handler{"x.example": http.NotFoundHandler()}})
	if err != nil {
		t.Fatal(err)
	}
	ours := httptest.NewServer(gw.Handler())
	defer ours.Close()
	// An ohttp-go based gateway's answer to an unknown key id.
	ohttpGo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
	}))
	defer ohttpGo.Close()
	for name, relay := range map[string]string{"400 ohttp-key": ours.URL + ohttp.GatewayPath, "401": ohttpGo.URL} {
		t.Run(name, func(t *testing.T) {
			code, _, errs := runCLI(t, "", "query", "--service", s.BalancerURL, "--usecase", "com.example.app.url.filtering",
				"--token-file", tokFile, "--gateway", s.GatewayURL, "--relay", relay, "https://tracker.example.net/p")
			if code != 1 || !strings.Contains(errs, "key configuration, which is probably stale") ||
				!strings.Contains(errs, "blindlist: hint: the gateway's key configuration changed") {
				t.Errorf("exit %d, stderr %q", code, errs)
			}
		})
	}
}
