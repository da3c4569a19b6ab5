package ohttp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/blindlist/blindlist/ohttp/bhttp"
)

// Paths the gateway handler serves.
const (
	// GatewayPath accepts POSTed message/ohttp-req bodies: the gateway
	// resource Apple's relay forwards to.
	GatewayPath = "/gateway"
	// KeysPath serves the active key configurations as
	// application/ohttp-keys (RFC 9458 §3.2): the key configuration resource.
	KeysPath = "/ohttp-keys"
	// LegacyConfigPath serves the first active key configuration alone,
	// without a length prefix, as Cloudflare's gateway does at the same path.
	// Which form Apple's onboarding reads is unknown (client-spec.md §5.3).
	LegacyConfigPath = "/ohttp-configs"
)

// Media types of RFC 9458 §9.
const (
	mediaTypeRequest  = "message/ohttp-req"
	mediaTypeResponse = "message/ohttp-res"
	mediaTypeKeys     = "application/ohttp-keys"
)

// Defaults for the zero values of [Config] size caps.
const (
	DefaultMaxRequestBytes  = 16 << 20 // an evaluation-key upload is about 10 MiB
	DefaultMaxResponseBytes = 16 << 20
)

// problemKeyConfig is the RFC 9458 §5.3 problem document for a key
// configuration mismatch.
const problemKeyConfig = `{"type":"https://iana.org/assignments/http-problem-types#ohttp-key","title":"key identifier unknown"}`

// Config configures a [Gateway]. The zero value of each optional field is
// documented; New rejects negative sizes and durations.
type Config struct {
	// Keys is the set of HPKE keys the gateway accepts and advertises.
	// Required. Replace it at run time with [Gateway.SetKeys].
	Keys *KeySet

	// Targets is the allow list: the authority ("host" or "host:port") of
	// every target the gateway forwards to, mapped to the handler that serves
	// it. Authorities compare case-insensitively and exactly otherwise (a
	// port must match). Use the service's own handler for the all-in-one
	// mode, or [NewProxy] to forward over HTTP. Requests for any other
	// authority get an encapsulated 403. At least one target is required.
	Targets map[string]http.Handler

	// MaxRequestBytes caps the encapsulated request body. Larger bodies get
	// an outer 413. Zero means DefaultMaxRequestBytes.
	MaxRequestBytes int64

	// MaxResponseBytes caps the content a target may write. A larger response
	// becomes an encapsulated 502. Zero means DefaultMaxResponseBytes.
	MaxResponseBytes int64

	// ForwardTimeout bounds the time a target may take; its context is
	// cancelled after it. Zero means no bound beyond the outer request's
	// context (and the http.Server's timeouts).
	ForwardTimeout time.Duration

	// Registerer receives the gateway's Prometheus collectors. Nil means the
	// metrics are kept but not registered anywhere.
	Registerer prometheus.Registerer

	// Logger receives one line per failed request, with a constant result
	// category and never client addresses, keys or payloads. Nil discards.
	Logger *slog.Logger

	// ResponsePadding, when positive, pads the binary HTTP message of every
	// encapsulated response with zero bytes (RFC 9292 §3.8) up to a multiple
	// of this many bytes, so that the relay, which sees sizes, sees size
	// buckets instead: answers of shards of slightly different sizes, or
	// short error answers, then look alike. Clients drop the padding. Set
	// it to the largest answer size to make every answer one size, at the
	// cost of bandwidth. Zero means no padding, as Apple's example gateway.
	// Apple's swift-nio-oblivious-http parser stops at the end of the
	// message and leaves trailing bytes unread (BHTTPParser.swift, state
	// .complete), so it accepts padded responses; that the NEURLFilter
	// client on a device does the same is not verified here: try it with a
	// device before enabling it in production.
	ResponsePadding int

	// Rand supplies response nonces. Nil means crypto/rand.
	Rand io.Reader
}

// Gateway is an RFC 9458 Oblivious Gateway Resource. It is safe for
// concurrent use.
type Gateway struct {
	keys             atomic.Pointer[KeySet]
	targets          map[string]http.Handler
	maxRequestBytes  int64
	maxResponseBytes int
	forwardTimeout   time.Duration
	responsePadding  int
	rand             io.Reader
	log              *slog.Logger
	metrics          *metrics
	keysCacheControl string
	exchanges        exchangePool
	contentLengths   contentLengthCache
}

