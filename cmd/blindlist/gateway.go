package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/blindlist/blindlist/internal/httplog"
	"github.com/blindlist/blindlist/ohttp"
)

const gatewayUsage = `Usage: blindlist gateway --config FILE
       blindlist gateway (--seed-file FILE | --seed-env VAR) --target HOST --upstream URL [flags]

Run a standalone Oblivious HTTP gateway (RFC 9458) in front of the PIR service
and the Privacy Pass issuer. It serves:
  POST /gateway        encapsulated requests (message/ohttp-req) from the relay
  GET  /ohttp-keys     the key configurations (application/ohttp-keys)
  GET  /ohttp-configs  the first key configuration alone (legacy form)
  GET  /healthz        200 while the process runs (liveness probe)
  GET  /readyz         200 while serving, 503 once shutdown began (readiness probe)
Decapsulated requests whose authority is in the allow list (--target) are
forwarded to --upstream; any other authority gets an encapsulated 403.

Keys are derived from a 32-byte seed, one key per key id, so restarts serve the
same configuration. The seed is --seed-file (created 0600 if absent; refused if
group or others may read it), or --seed-env, an environment variable holding it
in hex or base64 (a Kubernetes Secret through secretKeyRef). A Secret mounted as
a file for a non-root user is group-readable (fsGroup): give
--allow-group-readable-seed to accept a 0640/0440 seed file that exists.

To rotate: add the new id to --key-ids, hand the new configuration to Apple,
then move the old id to --retired-key-ids (still accepted, no longer
advertised). With --config, SIGHUP re-reads the file's key ids without a
restart.

Without TLS the listener speaks HTTP/1.1 and h2c (put it behind a TLS proxy
that speaks h2 to Apple's relay); with --tls-cert/--tls-key it speaks h2 and
HTTP/1.1 over TLS.

Flags:
  --config FILE            JSON config with the fields below (snake_case names);
                           unknown fields are an error; no other flag may be given
  --listen ADDR            listen address (default ":8080")
  --seed-file FILE         gateway key seed file (this or --seed-env is required)
  --seed-env VAR           read the seed from environment variable VAR (hex or base64)
  --allow-group-readable-seed
                           accept an existing seed file readable by its group
  --key-ids LIST           active key ids, comma-separated (default "1")
  --retired-key-ids LIST   key ids still accepted but not advertised
  --hybrid-key-ids LIST    also offer post-quantum MLKEM768-X25519 (X-Wing, KEM 0x647a)
                           keys with these ids, listed after the X25519 ones; clients
                           without that KEM skip them and keep using X25519
  --target HOST            allowed target authority; repeat or comma-separate (required)
  --upstream URL           where allowed requests go: http://… or https://… (required)
  --upstream-h2c           speak HTTP/2 without TLS to an http:// upstream
  --tls-cert FILE          TLS certificate chain (PEM)
  --tls-key FILE           TLS private key (PEM)
  --max-request-bytes N    cap on encapsulated requests (default 16777216)
  --max-response-bytes N   cap on target responses (default 16777216)
  --forward-timeout D      bound on each forwarded request (default 30s)
  --response-padding N     pad every encapsulated response to a multiple of N bytes,
                           so the relay sees size buckets, not exact sizes (default 0: off)
  --metrics-listen ADDR    serve Prometheus /metrics on this separate address
  --drain-delay D          on SIGINT/SIGTERM, fail /readyz for D before closing the
                           listener, so load balancers stop sending first (default 0s)

Examples:
  blindlist gateway --seed-file /var/lib/blindlist/ohttp.seed \
    --target service.example.net --target issuer.example.net \
    --upstream http://127.0.0.1:8081 --upstream-h2c --listen :8080
  OHTTP_SEED=$(cat seed.hex) blindlist gateway --seed-env OHTTP_SEED \
    --target service.example.net --upstream http://127.0.0.1:8081
`

