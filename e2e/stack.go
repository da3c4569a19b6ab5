package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/blindlist/blindlist/api"
	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/internal/httplog"
	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/ohttp"
)

// Host names the device addresses inside OHTTP. The gateway forwards only
// these authorities (its allow list); the stack's balancer serves both.
const (
	ServiceHost = "service.blindlist.test"
	IssuerHost  = "issuer.blindlist.test"
)

// issuerPaths are the Privacy Pass issuer's routes, served by
// privacypass.Service on the same listener as the PIR service.
var issuerPaths = []string{"/.well-known/private-token-issuer-directory", "/token-key-for-user-token", "/issue"}

// StackConfig describes a whole deployment on loopback.
type StackConfig struct {
	// DB is the processed database to serve. Required.
	DB *Built
	// Usecase is the usecase name. Required.
	Usecase string
	// Replicas is the number of service replicas. Zero: 1.
	Replicas int
	// NewStores returns the evaluation-key store and the spent-token set of
	// one replica. Replicas sharing state return stores on the same Redis.
	// Required.
	NewStores func(replica int) (store.KV, store.SpentSet, error)
	// Keyring holds the issuer keys, shared by all replicas (in production:
	// one Secret or shared volume). Required unless KeyDir is set.
	Keyring *privacypass.Keyring
	// KeyDir, when set, replaces Keyring with rotating keys in a directory
	// shared by the replicas, as `blindlist serve` keeps them: each replica
	// notes the spent-token store's epoch there and rotates the keys when
	// the store loses its data.
	KeyDir *api.IssuerKeyDir
	// UserTokens maps bearer user tokens to tiers. Required.
	UserTokens map[string]string
	// Limits bounds each replica's work; zero fields get api's defaults.
	Limits api.LimitsConfig
	// Ready is every replica's store readiness check (api.Deps.Ready), for
	// replicas on Redis: store.Redis.Check. Nil: none.
	Ready func(context.Context) error
	// Logger receives the logs of every replica, issuer and gateway. Nil:
	// discarded.
	Logger *slog.Logger
	// KeyCacheSize caps each replica's parsed-key cache by entries
	// (api.Config.KeyCacheSize); read at every replica start. Zero: api's
	// default.
	KeyCacheSize int
	// Observe, if set, is called with the replica index and the request
	// of every call a replica receives, before it is served: test
	// instrumentation that shows where the balancer routed each device.
	Observe func(replica int, r *http.Request)
}

// Routing is how the stack's balancer picks a replica for a call.
type Routing int32

const (
	// RoundRobin spreads calls over the running replicas in turn, as a
	// Kubernetes Service does.
	RoundRobin Routing = iota
	// UserHash sends every call of one User-Identifier to the same
	// replica, by consistent hashing ([Ring]), so the replica holding a
	// device's parsed key answers it; a replica leaving moves only its
	// own devices.
	UserHash
	// External forwards every call to Stack.ExternalURL (a real proxy
	// such as NGINX in front of the replicas).
	External
)

// Stack is a running deployment on loopback: service replicas behind a
// round-robin balancer (a Kubernetes Service), an OHTTP gateway in front of
// the balancer, and a relay in front of the gateway.
type Stack struct {
	cfg      StackConfig
	Replicas []*Replica
	balancer *http.Server
	// BalancerURL reaches the replicas directly (a development build's
	// path, and the issuer directory's).
	BalancerURL string
	gateway     *http.Server
	// GatewayURL is the gateway's base URL (key configurations at
	// /ohttp-keys, requests at /gateway).
	GatewayURL string
	relay      *http.Server
	// RelayURL is the relay resource devices POST to.
	RelayURL string
	// KeyConfig is the gateway's key configuration, as Apple provisions it.
	KeyConfig ohttp.KeyConfig

	routing   atomic.Int32
	external  atomic.Pointer[string]
	balanceTr *http.Transport
}

// CloseIdleConnections drops the balancer's idle connections (after an
// external proxy reloaded, whose old workers close theirs).
func (s *Stack) CloseIdleConnections() { s.balanceTr.CloseIdleConnections() }

// Route switches the balancer's routing for the calls that follow.
// External needs SetExternal first.
func (s *Stack) Route(r Routing) { s.routing.Store(int32(r)) }

// SetExternal sets the base URL ("http://127.0.0.1:port") the External
// routing forwards to.
func (s *Stack) SetExternal(base string) { s.external.Store(&base) }

