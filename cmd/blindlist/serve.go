package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/blindlist/blindlist/api"
	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/generation"
	"github.com/blindlist/blindlist/internal/httplog"
	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/internal/store/s3"
	"github.com/blindlist/blindlist/ohttp"
)

const serveUsage = `Usage: blindlist serve --config FILE
       blindlist serve --db DIR --usecase NAME [--listen ADDR] [--state DIR]

Serve the PIR service Apple's NEURLFilter talks to, all in one process:
  POST /config /key /queries /report                 the PIR service (Apple's protobuf API)
  GET  /.well-known/private-token-issuer-directory   the Privacy Pass issuer
  GET  /token-key-for-user-token, POST /issue
  POST /gateway, GET /ohttp-keys                     the Oblivious HTTP gateway (when enabled)
  GET  /prefilter/{usecase}, /prefilter/{usecase}/{tag}.bin
                                                     the prefilter of the build (no Privacy Pass;
                                                     JSON metadata with ETag, then the raw bits)
  GET  /healthz /readyz
and, on the admin listener, /metrics, /versions and POST /reload.

Evaluation keys, spent tokens, issuer keys and the OHTTP key seed are kept in
the data directory (or Redis), so a restart changes nothing a device sees.
SIGHUP (or POST /reload on the admin listener) re-reads the configuration and
swaps in newly built databases atomically; calls in flight finish on the old
ones, and older configurations stay answerable (versionCount). SIGINT/SIGTERM
drain: /readyz fails at once, the listeners keep accepting for the drain delay
(so load balancers stop sending first), then calls in flight finish and the
process exits.

--config FILE is the JSON file documented in package api (FileConfig): unknown
keys are errors. --db DIR serves one usecase from a directory of processed
shards (<stem>-<i>.bin + .params.txtpb) or from the output of 'blindlist
build' (keys.txt, processed once into the state directory), with Privacy Pass
(one tier; the user token is written to STATE/user-tokens) and the OHTTP
gateway for --listen's authority.

The listener speaks HTTP/1.1 and h2c; put it behind a TLS proxy that speaks h2
to Apple's relay, or give --tls-cert and --tls-key to serve TLS (HTTP/1.1 and
h2, TLS 1.2 or later) on it directly. The admin listener stays plain HTTP.

Flags:
  --config FILE     configuration file
  --db DIR          serve this database directory (no configuration file)
  --usecase NAME    usecase name for --db: <app bundle id>.url.filtering
  --stem NAME       shard file stem for --db (default url)
  --listen ADDR     listen address for --db (default 127.0.0.1:8080)
  --admin ADDR      admin listen address for --db (default: none)
  --state DIR       state directory for --db (default DIR/state)
  --symmetric-key FILE
                    for --db: the symmetric-PIR key the shards were built with
                    ('blindlist build --symmetric-key'); required for such shards
  --drain-delay D   on SIGINT/SIGTERM, fail /readyz for D before closing the
                    listeners (overrides limits.drainDelay; default 5s)
  --key-cache-bytes N
                    bytes of parsed evaluation keys kept between calls, least
                    recently used evicted (overrides limits.keyCacheBytes):
                    0 256 MiB (default), -1 no cache; a key of a 100 000-key
                    shard counts 6.3 MB
  --memory-limit N  Go soft memory limit in bytes (overrides
                    limits.memoryLimitBytes): 0 twice the shard bytes plus
                    the key cache budget plus 32 MiB (default), -1 none;
                    GOMEMLIMIT, when set, wins
  --tls-cert FILE   TLS certificate chain (PEM) for the public listener
  --tls-key FILE    its private key (PEM); both or neither
  --prefilter-cache-control V
                    Cache-Control of GET /prefilter/{usecase} (overrides
                    prefilter.cacheControl; default "public, max-age=300")
  --prefilter-token-file FILE
                    require "Authorization: Bearer <first line of FILE>" on
                    the prefilter endpoint (overrides prefilter.bearerTokenFile)
  --generation-poll D
                    how often to look for a newly published generation of a
                    usecase directory built by 'blindlist build' (default 2s)
  --refresh-source SRC
                    refetch this http(s) source every --refresh-interval with
                    conditional requests and publish a new generation into
                    --refresh-out (default --db) when it changed; the same code
                    as 'blindlist refresh' (repeatable; --refresh-allow for allow
                    lists). Refused fetches (failed, empty, shrunk by more than
                    --refresh-max-shrink, default 0.5) keep the current generation
  --refresh-interval D
                    (default 1h)
  --log-format F    text or json (default text)

Examples:
  blindlist build --out out/ && blindlist serve --db out/ --usecase com.example.app.url.filtering
  blindlist serve --config /etc/blindlist/serve.json
`

