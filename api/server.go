package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/blindlist/blindlist/internal/store"
)

// Config holds the values a [Server] needs. [FileConfig] provides them for
// `blindlist serve`; tests build one directly.
type Config struct {
	// Limits bounds body sizes, calls per request, time and concurrency.
	// Zero fields get the defaults documented on [LimitsConfig].
	Limits LimitsConfig

	// MaxKeyBytes caps one serialized evaluation key. 0: 4 MiB.
	MaxKeyBytes int64

	// KeyCacheSize caps the number of parsed evaluation keys kept in
	// memory, a second bound beside Limits.KeyCacheBytes, which binds
	// first for N = 4096 keys (a few MB each). 0: 1024; negative: no
	// cache.
	KeyCacheSize int

	// ReportDirectory receives /report files; empty drops reports.
	ReportDirectory string
}

// Deps are the collaborators of a [Server].
type Deps struct {
	// Registry holds the usecases to serve. Required.
	Registry *Registry
	// Keys stores evaluation keys (internal/store: bbolt or Redis, with
	// the TTL and size limits). Required.
	Keys store.KV
	// Tokens checks Privacy Pass tokens. Nil disables the check, as Apple's
	// example service does without an issuer: only for local tests.
	Tokens TokenVerifier
	// Logger receives one line per call (never identifiers). Nil: discard.
	Logger *slog.Logger
	// Metrics registers the collectors. Nil: a private registry.
	Metrics prometheus.Registerer
	// Ready checks the shared stores for /readyz (for Redis,
	// [store.Redis.Check]): an error makes /readyz answer 503, so load
	// balancers hold calls while the store is away; it must not block
	// longer than a probe's timeout. Nil: no check.
	Ready func(context.Context) error
}

// Server is the PIR HTTP service a device talks to, behind the OHTTP
// gateway: POST /config, /key, /queries, /report, plus GET /healthz and
// /readyz. Create it with [New]; serve [Server.Handler].
type Server struct {
	cfg      Config
	reg      *Registry
	vault    keyVault
	tokens   TokenVerifier
	ready    func(context.Context) error
	log      *slog.Logger
	m        *metrics
	sched    *scheduler
	keys     *keyCache
	uncached keysInUse // parsed keys held by answers, outside the cache budget
	draining atomic.Bool
	now      func() time.Time
	handler  http.Handler
}

// New checks the configuration and builds a server.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Registry == nil {
		return nil, errors.New("api: Deps.Registry is required")
	}
	if deps.Keys == nil {
		return nil, errors.New("api: Deps.Keys is required")
	}
	if err := cfg.Limits.normalize(); err != nil {
		return nil, fmt.Errorf("api: limits: %w", err)
	}
	if cfg.MaxKeyBytes == 0 {
		cfg.MaxKeyBytes = defaultMaxKeyBytes
	}
	if cfg.MaxKeyBytes < 0 {
		return nil, fmt.Errorf("api: MaxKeyBytes %d must not be negative", cfg.MaxKeyBytes)
	}
	switch {
	case cfg.KeyCacheSize == 0:
		cfg.KeyCacheSize = defaultKeyCacheSize
	case cfg.KeyCacheSize < 0:
		cfg.KeyCacheSize = 0
	}
	if cfg.Limits.MaxConcurrentAnswers == 0 {
		cfg.Limits.MaxConcurrentAnswers = runtime.NumCPU()
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := deps.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("api: registering metrics: %w", err)
	}
	s := &Server{
		cfg:    cfg,
		reg:    deps.Registry,
		vault:  keyVault{store: deps.Keys, maxKeyBytes: cfg.MaxKeyBytes},
		tokens: deps.Tokens,
		ready:  deps.Ready,
		log:    log,
		m:      m,
		sched:  newScheduler(cfg.Limits.MaxConcurrentAnswers, cfg.Limits.MaxQueuedAnswers),
		keys:   newKeyCache(cfg.KeyCacheSize, cfg.Limits.KeyCacheBudget(), m.keyCache),
		now:    time.Now,
	}
	s.uncached.gauge = m.uncachedKeys
	if _, ok := deps.Keys.(store.VersionedKV); ok && s.keys.maxBytes > 0 {
		s.vault.stored = newStoredKeyCache(cfg.KeyCacheSize, s.keys.maxBytes/8)
	}
	s.m.usecases.Set(float64(s.reg.Len()))
	s.handler = s.routes()
	return s, nil
}

