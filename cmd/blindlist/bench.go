package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/blindlist/blindlist/e2e"
)

const benchUsage = `Usage: blindlist bench [--keys N] [flags]

Build a PIR database of N synthetic keys in memory and measure one server:
  latency      p50/p90/p99 of one answer (one keyword), answers run one at a time
  throughput   answers per second with --concurrency answers in flight (default: all cores)
  memory       live heap after the build (the shards) and the process's peak RSS
  sizes        query, response, evaluation key and /config bodies; database files
Every answer is decrypted and checked (present and absent keys), so a wrong server
fails the run instead of producing numbers. Use it to size replicas (docs/sizing.md).

Many-device mode (--devices N): N simulated devices, each with its own
evaluation key, tokens and random User-Identifier, look up listed URLs through
relay, OHTTP gateway and a balancer in front of --replicas service replicas
sharing one key store; --rekey-share of the lookups first upload a new key (a
new device or an expired key). Reports lookup latency percentiles as the device
sees them, lookups per second, uploads, the parsed-key cache hit rate summed
over the replicas and the process's CPU time per lookup (devices included).

Flags:
  --keys N           keys in the database (default 100000)
  --shards N         PIR shards (default 1)
  --preset NAME      encryption preset (default n_4096_logq_27_28_28_logt_5)
  --answers N        sequential answers timed for the percentiles (default 50)
  --duration D       length of the throughput phase (default 5s)
  --concurrency N    answers in flight during the throughput phase (default: GOMAXPROCS)
  --json             print the result as JSON
  --devices N        many-device mode with N simulated devices
  --replicas N       service replicas in many-device mode (default 3)
  --routing R        user-hash (key-affine, consistent hashing on User-Identifier) or round-robin (default user-hash)
  --rekey-share F    share of lookups that upload a new key first (default 0.05)
  --key-cache-entries N  parsed keys each replica caches (default 1.5 x devices/replicas)

Examples:
  blindlist bench --keys 100000
  blindlist bench --keys 1000000 --shards 20 --duration 30s --json
  blindlist bench --keys 10000 --devices 60 --replicas 3 --duration 30s
  blindlist bench --keys 10000 --devices 60 --replicas 3 --duration 30s --routing round-robin
`

func runBench(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	keys := fs.Int("keys", 100000, "")
	shards := fs.Int("shards", 1, "")
	preset := fs.String("preset", e2e.DefaultPreset, "")
	answers := fs.Int("answers", 50, "")
	duration := fs.Duration("duration", 5*time.Second, "")
	concurrency := fs.Int("concurrency", runtime.GOMAXPROCS(0), "")
	asJSON := fs.Bool("json", false, "")
	devices := fs.Int("devices", 0, "")
	replicas := fs.Int("replicas", 3, "")
	routing := fs.String("routing", "user-hash", "")
	rekey := fs.Float64("rekey-share", 0.05, "")
	cacheEntries := fs.Int("key-cache-entries", 0, "")
	pos, code, ok := parseArgs(e, fs, benchUsage, args)
	if !ok {
		return code
	}
	if *devices != 0 {
		return runBenchDevices(ctx, e, benchDevicesFlags{keys: *keys, devices: *devices, replicas: *replicas,
			routing: *routing, rekey: *rekey, cacheEntries: *cacheEntries, duration: *duration, asJSON: *asJSON,
			pos: pos, concurrency: *concurrency, concurrencySet: flagSet(fs, "concurrency")})
	}
	switch {
	case len(pos) > 0:
		return e.usagef("bench", "unexpected argument %q: this command takes flags only", pos[0])
	case *keys < 1:
		return e.usagef("bench", "--keys must be at least 1")
	case *shards < 1 || *shards > *keys:
		return e.usagef("bench", "--shards must be between 1 and --keys")
	case *answers < 1:
		return e.usagef("bench", "--answers must be at least 1")
	case *duration <= 0:
		return e.usagef("bench", "--duration must be positive")
	case *concurrency < 1:
		return e.usagef("bench", "--concurrency must be at least 1")
	}
	res, err := e2e.Bench(ctx, e2e.BenchConfig{
		Keys: *keys, Shards: *shards, Preset: *preset, Answers: *answers,
		Duration: *duration, Concurrency: *concurrency,
		Progress: func(s string) { fmt.Fprintf(e.stderr, "bench: %s\n", s) },
	})
	if err != nil {
		return e.errorf("%v", err)
	}
	if *asJSON {
		return writeBenchJSON(e, res)
	}
	printBench(e.stdout, res)
	return 0
}