// New checks cfg and returns a gateway.
func New(cfg Config) (*Gateway, error) {
	if cfg.Keys == nil {
		return nil, errors.New("ohttp: Config.Keys is required")
	}
	if len(cfg.Targets) == 0 {
		return nil, errors.New("ohttp: Config.Targets must allow at least one target")
	}
	if cfg.MaxRequestBytes < 0 || cfg.MaxResponseBytes < 0 || cfg.ForwardTimeout < 0 || cfg.ResponsePadding < 0 {
		return nil, errors.New("ohttp: Config sizes, padding and timeouts must not be negative")
	}
	g := &Gateway{
		targets:          make(map[string]http.Handler, len(cfg.Targets)),
		maxRequestBytes:  cmpOr(cfg.MaxRequestBytes, DefaultMaxRequestBytes),
		maxResponseBytes: int(cmpOr(cfg.MaxResponseBytes, DefaultMaxResponseBytes)),
		forwardTimeout:   cfg.ForwardTimeout,
		responsePadding:  cfg.ResponsePadding,
		rand:             cfg.Rand,
		log:              cfg.Logger,
	}
	for authority, h := range cfg.Targets {
		if authority == "" || strings.ContainsAny(authority, "/ \t") || h == nil {
			return nil, fmt.Errorf("ohttp: bad target %q: want a host or host:port with a handler", authority)
		}
		g.targets[strings.ToLower(authority)] = h
	}
	if g.rand == nil {
		g.rand = rand.Reader
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if g.metrics, err = newMetrics(cfg.Registerer); err != nil {
		return nil, fmt.Errorf("ohttp: registering metrics: %w", err)
	}
	// Key configurations change rarely; a max-age jittered per instance,
	// 12 to 36 hours as Cloudflare's gateway does, keeps caches from
	// expiring together.
	var j [2]byte
	if _, err := io.ReadFull(rand.Reader, j[:]); err != nil {
		return nil, fmt.Errorf("ohttp: %w", err)
	}
	maxAge := 12*3600 + int(binary.BigEndian.Uint16(j[:]))%(24*3600)
	g.keysCacheControl = "public, max-age=" + strconv.Itoa(maxAge)
	g.keys.Store(cfg.Keys)
	return g, nil
}

func cmpOr(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

// SetKeys replaces the key set, for rotation without a restart. Requests in
// flight finish with the set they started with.
func (g *Gateway) SetKeys(ks *KeySet) error {
	if ks == nil {
		return errors.New("ohttp: nil key set")
	}
	g.keys.Store(ks)
	return nil
}

// Handler returns the gateway's HTTP handler: POST [GatewayPath], GET
// [KeysPath] and GET [LegacyConfigPath].
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+GatewayPath, g.serveGateway)
	mux.HandleFunc("GET "+KeysPath, g.serveKeys)
	mux.HandleFunc("GET "+LegacyConfigPath, g.serveLegacyConfig)
	return mux
}