// gatewayConfig is the gateway's configuration, from flags or from the JSON
// file --config names. Field names in the file are the json tags.
type gatewayConfig struct {
	// Listen is the gateway's listen address, host:port.
	Listen string `json:"listen"`
	// SeedFile holds the 32-byte secret the keys derive from; created 0600
	// when missing. Exactly one of SeedFile and SeedEnv is set.
	SeedFile string `json:"seed_file"`
	// SeedEnv names the environment variable holding the seed, in hex or
	// base64.
	SeedEnv string `json:"seed_env"`
	// AllowGroupReadableSeed accepts a SeedFile its group may read (a
	// Secret volume with fsGroup); the file must then exist.
	AllowGroupReadableSeed bool `json:"allow_group_readable_seed"`
	// KeyIDs are the active key ids (advertised and accepted), 0..255.
	KeyIDs []int `json:"key_ids"`
	// RetiredKeyIDs are accepted but no longer advertised.
	RetiredKeyIDs []int `json:"retired_key_ids"`
	// HybridKeyIDs are active MLKEM768-X25519 keys (KEM 0x647a), advertised
	// after the X25519 ones (ohttp.DeriveHybridKeySet).
	HybridKeyIDs []int `json:"hybrid_key_ids"`
	// Targets is the allow list of target authorities (host or host:port).
	Targets []string `json:"targets"`
	// Upstream is the base URL allowed requests are forwarded to.
	Upstream string `json:"upstream"`
	// UpstreamH2C selects HTTP/2 without TLS to an http:// upstream.
	UpstreamH2C bool `json:"upstream_h2c"`
	// TLSCert and TLSKey, both or neither, make the listener serve TLS.
	TLSCert string `json:"tls_cert"`
	TLSKey  string `json:"tls_key"`
	// MaxRequestBytes caps encapsulated requests.
	MaxRequestBytes int64 `json:"max_request_bytes"`
	// MaxResponseBytes caps target responses.
	MaxResponseBytes int64 `json:"max_response_bytes"`
	// ForwardTimeout bounds each forwarded request, as a Go duration ("30s").
	ForwardTimeout string `json:"forward_timeout"`
	// ResponsePadding pads every encapsulated response to a multiple of
	// this many bytes (ohttp.Config.ResponsePadding); 0 is off.
	ResponsePadding int `json:"response_padding"`
	// MetricsListen, if set, serves /metrics on that separate address.
	MetricsListen string `json:"metrics_listen"`
	// DrainDelay is how long /readyz fails before the listener closes on
	// SIGINT/SIGTERM, as a Go duration ("5s"). Default "0s".
	DrainDelay string `json:"drain_delay"`
}

func defaultGatewayConfig() gatewayConfig {
	return gatewayConfig{
		Listen:           ":8080",
		KeyIDs:           []int{1},
		MaxRequestBytes:  ohttp.DefaultMaxRequestBytes,
		MaxResponseBytes: ohttp.DefaultMaxResponseBytes,
		ForwardTimeout:   "30s",
		DrainDelay:       "0s",
	}
}

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

