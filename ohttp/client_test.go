package ohttp

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/ohttp/bhttp"
)

// captureRelay is a relay transport that records the encapsulated request
// and answers with a fixed status, so a test sees exactly what a Client
// sends.
type captureRelay struct {
	body []byte
}

func (c *captureRelay) RoundTrip(req *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	c.body = b
	return &http.Response{StatusCode: http.StatusServiceUnavailable, Body: io.NopCloser(strings.NewReader("")),
		Header: http.Header{}, Request: req}, nil
}

// TestClientFraming: by default the client sends known-length binary HTTP
// (framing indicator 0, RFC 9292 §3.1), which ohttp-go based gateways
// require; IndeterminateLength selects framing 2, as Apple's devices send.
func TestClientFraming(t *testing.T) {
	ks, err := DeriveKeySet(testSeed(5), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		indeterminate bool
		framing       byte
	}{
		{"default", false, 0},
		{"indeterminate", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			relay := &captureRelay{}
			c := &http.Client{Transport: &Client{RelayURL: "http://relay.invalid/", KeyConfig: ks.Configs()[0],
				Transport: relay, IndeterminateLength: tc.indeterminate}}
			_, err := c.Post("https://service.example.net/queries", "application/octet-stream", strings.NewReader("query"))
			var se *StatusError
			if !errors.As(err, &se) || se.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("want the relay's 503, got %v", err)
			}
			plain, _, err := ks.DecapsulateRequest(relay.body)
			if err != nil {
				t.Fatal(err)
			}
			if plain[0] != tc.framing {
				t.Fatalf("framing indicator %d, want %d", plain[0], tc.framing)
			}
			br, err := bhttp.ParseRequest(plain)
			if err != nil || br.Indeterminate != tc.indeterminate || string(br.Content) != "query" {
				t.Fatalf("request %+v, %v", br, err)
			}
		})
	}
}

// TestClientStaleKeyConfig: a gateway that does not know the key id answers
// 401 without a problem document (ohttp-go based gateways) or 400 with the
// "ohttp-key" problem (RFC 9458 §5.3, ours); both surface as a stale key
// configuration, an ErrKeyConfig. Other statuses do not.
func TestClientStaleKeyConfig(t *testing.T) {
	ks, err := DeriveKeySet(testSeed(5), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		status      int
		contentType string
		body        string
		stale       bool
	}{
		{"401 without a problem (ohttp-go)", 401, "text/plain; charset=utf-8", "Unauthorized\n", true},
		{"400 ohttp-key problem (RFC 9458)", 400, "application/problem+json", problemKeyConfig, true},
		{"400 without a problem", 400, "text/plain", "bad request", false},
		{"401 with another problem", 401, "application/problem+json", `{"type":"https://example.net/other"}`, false},
		{"502", 502, "text/plain", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer gw.Close()
			c := &http.Client{Transport: &Client{RelayURL: gw.URL, KeyConfig: ks.Configs()[0]}}
			_, err := c.Get("https://service.example.net/config")
			var se *StatusError
			if !errors.As(err, &se) || se.StatusCode != tc.status {
				t.Fatalf("want a StatusError %d, got %v", tc.status, err)
			}
			if se.StaleKeyConfig() != tc.stale || errors.Is(err, ErrKeyConfig) != tc.stale ||
				strings.Contains(err.Error(), "probably stale") != tc.stale {
				t.Errorf("stale=%v: StaleKeyConfig %v, errors.Is(ErrKeyConfig) %v, message %q",
					tc.stale, se.StaleKeyConfig(), errors.Is(err, ErrKeyConfig), err)
			}
		})
	}
}
