package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// BenchConfig describes one capacity measurement.
type BenchConfig struct {
	// Keys is the number of synthetic keys in the database (value "1", as
	// NEURLFilter's). Required.
	Keys int
	// Shards is the number of shards. Zero: 1.
	Shards int
	// Preset is the encryption preset. Empty: DefaultPreset.
	Preset string
	// Answers is the number of sequential answers timed for the latency
	// percentiles. Zero: 50.
	Answers int
	// Duration is how long the throughput phase runs. Zero: 5s.
	Duration time.Duration
	// Concurrency is the number of answers in flight in the throughput
	// phase. Zero: GOMAXPROCS.
	Concurrency int
	// Progress, if set, receives one line per phase.
	Progress func(string)
}

// BenchResult is what a capacity planner needs (docs/sizing.md).
type BenchResult struct {
	Keys, Shards int
	Preset       string
	// Dimensions, EntryCount and GaloisElements describe shard 0.
	Dimensions     [2]int
	EntryCount     int
	GaloisElements []uint32

	BuildTime time.Duration // ProcessKeywords
	KeyParse  time.Duration // server-side parse of one evaluation key

	// Latency of one server answer (one keyword), sequential.
	P50, P90, P99, Mean time.Duration
	// Throughput with Concurrency answers in flight.
	Concurrency    int
	AnswersPerSec  float64
	ThroughputTime time.Duration

	// Sizes in bytes: protobuf bodies as the device sends and receives them.
	QueryBytes, ResponseBytes, EvaluationKeyBytes, ConfigBytes int
	// DatabaseBytes is the size of the shards' .bin files.
	DatabaseBytes int64
	// HeapDatabaseBytes is the live heap after the build (mostly the
	// shards), PeakRSSBytes the process's peak resident set so far.
	HeapDatabaseBytes, PeakRSSBytes uint64
}

