package e2e

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
)

// TestDeviceThroughRelay plays a device against the whole system on
// loopback: sub-URLs, prefilter, Privacy Pass issuance, /config, /key and
// /queries, all through relay → gateway → service, then decryption.
func TestDeviceThroughRelay(t *testing.T) {
	db := demoDB(t)
	s := startStack(t, StackConfig{DB: db, NewStores: boltStores(t)})
	dev := s.Device(testUserToken)
	ctx := context.Background()

	tests := []struct {
		url     string
		blocked bool
		match   string // a key that must be among the matches
	}{
		{"https://www.apple.com/url-filter-test", true, "apple.com/url-filter-test"},
		{"https://ads.example.com/banner.js", true, "ads.example.com"},
		{"https://cdn.ads.example.com/x/y?z=1", true, "ads.example.com"},
		{"https://www.example.net/malware/dropper", true, "example.net/malware"},
		{"https://www.apple.com/", false, ""},
		{"https://example.org/index.html", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			v, err := dev.Check(ctx, tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if v.Blocked != tt.blocked {
				t.Fatalf("blocked = %v, want %v (candidates %q, matched %q)", v.Blocked, tt.blocked, v.Candidates, v.Matched)
			}
			if tt.match != "" && !slices.Contains(v.Matched, tt.match) {
				t.Errorf("matched %q, want %q among them", v.Matched, tt.match)
			}
			for _, m := range v.Matched {
				if !slices.Contains(db.Keys, m) {
					t.Errorf("matched %q, which is not a key of the list", m)
				}
			}
		})
	}

	// Without a prefilter every sub-URL goes to PIR: an absent key must
	// come back absent from the encrypted lookup itself.
	noFilter := s.Device(testUserToken)
	noFilter.Prefilter = nil
	v, err := noFilter.Check(ctx, "https://www.apple.com/some/page")
	if err != nil {
		t.Fatal(err)
	}
	if v.Blocked || len(v.Candidates) != v.SubURLs {
		t.Errorf("without prefilter: blocked %v, %d candidates of %d sub-URLs; want allowed and all looked up", v.Blocked, len(v.Candidates), v.SubURLs)
	}
	if v.Sizes.QueryBytes == 0 || v.Sizes.ResponseBytes == 0 || v.Sizes.KeyBytes == 0 {
		t.Errorf("sizes not recorded: %+v", v.Sizes)
	}
}

// TestDeviceRejected checks the failures a device meets: a bad user token
// gets no Privacy Pass token, and a request without a token is refused.
func TestDeviceRejected(t *testing.T) {
	s := startStack(t, StackConfig{DB: demoDB(t), NewStores: boltStores(t)})
	ctx := context.Background()

	bad := s.Device("bm90IGEgdXNlciB0b2tlbg==")
	_, err := bad.Check(ctx, "https://www.apple.com/url-filter-test")
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized || se.Call != "GET /token-key-for-user-token" {
		t.Errorf("unknown user token: %v, want 401 from /token-key-for-user-token", err)
	}

	noTok := s.Device("")
	noTok.NoTokens = true
	_, err = noTok.Check(ctx, "https://www.apple.com/url-filter-test")
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized || se.Call != "POST /config" {
		t.Errorf("no token: %v, want 401 from /config", err)
	}
}
