package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/bloom"
	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/oprf"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// DefaultUserAgent is the User-Agent a Device sends: the shape of the
// ciphermld daemon's (pir-spec §8.2 item 3), so the service's platform
// parsing sees iOS.
const DefaultUserAgent = "com.apple.ciphermld/1.0 iOS/26.1 (blindlist device simulator)"

// maxResponseBytes caps every response body a Device reads.
const maxResponseBytes = 16 << 20

// Device plays an Apple device running NEURLFilter (client-spec §1): for a
// visited URL it derives the sub-URLs, tests them against the prefilter,
// and looks the positive ones up with keyword PIR, authenticating every
// PIR-service call with a fresh Privacy Pass token.
//
// A Device keeps what a device keeps between lookups: the PIR configuration,
// its secret key and the timestamp of the evaluation key it uploaded, and
// unspent tokens. It is safe for concurrent use; lookups share that state.
type Device struct {
	// Service is the PIR service's base URL as the device addresses it
	// ("https://service.example.net"). Required.
	Service string
	// Issuer is the Privacy Pass issuer's base URL. Empty: Service.
	Issuer string
	// Usecase is "<app bundle id>.url.filtering". Required.
	Usecase string
	// UserToken is the bearer token the app configured
	// (pirAuthenticationToken). Required unless the service runs without
	// Privacy Pass and NoTokens is set.
	UserToken string
	// NoTokens sends PIR calls without a token, for a service started with
	// Privacy Pass disabled.
	NoTokens bool
	// Prefilter is the Bloom filter the app installed. Nil: every sub-URL is
	// looked up, as if the prefilter said "maybe" for all.
	Prefilter *bloom.Filter
	// Client carries the token-key, issue and PIR calls: a plain client
	// for a development build, or one whose transport is an
	// [ohttp.Client] for the relay path. Nil: http.DefaultClient.
	Client *http.Client
	// DirectoryClient fetches the issuer directory, which devices fetch
	// outside the relay. Nil: Client.
	DirectoryClient *http.Client
	// DirectoryURL is the base URL the directory is fetched from. Empty:
	// Issuer. Set it when the issuer's public name does not resolve where
	// the simulator runs (a local stack).
	DirectoryURL string
	// UserAgent is sent on every PIR call. Empty: DefaultUserAgent.
	UserAgent string
	// UserID is the User-Identifier header. Empty: a random one.
	UserID string
	// TokenBatch is how many tokens one refill fetches (the reference client
	// fetches 1 + 3 at first). Zero: 4.
	TokenBatch int
	// Rand is the randomness for keys, queries and tokens. Nil: crypto/rand.
	Rand io.Reader

	setup  sync.Mutex // serialises /config and /key; held across calls
	mu     sync.Mutex // guards the fields below and Rand; never held across calls
	state  *deviceState
	tokens [][]byte
}

type deviceState struct {
	cfg    *pir.ClientConfig
	client *pir.Client
	keyTS  uint64 // timestamp of the uploaded key, 0 if none
	meta   *apipb.EvaluationKeyMetadata
}

// Verdict is the outcome of one visited URL.
type Verdict struct {
	// URL is the visited URL.
	URL string
	// SubURLs is how many strings the device derived.
	SubURLs int
	// Candidates are the sub-URLs the prefilter answered "maybe" for, in
	// the device's order; only these are looked up.
	Candidates []string
	// Matched are the candidates the PIR database holds.
	Matched []string
	// Blocked is the verdict: true when any candidate matched.
	Blocked bool
	// Timings break the lookup down.
	Timings Timings
	// Sizes are the bytes of the PIR calls (before OHTTP).
	Sizes Sizes
}

// Timings are the durations of a lookup's steps. Steps that did not run are
// zero.
type Timings struct {
	Prefilter time.Duration // sub-URLs and Bloom tests
	Tokens    time.Duration // directory, token key and /issue calls
	Config    time.Duration // POST /config
	KeyUpload time.Duration // key generation and POST /key
	Query     time.Duration // query encryption, POST /queries, decryption
	Total     time.Duration
}

