package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWiring runs the real subcommands together on loopback, as the compose
// file in deploy/ does: build the demo list, serve it, put a standalone
// gateway and a relay in front, and look URLs up with query through the
// relay. It checks the wiring of the commands (flags, files they hand each
// other, the user-token file serve writes), which the library-level tests
// in e2e cannot see.
func TestWiring(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	t.Run("keyword PIR", func(t *testing.T) { testWiring(t, false) })
	// Symmetric PIR: build and serve with --symmetric-key, the device runs
	// the OPRF round first; the gateway pads its answers.
	t.Run("symmetric PIR, padded answers", func(t *testing.T) { testWiring(t, true) })
}

func testWiring(t *testing.T, symmetric bool) {
	dir := t.TempDir()
	out, state := filepath.Join(dir, "out"), filepath.Join(dir, "state")
	buildArgs := []string{"build", "--out", out}
	serveArgs := []string{"serve", "--db", out, "--usecase", wiringUsecase, "--state", state}
	var gatewayExtra []string
	if symmetric {
		key := filepath.Join(dir, "spir.key")
		buildArgs = append(buildArgs, "--symmetric-key", key)
		serveArgs = append(serveArgs, "--symmetric-key", key)
		gatewayExtra = []string{"--response-padding", "1024"}
	}
	if code, _, errs := runCLI(t, "", buildArgs...); code != 0 {
		t.Fatalf("build: exit %d: %s", code, errs)
	}
	svc, gw, rl := freeAddr(t), freeAddr(t), freeAddr(t)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	start := func(name string, args ...string) {
		var stderr bytes.Buffer
		wg.Go(func() {
			code := run(ctx, args, strings.NewReader(""), &bytes.Buffer{}, &stderr)
			if ctx.Err() == nil {
				t.Errorf("%s exited early with %d: %s", name, code, stderr.String())
			}
		})
	}
	start("serve", append(serveArgs, "--listen", svc)...)
	waitHTTP(t, "http://"+svc+"/healthz")
	start("gateway", append([]string{"gateway", "--seed-file", filepath.Join(dir, "ohttp.seed"), "--target", svc,
		"--upstream", "http://" + svc, "--listen", gw}, gatewayExtra...)...)
	waitHTTP(t, "http://"+gw+"/ohttp-keys")
	start("relay", "relay", "--gateway", "http://"+gw+"/gateway", "--listen", rl)
	waitTCP(t, rl)

	code, stdout, errs := runCLI(t, "", "query", "--service", "http://"+svc, "--usecase", wiringUsecase,
		"--token-file", filepath.Join(state, "user-tokens"), "--prefilter", out,
		"--gateway", "http://"+gw, "--relay", "http://"+rl+"/relay", "--json",
		"https://www.apple.com/url-filter-test", "https://ads.example.com/x", "https://www.apple.com/")
	if code != 0 {
		t.Fatalf("query: exit %d: %s", code, errs)
	}
	want := []string{"deny", "deny", "allow"}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != len(want) {
		t.Fatalf("query printed %d lines, want %d: %s", len(lines), len(want), stdout)
	}
	for i, l := range lines {
		var v verdictJSON
		if err := json.Unmarshal([]byte(l), &v); err != nil || v.Verdict != want[i] {
			t.Errorf("line %d: %s (%v), want verdict %s", i, l, err, want[i])
		}
	}
}

const wiringUsecase = "com.example.app.url.filtering"

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitTCP(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