// KeyCacheBytes returns the budget of the parsed evaluation-key cache in
// bytes (Limits.KeyCacheBytes after defaults), plus, with an object store
// for keys, the 1/8 of it that bounds the serialized copies kept for
// revalidation ([storedKeyCache]); 0 when the cache is off. `serve` adds
// it to the automatic memory limit.
func (s *Server) KeyCacheBytes() int64 {
	if s.vault.stored != nil {
		return s.keys.maxBytes + s.vault.stored.maxBytes
	}
	return s.keys.maxBytes
}

// Handler returns the HTTP handler of the service.
func (s *Server) Handler() http.Handler { return s.handler }

// SetDraining makes /readyz fail, so load balancers stop sending new calls
// before a graceful shutdown. Calls keep being served.
func (s *Server) SetDraining(v bool) { s.draining.Store(v) }

// ServedGeneration returns the id of the generation the newest version of
// a usecase was loaded from, or "" when it is not served or came from a
// directory not laid out in generations.
func (s *Server) ServedGeneration(name string) string {
	u, ok := s.reg.load().latest(name)
	if !ok {
		return ""
	}
	if pu, ok := u.(*pirUsecase); ok {
		return pu.generation
	}
	return ""
}

// Replace publishes a new set of usecases (see [Registry.Replace]) and
// records the reload in the metrics.
func (s *Server) Replace(entries []Entry) error {
	if err := s.reg.Replace(entries); err != nil {
		s.m.reloads.WithLabelValues("error").Inc()
		return err
	}
	s.m.reloads.WithLabelValues("ok").Inc()
	s.m.usecases.Set(float64(s.reg.Len()))
	return nil
}

func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "Not Found", 0)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "Method Not Allowed", 0)
	})
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	l := s.cfg.Limits
	r.Method(http.MethodPost, "/config", s.endpoint("config", l.MaxConfigBodyBytes, true, s.config))
	r.Method(http.MethodPost, "/key", s.endpoint("key", l.MaxKeyBodyBytes, true, s.key))
	r.Method(http.MethodPost, "/queries", s.endpoint("queries", l.MaxQueriesBodyBytes, true, s.queries))
	r.Method(http.MethodPost, "/report", s.endpoint("report", l.MaxReportBodyBytes, false, s.report))
	return r
}

// healthz is the liveness probe: the process serves HTTP. It stays "ok"
// while the shared store is away (a restart would not bring it back);
// /readyz reports that.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n")
}

// readyz is the readiness probe: 503 while draining, with no usecase, or
// while Deps.Ready fails (the store unreachable); "ready" again as soon as
// the store answers.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	var storeErr error
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyCheckTimeout)
		storeErr = s.ready(ctx)
		cancel()
	}
	switch {
	case s.draining.Load():
		writeError(w, http.StatusServiceUnavailable, "shutting down", 0)
	case s.reg.Len() == 0:
		writeError(w, http.StatusServiceUnavailable, "no usecase loaded", 0)
	case storeErr != nil:
		writeError(w, http.StatusServiceUnavailable, "store unavailable", retryAfter(storeErr))
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ready\n")
	}
}

// readyCheckTimeout bounds the store check of one /readyz.
const readyCheckTimeout = time.Second

// call is what the middleware learned about a request before its body.
type call struct {
	tier      string    // Privacy Pass tier, "" when tokens are disabled
	user      string    // User-Identifier; never logged
	userAgent string    // User-Agent (for compatibility rewriting and reports)
	platform  *platform // parsed from User-Agent, nil if unknown
	host      string    // Host without port, lower case
	header    http.Header
	body      []byte
}

// reply is a successful answer.
type reply struct {
	body     []byte
	encoding string // Content-Encoding, "" for identity
	empty    bool   // no Content-Type (empty 200, as Apple's /key and /report)
}

// endpointFunc is the core of an endpoint: it gets the checked call and
// returns the body to send, or an error that [classify] maps to a status.
type endpointFunc func(ctx context.Context, c *call) (*reply, error)

// Maximum User-Identifier length accepted. The device sends a short
// pseudorandom string; a cap keeps the store keys' input bounded.
const maxUserIdentifierBytes = 512