// Replica is one `blindlist serve` process: the PIR service and the
// issuer on one loopback listener, which can be stopped and restarted on
// the same address.
type Replica struct {
	index int
	cfg   *StackConfig
	addr  string

	mu      sync.Mutex
	srv     *http.Server
	api     *api.Server
	metrics *prometheus.Registry
}

// KeyCacheLookups returns the replica's parsed-key cache hits and misses
// since its last start.
func (r *Replica) KeyCacheLookups() (hits, misses float64, err error) {
	r.mu.Lock()
	reg := r.metrics
	r.mu.Unlock()
	if reg == nil {
		return 0, 0, fmt.Errorf("e2e: replica %d never started", r.index)
	}
	mfs, err := reg.Gather()
	if err != nil {
		return 0, 0, fmt.Errorf("e2e: replica %d metrics: %w", r.index, err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "blindlist_api_key_cache_lookups_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() != "result" {
					continue
				}
				switch l.GetValue() {
				case "hit":
					hits += m.GetCounter().GetValue()
				case "miss":
					misses += m.GetCounter().GetValue()
				}
			}
		}
	}
	return hits, misses, nil
}

// StartStack starts every component; Close stops them.
func StartStack(ctx context.Context, cfg StackConfig) (*Stack, error) {
	if cfg.DB == nil || cfg.Usecase == "" || cfg.NewStores == nil || cfg.Keyring == nil && cfg.KeyDir == nil || cfg.UserTokens == nil {
		return nil, errors.New("e2e: StackConfig needs DB, Usecase, NewStores, Keyring or KeyDir and UserTokens")
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	s := &Stack{cfg: cfg}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	for i := range cfg.Replicas {
		r := &Replica{index: i, cfg: &s.cfg}
		if err := r.Start(ctx); err != nil {
			return nil, err
		}
		s.Replicas = append(s.Replicas, r)
	}

	var err error
	s.balancer, s.BalancerURL, err = serve(newBalancer(s))
	if err != nil {
		return nil, err
	}

	seed := make([]byte, ohttp.SeedSize)
	if _, err := io.ReadFull(rand.Reader, seed); err != nil {
		return nil, fmt.Errorf("e2e: gateway seed: %w", err)
	}
	keys, err := ohttp.DeriveKeySet(seed, []uint8{1}, nil, ohttp.DefaultSuites())
	if err != nil {
		return nil, fmt.Errorf("e2e: gateway keys: %w", err)
	}
	s.KeyConfig = keys.Configs()[0]
	proxy, err := ohttp.NewProxy(ohttp.ProxyConfig{Upstream: s.BalancerURL})
	if err != nil {
		return nil, fmt.Errorf("e2e: gateway proxy: %w", err)
	}
	// The balancer's own authority is allowed too, so a device configured
	// with the loopback URL (a development build's view) can also go
	// through the gateway.
	balancerHost := strings.TrimPrefix(s.BalancerURL, "http://")
	gw, err := ohttp.New(ohttp.Config{
		Logger:         cfg.Logger,
		Keys:           keys,
		Targets:        map[string]http.Handler{ServiceHost: proxy, IssuerHost: proxy, balancerHost: proxy},
		ForwardTimeout: time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("e2e: gateway: %w", err)
	}
	s.gateway, s.GatewayURL, err = serve(gw.Handler())
	if err != nil {
		return nil, err
	}

	relay, err := ohttp.NewRelay(ohttp.RelayConfig{GatewayURL: s.GatewayURL + ohttp.GatewayPath, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("e2e: relay: %w", err)
	}
	s.relay, s.RelayURL, err = serve(relay.Handler())
	if err != nil {
		return nil, err
	}
	s.RelayURL += "/relay"
	ok = true
	return s, nil
}

// Close stops every component.
func (s *Stack) Close() {
	for _, srv := range []*http.Server{s.relay, s.gateway, s.balancer} {
		if srv != nil {
			srv.Close()
		}
	}
	for _, r := range s.Replicas {
		r.Stop()
	}
}

// Device returns a device configured for the stack: every token-key, issue
// and PIR call goes device → relay → gateway → balancer → replica; the
// issuer directory is fetched directly, as devices do.
func (s *Stack) Device(userToken string) *Device {
	oc := &ohttp.Client{RelayURL: s.RelayURL, KeyConfig: s.KeyConfig}
	return &Device{
		Service:         "https://" + ServiceHost,
		Issuer:          "https://" + IssuerHost,
		Usecase:         s.cfg.Usecase,
		UserToken:       userToken,
		Prefilter:       s.cfg.DB.Prefilter,
		Client:          &http.Client{Transport: oc, Timeout: 2 * time.Minute},
		DirectoryClient: &http.Client{Transport: rewriteTo(s.BalancerURL), Timeout: time.Minute},
	}
}

// DirectDevice returns a device that talks to one replica directly, as a
// development build talks to the configured hosts.
func (s *Stack) DirectDevice(replica int, userToken string) *Device {
	base := "http://" + s.Replicas[replica].addr
	return &Device{
		Service:   base,
		Issuer:    base,
		Usecase:   s.cfg.Usecase,
		UserToken: userToken,
		Prefilter: s.cfg.DB.Prefilter,
		Client:    &http.Client{Timeout: 2 * time.Minute},
	}
}

// Rollout publishes a new database on every replica, one after the other,
// while they serve (api.Server.Replace): calls in flight finish on the old
// version, and older configurations keep answering up to the versions kept.
// Replicas restarted later load db.
func (s *Stack) Rollout(ctx context.Context, db *Built) error {
	for _, r := range s.Replicas {
		if err := r.replace(ctx, db); err != nil {
			return err
		}
	}
	s.cfg.DB = db
	return nil
}

func (r *Replica) replace(ctx context.Context, db *Built) error {
	uc, err := api.OpenUsecase(ctx, usecaseConfig(r.cfg.Usecase, db))
	if err != nil {
		return fmt.Errorf("e2e: replica %d: %w", r.index, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.api == nil {
		return fmt.Errorf("e2e: replica %d never started", r.index)
	}
	if err := r.api.Replace([]api.Entry{{Name: r.cfg.Usecase, Vendor: "e2e", VersionCount: 2, Usecase: uc}}); err != nil {
		return fmt.Errorf("e2e: replica %d: %w", r.index, err)
	}
	return nil
}

// usecaseConfig is the service's usecase entry for db, with its
// symmetric-PIR key file when it has one.
func usecaseConfig(name string, db *Built) api.UsecaseConfig {
	uc := api.UsecaseConfig{Name: name, Directory: db.Dir, FileStem: db.Stem, ShardCount: db.ShardCount}
	if db.SymmetricKeyFile != "" {
		uc.SymmetricPirArguments = &api.SymmetricPirArguments{DatabaseEncryptionKeyFilePath: db.SymmetricKeyFile}
	}
	return uc
}

// Addr returns the replica's host:port.
func (r *Replica) Addr() string { return r.addr }

// Start starts the replica, on its previous address after a Stop.
func (r *Replica) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		return nil
	}
	kv, spent, err := r.cfg.NewStores(r.index)
	if err != nil {
		return fmt.Errorf("e2e: replica %d stores: %w", r.index, err)
	}
	pp, err := r.issuer(ctx, spent)
	if err != nil {
		return fmt.Errorf("e2e: replica %d issuer: %w", r.index, err)
	}
	uc, err := api.OpenUsecase(ctx, usecaseConfig(r.cfg.Usecase, r.cfg.DB))
	if err != nil {
		return fmt.Errorf("e2e: replica %d: %w", r.index, err)
	}
	reg := &api.Registry{}
	if err := reg.Replace([]api.Entry{{Name: r.cfg.Usecase, Vendor: "e2e", VersionCount: 2, Usecase: uc}}); err != nil {
		return fmt.Errorf("e2e: replica %d: %w", r.index, err)
	}
	metrics := prometheus.NewRegistry()
	as, err := api.New(api.Config{Limits: r.cfg.Limits, KeyCacheSize: r.cfg.KeyCacheSize},
		api.Deps{Registry: reg, Keys: kv, Tokens: api.PrivacyPassVerifier(pp), Logger: r.cfg.Logger, Ready: r.cfg.Ready, Metrics: metrics})
	if err != nil {
		return fmt.Errorf("e2e: replica %d: %w", r.index, err)
	}
	mux := http.NewServeMux()
	for _, p := range issuerPaths {
		mux.Handle(p, pp.Handler())
	}
	mux.Handle("/", as.Handler())
	var h http.Handler = mux
	if obs := r.cfg.Observe; obs != nil {
		idx := r.index
		h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			obs(idx, req)
			mux.ServeHTTP(w, req)
		})
	}

	addr := r.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	// A restarted replica takes its old port back; the kernel may hold it
	// briefly after the close.
	for try := 0; ; try++ {
		ln, err = net.Listen("tcp", addr)
		if err == nil || try == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("e2e: replica %d: %w", r.index, err)
	}
	r.addr = ln.Addr().String()
	r.srv = newServer(h)
	r.api, r.metrics = as, metrics
	go r.srv.Serve(ln)
	return nil
}

// issuer builds the replica's Privacy Pass service: on the fixed keyring,
// or on KeyDir's rotating keys with the spent-token epoch noted there and
// the keys rotated when the store loses its data, as `serve` does.
func (r *Replica) issuer(ctx context.Context, spent store.SpentSet) (*privacypass.Service, error) {
	cfg := privacypass.Config{Keyring: r.cfg.Keyring, UserTokens: r.cfg.UserTokens, Spent: spent, Logger: r.cfg.Logger}
	d := r.cfg.KeyDir
	if d == nil {
		return privacypass.New(cfg)
	}
	var tiers []string
	for _, tier := range r.cfg.UserTokens {
		if !slices.Contains(tiers, tier) {
			tiers = append(tiers, tier)
		}
	}
	ring, err := d.Keyring(tiers, time.Now())
	if err != nil {
		return nil, err
	}
	var pp *privacypass.Service
	cfg.Keyring, cfg.EpochNote = ring, d
	cfg.OnEpoch = func(since time.Time) {
		if ring, err := d.KeyringSince(tiers, time.Now(), since); err == nil {
			pp.SetKeyring(ring)
		}
	}
	if pp, err = privacypass.New(cfg); err != nil {
		return nil, err
	}
	if _, err := pp.SpentEpoch(ctx); err != nil {
		return nil, err
	}
	return pp, nil
}

// Stop kills the replica abruptly: open connections are closed and calls
// in flight fail, as when a process dies.
func (r *Replica) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		r.srv.Close()
		r.srv = nil
	}
}

