package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/blindlist/blindlist/e2e"
)

// benchDevicesFlags are bench's flags for the many-device mode.
type benchDevicesFlags struct {
	keys, devices, replicas, cacheEntries, concurrency int
	concurrencySet                                     bool
	routing                                            string
	rekey                                              float64
	duration                                           time.Duration
	asJSON                                             bool
	pos                                                []string
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func runBenchDevices(ctx context.Context, e *env, f benchDevicesFlags) int {
	routing, err := e2e.ParseRouting(f.routing)
	switch {
	case len(f.pos) > 0:
		fmt.Fprint(e.stderr, benchUsage)
		return 2
	case err != nil:
		return e.errorf("--routing must be user-hash or round-robin")
	case f.devices < 1:
		return e.errorf("--devices must be at least 1")
	case f.replicas < 1:
		return e.errorf("--replicas must be at least 1")
	case f.keys < 1:
		return e.errorf("--keys must be at least 1")
	case f.rekey < 0 || f.rekey > 1:
		return e.errorf("--rekey-share must be between 0 and 1")
	case f.cacheEntries < 0:
		return e.errorf("--key-cache-entries must not be negative")
	case f.duration <= 0:
		return e.errorf("--duration must be positive")
	}
	cfg := e2e.DevicesBenchConfig{Keys: f.keys, Devices: f.devices, Replicas: f.replicas, Routing: routing,
		Duration: f.duration, RekeyShare: f.rekey, KeyCacheEntries: f.cacheEntries,
		Progress: func(s string) { fmt.Fprintf(e.stderr, "bench: %s\n", s) }}
	if f.rekey == 0 {
		cfg.RekeyShare = -1
	}
	if f.concurrencySet {
		cfg.Concurrency = f.concurrency
	}
	res, err := e2e.BenchDevices(ctx, cfg)
	if err != nil {
		return e.errorf("%v", err)
	}
	if f.asJSON {
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b, err := json.MarshalIndent(map[string]any{
			"keys": res.Keys, "devices": res.Devices, "replicas": res.Replicas, "routing": res.Routing,
			"concurrency": res.Concurrency, "key_cache_entries": res.KeyCacheEntries,
			"lookups": res.Lookups, "uploads": res.Uploads, "errors": res.Errors,
			"elapsed_ms": ms(res.Elapsed), "lookups_per_sec": res.LookupsPerSec,
			"p50_ms": ms(res.P50), "p90_ms": ms(res.P90), "p99_ms": ms(res.P99),
			"query_p50_ms": ms(res.QueryP50), "query_p99_ms": ms(res.QueryP99),
			"key_cache_hits": res.KeyCacheHits, "key_cache_misses": res.KeyCacheMisses, "key_cache_hit_rate": res.HitRate(),
			"key_bytes": res.KeyBytes, "query_bytes": res.QueryBytes, "response_bytes": res.ResponseBytes,
			"process_cpu_ms": ms(res.ProcessCPU),
		}, "", "  ")
		if err != nil {
			return e.errorf("%v", err)
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
		return 0
	}
	printBenchDevices(e.stdout, res)
	return 0
}

func printBenchDevices(w io.Writer, r *e2e.DevicesBenchResult) {
	fmt.Fprintf(w, "stack        %d devices, %d replicas, %s routing, %d keys, key cache %d entries per replica\n",
		r.Devices, r.Replicas, r.Routing, r.Keys, r.KeyCacheEntries)
	fmt.Fprintf(w, "lookups      %d in %s (%d with a new key uploaded first, %d failed), %.1f lookups/s with %d in flight\n",
		r.Lookups, round(r.Elapsed), r.Uploads, r.Errors, r.LookupsPerSec, r.Concurrency)
	fmt.Fprintf(w, "latency      p50 %s  p90 %s  p99 %s  (one lookup as the device sees it)\n", round(r.P50), round(r.P90), round(r.P99))
	fmt.Fprintf(w, "/queries     p50 %s  p99 %s  (round trip through relay and gateway)\n", round(r.QueryP50), round(r.QueryP99))
	fmt.Fprintf(w, "key cache    %.1f%% hits (%.0f hits, %.0f misses, summed over replicas)\n", 100*r.HitRate(), r.KeyCacheHits, r.KeyCacheMisses)
	if r.Lookups > 0 {
		fmt.Fprintf(w, "cpu          %s per lookup (whole process: devices, gateway and replicas)\n", round(r.ProcessCPU/time.Duration(r.Lookups)))
	}
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error  %s\n", r.FirstError)
	}
	fmt.Fprintf(w, "sizes        /key %s, /queries %s, response %s\n", kb(r.KeyBytes), kb(r.QueryBytes), kb(r.ResponseBytes))
}