// endpoint wraps a core with the checks every PIR-service call goes through,
// in Apple's order (Privacy Pass token, User-Identifier, User-Agent), plus
// the deadline, the body cap, metrics and one log line.
func (s *Server) endpoint(name string, maxBody int64, identified bool, fn endpointFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		inFlight := s.m.inFlight.WithLabelValues(name)
		inFlight.Inc()
		defer inFlight.Dec()
		ctx, cancel := context.WithTimeout(r.Context(), time.Duration(s.cfg.Limits.RequestTimeout))
		defer cancel()

		c := &call{header: r.Header, host: hostOnly(r.Host)}
		rep, retryAfter, err := s.serveCall(ctx, w, r, c, name, maxBody, identified, fn)
		status, category := http.StatusOK, catNone
		if err != nil {
			var message string
			status, category, message = classify(err)
			if name == "report" && status == http.StatusBadRequest {
				// Apple's /report answers malformed input with an empty 400.
				w.WriteHeader(status)
			} else {
				writeError(w, status, message, retryAfter)
			}
		} else {
			writeReply(w, rep)
		}
		elapsed := s.now().Sub(start)
		s.m.requests.WithLabelValues(name, strconv.Itoa(status), category).Inc()
		s.m.duration.WithLabelValues(name).Observe(elapsed.Seconds())
		attrs := []slog.Attr{
			slog.String("endpoint", name),
			slog.Int("status", status),
			slog.String("category", category),
			slog.Duration("duration", elapsed),
			slog.Int("request_bytes", len(c.body)),
		}
		if c.tier != "" {
			attrs = append(attrs, slog.String("tier", c.tier))
		}
		level := slog.LevelInfo
		if serverFault(status, category) {
			level = slog.LevelError
			// Internal errors are ours (store, database); their text names
			// no user data.
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		s.log.LogAttrs(r.Context(), level, "api call", attrs...)
	})
}

// serverFault reports whether a call's outcome is the service's own failure,
// logged at ERROR with its error text. Everything a client can cause at
// will (4xx, 503 overload, a key that does not fit, a request for a
// feature we do not implement such as shard_id) stays at INFO, one line per
// call like every other call, so no client can fill the error log.
func serverFault(status int, category string) bool {
	return status >= 500 && status != http.StatusServiceUnavailable && category != catKeyMismatch && category != catNotImpl
}

// serveCall runs the checks and the core. retry is the Retry-After of a 503.
func (s *Server) serveCall(ctx context.Context, w http.ResponseWriter, r *http.Request, c *call,
	name string, maxBody int64, identified bool, fn endpointFunc) (rep *reply, retry int, err error) {
	if s.tokens != nil {
		c.tier, err = checkToken(ctx, s.tokens, r.Header)
		if err != nil {
			return nil, retryAfter(err), err
		}
		s.m.tokens.WithLabelValues(c.tier).Inc()
		// No rate limit here: tokens are unlinkable, so a limit could only
		// be per tier, shared by all its users. Users are limited where
		// they are known, at token issuance (privacypass.IssueLimit).
	}
	c.userAgent = r.Header.Get("User-Agent")
	if identified {
		c.user = r.Header.Get("User-Identifier")
		if c.user == "" {
			return nil, 0, newHTTPError(http.StatusBadRequest, catHeader, "Missing 'User-Identifier' header")
		}
		if len(c.user) > maxUserIdentifierBytes {
			return nil, 0, newHTTPError(http.StatusBadRequest, catHeader, "'User-Identifier' header is too long")
		}
		if c.userAgent == "" {
			return nil, 0, newHTTPError(http.StatusBadRequest, catHeader, "Missing 'User-Agent' header")
		}
		c.platform = parsePlatform(c.userAgent)
	}
	if r.ContentLength > maxBody {
		return nil, 0, &http.MaxBytesError{Limit: maxBody}
	}
	c.body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, 0, err
		}
		return nil, 0, &httpError{status: http.StatusBadRequest, category: catBody, message: "Could not read the request body", err: err}
	}
	s.m.bodyBytes.WithLabelValues(name).Observe(float64(len(c.body)))
	rep, err = fn(ctx, c)
	return rep, retryAfter(err), err
}

func writeReply(w http.ResponseWriter, rep *reply) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if !rep.empty {
		// A fixed type: without it net/http would sniff the body, and the
		// sniffed type (so the header size) could vary with the bytes.
		h.Set("Content-Type", "application/x-protobuf")
	}
	if rep.encoding != "" {
		h.Set("Content-Encoding", rep.encoding)
		h.Add("Vary", "Accept-Encoding")
	}
	h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(rep.body)
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		hostport = h
	}
	return strings.ToLower(strings.TrimSuffix(hostport, "."))
}
