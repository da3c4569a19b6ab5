package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

const testUsecase = "com.example.blindlist.url.filtering"

// testUA is a User-Agent as the device sends it (iOS 26).
const testUA = "com.apple.ciphermld/1.0 iOS/26.1 (iPhone)"

// openSet loads a vector set's processed shards as a usecase.
func openSet(t testing.TB, set string, shards int) Usecase {
	t.Helper()
	u, err := OpenUsecase(context.Background(), UsecaseConfig{
		Name: testUsecase, Directory: testvec.Path(t, "pir", set), FileStem: "url", ShardCount: shards,
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// testEnv is a server on a real loopback listener with a real bbolt store.
type testEnv struct {
	t      testing.TB
	dbPath string
	bolt   *store.Bolt
	reg    *Registry
	s      *Server
	srv    *httptest.Server
	tokens *testTokens
}

type envOptions struct {
	dbPath  string
	reg     *Registry
	cfg     Config
	noToken bool
	// kv and spent replace the bbolt file (Redis-backed replicas).
	kv    store.KV
	spent store.SpentSet
	// metrics, if set, receives the server's collectors.
	metrics prometheus.Registerer
	// logger, if set, receives the server's log.
	logger *slog.Logger
}

func newEnv(t testing.TB, o envOptions) *testEnv {
	t.Helper()
	e := &testEnv{t: t, dbPath: o.dbPath, reg: o.reg}
	if e.dbPath == "" {
		e.dbPath = filepath.Join(t.TempDir(), "keys.db")
	}
	if e.reg == nil {
		e.reg = &Registry{}
		if err := e.reg.Replace([]Entry{{Name: testUsecase, Vendor: "example", VersionCount: 2, Usecase: openSet(t, "A", 1)}}); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	kv, spent := o.kv, o.spent
	if kv == nil {
		if e.bolt, err = store.OpenBolt(e.dbPath); err != nil {
			t.Fatal(err)
		}
		if kv, err = e.bolt.KV("evaluation-keys", store.Limits{TTL: defaultKeyTTL, MaxKeyBytes: 64, MaxValueBytes: defaultMaxKeyBytes}); err != nil {
			t.Fatal(err)
		}
		if spent, err = e.bolt.SpentSet("nonces", 0); err != nil {
			t.Fatal(err)
		}
	}
	deps := Deps{Registry: e.reg, Keys: kv, Metrics: o.metrics, Logger: o.logger}
	if !o.noToken {
		e.tokens = newTestTokens(t, spent)
		deps.Tokens = e.tokens
	}
	if e.s, err = New(o.cfg, deps); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.s.Handler())
	t.Cleanup(e.close)
	return e
}

// close stops the server and closes the store (a restart test calls it
// early; Cleanup calls it again harmlessly).
func (e *testEnv) close() {
	if e.srv != nil {
		e.srv.Close()
		e.srv = nil
	}
	if e.bolt != nil {
		if err := e.bolt.Close(); err != nil {
			e.t.Error(err)
		}
		e.bolt = nil
	}
}

// post sends a PIR-service call with a fresh token and the device headers;
// hdr overrides them ("" deletes).
func (e *testEnv) post(path string, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("User-Agent", testUA)
	req.Header.Set("User-Identifier", "3F2504E0-4F89-11D3-9A0C-0305E82C3301")
	if e.tokens != nil {
		req.Header.Set("Authorization", "PrivateToken token="+base64.RawURLEncoding.EncodeToString(e.tokens.mint()))
	}
	for k, v := range hdr {
		switch {
		case v == "" && k == "User-Agent":
			req.Header[k] = []string{""} // net/http then sends none
		case v == "":
			req.Header.Del(k)
		default:
			req.Header.Set(k, v)
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// errorMessage decodes Apple's JSON error body.
func errorMessage(t testing.TB, b []byte) string {
	t.Helper()
	var eb errorBody
	if err := json.Unmarshal(b, &eb); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	return eb.Error.Message
}

func (e *testEnv) config(req *apipb.ConfigRequest, hdr map[string]string) *apipb.ConfigResponse {
	e.t.Helper()
	b, err := proto.Marshal(req)
	if err != nil {
		e.t.Fatal(err)
	}
	code, _, body := e.post("/config", b, hdr)
	if code != http.StatusOK {
		e.t.Fatalf("/config: %d %s", code, body)
	}
	var resp apipb.ConfigResponse
	if err := proto.Unmarshal(body, &resp); err != nil {
		e.t.Fatal(err)
	}
	return &resp
}

// testTokens issues real Privacy Pass tokens (RFC 9578 type 2) with the
// issuer key of Apple's privacypass vectors, and redeems them through
// api/privacypass with a durable spent set.
type testTokens struct {
	TokenVerifier
	t    testing.TB
	ring *privacypass.Keyring
}

func newTestTokens(t testing.TB, spent store.SpentSet) *testTokens {
	t.Helper()
	k, err := privacypass.ParsePrivateKeyPEM(testvec.Read(t, "privacypass", "issuer_private_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := privacypass.NewKeyring([]privacypass.KeySpec{{Key: k, Tier: "tier1"}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := privacypass.New(privacypass.Config{Keyring: ring, Spent: spent})
	if err != nil {
		t.Fatal(err)
	}
	return &testTokens{TokenVerifier: PrivacyPassVerifier(svc), t: t, ring: ring}
}

// mint plays the device: blind, have the issuer sign, finalize.
func (tt *testTokens) mint() []byte {
	tt.t.Helper()
	now := time.Now()
	k, err := tt.ring.Current("tier1", now)
	if err != nil {
		tt.t.Fatal(err)
	}
	pending, req, err := privacypass.NewTokenRequest(rand.Reader, k.Public(), []byte("challenge"))
	if err != nil {
		tt.t.Fatal(err)
	}
	resp, err := tt.ring.Issue("tier1", req, now)
	if err != nil {
		tt.t.Fatal(err)
	}
	tok, err := pending.Finalize(resp)
	if err != nil {
		tt.t.Fatal(err)
	}
	return tok
}

// TestConfigApple: /config for Apple's processed files answers Apple's
// config request with the bytes Apple's service sent.
func TestConfigApple(t *testing.T) {
	e := newEnv(t, envOptions{})
	code, hdr, body := e.post("/config", testvec.Read(t, "pir", "A", "config_request.binpb"), nil)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	if want := testvec.Read(t, "pir", "A", "config_response.binpb"); !bytes.Equal(body, want) {
		t.Errorf("config response differs from Apple's: %d bytes, want %d", len(body), len(want))
	}
	if ct := hdr.Get("Content-Type"); ct != "application/x-protobuf" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestConfigGzip(t *testing.T) {
	e := newEnv(t, envOptions{})
	req, _ := proto.Marshal(&apipb.ConfigRequest{})
	// Go's transport decompresses transparently only when it added the
	// header itself, so ask explicitly and check the raw bytes.
	code, hdr, body := e.post("/config", req, map[string]string{"Accept-Encoding": "gzip"})
	if code != http.StatusOK || hdr.Get("Content-Encoding") != "gzip" {
		t.Fatalf("status %d, Content-Encoding %q", code, hdr.Get("Content-Encoding"))
	}
	if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		t.Errorf("body is not gzip: % x", body[:min(4, len(body))])
	}
}

// TestKeyLifecycle follows the device (pir-spec §8.4): no key → upload →
// KeyStatus echoes the uploaded timestamp → reuse_existing_config.
func TestKeyLifecycle(t *testing.T) {
	e := newEnv(t, envOptions{})
	first := e.config(&apipb.ConfigRequest{Usecases: []string{testUsecase}}, nil)
	if len(first.GetKeyInfo()) != 1 || first.GetKeyInfo()[0].GetTimestamp() != 0 {
		t.Fatalf("key info before upload: %v", first.GetKeyInfo())
	}
	cfg := first.GetConfigs()[testUsecase]
	if cfg.GetPirConfig() == nil || len(cfg.GetConfigId()) != 32 {
		t.Fatalf("config: %v", cfg)
	}

	keys := testvec.Read(t, "pir", "A", "evaluation_keys.binpb")
	code, hdr, body := e.post("/key", keys, nil)
	if code != http.StatusOK || len(body) != 0 {
		t.Fatalf("/key: %d %q", code, body)
	}
	if hdr.Get("Content-Type") != "" {
		t.Errorf("/key Content-Type %q, want none", hdr.Get("Content-Type"))
	}
	var uploaded apipb.EvaluationKeys
	if err := proto.Unmarshal(keys, &uploaded); err != nil {
		t.Fatal(err)
	}
	ts := uploaded.GetKeys()[0].GetMetadata().GetTimestamp()

	second := e.config(&apipb.ConfigRequest{Usecases: []string{testUsecase}, ExistingConfigIds: [][]byte{cfg.GetConfigId()}}, nil)
	if got := second.GetKeyInfo()[0].GetTimestamp(); got != ts {
		t.Errorf("KeyStatus timestamp %d, want the uploaded %d", got, ts)
	}
	if !proto.Equal(second.GetKeyInfo()[0].GetKeyConfig(), first.GetKeyInfo()[0].GetKeyConfig()) {
		t.Error("key config changed")
	}
	if c := second.GetConfigs()[testUsecase]; !c.GetReuseExistingConfig() || c.GetPirConfig() != nil || len(c.GetConfigId()) != 0 {
		t.Errorf("with the current id: %v, want only reuse_existing_config", c)
	}

	// Another user sees no key.
	other := e.config(&apipb.ConfigRequest{Usecases: []string{testUsecase}}, map[string]string{"User-Identifier": "someone-else"})
	if got := other.GetKeyInfo()[0].GetTimestamp(); got != 0 {
		t.Errorf("other user's KeyStatus timestamp %d, want 0", got)
	}

	// A stale id gets the full config.
	third := e.config(&apipb.ConfigRequest{Usecases: []string{testUsecase}, ExistingConfigIds: [][]byte{[]byte("old")}}, nil)
	if !proto.Equal(third.GetConfigs()[testUsecase], cfg) {
		t.Error("stale id: full config expected")
	}
}

// TestRestart: keys and config ids survive closing and reopening the store
// and rebuilding the server; the device does not need to re-upload.
func TestRestart(t *testing.T) {
	e := newEnv(t, envOptions{})
	if code, _, body := e.post("/key", testvec.Read(t, "pir", "A", "evaluation_keys.binpb"), nil); code != http.StatusOK {
		t.Fatalf("/key: %d %s", code, body)
	}
	before := e.config(&apipb.ConfigRequest{Usecases: []string{testUsecase}}, nil)
	e.close()

	e2 := newEnv(t, envOptions{dbPath: e.dbPath})
	after := e2.config(&apipb.ConfigRequest{Usecases: []string{testUsecase}}, nil)
	if !proto.Equal(before, after) {
		t.Errorf("after restart:\n%v\nwant\n%v", after, before)
	}
	if after.GetKeyInfo()[0].GetTimestamp() == 0 {
		t.Error("key lost across restart")
	}
}

// TestBadInput: every malformed call gets a clear status and message and
// leaves the stored state as it was.
func TestBadInput(t *testing.T) {
	e := newEnv(t, envOptions{cfg: Config{Limits: LimitsConfig{MaxKeyBodyBytes: 1 << 20}}})
	keys := testvec.Read(t, "pir", "A", "evaluation_keys.binpb")
	if code, _, body := e.post("/key", keys, nil); code != http.StatusOK {
		t.Fatalf("/key: %d %s", code, body)
	}
	state := func() uint64 {
		return e.config(&apipb.ConfigRequest{Usecases: []string{testUsecase}}, nil).GetKeyInfo()[0].GetTimestamp()
	}
	ts := state()

	var ek apipb.EvaluationKeys
	if err := proto.Unmarshal(keys, &ek); err != nil {
		t.Fatal(err)
	}
	noMeta := proto.Clone(&ek).(*apipb.EvaluationKeys)
	noMeta.GetKeys()[0].Metadata = nil
	mustMarshal := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	requests := testvec.Read(t, "pir", "A", "requests.binpb")
	var reqs apipb.Requests
	if err := proto.Unmarshal(requests, &reqs); err != nil {
		t.Fatal(err)
	}
	edit := func(f func(r *apipb.Request)) []byte {
		c := proto.Clone(&reqs).(*apipb.Requests)
		f(c.GetRequests()[len(c.GetRequests())-1]) // the last one fails: the whole call fails
		return mustMarshal(c)
	}

	cases := []struct {
		name    string
		path    string
		body    []byte
		hdr     map[string]string
		status  int
		message string // "" = do not check
	}{
		{"no token", "/config", nil, map[string]string{"Authorization": ""}, 401, "No private token"},
		{"other scheme", "/config", nil, map[string]string{"Authorization": "Bearer abc"}, 401, "No private token"},
		{"token not base64", "/config", nil, map[string]string{"Authorization": "PrivateToken token=!!"}, 401, "No private token"},
		{"token wrong size", "/config", nil, map[string]string{"Authorization": "PrivateToken token=AAAA"}, 400, "Invalid token size 3, want 354"},
		{"no user id", "/config", nil, map[string]string{"User-Identifier": ""}, 400, "Missing 'User-Identifier' header"},
		{"no user agent", "/key", keys, map[string]string{"User-Agent": ""}, 400, "Missing 'User-Agent' header"},
		{"garbage config request", "/config", []byte{0xff, 0xff, 0xff}, nil, 400, "Malformed ConfigRequest"},
		{"unknown usecase", "/config", mustMarshal(&apipb.ConfigRequest{Usecases: []string{"com.other.url.filtering"}}), nil, 404, ""},
		{"ids count", "/config", mustMarshal(&apipb.ConfigRequest{Usecases: []string{testUsecase}, ExistingConfigIds: [][]byte{{1}, {2}}}), nil, 400, "Invalid existingConfigIds count 2. Expected 0 or 1."},
		{"garbage key", "/key", []byte("not a protobuf \xff\xff"), nil, 400, "Malformed EvaluationKeys"},
		{"key without metadata", "/key", mustMarshal(noMeta), nil, 400, "Evaluation key has unset fields"},
		{"key too large", "/key", append(bytes.Clone(keys), make([]byte, 1<<20)...), nil, 413, "Request body is larger than 1048576 bytes"},
		{"garbage queries", "/queries", []byte{0x0a, 0xff}, nil, 400, "Malformed Requests"},
		{"wrong usecase", "/queries", edit(func(r *apipb.Request) { r.Usecase = "com.other.url.filtering" }), nil, 400, "Unknown usecase: com.other.url.filtering"},
		{"evicted config", "/queries", edit(func(r *apipb.Request) { r.GetPirRequest().ConfigurationHash = []byte{1, 2} }), nil, 410,
			"Configuration id: [1, 2] is not available for usecase " + testUsecase + "."},
		{"shard out of range", "/queries", edit(func(r *apipb.Request) { r.GetPirRequest().ShardIndex = 1 }), nil, 400, "Shard index 1 out of range: the configuration has 1 shards"},
		{"shard id", "/queries", edit(func(r *apipb.Request) { r.GetPirRequest().ShardId = proto.String("x") }), nil, 501, ""},
		{"no key for user", "/queries", requests, map[string]string{"User-Identifier": "nobody"}, 400, "Evaluation key not found"},
		{"unknown request type", "/queries", edit(func(r *apipb.Request) { r.Request = nil }), nil, 400, "Unknown request type."},
		{"oprf without symmetric key", "/queries", edit(func(r *apipb.Request) { r.Request = &apipb.Request_OprfRequest{OprfRequest: &apipb.OPRFRequest{}} }), nil, 400, "SymmetricPIR not configured."},
		{"oprf for unknown usecase", "/queries", edit(func(r *apipb.Request) {
			r.Usecase = "com.other.url.filtering"
			r.Request = &apipb.Request_OprfRequest{OprfRequest: &apipb.OPRFRequest{}}
		}), nil, 400, "Unknown usecase: com.other.url.filtering"},
		{"GET", "/config", nil, nil, 405, ""},
		{"unknown path", "/nothing", nil, nil, 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var code int
			var body []byte
			if c.name == "GET" {
				resp, err := e.srv.Client().Get(e.srv.URL + c.path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				code = resp.StatusCode
			} else {
				code, _, body = e.post(c.path, c.body, c.hdr)
			}
			if code != c.status {
				t.Fatalf("status %d, want %d (%s)", code, c.status, body)
			}
			if c.message != "" {
				if got := errorMessage(t, body); got != c.message {
					t.Errorf("message %q, want %q", got, c.message)
				}
			}
		})
	}
	if got := state(); got != ts {
		t.Errorf("stored key timestamp %d after bad input, want %d", got, ts)
	}
}

// TestReplayedToken: a token is accepted once.
func TestReplayedToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := "PrivateToken token=" + base64.RawURLEncoding.EncodeToString(e.tokens.mint())
	req, _ := proto.Marshal(&apipb.ConfigRequest{})
	if code, _, body := e.post("/config", req, map[string]string{"Authorization": tok}); code != 200 {
		t.Fatalf("first use: %d %s", code, body)
	}
	code, _, body := e.post("/config", req, map[string]string{"Authorization": tok})
	if code != 401 || errorMessage(t, body) != "Token did not pass verification" {
		t.Errorf("replay: %d %s", code, body)
	}
	unknown := e.tokens.mint()
	unknown[2+32+32] ^= 1
	code, _, body = e.post("/config", req, map[string]string{"Authorization": "PrivateToken token=" + base64.RawURLEncoding.EncodeToString(unknown)})
	if want := "No token key found with key id: " + byteList(unknown[2+32+32:2+32+32+32]); code != 401 || errorMessage(t, body) != want {
		t.Errorf("unknown key: %d %s, want 401 %q", code, body, want)
	}
	forged := e.tokens.mint()
	forged[len(forged)-1] ^= 1
	code, _, body = e.post("/config", req, map[string]string{"Authorization": "PrivateToken token=" + base64.RawURLEncoding.EncodeToString(forged)})
	if code != 401 || errorMessage(t, body) != "Token did not pass verification" {
		t.Errorf("bad signature: %d %s", code, body)
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, c := range []struct {
		path     string
		draining bool
		want     int
	}{{"/healthz", false, 200}, {"/readyz", false, 200}, {"/readyz", true, 503}, {"/healthz", true, 200}} {
		e.s.SetDraining(c.draining)
		resp, err := e.srv.Client().Get(e.srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s draining=%v: %d, want %d", c.path, c.draining, resp.StatusCode, c.want)
		}
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func readAll(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