func parseKeyIDs(list string) ([]int, error) {
	var ids []int
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		id, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("key id %q is not a number", s)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// readGatewayConfig decodes a config file strictly: unknown fields and
// trailing data are errors.
func readGatewayConfig(path string) (gatewayConfig, error) {
	cfg := defaultGatewayConfig()
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if dec.More() {
		return cfg, fmt.Errorf("config %s: data after the JSON object", path)
	}
	return cfg, nil
}

func keyIDBytes(ids []int, what string) ([]uint8, error) {
	out := make([]uint8, len(ids))
	for i, id := range ids {
		if id < 0 || id > 255 {
			return nil, fmt.Errorf("%s: key id %d is outside 0..255", what, id)
		}
		out[i] = uint8(id)
	}
	return out, nil
}

// checkSeedSource checks that the configuration names exactly one seed.
func (cfg gatewayConfig) checkSeedSource() error {
	switch {
	case cfg.SeedFile == "" && cfg.SeedEnv == "":
		return errors.New("no seed: give --seed-file or --seed-env (seed_file or seed_env)")
	case cfg.SeedFile != "" && cfg.SeedEnv != "":
		return errors.New("give only one of --seed-file and --seed-env")
	case cfg.SeedEnv != "" && cfg.AllowGroupReadableSeed:
		return errors.New("--allow-group-readable-seed applies to --seed-file only")
	}
	return nil
}

// seed reads the seed: from the environment variable, from an existing
// group-readable file when allowed, or from the seed file (created when
// missing).
func (cfg gatewayConfig) seed() ([]byte, error) {
	switch {
	case cfg.SeedEnv != "":
		text, ok := os.LookupEnv(cfg.SeedEnv)
		if !ok || text == "" {
			return nil, fmt.Errorf("seed environment variable %s is not set", cfg.SeedEnv)
		}
		seed, err := ohttp.ParseSeed(text)
		if err != nil {
			return nil, fmt.Errorf("seed environment variable %s: %w", cfg.SeedEnv, err)
		}
		return seed, nil
	case cfg.AllowGroupReadableSeed:
		return ohttp.ReadSeedFile(cfg.SeedFile, true)
	default:
		return ohttp.LoadOrCreateSeed(cfg.SeedFile, nil)
	}
}

// keySet reads (or creates) the seed and derives the key set.
func (cfg gatewayConfig) keySet() (*ohttp.KeySet, error) {
	if err := cfg.checkSeedSource(); err != nil {
		return nil, err
	}
	if len(cfg.KeyIDs) == 0 {
		return nil, errors.New("no active key ids")
	}
	active, err := keyIDBytes(cfg.KeyIDs, "key_ids")
	if err != nil {
		return nil, err
	}
	retired, err := keyIDBytes(cfg.RetiredKeyIDs, "retired_key_ids")
	if err != nil {
		return nil, err
	}
	hybrid, err := keyIDBytes(cfg.HybridKeyIDs, "hybrid_key_ids")
	if err != nil {
		return nil, err
	}
	seed, err := cfg.seed()
	if err != nil {
		return nil, err
	}
	return ohttp.DeriveHybridKeySet(seed, active, retired, hybrid, ohttp.DefaultSuites())
}

// build checks cfg and builds the gateway and its registry.
func (cfg gatewayConfig) build() (*ohttp.Gateway, *prometheus.Registry, error) {
	if err := cfg.checkSeedSource(); err != nil {
		return nil, nil, err
	}
	switch {
	case len(cfg.Targets) == 0:
		return nil, nil, errors.New("no targets: give --target or targets (the allow list)")
	case cfg.Upstream == "":
		return nil, nil, errors.New("no upstream: give --upstream or upstream")
	case (cfg.TLSCert == "") != (cfg.TLSKey == ""):
		return nil, nil, errors.New("give both the TLS certificate and key, or neither")
	}
	timeout, err := time.ParseDuration(cfg.ForwardTimeout)
	if err != nil || timeout <= 0 {
		return nil, nil, fmt.Errorf("forward timeout %q is not a positive duration", cfg.ForwardTimeout)
	}
	if cfg.MaxRequestBytes <= 0 || cfg.MaxResponseBytes <= 0 {
		return nil, nil, errors.New("size caps must be positive")
	}
	if cfg.ResponsePadding < 0 {
		return nil, nil, errors.New("response padding must not be negative")
	}
	proxy, err := ohttp.NewProxy(ohttp.ProxyConfig{Upstream: cfg.Upstream, H2C: cfg.UpstreamH2C})
	if err != nil {
		return nil, nil, err
	}
	keys, err := cfg.keySet() // last: it may create the seed file
	if err != nil {
		return nil, nil, err
	}
	targets := make(map[string]http.Handler, len(cfg.Targets))
	for _, t := range cfg.Targets {
		targets[t] = proxy
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	gw, err := ohttp.New(ohttp.Config{
		Keys:             keys,
		Targets:          targets,
		MaxRequestBytes:  cfg.MaxRequestBytes,
		MaxResponseBytes: cfg.MaxResponseBytes,
		ForwardTimeout:   timeout,
		ResponsePadding:  cfg.ResponsePadding,
		Registerer:       reg,
		Logger:           slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		return nil, nil, err
	}
	return gw, reg, nil
}

func runGateway(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	d := defaultGatewayConfig()
	configFile := fs.String("config", "", "")
	listen := fs.String("listen", d.Listen, "")
	seedFile := fs.String("seed-file", "", "")
	seedEnv := fs.String("seed-env", "", "")
	allowGroupSeed := fs.Bool("allow-group-readable-seed", false, "")
	keyIDs := fs.String("key-ids", "1", "")
	retiredIDs := fs.String("retired-key-ids", "", "")
	hybridIDs := fs.String("hybrid-key-ids", "", "")
	var targets listFlag
	fs.Var(&targets, "target", "")
	upstream := fs.String("upstream", "", "")
	h2c := fs.Bool("upstream-h2c", false, "")
	tlsCert := fs.String("tls-cert", "", "")
	tlsKey := fs.String("tls-key", "", "")
	maxReq := fs.Int64("max-request-bytes", d.MaxRequestBytes, "")
	maxResp := fs.Int64("max-response-bytes", d.MaxResponseBytes, "")
	timeout := fs.String("forward-timeout", d.ForwardTimeout, "")
	padding := fs.Int("response-padding", 0, "")
	metricsListen := fs.String("metrics-listen", "", "")
	drainDelay := fs.String("drain-delay", d.DrainDelay, "")
	pos, code, ok := parseArgs(e, fs, gatewayUsage, args)
	if !ok {
		return code
	}
	if code, ok := e.noArgs("gateway", pos); !ok {
		return code
	}
	var cfg gatewayConfig
	if *configFile != "" {
		n := 0
		fs.Visit(func(*flag.Flag) { n++ })
		if n > 1 {
			return e.usagef("gateway", "--config cannot be combined with other flags")
		}
		var err error
		if cfg, err = readGatewayConfig(*configFile); err != nil {
			return e.errorf("%v", err)
		}
	} else {
		active, err := parseKeyIDs(*keyIDs)
		if err != nil {
			return e.errorf("--key-ids: %v", err)
		}
		retired, err := parseKeyIDs(*retiredIDs)
		if err != nil {
			return e.errorf("--retired-key-ids: %v", err)
		}
		hybrid, err := parseKeyIDs(*hybridIDs)
		if err != nil {
			return e.errorf("--hybrid-key-ids: %v", err)
		}
		cfg = gatewayConfig{
			Listen: *listen, SeedFile: *seedFile, SeedEnv: *seedEnv, AllowGroupReadableSeed: *allowGroupSeed,
			KeyIDs: active, RetiredKeyIDs: retired, HybridKeyIDs: hybrid,
			Targets: targets, Upstream: *upstream, UpstreamH2C: *h2c, TLSCert: *tlsCert, TLSKey: *tlsKey,
			MaxRequestBytes: *maxReq, MaxResponseBytes: *maxResp, ForwardTimeout: *timeout, ResponsePadding: *padding, MetricsListen: *metricsListen,
			DrainDelay: *drainDelay,
		}
	}
	gw, reg, err := cfg.build()
	if err != nil {
		return e.errorf("%v", err)
	}
	drain, err := time.ParseDuration(cfg.DrainDelay)
	if err != nil || drain < 0 {
		return e.errorf("drain delay %q is not a duration of 0s or more", cfg.DrainDelay)
	}
	stopping := new(atomic.Bool)
	srv := newServer(withProbes(gw.Handler(), stopping), e.stderr)
	var tlsCfg *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return e.errorf("loading TLS key pair: %v", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if *configFile != "" {
		stop := reloadKeysOnHangup(ctx, e, gw, *configFile)
		defer stop()
	}
	servers := []namedServer{{"gateway", cfg.Listen, srv, tlsCfg}}
	if cfg.MetricsListen != "" {
		metrics := newServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), e.stderr)
		servers = append(servers, namedServer{"metrics", cfg.MetricsListen, metrics, nil})
	}
	if err := serve(ctx, e, servers, drainPlan{delay: drain, stopping: stopping}); err != nil {
		return e.errorf("%v", err)
	}
	return 0
}

// withProbes serves the probe endpoints beside h: GET /healthz answers 200
// while the process runs, GET /readyz 200 until stopping is set (shutdown
// began), then 503. They never reach the gateway or its metrics.
func withProbes(h http.Handler, stopping *atomic.Bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if stopping.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "shutting down\n")
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.Handle("/", h)
	return mux
}

// drainPlan is what serve does between the stop signal and Shutdown: set
// stopping (readiness fails), then keep serving for delay.
type drainPlan struct {
	delay    time.Duration
	stopping *atomic.Bool
}

// reloadKeysOnHangup re-reads the config file on SIGHUP and swaps in the key
// set it names, so a rotation (a new active id, an old one retired) needs no
// restart. Other fields take effect only on restart. A bad file keeps the
// current keys. The returned function stops listening for SIGHUP.
func reloadKeysOnHangup(ctx context.Context, e *env, gw *ohttp.Gateway, path string) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-hup:
			}
			cfg, err := readGatewayConfig(path)
			var keys *ohttp.KeySet
			if err == nil {
				keys, err = cfg.keySet()
			}
			if err == nil {
				err = gw.SetKeys(keys)
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "blindlist: error: reloading keys, keeping the current ones: %v\n", err)
				continue
			}
			fmt.Fprintf(e.stderr, "blindlist: gateway reloaded keys: active %v, retired %v\n", cfg.KeyIDs, cfg.RetiredKeyIDs)
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}

