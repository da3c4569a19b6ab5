package ohttp

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/blindlist/blindlist/ohttp/bhttp"
)

// echoService is a real target: it answers with a digest of what it got, so
// tests can see method, path, query, headers and body arrived intact.
func echoService() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /queries", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		sum := sha256.Sum256(body)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Echo", fmt.Sprintf("%s %s %s auth=%q ua=%q xff=%q remote=%q proto=%s host=%s",
			r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("User-Agent"),
			r.Header.Get("X-Forwarded-For"), r.RemoteAddr, r.Proto, r.Host))
		w.Header().Set("Trailer", "X-Sum")
		w.Write(bytes.Repeat([]byte{0x5a}, len(body)/2))
		w.Header().Set("X-Sum", fmt.Sprintf("%x", sum[:8]))
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 4096))
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	return mux
}

type testGateway struct {
	gw       *Gateway
	reg      *prometheus.Registry
	server   *httptest.Server
	relay    *httptest.Server
	config   KeyConfig
	upstream *httptest.Server // nil in the in-process mode
}

// newTestGateway starts gateway and relay on loopback. With proxy set, the
// target is a separate h2c server reached through NewProxy.
func newTestGateway(t *testing.T, seed []byte, proxy bool, mod func(*Config)) *testGateway {
	t.Helper()
	ks, err := DeriveKeySet(seed, []uint8{1}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	tg := &testGateway{reg: prometheus.NewRegistry(), config: ks.Configs()[0]}
	target := echoService()
	if proxy {
		tg.upstream = httptest.NewUnstartedServer(target)
		tg.upstream.Config.Protocols = new(http.Protocols)
		tg.upstream.Config.Protocols.SetHTTP1(true)
		tg.upstream.Config.Protocols.SetUnencryptedHTTP2(true)
		tg.upstream.Start()
		t.Cleanup(tg.upstream.Close)
		if target, err = NewProxy(ProxyConfig{Upstream: tg.upstream.URL, H2C: true}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{
		Keys:             ks,
		Targets:          map[string]http.Handler{"service.example.net": target},
		MaxRequestBytes:  1 << 20,
		MaxResponseBytes: 1 << 20,
		Registerer:       tg.reg,
	}
	if mod != nil {
		mod(&cfg)
	}
	if tg.gw, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	tg.server = httptest.NewServer(tg.gw.Handler())
	t.Cleanup(tg.server.Close)
	relay, err := NewRelay(RelayConfig{GatewayURL: tg.server.URL + GatewayPath})
	if err != nil {
		t.Fatal(err)
	}
	tg.relay = httptest.NewServer(relay.Handler())
	t.Cleanup(tg.relay.Close)
	return tg
}

func (tg *testGateway) client(knownLength bool) *http.Client {
	return &http.Client{Transport: &Client{RelayURL: tg.relay.URL + "/relay", KeyConfig: tg.config, IndeterminateLength: !knownLength}}
}

func TestEndToEnd(t *testing.T) {
	for _, proxy := range []bool{false, true} {
		for _, known := range []bool{false, true} {
			t.Run(fmt.Sprintf("proxy=%v/known-length=%v", proxy, known), func(t *testing.T) {
				tg := newTestGateway(t, testSeed(1), proxy, nil)
				query := bytes.Repeat([]byte{7}, 30<<10)
				req, err := http.NewRequest("POST", "https://service.example.net/queries?shard=3", bytes.NewReader(query))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "PrivateToken token=AAAA")
				req.Header.Set("User-Agent", "blindlist-test")
				resp, err := tg.client(known).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != 200 || len(body) != len(query)/2 {
					t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
				}
				echo := resp.Header.Get("X-Echo")
				want := `POST /queries shard=3 auth="PrivateToken token=AAAA" ua="blindlist-test" xff="" `
				if !strings.HasPrefix(echo, want) || !strings.HasSuffix(echo, "host=service.example.net") {
					t.Errorf("target saw %q", echo)
				}
				if proxy && !strings.Contains(echo, "proto=HTTP/2.0") {
					t.Errorf("upstream was not reached over h2c: %q", echo)
				}
				if !proxy && !strings.Contains(echo, `remote=""`) {
					t.Errorf("in-process target got a client address: %q", echo)
				}
				sum := sha256.Sum256(query)
				if got := resp.Trailer.Get("X-Sum"); got != fmt.Sprintf("%x", sum[:8]) {
					t.Errorf("trailer X-Sum = %q", got)
				}
				if n := waitCounter(t, tg.reg, "ohttp_gateway_requests_total", "ok", 1); n != 1 {
					t.Errorf("requests_total{result=ok} = %v, want 1", n)
				}
			})
		}
	}
}

// waitCounter reads a counter until it reaches want or a second passes: the
// gateway counts a request after writing its response, so a client can see
// the response first.
func waitCounter(t *testing.T, reg *prometheus.Registry, name, label string, want float64) float64 {
	t.Helper()
	var v float64
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if v = counter(t, reg, name, label); v == want {
			break
		}
	}
	return v
}

// counter reads one labelled counter from a registry.
func counter(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("metric %s{%s} not found", name, label)
	return 0
}

func TestRestartKeepsKeyConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed")
	fetch := func() []byte {
		seed, err := LoadOrCreateSeed(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		tg := newTestGateway(t, seed, false, nil)
		defer tg.server.Close()
		resp, err := http.Get(tg.server.URL + KeysPath)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "application/ohttp-keys" {
			t.Errorf("Content-Type %q", ct)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public, max-age=") {
			t.Errorf("Cache-Control %q", cc)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	first := fetch()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("seed file mode %04o, want 0600", st.Mode().Perm())
	}
	second := fetch()
	if !bytes.Equal(first, second) {
		t.Error("key configuration changed across a restart")
	}
	if _, err := ParseKeyConfigs(first); err != nil {
		t.Error(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSeed(path, nil); err == nil {
		t.Error("world-readable seed file accepted")
	}
}

func TestLegacyConfig(t *testing.T) {
	tg := newTestGateway(t, testSeed(1), false, nil)
	resp, err := http.Get(tg.server.URL + LegacyConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want, _ := tg.config.MarshalBinary()
	if !bytes.Equal(body, want) {
		t.Errorf("legacy config %x, want %x", body, want)
	}
}

// post sends body to the gateway directly, as a relay would.
func post(t *testing.T, tg *testGateway, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", tg.server.URL+GatewayPath, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestOuterErrors(t *testing.T) {
	tg := newTestGateway(t, testSeed(1), false, func(c *Config) { c.MaxRequestBytes = 4096 })
	good := encapsulate(t, tg.config, &bhttp.Request{Method: "GET", Scheme: "https", Authority: "service.example.net", Path: "/big"})
	other, err := DeriveKeySet(testSeed(2), []uint8{7}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	wrongKey := encapsulate(t, other.Configs()[0], &bhttp.Request{Method: "GET", Scheme: "https", Authority: "service.example.net", Path: "/big"})
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)-3] ^= 0xff
	for _, tc := range []struct {
		name        string
		contentType string
		body        []byte
		status      int
		result      string
	}{
		{"wrong media type", "application/octet-stream", good, 415, resultUnsupportedMediaType},
		{"oversize body", mediaTypeRequest, make([]byte, 5000), 413, resultTooLarge},
		{"short body", mediaTypeRequest, good[:20], 400, resultMalformed},
		{"unknown key id", mediaTypeRequest, wrongKey, 400, resultKeyConfig},
		{"corrupt body", mediaTypeRequest, corrupt, 400, resultDecrypt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := counter(t, tg.reg, "ohttp_gateway_requests_total", tc.result)
			resp, body := post(t, tg, tc.contentType, tc.body)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.result == resultKeyConfig {
				if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" ||
					problemType(body) != "https://iana.org/assignments/http-problem-types#ohttp-key" {
					t.Errorf("key mismatch answered %q %s", ct, body)
				}
			}
			if after := waitCounter(t, tg.reg, "ohttp_gateway_requests_total", tc.result, before+1); after != before+1 {
				t.Errorf("requests_total{result=%s} went %v -> %v", tc.result, before, after)
			}
		})
	}
	// Through the client, a stale key surfaces as a StatusError with the
	// problem type, so the caller knows to refetch the configuration.
	c := &http.Client{Transport: &Client{RelayURL: tg.relay.URL, KeyConfig: other.Configs()[0]}}
	_, err = c.Get("https://service.example.net/big")
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 400 || !strings.HasSuffix(se.ProblemType, "#ohttp-key") {
		t.Errorf("stale key: got %v", err)
	}
}

// encapsulate encodes and seals a binary request for direct posting.
func encapsulate(t *testing.T, config KeyConfig, r *bhttp.Request) []byte {
	t.Helper()
	plain, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	enc, _, err := EncapsulateRequest(config, config.Suites[0], plain)
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

func TestInnerErrors(t *testing.T) {
	tg := newTestGateway(t, testSeed(1), false, func(c *Config) {
		c.MaxResponseBytes = 1000
		c.ForwardTimeout = 50 * time.Millisecond
	})
	proxied := newTestGateway(t, testSeed(1), true, func(c *Config) { c.ForwardTimeout = 50 * time.Millisecond })
	for _, tc := range []struct {
		name   string
		tg     *testGateway
		req    *bhttp.Request
		raw    []byte // sent instead of req when set
		status int
		result string
	}{
		{"forbidden target", tg, &bhttp.Request{Method: "GET", Scheme: "https", Authority: "evil.example", Path: "/big"}, nil, 403, resultForbiddenTarget},
		{"target by Host field", tg, &bhttp.Request{Method: "GET", Scheme: "https", Path: "/nope", Header: []bhttp.Field{{Name: "Host", Value: "SERVICE.example.net"}}}, nil, 404, resultOK},
		{"expect 100-continue", tg, &bhttp.Request{Method: "POST", Scheme: "https", Authority: "service.example.net", Path: "/queries", Header: []bhttp.Field{{Name: "expect", Value: "100-continue"}}}, nil, 417, resultExpectContinue},
		{"invalid binary request", tg, nil, []byte{0x02, 0x03, 'G'}, 400, resultInnerInvalid},
		{"header over cap", tg, &bhttp.Request{Method: "POST", Scheme: "https", Authority: "service.example.net", Path: "/queries",
			Header: []bhttp.Field{{Name: "user-agent", Value: strings.Repeat("\xff", MaxInnerHeaderBytes)}}}, nil, 431, resultHeaderTooLarge},
		{"header at cap", tg, &bhttp.Request{Method: "GET", Scheme: "https", Authority: "service.example.net", Path: "/nope",
			Header: []bhttp.Field{{Name: "x", Value: strings.Repeat("a", MaxInnerHeaderBytes-1)}}}, nil, 404, resultOK},
		{"relative path", tg, &bhttp.Request{Method: "GET", Scheme: "https", Authority: "service.example.net", Path: "big"}, nil, 400, resultInnerInvalid},
		{"response over cap", tg, &bhttp.Request{Method: "GET", Scheme: "https", Authority: "service.example.net", Path: "/big"}, nil, 502, resultResponseTooLarge},
		{"upstream timeout", proxied, &bhttp.Request{Method: "GET", Scheme: "https", Authority: "service.example.net", Path: "/slow"}, nil, 504, resultOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plain := tc.raw
			if plain == nil {
				var err error
				if plain, err = tc.req.MarshalBinary(); err != nil {
					t.Fatal(err)
				}
			}
			encReq, cc, err := EncapsulateRequest(tc.tg.config, tc.tg.config.Suites[0], plain)
			if err != nil {
				t.Fatal(err)
			}
			before := counter(t, tc.tg.reg, "ohttp_gateway_requests_total", tc.result)
			resp, body := post(t, tc.tg, mediaTypeRequest, encReq)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != mediaTypeResponse {
				t.Fatalf("outer status %d %q, want 200 message/ohttp-res", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			inner, err := cc.DecapsulateResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			br, err := bhttp.ParseResponse(inner)
			if err != nil {
				t.Fatal(err)
			}
			if br.Status != tc.status {
				t.Errorf("inner status %d, want %d", br.Status, tc.status)
			}
			if wantIndeterminate := plain[0] == 2; br.Indeterminate != wantIndeterminate {
				t.Errorf("response indeterminate=%v for request framing %d", br.Indeterminate, plain[0])
			}
			if after := waitCounter(t, tc.tg.reg, "ohttp_gateway_requests_total", tc.result, before+1); after != before+1 {
				t.Errorf("requests_total{result=%s} went %v -> %v", tc.result, before, after)
			}
		})
	}
}

func TestRelayStripsClientHeaders(t *testing.T) {
	var got http.Header
	var gotRemote string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		gotRemote = r.RemoteAddr
		w.Header().Set("Content-Type", mediaTypeResponse)
		w.Header().Set("Set-Cookie", "gateway=1")
		w.Write([]byte("x"))
	}))
	defer gw.Close()
	relay, err := NewRelay(RelayConfig{GatewayURL: gw.URL + GatewayPath})
	if err != nil {
		t.Fatal(err)
	}
	rs := httptest.NewServer(relay.Handler())
	defer rs.Close()
	req, _ := http.NewRequest("POST", rs.URL, strings.NewReader("payload"))
	req.Header.Set("Content-Type", mediaTypeRequest)
	req.Header.Set("Cookie", "id=42")
	req.Header.Set("User-Agent", "device/1")
	req.Header.Set("X-Forwarded-For", "192.0.2.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for name := range got {
		switch name {
		case "Content-Type", "Content-Length", "Accept-Encoding", "User-Agent":
		default:
			t.Errorf("relay forwarded header %s", name)
		}
	}
	if ua := got.Get("User-Agent"); ua == "device/1" {
		t.Error("relay forwarded the client's User-Agent")
	}
	if strings.Contains(gotRemote, "192.0.2.1") {
		t.Error("gateway saw the client's forwarded address")
	}
	if resp.Header.Get("Set-Cookie") != "" {
		t.Error("relay passed a gateway header other than Content-Type back")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	ks, err := DeriveKeySet(testSeed(1), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	h := http.NotFoundHandler()
	for name, cfg := range map[string]Config{
		"no keys":          {Targets: map[string]http.Handler{"a": h}},
		"no targets":       {Keys: ks},
		"nil handler":      {Keys: ks, Targets: map[string]http.Handler{"a": nil}},
		"URL as authority": {Keys: ks, Targets: map[string]http.Handler{"https://a/": h}},
		"negative cap":     {Keys: ks, Targets: map[string]http.Handler{"a": h}, MaxRequestBytes: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := New(Config{Keys: ks, Targets: map[string]http.Handler{"a": h}, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Keys: ks, Targets: map[string]http.Handler{"a": h}, Registerer: reg}); err == nil {
		t.Error("second gateway on the same registry: duplicate metrics accepted")
	}
}

func TestSetKeysRotation(t *testing.T) {
	tg := newTestGateway(t, testSeed(1), false, nil)
	oldClient := tg.client(false)
	rotated, err := DeriveKeySet(testSeed(1), []uint8{2}, []uint8{1}, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.gw.SetKeys(rotated); err != nil {
		t.Fatal(err)
	}
	resp, err := oldClient.Get("https://service.example.net/big")
	if err != nil {
		t.Fatalf("client with the retired key: %v", err)
	}
	resp.Body.Close()
	resp, err = http.Get(tg.server.URL + KeysPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	configs, err := ParseKeyConfigs(body)
	if err != nil || len(configs) != 1 || configs[0].KeyID != 2 {
		t.Errorf("after rotation the gateway advertises %+v (%v)", configs, err)
	}
}

func TestLoadOrCreateSeedErrors(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSeed(short, nil); err == nil || !strings.Contains(err.Error(), "is 3 bytes") {
		t.Errorf("short seed file: %v", err)
	}
	if _, err := LoadOrCreateSeed(filepath.Join(dir, "missing-dir", "seed"), nil); err == nil || !strings.HasPrefix(err.Error(), "ohttp: ") {
		t.Errorf("seed in a missing directory: %v", err)
	}
	fixed := filepath.Join(dir, "fixed")
	seed, err := LoadOrCreateSeed(fixed, bytes.NewReader(testSeed(9)))
	if err != nil || !bytes.Equal(seed, testSeed(9)) {
		t.Errorf("seed from the given reader: %x, %v", seed, err)
	}
}

// TestProxyH2 forwards to an https upstream and checks HTTP/2 was negotiated
// by ALPN (h2), and that an unreachable upstream is an encapsulated 502.
func TestProxyH2(t *testing.T) {
	upstream := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.Proto + " " + r.Host))
	}))
	upstream.EnableHTTP2 = true
	upstream.StartTLS()
	defer upstream.Close()
	tlsCfg := upstream.Client().Transport.(*http.Transport).TLSClientConfig
	proxy, err := NewProxy(ProxyConfig{Upstream: upstream.URL, TLSConfig: tlsCfg})
	if err != nil {
		t.Fatal(err)
	}
	dead, err := NewProxy(ProxyConfig{Upstream: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	tg := newTestGateway(t, testSeed(1), false, func(c *Config) {
		c.Targets = map[string]http.Handler{"service.example.net": proxy, "dead.example.net": dead}
	})
	c := tg.client(false)
	resp, err := c.Get("https://service.example.net/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "HTTP/2.0 service.example.net" {
		t.Errorf("upstream saw %q, want HTTP/2.0 and the inner authority", body)
	}
	resp, err = c.Get("https://dead.example.net/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("unreachable upstream: status %d, want 502", resp.StatusCode)
	}
	if _, err := NewProxy(ProxyConfig{Upstream: "https://x", H2C: true}); err == nil {
		t.Error("h2c with an https upstream accepted")
	}
}
