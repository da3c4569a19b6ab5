package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blindlist/blindlist/api"
	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/internal/cputime"
	"github.com/blindlist/blindlist/internal/store"
)

// DevicesBenchConfig describes a many-device measurement: simulated
// devices, each with its own keys, tokens and User-Identifier, looking URLs
// up through relay, OHTTP gateway and a balancer in front of several
// service replicas that share one key store.
type DevicesBenchConfig struct {
	// Keys is the number of synthetic keys in the database. Zero: 10 000.
	Keys int
	// Devices is the number of simulated devices. Zero: 30.
	Devices int
	// Replicas is the number of service replicas. Zero: 3.
	Replicas int
	// Routing is how the balancer picks a replica (UserHash: key-affine;
	// RoundRobin). External is not accepted.
	Routing Routing
	// Duration is how long devices keep looking up. Zero: 20 s.
	Duration time.Duration
	// Concurrency is the number of lookups in flight (at most Devices: a
	// device does one lookup at a time). Zero: 2 × GOMAXPROCS.
	Concurrency int
	// RekeyShare is the share of lookups preceded by a new evaluation key
	// (a device that is new, reinstalled, or whose key expired), each one a
	// /key upload. Zero: 0.05; negative: none.
	RekeyShare float64
	// KeyCacheEntries caps each replica's parsed-key cache. Zero: one and a
	// half times a replica's share of the devices (Devices / Replicas),
	// the headroom consistent hashing's uneven shares need.
	KeyCacheEntries int
	// Progress, if set, receives one line per phase.
	Progress func(string)
}

// DevicesBenchResult is what a many-device run measured.
type DevicesBenchResult struct {
	Keys, Devices, Replicas, Concurrency, KeyCacheEntries int
	Routing                                               string
	// Lookups completed in the measured phase, of which Uploads uploaded
	// a new key first; Errors failed.
	Lookups, Uploads, Errors int
	Elapsed                  time.Duration
	LookupsPerSec            float64
	// Latency of one lookup as the device sees it (prefilter, token,
	// /config and /key when needed, /queries, decryption).
	P50, P90, P99 time.Duration
	// QueryP50 and QueryP99 are the /queries round trip alone.
	QueryP50, QueryP99 time.Duration
	// KeyCacheHits and KeyCacheMisses sum the replicas' parsed-key cache.
	KeyCacheHits, KeyCacheMisses float64
	// KeyBytes, QueryBytes and ResponseBytes are per call, before OHTTP.
	KeyBytes, QueryBytes, ResponseBytes int
	// FirstError is the first failed lookup's error, if any.
	FirstError string
	// ProcessCPU is the CPU time of the whole process (devices included)
	// in the measured phase.
	ProcessCPU time.Duration
}

// HitRate is the parsed-key cache hit rate.
func (r *DevicesBenchResult) HitRate() float64 {
	if n := r.KeyCacheHits + r.KeyCacheMisses; n > 0 {
		return r.KeyCacheHits / n
	}
	return 0
}

const benchUserToken = "YmVuY2ggdXNlciB0b2tlbg" // base64url, as devices require

