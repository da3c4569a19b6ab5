package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestServeRefresh serves a build with a refresh loop against a real local
// list origin: a key added at the origin is answered after the next
// refresh, lookups running meanwhile all succeed (hot reload), an origin
// failure keeps the generation and is counted, and the metrics say so.
func TestServeRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	var mu sync.Mutex
	body, fail := "ads.example.com\ntracker.example.net\n", false
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		etag := fmt.Sprintf(`"%d"`, len(body))
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		io.WriteString(w, body)
	}))
	defer origin.Close()
	dir := t.TempDir()
	root := filepath.Join(dir, "db")
	src := "domains:" + origin.URL + "/list.txt"
	code, stdout, errs := runCLI(t, "", "refresh", "--source", src, "--out", root)
	if code != 0 || !strings.Contains(stdout, "published generation 000001") {
		t.Fatalf("refresh: exit %d: %s%s", code, stdout, errs)
	}
	if code, stdout, _ := runCLI(t, "", "refresh", "--source", src, "--out", root); code != 0 || !strings.HasPrefix(stdout, "unchanged") {
		t.Fatalf("second refresh: exit %d: %s", code, stdout)
	}

	svc, admin := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var stderr bytes.Buffer
	wg.Go(func() {
		code := run(ctx, []string{"serve", "--db", root, "--usecase", wiringUsecase, "--listen", svc, "--admin", admin,
			"--refresh-source", src, "--refresh-interval", "200ms", "--generation-poll", "100ms"}, strings.NewReader(""), io.Discard, &stderr)
		if ctx.Err() == nil {
			t.Errorf("serve exited early with %d: %s", code, stderr.String())
		}
	})
	waitHTTP(t, "http://"+svc+"/readyz")
	tokens := filepath.Join(root, "state", "user-tokens")
	lookup := func(host string) (string, error) {
		code, stdout, errs := runCLI(t, "", "query", "--service", "http://"+svc, "--usecase", wiringUsecase, "--token-file", tokens, "--json", "https://"+host+"/")
		if code != 0 {
			return "", fmt.Errorf("exit %d: %s", code, errs)
		}
		var v verdictJSON
		if err := json.Unmarshal([]byte(stdout), &v); err != nil {
			return "", err
		}
		return v.Verdict, nil
	}
	if v, err := lookup("new.example.org"); err != nil || v != "allow" {
		t.Fatalf("before the change: %q, %v", v, err)
	}
	// Lookups keep running while the new generation is loaded.
	var failed atomic.Int32
	stopLoad := make(chan struct{})
	var load sync.WaitGroup
	load.Go(func() {
		for {
			select {
			case <-stopLoad:
				return
			default:
			}
			if _, err := lookup("ads.example.com"); err != nil {
				failed.Add(1)
				t.Errorf("lookup during the reload: %v", err)
			}
		}
	})
	mu.Lock()
	body += "new.example.org\n"
	mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if v, err := lookup("new.example.org"); err == nil && v == "deny" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the added key was never answered")
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stopLoad)
	load.Wait()

	mu.Lock()
	fail = true
	mu.Unlock()
	metric := func(name string) string {
		resp, err := http.Get("http://" + admin + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				return v
			}
		}
		return ""
	}
	deadline = time.Now().Add(30 * time.Second)
	for metric("blindlist_refresh_fetch_failures_total") == "0" || metric("blindlist_refresh_fetch_failures_total") == "" {
		if time.Now().After(deadline) {
			t.Fatal("fetch failures were never counted")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v, err := lookup("new.example.org"); err != nil || v != "deny" {
		t.Errorf("after a failed fetch: %q, %v (the generation must stay)", v, err)
	}
	if got := metric("blindlist_refresh_keys_added"); got != "1" {
		t.Errorf("keys added %q, want 1", got)
	}
	for _, name := range []string{"blindlist_refresh_last_success_timestamp_seconds", "blindlist_generation_age_seconds"} {
		if v := metric(name); v == "" || strings.HasPrefix(v, "-") || v == "0" {
			t.Errorf("%s = %q", name, v)
		}
	}
}