// newServer returns an http.Server with all four timeouts set, speaking
// HTTP/1.1 and HTTP/2 (h2 over TLS, h2c without). Its error lines go to
// stderr as warnings, without client addresses.
func newServer(h http.Handler, stderr io.Writer) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		Protocols:         new(http.Protocols),
		ErrorLog:          httplog.NewErrorLog(slog.NewTextHandler(stderr, nil), slog.LevelWarn),
	}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	return srv
}

type namedServer struct {
	name   string
	addr   string
	srv    *http.Server
	tlsCfg *tls.Config
}

// serve listens on every server's address, prints where, serves until ctx is
// done, drains as drain says, then shuts all down with a 10-second deadline.
func serve(ctx context.Context, e *env, servers []namedServer, drain drainPlan) error {
	errc := make(chan error, len(servers))
	for _, s := range servers {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			for _, t := range servers {
				t.srv.Close()
			}
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if s.tlsCfg != nil {
			s.srv.TLSConfig = s.tlsCfg
			ln = tls.NewListener(ln, s.tlsCfg)
		}
		fmt.Fprintf(e.stderr, "blindlist: %s listening on %s\n", s.name, ln.Addr())
		go func() {
			if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", s.name, err)
			}
		}()
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	if drain.stopping != nil {
		drain.stopping.Store(true)
	}
	if drain.delay > 0 && serveErr == nil {
		time.Sleep(drain.delay)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.srv.Shutdown(shutdownCtx); err != nil && serveErr == nil {
			serveErr = fmt.Errorf("%s: shutdown: %w", s.name, err)
		}
	}
	return serveErr
}