// Bench builds a database of cfg.Keys synthetic keys in memory and measures
// one server's answer latency, its throughput on all cores, its memory and
// the wire sizes. Every answer is decrypted and checked, so a wrong server
// fails the run instead of producing numbers.
func Bench(ctx context.Context, cfg BenchConfig) (*BenchResult, error) {
	if cfg.Keys < 1 {
		return nil, errors.New("e2e: bench needs at least one key")
	}
	if cfg.Shards == 0 {
		cfg.Shards = 1
	}
	if cfg.Preset == "" {
		cfg.Preset = DefaultPreset
	}
	if cfg.Answers == 0 {
		cfg.Answers = 50
	}
	if cfg.Duration == 0 {
		cfg.Duration = 5 * time.Second
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = runtime.GOMAXPROCS(0)
	}
	progress := cfg.Progress
	if progress == nil {
		progress = func(string) {}
	}
	res := &BenchResult{Keys: cfg.Keys, Shards: cfg.Shards, Preset: cfg.Preset, Concurrency: cfg.Concurrency}

	progress(fmt.Sprintf("building %d keys into %d shard(s)", cfg.Keys, cfg.Shards))
	rows := make([]pir.Row, cfg.Keys)
	for i := range rows {
		rows[i] = pir.Row{Keyword: benchKey(i), Value: []byte("1")}
	}
	t0 := time.Now()
	shards, err := pir.ProcessKeywords(ctx, rows, pir.ProcessConfig{Preset: cfg.Preset, ShardCount: cfg.Shards})
	if err != nil {
		return nil, fmt.Errorf("e2e: bench build: %w", err)
	}
	res.BuildTime = time.Since(t0)
	rows = nil
	p := shards[0].Params()
	res.Dimensions, res.EntryCount, res.GaloisElements = p.Dimensions, p.EntryCount, p.KeyConfig.GaloisElements
	for _, db := range shards {
		n, err := db.WriteTo(io.Discard)
		if err != nil {
			return nil, fmt.Errorf("e2e: bench: %w", err)
		}
		res.DatabaseBytes += n
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapDatabaseBytes = ms.HeapAlloc

	srv, err := pir.NewServer(shards, pir.ServerOptions{})
	if err != nil {
		return nil, fmt.Errorf("e2e: bench: %w", err)
	}
	const usecase = "bench.url.filtering"
	cresp := srv.Config().ConfigResponse(usecase)
	res.ConfigBytes = proto.Size(cresp)
	ccfg, err := pir.ClientConfigFromResponse(cresp, usecase)
	if err != nil {
		return nil, fmt.Errorf("e2e: bench: %w", err)
	}
	client, err := pir.NewClient(ccfg, rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("e2e: bench: %w", err)
	}
	progress("generating and parsing an evaluation key")
	ek, err := client.EvaluationKey(uint64(time.Now().Unix()), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("e2e: bench: %w", err)
	}
	res.EvaluationKeyBytes = proto.Size(&apipb.EvaluationKeys{Keys: []*apipb.EvaluationKey{ek}})
	t0 = time.Now()
	key, err := srv.ParseEvaluationKey(ek.GetEvaluationKey())
	if err != nil {
		return nil, fmt.Errorf("e2e: bench: %w", err)
	}
	res.KeyParse = time.Since(t0)

	// A pool of queries, half for present keys and half for absent ones,
	// built before timing (the device builds them, not the server).
	type job struct {
		q       *pir.Query
		req     *apipb.PIRRequest
		present bool
	}
	jobs := make([]job, 16)
	for i := range jobs {
		kw, present := benchKey(i*7919%cfg.Keys), i%2 == 0
		if !present {
			kw = fmt.Appendf(nil, "absent-%d.bench.example", i)
		}
		q, req, err := client.NewQuery(kw, ek.GetMetadata(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("e2e: bench: %w", err)
		}
		jobs[i] = job{q, req, present}
	}
	res.QueryBytes = proto.Size(&apipb.Requests{Requests: []*apipb.Request{{Usecase: usecase, Request: &apipb.Request_PirRequest{PirRequest: jobs[0].req}}}})

	answer := func(j job) (time.Duration, int, error) {
		t0 := time.Now()
		resp, err := srv.Answer(ctx, j.req, key)
		el := time.Since(t0)
		if err != nil {
			return 0, 0, err
		}
		_, found, err := client.Decrypt(j.q, resp)
		if err != nil {
			return 0, 0, err
		}
		if found != j.present {
			return 0, 0, fmt.Errorf("e2e: bench: lookup found=%v, want %v", found, j.present)
		}
		size := proto.Size(&apipb.Responses{Responses: []*apipb.Response{{Response: &apipb.Response_PirResponse{PirResponse: resp}}}})
		return el, size, nil
	}

	progress(fmt.Sprintf("timing %d sequential answers", cfg.Answers))
	lat := make([]time.Duration, cfg.Answers)
	var sum time.Duration
	for i := range lat {
		el, size, err := answer(jobs[i%len(jobs)])
		if err != nil {
			return nil, err
		}
		lat[i], res.ResponseBytes = el, size
		sum += el
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	res.P50, res.P90, res.P99, res.Mean = pct(0.50), pct(0.90), pct(0.99), sum/time.Duration(len(lat))

	progress(fmt.Sprintf("throughput: %d answers in flight for %s", cfg.Concurrency, cfg.Duration))
	tctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var done atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	t0 = time.Now()
	for w := range cfg.Concurrency {
		wg.Go(func() {
			for i := w; tctx.Err() == nil; i += cfg.Concurrency {
				if _, _, err := answer(jobs[i%len(jobs)]); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	res.ThroughputTime = time.Since(t0)
	if firstErr != nil {
		return nil, firstErr
	}
	res.AnswersPerSec = float64(done.Load()) / res.ThroughputTime.Seconds()
	res.PeakRSSBytes = peakRSS()
	return res, nil
}

// benchKey is synthetic key i, shaped like a NEURLFilter key.
func benchKey(i int) []byte {
	return fmt.Appendf(nil, "host%08d.bench.example/path", i)
}
