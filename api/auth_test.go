package api

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/internal/store"
)

func TestPrivateTokenFromHeader(t *testing.T) {
	tok := bytes.Repeat([]byte{0xfb, 0xff}, tokenSize/2)
	raw := base64.RawURLEncoding.EncodeToString(tok)
	padded := base64.URLEncoding.EncodeToString(tok[:10])
	cases := []struct {
		name  string
		value []string
		want  []byte
		ok    bool
	}{
		{"apple form", []string{"PrivateToken token=" + raw}, tok, true},
		{"quoted", []string{`PrivateToken token="` + raw + `"`}, tok, true},
		{"padded", []string{"PrivateToken token=" + padded}, tok[:10], true},
		{"scheme case", []string{"privatetoken token=" + raw}, tok, true},
		{"more params", []string{"PrivateToken challenge=abc, token=" + raw}, tok, true},
		{"second header", []string{"Bearer x", "PrivateToken token=" + raw}, tok, true},
		{"missing", nil, nil, false},
		{"bearer", []string{"Bearer " + raw}, nil, false},
		{"standard base64", []string{"PrivateToken token=+/+/"}, nil, false},
		{"no token param", []string{"PrivateToken challenge=abc"}, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range c.value {
				h.Add("Authorization", v)
			}
			got, ok := privateTokenFromHeader(h)
			if ok != c.ok || !bytes.Equal(got, c.want) {
				t.Errorf("got %x, %v; want %x, %v", got, ok, c.want, c.ok)
			}
		})
	}
}

func TestParsePlatform(t *testing.T) {
	cases := []struct {
		ua       string
		want     *platform
		fixedCfg bool
	}{
		{"com.apple.ciphermld/1.0 iOS/18.2 ...", &platform{major: 18, minor: 2}, true},
		{"com.apple.ciphermld/1.0 iOS/18.1.1 ...", &platform{major: 18, minor: 1}, false},
		{"com.apple.ciphermld/1.2 (Macintosh; OS X 15.2; XXXXX) ...", &platform{macOS: true, major: 15, minor: 2}, true},
		{"com.apple.ciphermld/1.2 (Macintosh; OS X 14.7; XXXXX) ...", &platform{macOS: true, major: 14, minor: 7}, false},
		{"curl/8.0", nil, false},
	}
	for _, c := range cases {
		got := parsePlatform(c.ua)
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("%q: %+v, want %+v", c.ua, got, c.want)
			continue
		}
		if got != nil && got.supportsFixedShardConfig() != c.fixedCfg {
			t.Errorf("%q: supportsFixedShardConfig %v", c.ua, !c.fixedCfg)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for v, want := range map[string]bool{"gzip": true, "br, gzip;q=0.5": true, "GZIP": true, "gzip;q=0": false, "deflate": false, "": false} {
		h := http.Header{}
		if v != "" {
			h.Set("Accept-Encoding", v)
		}
		if got := acceptsGzip(h); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

var time0 = mustTime("2026-01-01T00:00:00Z")

// TestCheckTokenStatus runs the Privacy Pass check of every PIR call on
// real tokens of a real issuer key: each header form gets Apple's status and
// message (pir-spec §8.2 item 1), with the header parsed by the issuer's own
// parser (privacypass.ParseAuthorization).
func TestCheckTokenStatus(t *testing.T) {
	b, err := store.OpenBolt(filepath.Join(t.TempDir(), "spent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	spent, err := b.SpentSet("nonces", 0)
	if err != nil {
		t.Fatal(err)
	}
	tt := newTestTokens(t, spent)
	enc := base64.RawURLEncoding.EncodeToString
	badKey := tt.mint()
	badKey[2+32+32] ^= 1
	badSig := tt.mint()
	badSig[len(badSig)-1] ^= 1
	replayed := tt.mint()
	if _, err := checkToken(t.Context(), tt, http.Header{"Authorization": {privacypass.Authorization(replayed)}}); err != nil {
		t.Fatalf("first redemption: %v", err)
	}
	const noToken = "No private token"
	cases := []struct {
		name   string
		value  []string
		status int    // 0: accepted
		msg    string // prefix of the message
	}{
		{"device form", []string{privacypass.Authorization(tt.mint())}, 0, ""},
		{"quoted and padded", []string{`PrivateToken token="` + base64.URLEncoding.EncodeToString(tt.mint()) + `"`}, 0, ""},
		{"other params", []string{"PrivateToken challenge=abc, token=" + enc(tt.mint())}, 0, ""},
		{"after a bearer header", []string{"Bearer x", privacypass.Authorization(tt.mint())}, 0, ""},
		{"missing", nil, http.StatusUnauthorized, noToken},
		{"other scheme", []string{"Bearer " + enc(tt.mint())}, http.StatusUnauthorized, noToken},
		{"undecodable", []string{"PrivateToken token=+/+/"}, http.StatusUnauthorized, noToken},
		{"empty token", []string{"PrivateToken token="}, http.StatusUnauthorized, noToken},
		{"no token param", []string{"PrivateToken challenge=abc"}, http.StatusUnauthorized, noToken},
		{"repeated token param", []string{"PrivateToken token=" + enc(tt.mint()) + ", token=" + enc(tt.mint())}, http.StatusUnauthorized, noToken},
		{"param without value", []string{"PrivateToken x, token=" + enc(tt.mint())}, http.StatusUnauthorized, noToken},
		{"header over 2 KiB", []string{"PrivateToken pad=" + strings.Repeat("a", 2048) + ", token=" + enc(tt.mint())}, http.StatusUnauthorized, noToken},
		{"wrong size", []string{"PrivateToken token=" + enc(tt.mint()[:300])}, http.StatusBadRequest, "Invalid token size 300, want 354"},
		{"unknown key", []string{privacypass.Authorization(badKey)}, http.StatusUnauthorized, "No token key found with key id: ["},
		{"bad signature", []string{privacypass.Authorization(badSig)}, http.StatusUnauthorized, "Token did not pass verification"},
		{"replayed", []string{privacypass.Authorization(replayed)}, http.StatusUnauthorized, "Token did not pass verification"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range c.value {
				h.Add("Authorization", v)
			}
			tier, err := checkToken(t.Context(), tt, h)
			if c.status == 0 {
				if err != nil || tier != "tier1" {
					t.Fatalf("got %q, %v; want tier1", tier, err)
				}
				return
			}
			var he *httpError
			if !errors.As(err, &he) {
				t.Fatalf("got %q, %v; want status %d", tier, err, c.status)
			}
			if he.status != c.status || !strings.HasPrefix(he.message, c.msg) {
				t.Errorf("got %d %q, want %d %q", he.status, he.message, c.status, c.msg)
			}
		})
	}
}