func (r *Replica) running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.srv != nil
}

// newBalancer returns the stack's balancer: a reverse proxy that picks a
// running replica by the stack's routing (round-robin like a Kubernetes
// Service in front of ready pods, or consistent hashing on the
// User-Identifier), or forwards to an external proxy. A replica that is
// stopped receives no new calls; calls in flight on it fail.
func newBalancer(s *Stack) http.Handler {
	var next atomic.Uint64
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		Proxy:               nil,
	}
	s.balanceTr = tr
	replicas := s.Replicas
	var rings ringCache
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			var target string
			switch Routing(s.routing.Load()) {
			case External:
				if u := s.external.Load(); u != nil {
					target = strings.TrimPrefix(*u, "http://")
				}
			case UserHash:
				var running []string
				for _, r := range replicas {
					if r.running() {
						running = append(running, r.addr)
					}
				}
				if len(running) > 0 {
					target = rings.get(running).Pick(pr.In.Header.Get("User-Identifier"))
				}
			default:
				for range len(replicas) {
					c := replicas[next.Add(1)%uint64(len(replicas))]
					if c.running() {
						target = c.addr
						break
					}
				}
			}
			if target == "" {
				target = replicas[0].addr
			}
			pr.SetURL(&url.URL{Scheme: "http", Host: target})
			pr.Out.Host = pr.In.Host
		},
		Transport: tr,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
}

func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       time.Minute,
		// As in production: no client address in the server's lines.
		ErrorLog: httplog.NewErrorLog(slog.Default().Handler(), slog.LevelWarn),
	}
}

// serve starts h on a fresh loopback port.
func serve(h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("e2e: %w", err)
	}
	srv := newServer(h)
	go srv.Serve(ln)
	return srv, "http://" + ln.Addr().String(), nil
}

// rewriteTo is a transport that sends every request to base, keeping the
// request's Host: how the device's directory fetch reaches a host name that
// only exists inside the stack.
func rewriteTo(base string) http.RoundTripper {
	u, _ := url.Parse(base)
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		out := req.Clone(req.Context())
		out.Host = req.URL.Host
		out.URL.Scheme, out.URL.Host = u.Scheme, u.Host
		return http.DefaultTransport.RoundTrip(out)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
