package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/blindlist/blindlist/ohttp"
)

// syncBuffer is a bytes.Buffer safe to read while a server goroutine writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startCommand runs a serving subcommand until the test ends and returns the
// address it printed for name.
func startCommand(t *testing.T, name string, args ...string) string {
	t.Helper()
	addr, _ := startCommandLog(t, name, args...)
	return addr
}

// startCommandLog is startCommand that also returns the command's stderr.
func startCommandLog(t *testing.T, name string, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := new(syncBuffer)
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, strings.NewReader(""), io.Discard, stderr) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("%s exited %d: %s", args[0], code, stderr.String())
		}
	})
	re := regexp.MustCompile(`blindlist: ` + name + ` listening on (\S+)`)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			return m[1], stderr
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("%s exited %d: %s", args[0], code, stderr.String())
		default:
		}
	}
	t.Fatalf("%s did not start: %s", args[0], stderr.String())
	return "", nil
}

func fetchKeys(t *testing.T, gatewayAddr string) []byte {
	t.Helper()
	resp, err := http.Get("http://" + gatewayAddr + ohttp.KeysPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestGatewayRelayCommands runs 'blindlist gateway' and 'blindlist relay' on
// loopback in front of a real target, sends a request through them with the
// ohttp client, restarts the gateway and checks the key configuration held.
func TestGatewayRelayCommands(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Write(append([]byte(r.Host+" "+r.URL.Path+" "), body...))
	}))
	defer upstream.Close()
	dir := t.TempDir()
	seed := filepath.Join(dir, "ohttp.seed")
	gwArgs := []string{"gateway", "--listen", "127.0.0.1:0", "--seed-file", seed,
		"--target", "service.example.net", "--upstream", upstream.URL, "--response-padding", "256"}

	var firstKeys []byte
	{
		gwAddr := startCommand(t, "gateway", gwArgs...)
		relayAddr := startCommand(t, "relay", "relay", "--listen", "127.0.0.1:0", "--gateway", "http://"+gwAddr+ohttp.GatewayPath)
		firstKeys = fetchKeys(t, gwAddr)
		configs, err := ohttp.ParseKeyConfigs(firstKeys)
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Transport: &ohttp.Client{RelayURL: "http://" + relayAddr + "/", KeyConfig: configs[0]}}
		resp, err := c.Post("https://service.example.net/queries", "application/octet-stream", strings.NewReader("hello"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "service.example.net /queries hello" {
			t.Errorf("through relay and gateway: %d %q", resp.StatusCode, body)
		}
		resp, err = c.Get("https://elsewhere.example/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("target outside the allow list: status %d, want 403", resp.StatusCode)
		}
	}
	st, err := os.Stat(seed)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("seed file mode %04o", st.Mode().Perm())
	}
	// A second gateway from the same seed file (a restart) serves the same
	// configuration.
	gwAddr := startCommand(t, "gateway", gwArgs...)
	if again := fetchKeys(t, gwAddr); !bytes.Equal(again, firstKeys) {
		t.Error("key configuration changed across a restart")
	}
}

func TestGatewayConfigFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	seed := filepath.Join(dir, "seed")
	good := write("good.json", `{"listen": "127.0.0.1:0", "seed_file": "`+seed+`", "key_ids": [1, 2],
		"targets": ["service.example.net"], "upstream": "http://127.0.0.1:1", "upstream_h2c": true}`)
	addr := startCommand(t, "gateway", "gateway", "--config", good)
	configs, err := ohttp.ParseKeyConfigs(fetchKeys(t, addr))
	if err != nil || len(configs) != 2 {
		t.Errorf("config file with key_ids [1, 2]: %d configs, %v", len(configs), err)
	}
	// The listener speaks h2c (HTTP/2 with prior knowledge) besides HTTP/1.1.
	h2c := &http.Transport{Protocols: new(http.Protocols)}
	h2c.Protocols.SetUnencryptedHTTP2(true)
	resp, err := (&http.Client{Transport: h2c}).Get("http://" + addr + ohttp.KeysPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Proto != "HTTP/2.0" {
		t.Errorf("h2c request answered over %s", resp.Proto)
	}

	for name, tc := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"unknown field":    {[]string{"--config", write("u.json", `{"listen": ":0", "seed": "x"}`)}, 1, `unknown field "seed"`},
		"trailing data":    {[]string{"--config", write("t.json", `{"listen": ":0"} {}`)}, 1, "data after the JSON object"},
		"config and flags": {[]string{"--config", good, "--listen", ":0"}, 2, "cannot be combined"},
		"no seed":          {[]string{"--target", "a", "--upstream", "http://b"}, 1, "no seed: give --seed-file or --seed-env"},
		"no targets":       {[]string{"--seed-file", seed, "--upstream", "http://b"}, 1, "no targets"},
		"bad key id":       {[]string{"--seed-file", seed, "--target", "a", "--upstream", "http://b", "--key-ids", "300"}, 1, "outside 0..255"},
		"bad upstream":     {[]string{"--seed-file", seed, "--target", "a", "--upstream", "ftp://b"}, 1, "must be http"},
		"h2c with https":   {[]string{"--seed-file", seed, "--target", "a", "--upstream", "https://b", "--upstream-h2c"}, 1, "h2c needs"},
		"bad timeout":      {[]string{"--seed-file", seed, "--target", "a", "--upstream", "http://b", "--forward-timeout", "soon"}, 1, "not a positive duration"},
		"negative padding": {[]string{"--seed-file", seed, "--target", "a", "--upstream", "http://b", "--response-padding", "-1"}, 1, "padding must not be negative"},
		"bad flag":         {[]string{"--nope"}, 2, "blindlist: error: gateway: unknown flag --nope (see 'blindlist gateway -h')"},
		"positional":       {[]string{"extra"}, 2, "gateway: unexpected argument \"extra\""},
	} {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(context.Background(), append([]string{"gateway"}, tc.args...), strings.NewReader(""), io.Discard, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr.String(), tc.code, tc.msg)
			}
			if tc.code == 1 && strings.Count(stderr.String(), "blindlist: error: ") != 1 {
				t.Errorf("want exactly one error line, got %q", stderr.String())
			}
		})
	}
}

func TestGatewayRelayUsage(t *testing.T) {
	for _, cmd := range []string{"gateway", "relay"} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{cmd, "-h"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Errorf("%s -h: exit %d", cmd, code)
		}
		if !strings.Contains(stdout.String(), "Usage: blindlist "+cmd) || !strings.Contains(stdout.String(), "Example") {
			t.Errorf("%s -h printed %q", cmd, stdout.String())
		}
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"relay"}, strings.NewReader(""), io.Discard, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "blindlist: error: relay: no gateway: give --gateway URL, e.g. http://127.0.0.1:8080/gateway (see 'blindlist relay -h')") {
		t.Errorf("relay without --gateway: exit %d, %q", code, stderr.String())
	}
}

// TestGatewayReloadOnHangup rotates keys by editing the config file and
// sending SIGHUP: the new id is advertised, the old one still accepted.
func TestGatewayReloadOnHangup(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed")
	path := filepath.Join(dir, "gateway.json")
	writeConfig := func(active, retired string) {
		text := `{"listen": "127.0.0.1:0", "seed_file": "` + seed + `", "key_ids": [` + active + `],
			"retired_key_ids": [` + retired + `], "targets": ["service.example.net"], "upstream": "http://127.0.0.1:1"}`
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig("1", "")
	addr := startCommand(t, "gateway", "gateway", "--config", path)
	before, err := ohttp.ParseKeyConfigs(fetchKeys(t, addr))
	if err != nil || len(before) != 1 || before[0].KeyID != 1 {
		t.Fatalf("before: %+v %v", before, err)
	}
	writeConfig("2", "1")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var after []ohttp.KeyConfig
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if after, err = ohttp.ParseKeyConfigs(fetchKeys(t, addr)); err == nil && after[0].KeyID == 2 {
			break
		}
	}
	if len(after) != 1 || after[0].KeyID != 2 {
		t.Fatalf("after SIGHUP the gateway advertises %+v", after)
	}
	// A client still holding key id 1 gets through to the (absent)
	// upstream: an encapsulated 502, not an outer key-config error.
	c := &http.Client{Transport: &ohttp.Client{RelayURL: "http://" + addr + ohttp.GatewayPath, KeyConfig: before[0]}}
	resp, err := c.Get("https://service.example.net/")
	if err != nil {
		t.Fatalf("retired key after reload: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d, want 502 from the unreachable upstream", resp.StatusCode)
	}
}