// Sizes are request and response body sizes of one lookup's calls.
type Sizes struct {
	KeyBytes      int // the /key body (0 when no upload was needed)
	QueryBytes    int // the /queries body
	ResponseBytes int // the /queries response body
}

// StatusError is a call that returned a non-200 status.
type StatusError struct {
	Call   string // "POST /queries"
	Status int
	Body   string // the body, truncated to 200 bytes
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("e2e: %s: status %d: %s", e.Call, e.Status, e.Body)
}

func (d *Device) rand() io.Reader {
	if d.Rand != nil {
		return d.Rand
	}
	return rand.Reader
}

func (d *Device) client() *http.Client {
	if d.Client != nil {
		return d.Client
	}
	return http.DefaultClient
}

func (d *Device) issuer() string {
	if d.Issuer != "" {
		return d.Issuer
	}
	return d.Service
}

// Check looks up one visited URL as the device does and returns the verdict.
func (d *Device) Check(ctx context.Context, visited string) (*Verdict, error) {
	start := time.Now()
	v := &Verdict{URL: visited}
	subs, err := blocklist.SubURLs(visited)
	if err != nil {
		return nil, fmt.Errorf("e2e: expanding %q: %w", visited, err)
	}
	v.SubURLs = len(subs)
	seen := map[string]bool{}
	for _, s := range subs {
		if seen[s] {
			continue
		}
		seen[s] = true
		if d.Prefilter == nil || d.Prefilter.TestString(s) {
			v.Candidates = append(v.Candidates, s)
		}
	}
	v.Timings.Prefilter = time.Since(start)
	if len(v.Candidates) > 0 {
		if err := d.lookup(ctx, v); err != nil {
			return nil, err
		}
	}
	v.Blocked = len(v.Matched) > 0
	v.Timings.Total = time.Since(start)
	return v, nil
}

// lookup runs the PIR part for v.Candidates: config, key, one /queries
// call with one request per candidate, decryption.
func (d *Device) lookup(ctx context.Context, v *Verdict) error {
	st, err := d.ensureConfig(ctx, v)
	if err != nil {
		return err
	}
	t0, tok0 := time.Now(), v.Timings.Tokens
	keywords := make([][]byte, len(v.Candidates))
	for i, kw := range v.Candidates {
		keywords[i] = []byte(kw)
	}
	var outs []*oprf.Output
	if st.cfg.Symmetric != nil {
		if outs, err = d.oprfRound(ctx, st, v, keywords); err != nil {
			return err
		}
		for i, o := range outs {
			keywords[i] = o.ObliviousKeyword()
		}
	}
	reqs := &apipb.Requests{}
	queries := make([]*pir.Query, len(v.Candidates))
	for i, kw := range keywords {
		d.mu.Lock()
		q, req, err := st.client.NewQuery(kw, st.meta, d.rand())
		d.mu.Unlock()
		if err != nil {
			return fmt.Errorf("e2e: building the query: %w", err)
		}
		queries[i] = q
		reqs.Requests = append(reqs.Requests, &apipb.Request{Usecase: d.Usecase, Request: &apipb.Request_PirRequest{PirRequest: req}})
	}
	body, err := proto.Marshal(reqs)
	if err != nil {
		return fmt.Errorf("e2e: encoding /queries: %w", err)
	}
	v.Sizes.QueryBytes = len(body)
	respBody, err := d.pirCall(ctx, &v.Timings, "/queries", body)
	var se *StatusError
	if errors.As(err, &se) && (se.Status == http.StatusGone ||
		se.Status == http.StatusBadRequest && strings.Contains(se.Body, "Evaluation key not found")) {
		// The configuration was replaced or the service lost the key: a
		// device re-fetches /config and uploads a key on its next lookup.
		d.Forget()
	}
	if err != nil {
		return err
	}
	v.Sizes.ResponseBytes = len(respBody)
	var resps apipb.Responses
	if err := proto.Unmarshal(respBody, &resps); err != nil {
		return fmt.Errorf("e2e: decoding /queries response: %w", err)
	}
	if len(resps.GetResponses()) != len(queries) {
		return fmt.Errorf("e2e: /queries returned %d responses for %d requests", len(resps.GetResponses()), len(queries))
	}
	for i, r := range resps.GetResponses() {
		pr := r.GetPirResponse()
		if pr == nil {
			return fmt.Errorf("e2e: /queries response %d is not a PIR response", i)
		}
		value, found, err := st.client.Decrypt(queries[i], pr)
		if err != nil {
			return fmt.Errorf("e2e: decrypting response %d: %w", i, err)
		}
		if found && outs != nil {
			// Symmetric PIR: the value opens only under this keyword's
			// OPRF output; a value that does not is refused.
			if _, err := outs[i].Decrypt(value); err != nil {
				return fmt.Errorf("e2e: response %d: symmetric PIR value: %w", i, err)
			}
		}
		if found {
			v.Matched = append(v.Matched, v.Candidates[i])
		}
	}
	v.Timings.Query = time.Since(t0) - (v.Timings.Tokens - tok0) // token fetches are counted apart
	return nil
}