func (g *Gateway) serveKeys(w http.ResponseWriter, r *http.Request) {
	g.metrics.keyRequests.Inc()
	body := g.keys.Load().encoded
	w.Header().Set("Content-Type", mediaTypeKeys)
	w.Header().Set("Cache-Control", g.keysCacheControl)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

func (g *Gateway) serveLegacyConfig(w http.ResponseWriter, r *http.Request) {
	g.metrics.keyRequests.Inc()
	encoded := g.keys.Load().encoded // one active key always exists
	body := encoded[2 : 2+binary.BigEndian.Uint16(encoded)]
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", g.keysCacheControl)
	w.Write(body)
}

func (g *Gateway) serveGateway(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	g.metrics.inFlight.Inc()
	defer g.metrics.inFlight.Dec()
	result := g.handle(w, r)
	m := g.metrics.byResult[result]
	m.requests.Inc()
	m.duration.Observe(time.Since(start).Seconds())
	if result != resultOK {
		g.log.LogAttrs(r.Context(), slog.LevelInfo, "ohttp gateway request failed", slog.String("result", result))
	}
}

// outerError maps a failure before decapsulation succeeded to the status
// sent without protection (RFC 9458 §5.2) and its metric result. It is the
// one place that decides outer statuses.
func outerError(err error) (status int, result string) {
	var maxBytes *http.MaxBytesError
	switch {
	case errors.As(err, &maxBytes):
		return http.StatusRequestEntityTooLarge, resultTooLarge
	case errors.Is(err, ErrKeyConfig):
		return http.StatusBadRequest, resultKeyConfig
	case errors.Is(err, ErrDecrypt):
		return http.StatusBadRequest, resultDecrypt
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest, resultMalformed
	}
	return http.StatusBadRequest, resultMalformed
}

// Header values of every encapsulated response. They are shared and never
// modified: net/http copies a handler's header when it writes it.
var (
	responseContentType  = []string{mediaTypeResponse}
	responseCacheControl = []string{"private, no-store"}
)

// handle serves one encapsulated request and returns its metric result.
func (g *Gateway) handle(w http.ResponseWriter, r *http.Request) string {
	if !isMediaType(r.Header.Get("Content-Type"), mediaTypeRequest) {
		http.Error(w, http.StatusText(http.StatusUnsupportedMediaType), http.StatusUnsupportedMediaType)
		return resultUnsupportedMediaType
	}
	ex := g.exchanges.get()
	defer g.exchanges.put(ex)
	body, err := readBody(w, r, g.maxRequestBytes, ex.body)
	if err == nil {
		ex.body = body
		g.metrics.requestSize.Observe(float64(len(body)))
		// The body is ours: open it in place.
		ex.inner.Content, err = g.keys.Load().decapsulateInto(&ex.rc, body, true)
	}
	if err != nil {
		status, result := outerError(err)
		if result == resultKeyConfig {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			io.WriteString(w, problemKeyConfig)
		} else {
			http.Error(w, http.StatusText(status), status)
		}
		return result
	}

	request := ex.inner.Content
	indeterminate := len(request) > 0 && request[0] == 2 // answer in the request's framing family
	response, result := g.forward(r.Context(), ex, request, indeterminate)
	out, err := g.seal(ex, response)
	if err != nil {
		// The target's response does not encode (say, a header value with a
		// newline). Tell the client so, still encapsulated.
		result = resultResponseInvalid
		out, err = g.seal(ex, statusOnly(http.StatusBadGateway, indeterminate))
	}
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return resultInternal
	}
	g.metrics.innerStatus[statusClass(response.Status)].Inc()
	g.metrics.responseSize.Observe(float64(len(out)))
	h := w.Header()
	h["Content-Type"] = responseContentType
	h["Cache-Control"] = responseCacheControl
	h["Content-Length"] = g.contentLengths.value(len(out))
	w.WriteHeader(http.StatusOK)
	w.Write(out) // io.Writer does not keep out, so the exchange can
	return result
}

// isMediaType reports whether a Content-Type value names the media type
// want (lower case), ignoring parameters and case. It is mime.ParseMediaType
// without the parameter map, which the gateway never reads.
func isMediaType(contentType, want string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), want)
}

// statusOnly is the encapsulated answer to a failure after decapsulation: a
// status and nothing else (clients see only the status).
func statusOnly(status int, indeterminate bool) *bhttp.Response {
	return &bhttp.Response{Status: status, Indeterminate: indeterminate}
}