func runServe(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	configPath := fs.String("config", "", "")
	dbDir := fs.String("db", "", "")
	usecase := fs.String("usecase", "", "")
	stem := fs.String("stem", "url", "")
	listen := fs.String("listen", "127.0.0.1:8080", "")
	admin := fs.String("admin", "", "")
	state := fs.String("state", "", "")
	logFormat := fs.String("log-format", "text", "")
	drainDelay := fs.Duration("drain-delay", 0, "")
	memLimit := fs.Int64("memory-limit", 0, "")
	keyCache := fs.Int64("key-cache-bytes", 0, "")
	symmetricKey := fs.String("symmetric-key", "", "")
	prefilterCache := fs.String("prefilter-cache-control", "", "")
	genPoll := fs.Duration("generation-poll", defaultGenerationPoll, "")
	var refreshSources, refreshAllows multiFlag
	fs.Var(&refreshSources, "refresh-source", "")
	fs.Var(&refreshAllows, "refresh-allow", "")
	refreshEvery := fs.Duration("refresh-interval", time.Hour, "")
	refreshShrink := fs.Float64("refresh-max-shrink", generation.DefaultMaxShrink, "")
	refreshOut := fs.String("refresh-out", "", "")
	prefilterToken := fs.String("prefilter-token-file", "", "")
	tlsCertFile := fs.String("tls-cert", "", "")
	tlsKeyFile := fs.String("tls-key", "", "")
	pos, code, ok := parseArgs(e, fs, serveUsage, args)
	if !ok {
		return code
	}
	if code, ok := e.noArgs("serve", pos); !ok {
		return code
	}
	if (*configPath == "") == (*dbDir == "") {
		return e.usagef("serve", "give exactly one of --config and --db")
	}
	if *dbDir != "" && *usecase == "" {
		return e.usagef("serve", "--db needs --usecase <app bundle id>.url.filtering")
	}
	if (*tlsCertFile == "") != (*tlsKeyFile == "") {
		return e.usagef("serve", "give both --tls-cert and --tls-key, or neither")
	}
	var tlsCfg *tls.Config
	if *tlsCertFile != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCertFile, *tlsKeyFile)
		if err != nil {
			return e.errorf("--tls-cert/--tls-key: %v", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	var log *slog.Logger
	switch *logFormat {
	case "text":
		log = slog.New(slog.NewTextHandler(e.stderr, nil))
	case "json":
		log = slog.New(slog.NewJSONHandler(e.stderr, nil))
	default:
		return e.usagef("serve", "--log-format %q: want text or json", *logFormat)
	}
	// go-redis prints its own lines (pool dial failures, ...) through one
	// process-wide logger; route them into ours, once, here in the wiring.
	redis.SetLogger(store.RedisLogger{Logger: log})

	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *drainDelay < 0 {
		return e.usagef("serve", "--drain-delay %v: must not be negative", *drainDelay)
	}
	if set["symmetric-key"] && *configPath != "" {
		return e.usagef("serve", "--symmetric-key goes with --db; with --config, give the usecase symmetricPirArguments.databaseEncryptionKeyFilePath")
	}
	if *memLimit < -1 {
		return e.usagef("serve", "--memory-limit %d: want 0 (automatic), -1 (none) or a byte count", *memLimit)
	}
	if v := *keyCache; v < -1 || (v > 0 && v < api.MinKeyCacheBytes) {
		return e.usagef("serve", "--key-cache-bytes %d: want 0 (default 256 MiB), -1 (no cache) or at least %d (1 MiB)", v, api.MinKeyCacheBytes)
	}
	readConfig := func(ctx context.Context) (*api.FileConfig, error) {
		if *configPath != "" {
			b, err := os.ReadFile(*configPath)
			if err != nil {
				return nil, err
			}
			return api.ParseFileConfig(b, filepath.Dir(*configPath))
		}
		if *usecase == "" {
			return nil, errors.New("--db needs --usecase <app bundle id>.url.filtering")
		}
		st := *state
		if st == "" {
			st = filepath.Join(*dbDir, "state")
		}
		fc, err := api.ZeroConfig(ctx, api.ZeroConfigOptions{DB: *dbDir, Stem: *stem, Usecase: *usecase, Listen: *listen, State: st,
			SymmetricKeyFile: *symmetricKey, Logf: func(format string, args ...any) {
				fmt.Fprintf(e.stderr, "blindlist: "+format+"\n", args...)
			}})
		if err == nil {
			fc.AdminListen = *admin
		}
		return fc, err
	}
	// load is readConfig with the overriding flags applied; reloads call
	// it again.
	load := func(ctx context.Context) (*api.FileConfig, error) {
		fc, err := readConfig(ctx)
		if err != nil {
			return nil, err
		}
		if set["drain-delay"] {
			d := api.Duration(*drainDelay)
			fc.Limits.DrainDelay = &d
		}
		if set["memory-limit"] {
			fc.Limits.MemoryLimitBytes = *memLimit
		}
		if set["prefilter-cache-control"] {
			fc.Prefilter.CacheControl = *prefilterCache
		}
		if set["prefilter-token-file"] {
			abs, err := filepath.Abs(*prefilterToken)
			if err != nil {
				return nil, err
			}
			fc.Prefilter.BearerTokenFile = abs
		}
		if set["key-cache-bytes"] {
			fc.Limits.KeyCacheBytes = *keyCache
			if *keyCache == 0 {
				fc.Limits.KeyCacheBytes = api.DefaultKeyCacheBytes
			}
		}
		return fc, nil
	}
	fc, err := load(ctx)
	if err != nil {
		return e.errorf("%v", err)
	}
	if *dbDir != "" && !fc.PrivacyPass.Disabled {
		e.hintf("the user token for pirAuthenticationToken is in %s", fc.Vendors[0].Tiers[0].TokensFile)
	}
	if *genPoll <= 0 {
		e.errorf("--generation-poll %v: must be positive", *genPoll)
		return 2
	}
	gen := generationOptions{poll: *genPoll, refreshEvery: *refreshEvery}
	if len(refreshSources) > 0 {
		out := *refreshOut
		if out == "" {
			out = *dbDir
		}
		if out == "" || *refreshEvery <= 0 || !(*refreshShrink > 0 && *refreshShrink <= 1) {
			return e.usagef("serve", "--refresh-source needs --refresh-out (or --db), a positive --refresh-interval and --refresh-max-shrink in (0, 1]")
		}
		gen.refresh = &refreshJob{out: out, rc: generation.RefreshConfig{MaxShrink: *refreshShrink, Build: generation.Config{
			Compile: blocklist.Options{MaxBytes: blocklist.DefaultMaxBytes, PublicSuffixes: blocklist.DropSuffixes, TestIdentity: true},
			Logf:    func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) },
		}}}
		var err error
		if gen.refresh.rc.Build.Block, err = parseSources(refreshSources); err != nil {
			return e.usagef("serve", "%v", err)
		}
		if gen.refresh.rc.Build.Allow, err = parseSources(refreshAllows); err != nil {
			return e.usagef("serve", "%v", err)
		}
	}
	if err := runService(ctx, e, fc, load, log, tlsCfg, gen); err != nil {
		return e.errorf("%v", err)
	}
	return 0
}