// oprfRound runs the symmetric-PIR OPRF round (pir-spec §5) for keywords in
// one /queries call, as Apple's PIRClient.symmetricPirRequest does, and
// returns each keyword's verified OPRF output. A response whose proof does
// not verify against the config's server_public_key fails the lookup.
func (d *Device) oprfRound(ctx context.Context, st *deviceState, v *Verdict, keywords [][]byte) ([]*oprf.Output, error) {
	reqs := &apipb.Requests{}
	qs := make([]*pir.OPRFQuery, len(keywords))
	for i, kw := range keywords {
		d.mu.Lock()
		q, req, err := st.client.NewOPRFRequest(kw, d.rand())
		d.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("e2e: building the OPRF request: %w", err)
		}
		qs[i] = q
		reqs.Requests = append(reqs.Requests, &apipb.Request{Usecase: d.Usecase, Request: &apipb.Request_OprfRequest{OprfRequest: req}})
	}
	body, err := proto.Marshal(reqs)
	if err != nil {
		return nil, fmt.Errorf("e2e: encoding /queries: %w", err)
	}
	respBody, err := d.pirCall(ctx, &v.Timings, "/queries", body)
	if err != nil {
		return nil, err
	}
	var resps apipb.Responses
	if err := proto.Unmarshal(respBody, &resps); err != nil {
		return nil, fmt.Errorf("e2e: decoding /queries response: %w", err)
	}
	if len(resps.GetResponses()) != len(qs) {
		return nil, fmt.Errorf("e2e: /queries returned %d OPRF responses for %d requests", len(resps.GetResponses()), len(qs))
	}
	outs := make([]*oprf.Output, len(qs))
	for i, r := range resps.GetResponses() {
		or := r.GetOprfResponse()
		if or == nil {
			return nil, fmt.Errorf("e2e: /queries response %d is not an OPRF response", i)
		}
		if outs[i], err = st.client.FinishOPRF(qs[i], or); err != nil {
			return nil, fmt.Errorf("e2e: OPRF response %d: %w", i, err)
		}
	}
	return outs, nil
}