// forward decodes the inner request, checks it against the allow list and
// runs the target. Every failure here becomes an encapsulated response
// (RFC 9458 §5.2), so it returns a response, never an error. The response
// lives in ex.
func (g *Gateway) forward(ctx context.Context, ex *exchange, plaintext []byte, indeterminate bool) (*bhttp.Response, string) {
	br := &ex.inner
	if err := br.UnmarshalBinary(plaintext); err != nil {
		return statusOnly(http.StatusBadRequest, indeterminate), resultInnerInvalid
	}
	if fieldBytes(br.Header)+fieldBytes(br.Trailer) > MaxInnerHeaderBytes {
		return statusOnly(http.StatusRequestHeaderFieldsTooLarge, indeterminate), resultHeaderTooLarge
	}
	for _, f := range br.Header {
		// RFC 9458 §5.1: a 100-continue expectation MUST be an error.
		if strings.EqualFold(f.Name, "expect") && strings.EqualFold(f.Value, "100-continue") {
			return statusOnly(http.StatusExpectationFailed, indeterminate), resultExpectContinue
		}
	}
	authority := innerAuthority(br)
	target := g.target(authority)
	if target == nil {
		return statusOnly(http.StatusForbidden, indeterminate), resultForbiddenTarget
	}
	authority = strings.ToLower(authority)
	if g.forwardTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.forwardTimeout)
		defer cancel()
	}
	c := &call{ex: ex}
	c.body.c = c
	c.rec = recorder{c: c, header: make(http.Header), maxBytes: g.maxResponseBytes}
	req, err := newInnerRequest(ctx, c, br, authority)
	if err != nil {
		return statusOnly(http.StatusBadRequest, indeterminate), resultInnerInvalid
	}
	// From here the call ends (c.endLocked) before the lock below is
	// released, so no stray write lands between the response being built
	// and the exchange going back to the pool.
	ex.content = ex.content[:0]
	finished := serveTarget(target, &c.rec, req)
	c.mu.Lock() // a handler's stray goroutine may still write until the call ends
	defer c.mu.Unlock()
	defer c.endLocked()
	switch {
	case c.rec.overflow:
		return statusOnly(http.StatusBadGateway, indeterminate), resultResponseTooLarge
	case !finished && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return statusOnly(http.StatusGatewayTimeout, indeterminate), resultTargetFailed
	case !finished:
		return statusOnly(http.StatusBadGateway, indeterminate), resultTargetFailed
	}
	return c.rec.response(ex, indeterminate), resultOK
}

// serveTarget runs h and reports whether it returned rather than panicked.
// A panic is the target's failure, not the gateway's: httputil.ReverseProxy
// (NewProxy) panics with http.ErrAbortHandler when it cannot copy an
// upstream body (the upstream died, the response cap or the forward timeout
// cut it), and the client must still get an encapsulated answer rather than
// a connection the relay sees aborted. The panic value is not logged: it may
// hold request data.
func serveTarget(h http.Handler, w http.ResponseWriter, r *http.Request) (finished bool) {
	defer func() {
		if !finished {
			recover()
		}
	}()
	h.ServeHTTP(w, r)
	return true
}

// target returns the handler allowed for authority, compared without
// regard to case, or nil.
func (g *Gateway) target(authority string) http.Handler {
	if h, ok := g.targets[authority]; ok {
		return h
	}
	return g.targets[strings.ToLower(authority)]
}

// MaxInnerHeaderBytes caps the header and trailer fields of a decapsulated
// request (names and values summed), as an http.Server's MaxHeaderBytes
// caps a plain request's; `blindlist serve` uses the same 64 KiB. Without
// it a field inside an OHTTP request could be as large as the request cap
// (16 MiB) and reach targets that parse headers (User-Agent, Authorization)
// in process. A larger request gets an encapsulated 431.
const MaxInnerHeaderBytes = 64 << 10

// fieldBytes is the size of a field section: names and values.
func fieldBytes(fields []bhttp.Field) int {
	n := 0
	for _, f := range fields {
		n += len(f.Name) + len(f.Value)
	}
	return n
}

// seal encodes response and encapsulates it in the exchange's output
// buffer: the response nonce, then the binary HTTP message, sealed in place.
func (g *Gateway) seal(ex *exchange, response *bhttp.Response) ([]byte, error) {
	n, err := ex.rc.nonceSize()
	if err != nil {
		return nil, err
	}
	buf := slices.Grow(ex.out[:0], n+len(response.Content)+512+aeadTagSize)[:n]
	if buf, err = response.AppendBinary(buf); err != nil {
		return nil, err
	}
	if p := g.responsePadding; p > 0 {
		// AppendBinary writes every section, so zeros after the message
		// are padding in both framings.
		pad := (p - (len(buf)-n)%p) % p
		buf = slices.Grow(buf, pad)
		buf = buf[:len(buf)+pad]
		clear(buf[len(buf)-pad:])
	}
	out, err := ex.rc.sealInPlace(g.rand, buf, n)
	if err == nil {
		ex.out = out
	}
	return out, err
}