// service is everything `serve` runs, built from one FileConfig.
type service struct {
	// mu serializes reloads and key rotations: SIGHUP, the key reload tick
	// and POST /reload on the admin listener come from different
	// goroutines, and all of them replace fc, tiers and the keyring.
	mu     sync.Mutex
	fc     *api.FileConfig
	log    *slog.Logger
	api    *api.Server
	issuer *privacypass.Service
	keyDir *api.IssuerKeyDir
	tiers  []string
	// ready is the shared store's readiness check (Redis), nil for bbolt.
	ready   func(context.Context) error
	closers []func() error
	// sweepers delete expired entries of the embedded (bbolt) stores,
	// which, unlike Redis, do not expire entries by themselves.
	sweepers []func(context.Context) (int, error)
	// prefilters serves GET /prefilter/...; replicas, with Redis, shares
	// which generation each ready replica serves.
	prefilters *api.Prefilters
	replicas   *api.ReplicaGenerations
	heartbeats api.Heartbeats // nil without Redis
}

// runService runs the service until ctx is done, then drains and shuts down.
// With tlsCfg the public listener serves TLS (HTTP/1.1 and h2).
func runService(ctx context.Context, e *env, fc *api.FileConfig, load func(context.Context) (*api.FileConfig, error), log *slog.Logger, tlsCfg *tls.Config, gen generationOptions) (err error) {
	if err := os.MkdirAll(fc.DataDir, 0o700); err != nil {
		return err
	}
	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &service{fc: fc, log: log}
	defer func() {
		for i := len(s.closers) - 1; i >= 0; i-- {
			if cerr := s.closers[i](); cerr != nil && err == nil {
				err = cerr
			}
		}
	}()
	kv, spent, err := s.openStores()
	if err != nil {
		return err
	}
	// Loading a large database takes seconds: say so, then how long.
	loadStart := time.Now()
	if n, err := api.ShardBytes(fc); err == nil {
		fmt.Fprintf(e.stderr, "blindlist: loading the PIR shards (%.1f MB in memory)\n", float64(n)/1e6)
	}
	entries, err := api.LoadEntriesWithHistory(ctx, fc)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "blindlist: loaded %d usecase(s) in %.1f s\n", len(entries), time.Since(loadStart).Seconds())
	cfg := api.Config{
		Limits:          fc.Limits,
		MaxKeyBytes:     fc.KeyStore.MaxKeyBytes,
		ReportDirectory: fc.ReportDirectory,
	}
	deps := api.Deps{Registry: &api.Registry{}, Keys: kv, Logger: log, Metrics: metrics, Ready: s.ready}
	if !fc.PrivacyPass.Disabled {
		if err := s.openIssuer(ctx, spent); err != nil {
			return err
		}
		deps.Tokens = api.PrivacyPassVerifier(s.issuer)
	}
	if s.api, err = api.New(cfg, deps); err != nil {
		return err
	}
	// After New: the limit counts the key cache budget the server runs
	// with (limits.keyCacheBytes after defaults).
	if err := s.setMemoryLimit(os.LookupEnv, true); err != nil {
		return err
	}
	if err := s.api.Replace(entries); err != nil {
		return err
	}
	if s.heartbeats != nil {
		s.replicas = api.NewReplicaGenerations(s.heartbeats, replicaName())
		s.announce(ctx)
	}

	inner := chi.NewRouter()
	if s.issuer != nil {
		ih := s.issuer.Handler()
		inner.Method(http.MethodGet, privacypass.DirectoryPath, ih)
		inner.Method(http.MethodGet, privacypass.TokenKeyPath, ih)
		inner.Method(http.MethodPost, privacypass.IssuePath, ih)
	}
	// The prefilter (no Privacy Pass; optionally a bearer token).
	if s.prefilters, err = api.NewPrefilters(fc.Prefilter, s.servedGenerations, log); err != nil {
		return err
	}
	if err := s.prefilters.Configure(fc.Prefilter, api.PrefilterRoots(fc)); err != nil {
		return err
	}
	inner.Method(http.MethodGet, "/prefilter/*", s.prefilters.Handler())
	inner.Mount("/", s.api.Handler())
	public := http.Handler(inner)
	if fc.OHTTP.Enabled {
		if public, err = s.withGateway(inner, metrics); err != nil {
			return err
		}
	}

	reload := func(ctx context.Context) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		next, err := load(ctx)
		if err != nil {
			return err
		}
		if err := s.reload(ctx, next); err != nil {
			return err
		}
		s.announce(ctx)
		return nil
	}
	servers := []*http.Server{s.httpServer(public)}
	addrs := []string{fc.Listen}
	if fc.AdminListen != "" {
		servers = append(servers, s.httpServer(s.api.AdminHandler(reload, promhttp.HandlerFor(metrics, promhttp.HandlerOpts{}))))
		addrs = append(addrs, fc.AdminListen)
	}
	listeners := make([]net.Listener, len(servers))
	for i, a := range addrs {
		if listeners[i], err = net.Listen("tcp", a); err != nil {
			for _, l := range listeners[:i] {
				l.Close()
			}
			return err
		}
	}
	scheme := "http"
	if tlsCfg != nil {
		// ServeTLS below adds h2 to the protocols it negotiates.
		servers[0].TLSConfig = tlsCfg
		scheme = "https"
	}
	fmt.Fprintf(e.stderr, "blindlist: serving on %s://%s\n", scheme, listeners[0].Addr())
	if len(listeners) > 1 {
		fmt.Fprintf(e.stderr, "blindlist: admin on http://%s\n", listeners[1].Addr())
	}

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		if srv.TLSConfig != nil {
			go func() { errc <- srv.ServeTLS(listeners[i], "", "") }()
			continue
		}
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// Issuer keys are re-read often (replicas learn keys another wrote
	// before these start signing); bbolt is swept hourly.
	rotate := time.NewTicker(time.Duration(fc.PrivacyPass.KeyReloadInterval))
	defer rotate.Stop()
	sweep := time.NewTicker(time.Hour)
	defer sweep.Stop()
	// Builds publish new generations (here or on another replica sharing
	// the volume): follow them.
	watch := newGenerationWatch(fc)
	poll := time.NewTicker(gen.poll)
	defer poll.Stop()
	beat := time.NewTicker(api.ReplicaTTL / 5)
	defer beat.Stop()
	if gen.refresh != nil {
		gen.refresh.m = newRefreshMetrics(metrics, gen.refresh.out)
		rctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); gen.refresh.loop(rctx, gen.refreshEvery, log) }()
		defer func() { stop(); <-done }()
	}
	var serveErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-errc:
			serveErr = err
			break loop
		case <-hup:
			if err := reload(ctx); err != nil {
				log.Error("reload failed", "error", err.Error())
			} else {
				log.Info("reloaded")
			}
		case <-rotate.C:
			s.mu.Lock()
			err := s.rotateIssuerKeys()
			s.mu.Unlock()
			if err != nil {
				log.Error("issuer key rotation failed", "error", err.Error())
			}
		case <-poll.C:
			s.mu.Lock()
			cur := s.fc
			s.mu.Unlock()
			if changed, ids := watch.changed(cur); changed {
				if err := reload(ctx); err != nil {
					log.Error("new generation refused; still serving the previous one", "generations", ids, "error", err.Error())
				} else {
					log.Info("serving new generation", "generations", ids)
				}
			}
		case <-beat.C:
			s.announce(ctx)
		case <-sweep.C:
			if n, err := s.sweep(ctx); err != nil {
				log.Error("removing expired store entries failed", "error", err.Error())
			} else if n > 0 {
				log.Info("removed expired store entries", "count", n)
			}
		}
	}
	s.api.SetDraining(true)
	if s.replicas != nil {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		s.replicas.Leave(lctx)
		cancel()
	}
	s.mu.Lock() // POST /reload may still be replacing s.fc
	drain := time.Duration(*s.fc.Limits.DrainDelay)
	s.mu.Unlock()
	if d := drain; d > 0 && serveErr == nil {
		// Keep accepting while load balancers see /readyz fail.
		log.Info("draining: /readyz fails, listeners close after the drain delay", "drainDelay", d.String())
		time.Sleep(d)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(fc.Limits.ShutdownTimeout))
	defer cancel()
	var wg sync.WaitGroup
	var shutdownErr error
	var mu sync.Mutex
	for _, srv := range servers {
		wg.Go(func() {
			if err := srv.Shutdown(shutdownCtx); err != nil {
				mu.Lock()
				shutdownErr = errors.Join(shutdownErr, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return shutdownErr
}

// httpServer sets every timeout: headers, whole request, response, idle.
func (s *service) httpServer(h http.Handler) *http.Server {
	timeout := time.Duration(s.fc.Limits.RequestTimeout)
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true) // with --tls-cert
	protocols.SetUnencryptedHTTP2(true)
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       timeout,
		WriteTimeout:      timeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		Protocols:         &protocols,
		// net/http and its HTTP/2 server name the client's address in
		// their error lines; httplog removes it.
		ErrorLog: httplog.NewErrorLog(s.log.Handler(), slog.LevelWarn),
	}
}

// openStores opens the evaluation-key store and the spent-token set.
func (s *service) openStores() (store.KV, store.SpentSet, error) {
	ks := s.fc.KeyStore
	limits := store.Limits{TTL: time.Duration(ks.TTL), MaxKeyBytes: 64, MaxValueBytes: int(ks.MaxKeyBytes)}
	spentTTL := time.Duration(s.fc.PrivacyPass.KeyLifetime + s.fc.PrivacyPass.KeyOverlap)
	switch ks.Backend {
	case "redis":
		var password string
		if ks.RedisPasswordEnv != "" {
			password = os.Getenv(ks.RedisPasswordEnv)
		}
		// Short timeouts, no retries: an unreachable Redis fails calls
		// with 503 at once (the store's breaker), not after seconds.
		var c redis.UniversalClient
		if len(ks.RedisClusterAddrs) > 0 {
			c = redis.NewClusterClient(store.RedisClusterOptions(ks.RedisClusterAddrs, password))
		} else {
			c = redis.NewClient(store.RedisClientOptions(ks.RedisAddr, password))
		}
		s.closers = append(s.closers, c.Close)
		r := store.NewRedis(c, "blindlist:")
		s.ready = r.Check
		hb, err := r.Heartbeats("replica-generations")
		if err != nil {
			return nil, nil, err
		}
		s.heartbeats = hb
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Ping(ctx); err != nil {
			return nil, nil, err
		}
		kv, err := s.objectKV(limits)
		if err != nil {
			return nil, nil, err
		}
		if kv == nil {
			if kv, err = r.KV("evaluation-keys", limits); err != nil {
				return nil, nil, err
			}
		}
		if ks.SpentReplicaAcks > 0 {
			spent, err := r.ReplicatedSpentSet(privacypass.SpentNamespace, spentTTL, ks.SpentReplicaAcks, time.Duration(ks.SpentAckTimeout))
			return kv, spent, err
		}
		spent, err := r.SpentSet(privacypass.SpentNamespace, spentTTL)
		return kv, spent, err
	default:
		b, err := store.OpenBolt(ks.Path)
		if err != nil {
			return nil, nil, err
		}
		s.closers = append(s.closers, b.Close)
		spent, err := b.SpentSet(privacypass.SpentNamespace, spentTTL)
		if err != nil {
			return nil, nil, err
		}
		s.sweepers = append(s.sweepers, spent.Sweep)
		if kv, err := s.objectKV(limits); kv != nil || err != nil {
			return kv, spent, err
		}
		kv, err := b.KV("evaluation-keys", limits)
		if err != nil {
			return nil, nil, err
		}
		s.sweepers = append(s.sweepers, kv.Sweep)
		return kv, spent, nil
	}
}

// objectKV opens the evaluation-key namespace in the configured
// S3-compatible bucket, or returns nil when none is configured. The
// bucket must answer (and accept the credentials) at startup.
func (s *service) objectKV(limits store.Limits) (store.KV, error) {
	oc := s.fc.KeyStore.ObjectStore
	if oc == nil {
		return nil, nil
	}
	ak, sk := os.Getenv(oc.AccessKeyEnv), os.Getenv(oc.SecretKeyEnv)
	if ak == "" || sk == "" {
		return nil, fmt.Errorf("keyStore.objectStore: environment variables %s and %s must hold the credentials", oc.AccessKeyEnv, oc.SecretKeyEnv)
	}
	c, err := s3.New(s3.Config{Endpoint: oc.Endpoint, Region: oc.Region, Bucket: oc.Bucket, AccessKey: ak, SecretKey: sk,
		Timeout: time.Duration(oc.Timeout)})
	if err != nil {
		return nil, err
	}
	o := store.NewObject(c, oc.Prefix)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.Ping(ctx); err != nil {
		return nil, err
	}
	if prev := s.ready; prev != nil {
		s.ready = func(ctx context.Context) error {
			if err := prev(ctx); err != nil {
				return err
			}
			return o.Check(ctx)
		}
	} else {
		s.ready = o.Check
	}
	return o.KV("evaluation-keys", limits)
}

// openIssuer loads (or creates) the issuer keys and the user tokens, and
// establishes the spent-token store's epoch: when the store lost its data
// (while we were down, or later while we serve) the keys that started
// before are void and rotate (see privacypass.Service.Verify).
func (s *service) openIssuer(ctx context.Context, spent store.SpentSet) error {
	pp := s.fc.PrivacyPass
	s.keyDir = &api.IssuerKeyDir{Dir: pp.KeyDirectory, Lifetime: time.Duration(pp.KeyLifetime),
		Overlap: time.Duration(pp.KeyOverlap), PublishAhead: time.Duration(pp.KeyPublishAhead), ClockSkew: time.Duration(pp.KeyClockSkew)}
	limits := map[string]privacypass.IssueLimit{}
	users, err := s.userTokens(limits)
	if err != nil {
		return err
	}
	ring, err := s.keyDir.Keyring(s.tiers, time.Now())
	if err != nil {
		return err
	}
	s.issuer, err = privacypass.New(privacypass.Config{Keyring: ring, UserTokens: users, Spent: spent, Logger: s.log, IssueLimits: limits,
		EpochNote: s.keyDir, OnEpoch: s.spentEpochChanged})
	if err != nil {
		return err
	}
	_, err = s.issuer.SpentEpoch(ctx)
	return err
}

// spentEpochChanged rotates the issuer keys when the spent-token store was
// found to have lost its data, so every tier gets a key its void keys'
// tokens cannot be confused with.
func (s *service) spentEpochChanged(time.Time) {
	s.mu.Lock()
	err := s.rotateIssuerKeys()
	s.mu.Unlock()
	if err != nil {
		s.log.Error("issuer key rotation after the spent-token store's data loss failed", "error", err.Error())
	}
}

// userTokens reads every tier's tokens file. Tier names are
// "<vendor>/<tier>" so vendors cannot collide.
func (s *service) userTokens(limits map[string]privacypass.IssueLimit) (map[string]string, error) {
	users := map[string]string{}
	s.tiers = nil
	for _, v := range s.fc.Vendors {
		for _, t := range v.Tiers {
			tier := v.Name + "/" + t.Name
			s.tiers = append(s.tiers, tier)
			if limits != nil {
				limits[tier] = privacypass.IssueLimit{PerSecond: t.QueriesPerSecond, Burst: t.Burst}
			}
			toks, err := api.ReadUserTokens(t.TokensFile)
			if err != nil {
				return nil, err
			}
			for _, tok := range toks {
				if other, dup := users[tok]; dup && other != tier {
					return nil, fmt.Errorf("a user token of tier %s is also listed for tier %s", tier, other)
				}
				users[tok] = tier
			}
		}
	}
	return users, nil
}

// sweep deletes the expired evaluation keys and spent tokens of the
// embedded store (one write transaction per namespace) and returns how many
// it removed. Without it the bbolt file would keep every token ever redeemed.
func (s *service) sweep(ctx context.Context) (int, error) {
	total := 0
	for _, sw := range s.sweepers {
		n, err := sw(ctx)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// rotateIssuerKeys applies the issuer key rotation rules at the current
// time. Callers hold s.mu.
func (s *service) rotateIssuerKeys() error {
	if s.issuer == nil {
		return nil
	}
	ring, err := s.keyDir.KeyringSince(s.tiers, time.Now(), s.issuer.VoidBefore())
	if err != nil {
		return err
	}
	s.issuer.SetKeyring(ring)
	return nil
}

// reload applies a re-read configuration: databases and user tokens. Other
// changes (listen addresses, stores, limits) need a restart and are only
// reported. Callers hold s.mu.
func (s *service) reload(ctx context.Context, next *api.FileConfig) error {
	if next.Listen != s.fc.Listen || !reflect.DeepEqual(next.KeyStore, s.fc.KeyStore) || next.DataDir != s.fc.DataDir ||
		next.PrivacyPass != s.fc.PrivacyPass || next.Limits.KeyCacheBytes != s.fc.Limits.KeyCacheBytes {
		s.log.Warn("reload: listen, dataDir, keyStore, privacyPass and limits.keyCacheBytes changes take effect after a restart")
	}
	if err := s.api.Reload(ctx, next); err != nil {
		return err
	}
	if err := s.prefilters.Configure(next.Prefilter, api.PrefilterRoots(next)); err != nil {
		s.log.Error("reload: prefilter endpoint keeps its previous token", "error", err.Error())
	}
	defer func() {
		if err := s.setMemoryLimit(os.LookupEnv, false); err != nil {
			s.log.Error("setting the memory limit failed", "error", err.Error())
		}
	}()
	if s.issuer != nil {
		prev := s.fc
		s.fc = next
		users, err := s.userTokens(nil)
		if err == nil {
			err = s.rotateIssuerKeys()
		}
		if err == nil {
			err = s.issuer.SetUserTokens(users)
		}
		if err != nil {
			s.fc = prev
			return err
		}
	}
	s.fc = next
	return nil
}

// withGateway puts the OHTTP gateway in front: its paths go to the
// gateway, which serves decapsulated requests for the configured
// authorities with inner; everything else goes to inner directly.
func (s *service) withGateway(inner http.Handler, reg prometheus.Registerer) (http.Handler, error) {
	seed, err := ohttp.LoadOrCreateSeed(filepath.Join(s.fc.DataDir, "ohttp-seed"), nil)
	if err != nil {
		return nil, err
	}
	keys, err := ohttp.DeriveKeySet(seed, []uint8{uint8(*s.fc.OHTTP.KeyID)}, nil, ohttp.DefaultSuites())
	if err != nil {
		return nil, err
	}
	targets := map[string]http.Handler{}
	for _, t := range s.fc.OHTTP.Targets {
		targets[strings.ToLower(t)] = inner
	}
	g, err := ohttp.New(ohttp.Config{
		Keys: keys, Targets: targets, Registerer: reg, Logger: s.log,
		MaxRequestBytes: max(s.fc.Limits.MaxKeyBodyBytes, s.fc.Limits.MaxQueriesBodyBytes) + 64<<10,
		ForwardTimeout:  time.Duration(s.fc.Limits.RequestTimeout),
		ResponsePadding: s.fc.OHTTP.ResponsePadding,
	})
	if err != nil {
		return nil, err
	}
	// A plain ServeMux outside: a chi router here would leave its routing
	// state in the context of the decapsulated requests the gateway hands
	// to inner (also chi), which would then route them wrongly.
	mux := http.NewServeMux()
	gh := g.Handler()
	mux.Handle("POST "+ohttp.GatewayPath, gh)
	mux.Handle("GET "+ohttp.KeysPath, gh)
	mux.Handle("GET "+ohttp.LegacyConfigPath, gh)
	mux.Handle("/", inner)
	return mux, nil
}

// memoryLimit returns the soft memory limit for fc, served with a parsed
// key cache of keyCacheBytes, and where it comes from; limit < 0 means
// leave the runtime's limit alone. GOMEMLIMIT in the environment
// (lookupEnv) wins, then limits.memoryLimitBytes, then
// [api.AutoMemoryLimit] of the shard bytes and the cache budget.
func memoryLimit(fc *api.FileConfig, keyCacheBytes int64, lookupEnv func(string) (string, bool)) (limit int64, source string, err error) {
	if v, ok := lookupEnv("GOMEMLIMIT"); ok && v != "" {
		return -1, "GOMEMLIMIT", nil
	}
	switch l := fc.Limits.MemoryLimitBytes; {
	case l == -1:
		return -1, "none", nil
	case l > 0:
		return l, "limits.memoryLimitBytes", nil
	}
	n, err := api.ShardBytes(fc)
	if err != nil {
		return 0, "", err
	}
	return api.AutoMemoryLimit(n, keyCacheBytes),
		fmt.Sprintf("2 x %d shard bytes + %d key cache bytes + %d", n, max(keyCacheBytes, 0), api.MemoryHeadroomBytes), nil
}

// setMemoryLimit applies memoryLimit to the runtime, with the key cache
// budget of the running server (s.api). It logs the limit at startup, and
// later only when it changes (a reload to a larger database). Callers hold
// s.mu or run before the listeners start.
func (s *service) setMemoryLimit(lookupEnv func(string) (string, bool), startup bool) error {
	limit, source, err := memoryLimit(s.fc, s.api.KeyCacheBytes(), lookupEnv)
	if err != nil {
		return err
	}
	if limit < 0 {
		if startup {
			s.log.Info("memory limit", "source", source, "bytes", debug.SetMemoryLimit(-1))
		}
		return nil
	}
	if prev := debug.SetMemoryLimit(limit); startup || prev != limit {
		s.log.Info("memory limit", "source", source, "bytes", limit)
	}
	return nil
}
