package e2e

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKeyAffineRouting puts a real NGINX (`hash $http_user_identifier
// consistent`) between the gateway and 3 replicas sharing Redis, and runs
// 30 simulated devices. Each replica's parsed-key cache is sized for the
// share of devices the hash gives it. It measures the cache hit rate with
// NGINX and, in the same test, with round-robin; then a replica leaves
// (NGINX reloaded without it) and only that replica's devices move.
func TestKeyAffineRouting(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 30 devices through 3 replicas, NGINX and Redis")
	}
	const (
		devices  = 30
		replicas = 3
		lookups  = 8 // per device, per measured phase
		url      = "https://www.apple.com/url-filter-test"
	)
	rp := startRedis(t)
	var (
		mu         sync.Mutex
		seen       = map[string]map[int]bool{} // User-Identifier → replicas that received its calls
		queryCalls atomic.Int64
	)
	s := startStack(t, StackConfig{
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		DB:     demoDB(t), Replicas: replicas, NewStores: redisStores(rp.client(t), "affinity:"),
		Observe: func(i int, r *http.Request) {
			uid := r.Header.Get("User-Identifier")
			if uid == "" {
				return // issuer calls carry no User-Identifier
			}
			if r.URL.Path == "/queries" {
				queryCalls.Add(1)
			}
			mu.Lock()
			if seen[uid] == nil {
				seen[uid] = map[int]bool{}
			}
			seen[uid][i] = true
			mu.Unlock()
		},
	})
	addrs := make([]string, replicas)
	for i, r := range s.Replicas {
		addrs[i] = r.Addr()
	}
	ng := startNginx(t, addrs)
	s.SetExternal(ng.URL)
	s.Route(External)

	devs := make([]*Device, devices)
	for i := range devs {
		devs[i] = s.Device(testUserToken)
		devs[i].TokenBatch = 10
	}
	ctx := context.Background()
	// run plays n rounds; in each, every device looks a URL up once, in a
	// shuffled order, six at a time: all 30 devices are active together,
	// as a replica's devices are within a key cache's lifetime.
	run := func(n int) {
		t.Helper()
		for range n {
			order := rand.Perm(devices)
			work := make(chan *Device)
			errs := make(chan error, devices)
			var wg sync.WaitGroup
			for range 6 {
				wg.Go(func() {
					for d := range work {
						v, err := checkRetrying(ctx, d, url)
						if err == nil && !v.Blocked {
							err = fmt.Errorf("%s not blocked", url)
						}
						if err != nil {
							errs <- err
						}
					}
				})
			}
			for _, i := range order {
				work <- devs[i]
			}
			close(work)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		}
	}
	// placement returns each device's replica since the last reset, and
	// fails if a device reached more than one.
	placement := func(reset bool) map[string]int {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for uid, rs := range seen {
			if len(rs) != 1 {
				t.Fatalf("a device's calls reached %d replicas under key-affine routing", len(rs))
			}
			for r := range rs {
				out[uid] = r
			}
		}
		if reset {
			clear(seen)
		}
		return out
	}
	lookupsNow := func() (hits, misses float64) {
		t.Helper()
		for _, r := range s.Replicas {
			if !r.running() {
				continue
			}
			h, m, err := r.KeyCacheLookups()
			if err != nil {
				t.Fatal(err)
			}
			hits, misses = hits+h, misses+m
		}
		return hits, misses
	}
	restart := func() {
		t.Helper()
		for _, r := range s.Replicas {
			r.Stop()
			if err := r.Start(ctx); err != nil {
				t.Fatal(err)
			}
		}
		s.CloseIdleConnections()
	}
	// measure runs a warm-up lookup per device, then lookups more, and
	// returns the share of the measured /queries calls answered without
	// parsing a key (a miss parses; a call's further requests for the same
	// key then hit) and the hit rate of the cache's own lookup counter.
	measure := func() (callRate, lookupRate float64) {
		t.Helper()
		run(1)
		h0, m0 := lookupsNow()
		c0 := queryCalls.Load()
		run(lookups)
		h1, m1 := lookupsNow()
		calls := float64(queryCalls.Load() - c0)
		return 1 - (m1-m0)/calls, (h1 - h0) / (h1 - h0 + m1 - m0)
	}

	// Placement: every device uploads its key and looks up once.
	run(1)
	place := placement(true)
	if len(place) != devices {
		t.Fatalf("%d devices placed, want %d", len(place), devices)
	}
	shares := make([]int, replicas)
	for _, r := range place {
		shares[r]++
	}
	// Each replica's cache holds the largest share the hash gave.
	s.cfg.KeyCacheSize = slices.Max(shares)
	t.Logf("devices per replica %v; key cache %d entries per replica", shares, s.cfg.KeyCacheSize)

	restart()
	affine, affineLookups := measure()
	if got := placement(true); !mapsEqual(got, place) {
		t.Fatal("devices moved between replicas with no replica change")
	}

	restart()
	s.Route(RoundRobin)
	roundRobin, roundRobinLookups := measure()
	clear(seen) // round-robin spreads devices: no placement to check
	t.Logf("/queries calls answered from a cached key: %.1f%% key-affine (NGINX), %.1f%% round-robin", 100*affine, 100*roundRobin)
	t.Logf("key cache lookup hit rate (every request of a call): %.1f%% key-affine, %.1f%% round-robin", 100*affineLookups, 100*roundRobinLookups)
	if affine < 0.95 {
		t.Errorf("key-affine hit rate %.3f, want ≥ 0.95", affine)
	}
	if roundRobin >= affine {
		t.Errorf("round-robin hit rate %.3f not below key-affine %.3f", roundRobin, affine)
	}

	// Replica 2 leaves: NGINX reloaded without it, the process stopped.
	s.Route(External)
	const leaving = 2
	if err := ng.setUpstreams(addrs[:leaving]); err != nil {
		t.Fatal(err)
	}
	s.Replicas[leaving].Stop()
	s.CloseIdleConnections()
	run(1)
	after := placement(true)
	moved := 0
	for uid, was := range place {
		now, ok := after[uid]
		switch {
		case !ok:
			t.Fatalf("a device made no call after replica %d left", leaving)
		case was != leaving && now != was:
			t.Errorf("a device of replica %d moved to replica %d when replica %d left", was, now, leaving)
		case was == leaving:
			if now == leaving {
				t.Errorf("a device still reached the replica that left")
			}
			moved++
		}
	}
	t.Logf("replica %d left: %d of %d devices moved (its share was %d)", leaving, moved, devices, shares[leaving])
	if moved != shares[leaving] {
		t.Errorf("%d devices moved, want exactly replica %d's %d", moved, leaving, shares[leaving])
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// checkRetrying is a device's lookup with its retry: a 503 (the service
// overloaded on this shared machine) is tried again after a pause, as a
// device honours Retry-After.
func checkRetrying(ctx context.Context, d *Device, url string) (*Verdict, error) {
	for try := 0; ; try++ {
		v, err := d.Check(ctx, url)
		var se *StatusError
		if err == nil || try == 3 || !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable {
			return v, err
		}
		time.Sleep(time.Second)
	}
}