func printBench(w io.Writer, r *e2e.BenchResult) {
	fmt.Fprintf(w, "database     %d keys, %d shard(s), %s\n", r.Keys, r.Shards, r.Preset)
	fmt.Fprintf(w, "shard 0      %d buckets per table, dimensions %v, Galois elements %v\n", r.EntryCount, r.Dimensions, r.GaloisElements)
	fmt.Fprintf(w, "build        %s\n", round(r.BuildTime))
	fmt.Fprintf(w, "latency      p50 %s  p90 %s  p99 %s  mean %s  (one answer, sequential)\n", round(r.P50), round(r.P90), round(r.P99), round(r.Mean))
	fmt.Fprintf(w, "throughput   %.1f answers/s with %d in flight on %d CPUs (%s)\n", r.AnswersPerSec, r.Concurrency, runtime.NumCPU(), round(r.ThroughputTime))
	fmt.Fprintf(w, "memory       heap after build %s, peak RSS %s\n", mib(r.HeapDatabaseBytes), mib(r.PeakRSSBytes))
	fmt.Fprintf(w, "sizes        query %s, response %s, evaluation key %s, /config %s, database files %s\n",
		kb(r.QueryBytes), kb(r.ResponseBytes), kb(r.EvaluationKeyBytes), kb(r.ConfigBytes), mib(uint64(r.DatabaseBytes)))
	fmt.Fprintf(w, "key parse    %s (once per uploaded key)\n", round(r.KeyParse))
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// benchJSON is the --json form. Durations are milliseconds.
type benchJSON struct {
	Keys               int      `json:"keys"`
	Shards             int      `json:"shards"`
	Preset             string   `json:"preset"`
	Dimensions         [2]int   `json:"dimensions"`
	EntryCount         int      `json:"entry_count"`
	GaloisElements     []uint32 `json:"galois_elements"`
	BuildMS            float64  `json:"build_ms"`
	KeyParseMS         float64  `json:"key_parse_ms"`
	P50MS              float64  `json:"p50_ms"`
	P90MS              float64  `json:"p90_ms"`
	P99MS              float64  `json:"p99_ms"`
	MeanMS             float64  `json:"mean_ms"`
	Concurrency        int      `json:"concurrency"`
	CPUs               int      `json:"cpus"`
	AnswersPerSec      float64  `json:"answers_per_sec"`
	QueryBytes         int      `json:"query_bytes"`
	ResponseBytes      int      `json:"response_bytes"`
	EvaluationKeyBytes int      `json:"evaluation_key_bytes"`
	ConfigBytes        int      `json:"config_bytes"`
	DatabaseBytes      int64    `json:"database_bytes"`
	HeapDatabaseBytes  uint64   `json:"heap_after_build_bytes"`
	PeakRSSBytes       uint64   `json:"peak_rss_bytes"`
}

func writeBenchJSON(e *env, r *e2e.BenchResult) int {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b, err := json.MarshalIndent(benchJSON{
		Keys: r.Keys, Shards: r.Shards, Preset: r.Preset, Dimensions: r.Dimensions, EntryCount: r.EntryCount,
		GaloisElements: r.GaloisElements, BuildMS: ms(r.BuildTime), KeyParseMS: ms(r.KeyParse),
		P50MS: ms(r.P50), P90MS: ms(r.P90), P99MS: ms(r.P99), MeanMS: ms(r.Mean),
		Concurrency: r.Concurrency, CPUs: runtime.NumCPU(), AnswersPerSec: r.AnswersPerSec,
		QueryBytes: r.QueryBytes, ResponseBytes: r.ResponseBytes, EvaluationKeyBytes: r.EvaluationKeyBytes,
		ConfigBytes: r.ConfigBytes, DatabaseBytes: r.DatabaseBytes, HeapDatabaseBytes: r.HeapDatabaseBytes,
		PeakRSSBytes: r.PeakRSSBytes,
	}, "", "  ")
	if err != nil {
		return e.errorf("%v", err)
	}
	fmt.Fprintf(e.stdout, "%s\n", b)
	return 0
}