// BenchDevices builds a database, starts the stack and runs the devices:
// a warm-up round in which every device uploads its key and looks up
// once, then the measured phase. Every answer is decrypted and checked
// (the looked-up URLs are in the list), so a wrong server fails the run.
func BenchDevices(ctx context.Context, cfg DevicesBenchConfig) (*DevicesBenchResult, error) {
	if cfg.Keys == 0 {
		cfg.Keys = 10_000
	}
	if cfg.Devices == 0 {
		cfg.Devices = 30
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 3
	}
	if cfg.Duration == 0 {
		cfg.Duration = 20 * time.Second
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 2 * runtime.GOMAXPROCS(0)
	}
	cfg.Concurrency = min(cfg.Concurrency, cfg.Devices)
	if cfg.RekeyShare == 0 {
		cfg.RekeyShare = 0.05
	}
	if cfg.KeyCacheEntries == 0 {
		cfg.KeyCacheEntries = (3*cfg.Devices + 2*cfg.Replicas - 1) / (2 * cfg.Replicas)
	}
	switch {
	case cfg.Keys < 1 || cfg.Devices < 1 || cfg.Replicas < 1 || cfg.Concurrency < 1 || cfg.Duration < 0:
		return nil, errors.New("e2e: bench needs positive keys, devices, replicas, concurrency and duration")
	case cfg.Routing != UserHash && cfg.Routing != RoundRobin:
		return nil, errors.New("e2e: bench routing must be UserHash or RoundRobin")
	case cfg.RekeyShare > 1:
		return nil, errors.New("e2e: rekey share above 1")
	}
	progress := cfg.Progress
	if progress == nil {
		progress = func(string) {}
	}
	dir, err := os.MkdirTemp("", "blindlist-bench-")
	if err != nil {
		return nil, fmt.Errorf("e2e: bench: %w", err)
	}
	defer os.RemoveAll(dir)

	progress(fmt.Sprintf("building %d keys", cfg.Keys))
	keys := make([]string, cfg.Keys)
	for i := range keys {
		keys[i] = string(benchKey(i))
	}
	db, err := BuildKeys(ctx, keys, filepath.Join(dir, "db"), BuildOptions{})
	if err != nil {
		return nil, err
	}
	// One bbolt file shared by every in-process replica: a shared store,
	// as Redis or the object store is between processes.
	bolt, err := store.OpenBolt(filepath.Join(dir, "state.db"))
	if err != nil {
		return nil, err
	}
	defer bolt.Close()
	kv, err := bolt.KV("evaluation-keys", store.Limits{TTL: time.Hour, MaxKeyBytes: 64, MaxValueBytes: 10 << 20})
	if err != nil {
		return nil, err
	}
	spent, err := bolt.SpentSet(privacypass.SpentNamespace, 72*time.Hour)
	if err != nil {
		return nil, err
	}
	progress("generating the issuer key")
	ik, err := privacypass.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("e2e: bench: %w", err)
	}
	kr, err := privacypass.NewKeyring([]privacypass.KeySpec{{Key: ik, Tier: "bench"}})
	if err != nil {
		return nil, fmt.Errorf("e2e: bench: %w", err)
	}
	s, err := StartStack(ctx, StackConfig{
		DB: db, Usecase: "bench.example.url.filtering", Replicas: cfg.Replicas,
		NewStores: func(int) (store.KV, store.SpentSet, error) { return kv, spent, nil },
		Keyring:   kr, UserTokens: map[string]string{benchUserToken: "bench"},
		KeyCacheSize: cfg.KeyCacheEntries,
		Limits:       api.LimitsConfig{RequestTimeout: api.Duration(2 * time.Minute)},
	})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	s.Route(cfg.Routing)

	devs := make([]*Device, cfg.Devices)
	for i := range devs {
		devs[i] = s.Device(benchUserToken)
		devs[i].TokenBatch = 10
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var rngMu sync.Mutex
	// idle holds the devices not looking up: a device does one lookup at
	// a time, as NEURLFilter does, and a new key never races its own
	// queries.
	idle := make(chan *Device, len(devs))
	for _, i := range rng.Perm(len(devs)) {
		idle <- devs[i]
	}
	pick := func() (url string, rekey bool) {
		rngMu.Lock()
		defer rngMu.Unlock()
		return "https://" + keys[rng.IntN(len(keys))], cfg.RekeyShare > 0 && rng.Float64() < cfg.RekeyShare
	}

	progress(fmt.Sprintf("warm-up: %d devices upload a key and look up once", cfg.Devices))
	var wg sync.WaitGroup
	var warmErr atomic.Pointer[error]
	sem := make(chan struct{}, cfg.Concurrency)
	for i, d := range devs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := d.Check(ctx, "https://"+keys[i%len(keys)]); err != nil {
				warmErr.CompareAndSwap(nil, &err)
			}
		})
	}
	wg.Wait()
	if p := warmErr.Load(); p != nil {
		return nil, fmt.Errorf("e2e: bench warm-up: %w", *p)
	}

	res := &DevicesBenchResult{Keys: cfg.Keys, Devices: cfg.Devices, Replicas: cfg.Replicas,
		Concurrency: cfg.Concurrency, KeyCacheEntries: cfg.KeyCacheEntries, Routing: cfg.Routing.String()}
	h0, m0, err := cacheLookups(s)
	if err != nil {
		return nil, err
	}
	progress(fmt.Sprintf("measuring: %d lookups in flight for %s, %s routing", cfg.Concurrency, cfg.Duration, res.Routing))
	var (
		mu                sync.Mutex
		total, query      []time.Duration
		uploads, failures int
		firstErr          error
	)
	mctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	cpu0, t0 := cputime.Process(), time.Now()
	for range cfg.Concurrency {
		wg.Go(func() {
			for mctx.Err() == nil {
				var d *Device
				select {
				case d = <-idle:
				case <-mctx.Done():
					return
				}
				url, rekey := pick()
				if rekey {
					d.Forget()
				}
				v, err := d.Check(ctx, url)
				idle <- d
				if err == nil && !v.Blocked {
					err = fmt.Errorf("e2e: bench: %s not found by the PIR answer", url)
				}
				mu.Lock()
				if err != nil {
					failures++
					if firstErr == nil {
						firstErr = err
					}
				} else {
					total, query = append(total, v.Timings.Total), append(query, v.Timings.Query)
					if v.Sizes.KeyBytes > 0 {
						uploads++
						res.KeyBytes = v.Sizes.KeyBytes
					}
					res.QueryBytes, res.ResponseBytes = v.Sizes.QueryBytes, v.Sizes.ResponseBytes
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.Elapsed, res.ProcessCPU = time.Since(t0), cputime.Process()-cpu0
	if len(total) == 0 {
		return nil, fmt.Errorf("e2e: bench: no lookup completed: %v", firstErr)
	}
	if failures > len(total)/100 {
		return nil, fmt.Errorf("e2e: bench: %d of %d lookups failed, first: %w", failures, failures+len(total), firstErr)
	}
	h1, m1, err := cacheLookups(s)
	if err != nil {
		return nil, err
	}
	res.KeyCacheHits, res.KeyCacheMisses = h1-h0, m1-m0
	res.Lookups, res.Uploads, res.Errors = len(total), uploads, failures
	if firstErr != nil {
		res.FirstError = firstErr.Error()
	}
	res.LookupsPerSec = float64(len(total)) / res.Elapsed.Seconds()
	slices.Sort(total)
	slices.Sort(query)
	pct := func(l []time.Duration, p float64) time.Duration { return l[min(len(l)-1, int(p*float64(len(l))))] }
	res.P50, res.P90, res.P99 = pct(total, 0.5), pct(total, 0.9), pct(total, 0.99)
	res.QueryP50, res.QueryP99 = pct(query, 0.5), pct(query, 0.99)
	return res, nil
}

func cacheLookups(s *Stack) (hits, misses float64, err error) {
	for _, r := range s.Replicas {
		h, m, err := r.KeyCacheLookups()
		if err != nil {
			return 0, 0, err
		}
		hits, misses = hits+h, misses+m
	}
	return hits, misses, nil
}

// String names the routing as the bench flag does.
func (r Routing) String() string {
	switch r {
	case RoundRobin:
		return "round-robin"
	case UserHash:
		return "user-hash"
	case External:
		return "external"
	}
	return fmt.Sprintf("Routing(%d)", int32(r))
}

// ParseRouting is the inverse of [Routing.String] for the bench's
// choices.
func ParseRouting(s string) (Routing, error) {
	switch strings.ToLower(s) {
	case "user-hash":
		return UserHash, nil
	case "round-robin":
		return RoundRobin, nil
	}
	return 0, fmt.Errorf("e2e: routing %q: want user-hash or round-robin", s)
}
