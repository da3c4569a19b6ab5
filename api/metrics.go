package api

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the service's Prometheus collectors. Every label has a fixed,
// small set of values (endpoint names, status codes, error categories,
// configured tier names); none carries request data or user identifiers.
type metrics struct {
	requests   *prometheus.CounterVec   // endpoint, code, category
	duration   *prometheus.HistogramVec // endpoint
	inFlight   *prometheus.GaugeVec     // endpoint
	bodyBytes  *prometheus.HistogramVec // endpoint
	answers    prometheus.Histogram     // seconds per PIR answer
	tokens     *prometheus.CounterVec   // tier (redeemed tokens)
	keysStored prometheus.Counter
	reports    *prometheus.CounterVec // result: stored, dropped
	reloads    *prometheus.CounterVec // result: ok, error
	usecases   prometheus.Gauge
	keyCache   keyCacheMetrics
	// uncachedKeys is the number of parsed keys held by answers in flight
	// that were parsed on a cache miss (keysInUse).
	uncachedKeys prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "blindlist", "api"
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "requests_total",
			Help: "PIR-service calls by endpoint, HTTP status and error category.",
		}, []string{"endpoint", "code", "category"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "request_duration_seconds",
			Help:    "Time from the request headers to the last response byte.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "in_flight_requests",
			Help: "Calls being served.",
		}, []string{"endpoint"}),
		bodyBytes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "request_body_bytes",
			Help:    "Request body sizes (declare the maximum to Apple's relay).",
			Buckets: prometheus.ExponentialBuckets(256, 4, 10),
		}, []string{"endpoint"}),
		answers: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "pir_answer_seconds",
			Help:    "Time to compute one PIR response.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "tokens_redeemed_total",
			Help: "Privacy Pass tokens accepted, by configured tier.",
		}, []string{"tier"}),
		keysStored: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "evaluation_keys_stored_total",
			Help: "Evaluation keys uploaded and stored.",
		}),
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "reports_total",
			Help: "Blocked-URL reports received, by outcome.",
		}, []string{"result"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "reloads_total",
			Help: "Database reloads, by outcome.",
		}, []string{"result"}),
		usecases: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "usecases",
			Help: "Usecases served.",
		}),
	}
	m.uncachedKeys = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: ns, Subsystem: sub, Name: "key_parses_in_use",
		Help: "Evaluation keys parsed on a cache miss and held by answers in flight: memory beside the cache budget, at most limits.maxConcurrentAnswers keys.",
	})
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "key_cache_lookups_total",
		Help: "Parsed evaluation-key cache lookups, by result (hit, miss: the key is parsed).",
	}, []string{"result"})
	evictions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "key_cache_evictions_total",
		Help: "Parsed evaluation keys evicted, by the bound that needed room (bytes: limits.keyCacheBytes, entries: the entry cap).",
	}, []string{"bound"})
	m.keyCache = keyCacheMetrics{
		hits:       lookups.WithLabelValues("hit"),
		misses:     lookups.WithLabelValues("miss"),
		evictBytes: evictions.WithLabelValues("bytes"),
		evictCount: evictions.WithLabelValues("entries"),
		tooLarge: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "key_cache_too_large_total",
			Help: "Parsed evaluation keys used but not cached: their estimated size exceeds the whole cache budget.",
		}),
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "key_cache_bytes",
			Help: "Estimated heap held by the cached parsed evaluation keys (api.ParsedKeyBytes each).",
		}),
		entries: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "key_cache_entries",
			Help: "Parsed evaluation keys cached.",
		}),
		maxSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "key_cache_limit_bytes",
			Help: "The key cache budget (limits.keyCacheBytes); 0 when the cache is off.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inFlight, m.bodyBytes, m.answers,
		m.tokens, m.keysStored, m.reports, m.reloads, m.usecases, m.uncachedKeys, lookups, evictions,
		m.keyCache.tooLarge, m.keyCache.bytes, m.keyCache.entries, m.keyCache.maxSize} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