// ensureConfig fetches /config when the device has none, and uploads an
// evaluation key when the service reports none (or another) for this user.
func (d *Device) ensureConfig(ctx context.Context, v *Verdict) (*deviceState, error) {
	d.mu.Lock()
	st := d.state
	d.mu.Unlock()
	if st != nil {
		return st, nil
	}
	d.setup.Lock()
	defer d.setup.Unlock()
	d.mu.Lock()
	st = d.state
	d.mu.Unlock()
	if st != nil {
		return st, nil // another lookup finished the setup meanwhile
	}

	t0, tok0 := time.Now(), v.Timings.Tokens
	body, err := proto.Marshal(&apipb.ConfigRequest{Usecases: []string{d.Usecase}})
	if err != nil {
		return nil, fmt.Errorf("e2e: encoding /config: %w", err)
	}
	respBody, err := d.pirCall(ctx, &v.Timings, "/config", body)
	if err != nil {
		return nil, err
	}
	var cresp apipb.ConfigResponse
	if err := proto.Unmarshal(respBody, &cresp); err != nil {
		return nil, fmt.Errorf("e2e: decoding /config response: %w", err)
	}
	cfg, err := pir.ClientConfigFromResponse(&cresp, d.Usecase)
	if err != nil {
		return nil, fmt.Errorf("e2e: /config: %w", err)
	}
	v.Timings.Config = time.Since(t0) - (v.Timings.Tokens - tok0)

	// A fresh device has no secret key, so whatever timestamp the service
	// reports, it generates a key and uploads it (pir-spec §8.4).
	t1, tok1 := time.Now(), v.Timings.Tokens
	d.mu.Lock()
	client, err := pir.NewClient(cfg, d.rand())
	d.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	ts := uint64(time.Now().Unix())
	d.mu.Lock()
	ek, err := client.EvaluationKey(ts, d.rand())
	d.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("e2e: generating the evaluation key: %w", err)
	}
	kbody, err := proto.Marshal(&apipb.EvaluationKeys{Keys: []*apipb.EvaluationKey{ek}})
	if err != nil {
		return nil, fmt.Errorf("e2e: encoding /key: %w", err)
	}
	v.Sizes.KeyBytes = len(kbody)
	if _, err := d.pirCall(ctx, &v.Timings, "/key", kbody); err != nil {
		return nil, err
	}
	v.Timings.KeyUpload = time.Since(t1) - (v.Timings.Tokens - tok1)
	st = &deviceState{cfg: cfg, client: client, keyTS: ts, meta: ek.GetMetadata()}
	d.mu.Lock()
	d.state = st
	d.mu.Unlock()
	return st, nil
}

// pirCall POSTs body to the service path with the headers every PIR call
// carries (pir-spec §8.2) and returns the response body of a 200. Time
// spent fetching tokens is added to tm.Tokens.
func (d *Device) pirCall(ctx context.Context, tm *Timings, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Service+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	if !d.NoTokens {
		t0 := time.Now()
		tok, err := d.token(ctx)
		tm.Tokens += time.Since(t0)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", privacypass.Authorization(tok))
	}
	ua := d.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("User-Identifier", d.userID())
	return d.do(d.client(), req, "POST "+path)
}

func (d *Device) userID() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.UserID == "" {
		var b [16]byte
		if _, err := io.ReadFull(d.rand(), b[:]); err != nil {
			b = [16]byte{} // unreachable with crypto/rand; a fixed id is still valid
		}
		d.UserID = base64.RawURLEncoding.EncodeToString(b[:])
	}
	return d.UserID
}

func (d *Device) do(c *http.Client, req *http.Request, call string) ([]byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("e2e: %s: %w", call, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("e2e: %s: reading the response: %w", call, err)
	}
	if len(b) > maxResponseBytes {
		return nil, fmt.Errorf("e2e: %s: response over %d bytes", call, maxResponseBytes)
	}
	if resp.StatusCode != http.StatusOK {
		if len(b) > 200 {
			b = b[:200]
		}
		return nil, &StatusError{Call: call, Status: resp.StatusCode, Body: string(b)}
	}
	return b, nil
}

// token returns an unspent token, fetching a batch when none is left.
func (d *Device) token(ctx context.Context) ([]byte, error) {
	d.mu.Lock()
	if n := len(d.tokens); n > 0 {
		t := d.tokens[n-1]
		d.tokens = d.tokens[:n-1]
		d.mu.Unlock()
		return t, nil
	}
	d.mu.Unlock()
	batch := d.TokenBatch
	if batch <= 0 {
		batch = 4
	}
	toks, err := d.FetchTokens(ctx, batch)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.tokens = append(d.tokens, toks[1:]...)
	d.mu.Unlock()
	return toks[0], nil
}

