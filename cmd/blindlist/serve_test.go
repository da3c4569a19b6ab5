package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/ohttp"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

const serveTestUsecase = "com.example.blindlist.url.filtering"

// serveProcess is `blindlist serve` running in process.
type serveProcess struct {
	addr   string
	stop   func() int
	stderr *syncBuffer
	// cancel stops the process as SIGTERM does, without waiting; done
	// receives the exit code.
	cancel func()
	done   chan int
}

// startServe runs `blindlist serve args...` in process, with no drain delay
// and no memory limit unless args set them.
func startServe(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := new(syncBuffer)
	done := make(chan int, 1)
	if !slices.Contains(args, "--drain-delay") {
		args = append([]string{"--drain-delay", "0"}, args...)
	}
	if !slices.Contains(args, "--memory-limit") { // it would apply to the whole test binary
		args = append([]string{"--memory-limit", "-1"}, args...)
	}
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), io.Discard, stderr)
	}()
	p := &serveProcess{stderr: stderr, cancel: cancel}
	stopped := false
	code := 0
	p.stop = func() int {
		if !stopped {
			cancel()
			code = <-p.done
			stopped = true
		}
		return code
	}
	// p.done passes the exit code on to whoever reads it first.
	p.done = make(chan int, 1)
	go func() {
		c := <-done
		p.done <- c
	}()
	t.Cleanup(func() { p.stop() })
	re := regexp.MustCompile(`blindlist: serving on https?://(\S+)`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			p.addr = m[1]
			return p
		}
		select {
		case c := <-p.done:
			t.Fatalf("serve exited %d: %s", c, stderr.String())
		default:
		}
	}
	t.Fatalf("serve did not start: %s", stderr.String())
	return nil
}

// device plays the phone: every call goes through the OHTTP gateway, with a
// Privacy Pass token issued through the gateway too.
type device struct {
	t         *testing.T
	client    *http.Client
	userToken string
}

func newDevice(t *testing.T, p *serveProcess, userToken string) *device {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + ohttp.KeysPath)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cfgs, err := ohttp.ParseKeyConfigs(b)
	if err != nil {
		t.Fatal(err)
	}
	return &device{t: t, userToken: userToken, client: &http.Client{Transport: &ohttp.Client{
		RelayURL: "http://" + p.addr + ohttp.GatewayPath, KeyConfig: cfgs[0]}}}
}

// do sends one inner request to the in-process target "127.0.0.1".
func (d *device) do(method, path string, body []byte, hdr map[string]string) (int, []byte) {
	d.t.Helper()
	req, err := http.NewRequest(method, "http://127.0.0.1"+path, bytes.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// token fetches the tier key and has one token issued.
func (d *device) token() string {
	d.t.Helper()
	bearer := map[string]string{"Authorization": "Bearer " + d.userToken}
	code, spki := d.do(http.MethodGet, privacypass.TokenKeyPath, nil, bearer)
	if code != http.StatusOK {
		d.t.Fatalf("token key: %d %s", code, spki)
	}
	pub, err := privacypass.ParsePublicKey(spki)
	if err != nil {
		d.t.Fatal(err)
	}
	pending, req, err := privacypass.NewTokenRequest(rand.Reader, pub, []byte("challenge"))
	if err != nil {
		d.t.Fatal(err)
	}
	code, resp := d.do(http.MethodPost, privacypass.IssuePath, req, bearer)
	if code != http.StatusOK {
		d.t.Fatalf("issue: %d %s", code, resp)
	}
	tok, err := pending.Finalize(resp)
	if err != nil {
		d.t.Fatal(err)
	}
	return privacypass.Authorization(tok)
}

func (d *device) pir(path string, body []byte) (int, []byte) {
	d.t.Helper()
	return d.do(http.MethodPost, path, body, map[string]string{
		"Authorization":   d.token(),
		"User-Agent":      "com.apple.ciphermld/1.0 iOS/26.1 ...",
		"User-Identifier": "9C1B7C1E-0000-4000-8000-000000000001",
	})
}

func (d *device) config() *apipb.ConfigResponse {
	d.t.Helper()
	code, body := d.pir("/config", testvec.Read(d.t, "pir", "A", "config_request.binpb"))
	if code != http.StatusOK {
		d.t.Fatalf("/config: %d %s", code, body)
	}
	var cr apipb.ConfigResponse
	if err := proto.Unmarshal(body, &cr); err != nil {
		d.t.Fatal(err)
	}
	return &cr
}

// TestServeZeroConfig runs `blindlist serve --db` on Apple's processed set
// A and plays a device through the OHTTP gateway: token issuance, /config,
// /key, /queries (Apple's answer byte for byte). Then it restarts the
// process on the same state: the device's key, the config id, the issuer
// key and the OHTTP key are unchanged, so the device goes on without
// re-uploading.
func TestServeZeroConfig(t *testing.T) {
	state := t.TempDir()
	args := []string{"--db", testvec.Path(t, "pir", "A"), "--usecase", serveTestUsecase, "--listen", "127.0.0.1:0", "--state", state}
	p := startServe(t, args...)
	toks, err := os.ReadFile(filepath.Join(state, "user-tokens"))
	if err != nil {
		t.Fatal(err)
	}
	userToken := strings.TrimSpace(strings.Split(strings.TrimSpace(string(toks)), "\n")[1])
	d := newDevice(t, p, userToken)

	first := d.config()
	if first.GetKeyInfo()[0].GetTimestamp() != 0 {
		t.Fatal("fresh state reports a stored key")
	}
	if code, body := d.pir("/key", testvec.Read(t, "pir", "A", "evaluation_keys.binpb")); code != http.StatusOK {
		t.Fatalf("/key: %d %s", code, body)
	}
	var reqs apipb.Requests
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "requests.binpb"), &reqs); err != nil {
		t.Fatal(err)
	}
	reqs.Requests = reqs.Requests[:1]
	one, _ := proto.Marshal(&reqs)
	code, body := d.pir("/queries", one)
	if code != http.StatusOK {
		t.Fatalf("/queries: %d %s", code, body)
	}
	var got, want apipb.Responses
	if err := proto.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "responses.binpb"), &want); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got.GetResponses()[0], want.GetResponses()[0]) {
		t.Error("answer through the gateway differs from Apple's")
	}
	dir1 := get(t, "http://"+p.addr+privacypass.DirectoryPath)
	keys1 := get(t, "http://"+p.addr+ohttp.KeysPath)
	if code := p.stop(); code != 0 {
		t.Fatalf("serve exited %d: %s", code, p.stderr.String())
	}

	p2 := startServe(t, args...)
	d2 := newDevice(t, p2, userToken)
	after := d2.config()
	if after.GetKeyInfo()[0].GetTimestamp() == 0 {
		t.Error("evaluation key lost across the restart")
	}
	if !bytes.Equal(after.GetConfigs()[serveTestUsecase].GetConfigId(), first.GetConfigs()[serveTestUsecase].GetConfigId()) {
		t.Error("config id changed across the restart")
	}
	if code, _ := d2.pir("/queries", one); code != http.StatusOK {
		t.Errorf("/queries after restart without re-upload: %d", code)
	}
	if !bytes.Equal(get(t, "http://"+p2.addr+privacypass.DirectoryPath), dir1) {
		t.Error("issuer directory changed across the restart")
	}
	if !bytes.Equal(get(t, "http://"+p2.addr+ohttp.KeysPath), keys1) {
		t.Error("OHTTP key configuration changed across the restart")
	}
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