// TestGatewayProbes: the gateway answers /healthz and /readyz itself (the
// Kubernetes probes), and on stop /readyz fails for --drain-delay while the
// listener still accepts, then the process exits.
func TestGatewayProbes(t *testing.T) {
	const delay = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := new(syncBuffer)
	done := make(chan int, 1)
	args := []string{"gateway", "--listen", "127.0.0.1:0", "--seed-file", filepath.Join(t.TempDir(), "seed"),
		"--target", "service.example.net", "--upstream", "http://127.0.0.1:1", "--drain-delay", delay.String()}
	go func() { done <- run(ctx, args, strings.NewReader(""), io.Discard, stderr) }()
	re := regexp.MustCompile(`blindlist: gateway listening on (\S+)`)
	var addr string
	for deadline := time.Now().Add(5 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("gateway did not start: %s", stderr.String())
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	get := func(path string) (int, string, error) {
		resp, err := c.Get("http://" + addr + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body, err := get(p); err != nil || code != http.StatusOK || body != "ok\n" {
			t.Errorf("%s: %d %q %v, want 200 ok", p, code, body, err)
		}
	}
	if code, _, err := get(ohttp.KeysPath); err != nil || code != http.StatusOK {
		t.Errorf("%s beside the probes: %d %v", ohttp.KeysPath, code, err)
	}
	if code, _, err := get("/other"); err != nil || code != http.StatusNotFound {
		t.Errorf("/other: %d %v, want 404", code, err)
	}
	start := time.Now()
	cancel()
	for {
		code, _, err := get("/readyz")
		if err != nil {
			t.Fatalf("/readyz %v after the stop: %v (listener closed before the drain delay)", time.Since(start), err)
		}
		if code == http.StatusServiceUnavailable {
			break
		}
		if time.Since(start) > delay/2 {
			t.Fatalf("/readyz still %d %v after the stop", code, time.Since(start))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, _, err := get("/healthz"); err != nil || code != http.StatusOK {
		t.Errorf("/healthz while draining: %d %v", code, err)
	}
	if code := <-done; code != 0 {
		t.Errorf("gateway exited %d: %s", code, stderr.String())
	}
	if elapsed := time.Since(start); elapsed < delay {
		t.Errorf("gateway exited %v after the stop, before the %v drain delay", elapsed, delay)
	}
}

// TestGatewaySeedSources: the seed can come from an environment variable
// (hex or base64, a Kubernetes Secret through secretKeyRef) or from a
// group-readable Secret file when explicitly allowed; all give the key
// configuration a 0600 seed file with the same bytes gives.
func TestGatewaySeedSources(t *testing.T) {
	dir := t.TempDir()
	seed := bytes.Repeat([]byte{0x5a, 0xa5}, ohttp.SeedSize/2)
	private := filepath.Join(dir, "private.seed")
	if err := os.WriteFile(private, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(dir, "secret.seed")
	if err := os.WriteFile(shared, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o440); err != nil { // a Secret with fsGroup, defaultMode 0440
		t.Fatal(err)
	}
	t.Setenv("TEST_OHTTP_SEED_HEX", hex.EncodeToString(seed))
	t.Setenv("TEST_OHTTP_SEED_B64", base64.StdEncoding.EncodeToString(seed)+"\n")
	t.Setenv("TEST_OHTTP_SEED_BAD", "0011")
	common := []string{"gateway", "--listen", "127.0.0.1:0", "--target", "service.example.net", "--upstream", "http://127.0.0.1:1"}
	want := fetchKeys(t, startCommand(t, "gateway", append(common, "--seed-file", private)...))
	for name, args := range map[string][]string{
		"hex env":                 {"--seed-env", "TEST_OHTTP_SEED_HEX"},
		"base64 env":              {"--seed-env", "TEST_OHTTP_SEED_B64"},
		"group-readable, allowed": {"--seed-file", shared, "--allow-group-readable-seed"},
	} {
		if got := fetchKeys(t, startCommand(t, "gateway", append(common, args...)...)); !bytes.Equal(got, want) {
			t.Errorf("%s: key configuration differs from the seed file's", name)
		}
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"group-readable":     {[]string{"--seed-file", shared}, "has mode 0440, want 0600 or stricter"},
		"env unset":          {[]string{"--seed-env", "TEST_OHTTP_SEED_UNSET"}, "seed environment variable TEST_OHTTP_SEED_UNSET is not set"},
		"env not a seed":     {[]string{"--seed-env", "TEST_OHTTP_SEED_BAD"}, "seed environment variable TEST_OHTTP_SEED_BAD: ohttp: seed is not 32 bytes"},
		"both sources":       {[]string{"--seed-env", "TEST_OHTTP_SEED_HEX", "--seed-file", private}, "give only one of --seed-file and --seed-env"},
		"allow with env":     {[]string{"--seed-env", "TEST_OHTTP_SEED_HEX", "--allow-group-readable-seed"}, "applies to --seed-file only"},
		"allowed but absent": {[]string{"--seed-file", filepath.Join(dir, "absent"), "--allow-group-readable-seed"}, "no such file"},
	} {
		code, _, errs := runCLI(t, "", append(common, tc.args...)...)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", name, code, errs, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "absent")); err == nil {
		t.Error("--allow-group-readable-seed created a seed file")
	}
}

// TestGatewayHybridKeyIDs: --hybrid-key-ids adds MLKEM768-X25519 keys after
// the X25519 ones, and a client sealing to the hybrid key gets through.
func TestGatewayHybridKeyIDs(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Write(append([]byte("pq "), body...))
	}))
	defer upstream.Close()
	addr := startCommand(t, "gateway", "gateway", "--listen", "127.0.0.1:0", "--seed-file", filepath.Join(t.TempDir(), "seed"),
		"--key-ids", "1", "--hybrid-key-ids", "2", "--target", "service.example.net", "--upstream", upstream.URL)
	configs, err := ohttp.ParseKeyConfigs(fetchKeys(t, addr))
	if err != nil {
		t.Fatal(err)
	}
	if len(configs) != 2 || configs[0].KEM != ohttp.KEMX25519HKDFSHA256 || configs[1].KEM != ohttp.KEMMLKEM768X25519 || configs[1].KeyID != 2 {
		t.Fatalf("configurations %+v, want X25519 id 1 then MLKEM768-X25519 id 2", configs)
	}
	kc, err := ohttp.SelectKeyConfig(configs)
	if err != nil || kc.KEM != ohttp.KEMMLKEM768X25519 {
		t.Fatalf("client chose KEM 0x%04x, %v", kc.KEM, err)
	}
	c := &http.Client{Transport: &ohttp.Client{RelayURL: "http://" + addr + ohttp.GatewayPath, KeyConfig: kc}}
	resp, err := c.Post("https://service.example.net/q", "application/octet-stream", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "pq hello" {
		t.Errorf("hybrid request: %d %q", resp.StatusCode, body)
	}
}
