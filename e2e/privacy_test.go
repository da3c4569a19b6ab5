package e2e

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/blindlist/blindlist/ohttp"
)

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of servers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// relayTap records the size of every request and response body the relay
// carries: what Apple's relay sees of a device's traffic.
type relayTap struct {
	mu        sync.Mutex
	req, resp []int
}

func (tap *relayTap) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	tap.mu.Lock()
	tap.req, tap.resp = append(tap.req, len(body)), append(tap.resp, len(rb))
	tap.mu.Unlock()
	return resp, nil
}

func (tap *relayTap) reset() (req, resp []int) {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	req, resp, tap.req, tap.resp = tap.req, tap.resp, nil, nil
	return req, resp
}

// TestPrivacy checks what observers learn. The relay must see the same
// sizes for a lookup of a listed URL and of an unlisted one of the same
// shape (the answer's size depends only on public parameters), and no
// server log line may carry the user token, the User-Identifier or the
// visited URL.
func TestPrivacy(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := startStack(t, StackConfig{DB: demoDB(t), NewStores: boltStores(t), Logger: logger})
	tap := &relayTap{}
	dev := s.Device(testUserToken)
	dev.Client.Transport = &ohttp.Client{RelayURL: s.RelayURL, KeyConfig: s.KeyConfig, Transport: tap}
	dev.Prefilter = nil // look every sub-URL up, so both URLs send the same number of queries
	dev.UserID = "user-identifier-3f9a7c"
	dev.TokenBatch = 10
	ctx := context.Background()

	// Warm up: tokens, /config, /key.
	if _, err := dev.Check(ctx, "https://warmup.example.org/"); err != nil {
		t.Fatal(err)
	}
	tap.reset()
	sizes := map[string][2][]int{}
	for _, tc := range []struct {
		url     string
		blocked bool
	}{
		{"https://tracker.example.net/a", true},
		{"https://tracker.example.org/a", false},
	} {
		v, err := dev.Check(ctx, tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if v.Blocked != tc.blocked {
			t.Fatalf("%s: blocked %v, want %v", tc.url, v.Blocked, tc.blocked)
		}
		req, resp := tap.reset()
		if len(req) != 1 {
			t.Fatalf("%s: relay carried %d requests, want 1 (/queries)", tc.url, len(req))
		}
		sizes[tc.url] = [2][]int{req, resp}
	}
	a, b := sizes["https://tracker.example.net/a"], sizes["https://tracker.example.org/a"]
	if a[0][0] != b[0][0] || a[1][0] != b[1][0] {
		t.Errorf("relay sizes differ: listed URL %d up / %d down, unlisted %d up / %d down", a[0][0], a[1][0], b[0][0], b[1][0])
	}

	out := logs.String()
	if strings.Count(out, "\n") < 3 {
		t.Fatalf("expected server log lines to inspect, got %q", out)
	}
	for _, secret := range []string{testUserToken, dev.UserID, "tracker.example", "warmup.example", "127.0.0.1:"} {
		if strings.Contains(out, secret) {
			t.Errorf("server logs contain %q", secret)
		}
	}
}