func TestServeUsage(t *testing.T) {
	cases := []struct {
		args []string
		code int
		out  string // substring of stdout+stderr
	}{
		{[]string{"serve", "-h"}, 0, "Usage: blindlist serve --config FILE"},
		{[]string{"serve"}, 2, "give exactly one of --config and --db"},
		{[]string{"serve", "--bogus"}, 2, "serve: unknown flag --bogus (see 'blindlist serve -h')"},
		{[]string{"serve", "--db", "x", "--config", "y"}, 2, "give exactly one"},
		{[]string{"serve", "--config", "y", "--symmetric-key", "k"}, 2, "--symmetric-key goes with --db"},
		{[]string{"serve", "--db", t.TempDir()}, 2, "--db needs --usecase"},
		{[]string{"serve", "--db", t.TempDir(), "--usecase", serveTestUsecase, "--state", t.TempDir()}, 1, "has neither url-0.params.txtpb nor keys.txt"},
		{[]string{"serve", "--config", "/nonexistent/serve.json"}, 1, "blindlist: error:"},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), c.args, strings.NewReader(""), &stdout, &stderr)
		if code != c.code || !strings.Contains(stdout.String()+stderr.String(), c.out) {
			t.Errorf("%v: exit %d, output %q; want exit %d containing %q", c.args, code, stdout.String()+stderr.String(), c.code, c.out)
		}
	}
}

func TestServeBadConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "serve.json")
	os.WriteFile(path, []byte(`{"listen": "127.0.0.1:0", "dataDir": "state", "vendor": []}`), 0o600)
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--config", path}, strings.NewReader(""), io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), `unknown field "vendor"`) {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}

// TestServeDrainDelay stops `serve --drain-delay` as SIGTERM does: /readyz
// answers 503 at once, the listener still accepts new connections for the
// delay (load balancers stop sending first), then the process exits.
func TestServeDrainDelay(t *testing.T) {
	const delay = 1500 * time.Millisecond
	p := startServe(t, "--db", testvec.Path(t, "pir", "A"), "--usecase", serveTestUsecase, "--listen", "127.0.0.1:0",
		"--state", t.TempDir(), "--drain-delay", delay.String())
	// A new connection for every call: a draining server must still
	// accept them.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	get := func(path string) (int, error) {
		resp, err := c.Get("http://" + p.addr + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get("/readyz"); err != nil || code != http.StatusOK {
		t.Fatalf("/readyz before stopping: %d, %v", code, err)
	}
	start := time.Now()
	p.cancel()
	for {
		code, err := get("/readyz")
		if err != nil {
			t.Fatalf("/readyz after %v of draining: %v (listener closed before the drain delay)", time.Since(start), err)
		}
		if code == http.StatusServiceUnavailable {
			break
		}
		if time.Since(start) > delay/2 {
			t.Fatalf("/readyz still %d after %v", code, time.Since(start))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, err := get("/healthz"); err != nil || code != http.StatusOK {
		t.Fatalf("/healthz while draining: %d, %v", code, err)
	}
	select {
	case code := <-p.done:
		t.Fatalf("serve exited %d after %v, before the %v drain delay", code, time.Since(start), delay)
	case <-time.After(delay / 2):
	}
	code := <-p.done
	if elapsed := time.Since(start); elapsed < delay {
		t.Errorf("serve exited after %v, want at least the %v drain delay", elapsed, delay)
	}
	if code != 0 {
		t.Errorf("serve exited %d: %s", code, p.stderr.String())
	}
	p.done <- code // for the cleanup's stop
	if _, err := get("/healthz"); err == nil {
		t.Error("listener still accepts after exit")
	}
}