// FetchTokens runs the device's issuance flow (client-spec §6): the issuer
// directory, the token key for the user token (which must be listed in the
// directory), then n parallel POST /issue calls. It returns n tokens.
func (d *Device) FetchTokens(ctx context.Context, n int) ([][]byte, error) {
	if n < 1 {
		return nil, errors.New("e2e: FetchTokens needs n ≥ 1")
	}
	if d.UserToken == "" {
		return nil, errors.New("e2e: no user token to fetch Privacy Pass tokens with")
	}
	dc := d.DirectoryClient
	if dc == nil {
		dc = d.client()
	}
	dirBase := d.DirectoryURL
	if dirBase == "" {
		dirBase = d.issuer()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, dirBase+"/.well-known/private-token-issuer-directory", nil)
	if err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	dirBody, err := d.do(dc, req, "GET issuer directory")
	if err != nil {
		return nil, err
	}
	var dir struct {
		IssuerRequestURI string `json:"issuer-request-uri"`
		TokenKeys        []struct {
			TokenType int    `json:"token-type"`
			TokenKey  string `json:"token-key"`
		} `json:"token-keys"`
	}
	if err := json.Unmarshal(dirBody, &dir); err != nil {
		return nil, fmt.Errorf("e2e: decoding the issuer directory: %w", err)
	}

	req, err = http.NewRequestWithContext(ctx, http.MethodGet, d.issuer()+"/token-key-for-user-token", nil)
	if err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+d.UserToken)
	spki, err := d.do(d.client(), req, "GET /token-key-for-user-token")
	if err != nil {
		return nil, err
	}
	listed := false
	for _, k := range dir.TokenKeys {
		b, err := decodeBase64URL(k.TokenKey)
		if err == nil && k.TokenType == int(privacypass.TokenType) && bytes.Equal(b, spki) {
			listed = true
		}
	}
	if !listed {
		return nil, errors.New("e2e: the token key for this user is not in the issuer directory")
	}
	pub, err := privacypass.ParsePublicKey(spki)
	if err != nil {
		return nil, fmt.Errorf("e2e: token key: %w", err)
	}
	issueURI := dir.IssuerRequestURI
	if issueURI == "" {
		issueURI = "/issue"
	}
	if u, err := url.Parse(issueURI); err == nil && u.IsAbs() {
		issueURI = u.Path // the device addresses the issuer host it was configured with
	}
	issuerHost := d.issuer()
	if u, err := url.Parse(issuerHost); err == nil {
		issuerHost = u.Hostname()
	}
	challenge, err := (&privacypass.TokenChallenge{TokenType: privacypass.TokenType, IssuerName: issuerHost}).Marshal()
	if err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}

	toks := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			toks[i], errs[i] = d.issueOne(ctx, pub, challenge, issueURI)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return toks, nil
}

func (d *Device) issueOne(ctx context.Context, pub *privacypass.PublicKey, challenge []byte, issueURI string) ([]byte, error) {
	d.mu.Lock() // Rand need not be safe for concurrent use
	pending, treq, err := privacypass.NewTokenRequest(d.rand(), pub, challenge)
	d.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("e2e: token request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.issuer()+issueURI, bytes.NewReader(treq))
	if err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+d.UserToken)
	req.Header.Set("Content-Type", "application/private-token-request")
	resp, err := d.do(d.client(), req, "POST /issue")
	if err != nil {
		return nil, err
	}
	tok, err := pending.Finalize(resp)
	if err != nil {
		return nil, fmt.Errorf("e2e: finalizing the token: %w", err)
	}
	return tok, nil
}

// Forget drops the device's PIR state (configuration, secret key, uploaded
// key), as resetPIRCache and a reinstall do. Tokens are kept.
func (d *Device) Forget() {
	d.mu.Lock()
	d.state = nil
	d.mu.Unlock()
}

func decodeBase64URL(s string) ([]byte, error) {
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.URLEncoding.DecodeString(s)
}
