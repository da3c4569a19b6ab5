package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/generation"
)

const refreshUsage = `Usage: blindlist refresh --source [FORMAT:]URL... [--allow SRC]... [--out DIR] [flags]

Refetch the http(s) sources with conditional requests (If-None-Match /
If-Modified-Since, the validators and last good copies kept in DIR/sources and
DIR/refresh-state.json) and, only when one changed, build and publish a new
generation into DIR incrementally (as 'blindlist build'; shard count, preset and
tolerance are taken from the current generation). Running 'blindlist serve'
instances pick the new generation up by themselves. Meant for a cron job
(Kubernetes CronJob); 'serve --refresh-source' runs the same code on an interval.

A failed fetch, or a source that comes back empty or shrinks by more than
--max-shrink since its last good copy, is refused: the current generation stays
published and the command exits 1.

Flags:
  --source SRC        block list source (repeatable, required)
  --allow SRC         allow list source (repeatable)
  --out DIR           the build directory (default "out")
  --max-shrink F      refuse a source that shrank by more than this fraction (default 0.5)
  --force             accept a shrunk or empty source
  --keep N            generations to keep (default 5)
  --workers N         goroutines for the Bloom build and PIR shards (default: all cores)
  --no-test-identity  do not add Apple's onboarding key apple.com/url-filter-test
  --timeout D         overall time limit (default 30m)

Examples:
  blindlist refresh --source https://raw.githubusercontent.com/StevenBlack/hosts/master/hosts --out out/
`

// refreshJob is one refresh configuration, run once ('blindlist refresh')
// or on an interval ('serve --refresh-source'): the same code.
type refreshJob struct {
	out string
	rc  generation.RefreshConfig
	m   *refreshMetrics // nil: no metrics
}

// refreshMetrics are the refresh loop's Prometheus metrics.
type refreshMetrics struct {
	lastSuccess   prometheus.Gauge
	generationAge prometheus.GaugeFunc
	fetchFailures prometheus.Counter
	refused       prometheus.Counter
	added         prometheus.Gauge
	removed       prometheus.Gauge
}

func newRefreshMetrics(reg prometheus.Registerer, out string) *refreshMetrics {
	m := &refreshMetrics{
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "blindlist_refresh_last_success_timestamp_seconds",
			Help: "Unix time of the last refresh that fetched every source (published or unchanged)."}),
		generationAge: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "blindlist_generation_age_seconds",
			Help: "Seconds since the current generation of the refreshed directory was published."}, func() float64 {
			g, err := generation.Open(out)
			if err != nil {
				return -1
			}
			t, err := time.Parse(time.RFC3339, g.Manifest.Created)
			if err != nil {
				return -1
			}
			return time.Since(t).Seconds()
		}),
		fetchFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "blindlist_refresh_fetch_failures_total",
			Help: "Refreshes that failed to fetch or build; the current generation was kept."}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "blindlist_refresh_refused_total",
			Help: "Refreshes refused because a source came back empty or shrank too much."}),
		added: prometheus.NewGauge(prometheus.GaugeOpts{Name: "blindlist_refresh_keys_added",
			Help: "Keys added by the last published refresh."}),
		removed: prometheus.NewGauge(prometheus.GaugeOpts{Name: "blindlist_refresh_keys_removed",
			Help: "Keys removed by the last published refresh."}),
	}
	reg.MustRegister(m.lastSuccess, m.generationAge, m.fetchFailures, m.refused, m.added, m.removed)
	return m
}

// run refreshes once and records the outcome.
func (j *refreshJob) run(ctx context.Context) (*generation.RefreshResult, error) {
	res, err := generation.Refresh(ctx, j.out, j.rc)
	if j.m == nil {
		return res, err
	}
	switch {
	case errors.Is(err, generation.ErrRefused):
		j.m.refused.Inc()
	case err != nil:
		j.m.fetchFailures.Inc()
	default:
		j.m.lastSuccess.SetToCurrentTime()
		if res.Published != nil {
			j.m.added.Set(float64(res.Published.Manifest.Added))
			j.m.removed.Set(float64(res.Published.Manifest.Removed))
		}
	}
	return res, err
}

// parseSources parses repeatable source flags.
func parseSources(args []string) ([]blocklist.Source, error) {
	var out []blocklist.Source
	for _, s := range args {
		src, err := blocklist.ParseSource(s)
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, nil
}

func runRefresh(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("refresh", flag.ContinueOnError)
	var sources, allows multiFlag
	fs.Var(&sources, "source", "")
	fs.Var(&allows, "allow", "")
	out := fs.String("out", "out", "")
	maxShrink := fs.Float64("max-shrink", generation.DefaultMaxShrink, "")
	force := fs.Bool("force", false, "")
	keep := fs.Int("keep", generation.DefaultKeep, "")
	workers := fs.Int("workers", 0, "")
	noTestID := fs.Bool("no-test-identity", false, "")
	timeout := fs.Duration("timeout", 30*time.Minute, "")
	pos, code, ok := parseArgs(e, fs, refreshUsage, args)
	if !ok {
		return code
	}
	if code, ok := e.noArgs("refresh", pos); !ok {
		return code
	}
	if len(sources) == 0 {
		return e.usagef("refresh", "give at least one --source")
	}
	if !(*maxShrink > 0 && *maxShrink <= 1) {
		return e.usagef("refresh", "--max-shrink %v: want a fraction in (0, 1]", *maxShrink)
	}
	if *keep < 1 {
		return e.usagef("refresh", "--keep %d: want at least 1", *keep)
	}
	j := &refreshJob{out: *out}
	var err error
	j.rc = generation.RefreshConfig{MaxShrink: *maxShrink, Force: *force, Build: generation.Config{
		Compile: blocklist.Options{MaxBytes: blocklist.DefaultMaxBytes, PublicSuffixes: blocklist.DropSuffixes, TestIdentity: !*noTestID},
		Workers: *workers, Keep: *keep,
		Logf: func(format string, args ...any) { fmt.Fprintf(e.stderr, "blindlist: "+format+"\n", args...) },
	}}
	if j.rc.Build.Block, err = parseSources(sources); err != nil {
		return e.usagef("refresh", "%v", err)
	}
	if j.rc.Build.Allow, err = parseSources(allows); err != nil {
		return e.usagef("refresh", "%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := j.run(ctx)
	if err != nil {
		if errors.Is(err, generation.ErrRefused) {
			e.hintf("the current generation stays published; --force accepts the source as it is")
		}
		return e.errorf("%v", err)
	}
	if res.Published == nil {
		fmt.Fprintf(e.stdout, "unchanged: %d sources not modified; generation stays current in %s\n", res.NotModified, *out)
		return 0
	}
	m := res.Published.Manifest
	fmt.Fprintf(e.stdout, "published generation %s in %s: %d keys (+%d -%d), %d sources fetched, %d not modified\n",
		m.ID, *out, m.Keys, m.Added, m.Removed, res.Fetched, res.NotModified)
	return 0
}
