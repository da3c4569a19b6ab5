package ohttp

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Result labels of ohttp_gateway_requests_total: a fixed set, never request
// data. Outer results answer the relay directly; inner results travel inside
// the encapsulated response.
const (
	resultOK                   = "ok"                     // target answered (any status)
	resultUnsupportedMediaType = "unsupported_media_type" // outer 415
	resultTooLarge             = "request_too_large"      // outer 413
	resultMalformed            = "malformed"              // outer 400
	resultKeyConfig            = "key_config"             // outer 400, ohttp-key problem
	resultDecrypt              = "decrypt"                // outer 400
	resultInnerInvalid         = "inner_invalid"          // inner 400
	resultExpectContinue       = "inner_expect_continue"  // inner 417
	resultForbiddenTarget      = "forbidden_target"       // inner 403
	resultHeaderTooLarge       = "inner_header_too_large" // inner 431
	resultResponseTooLarge     = "response_too_large"     // inner 502
	resultResponseInvalid      = "response_invalid"       // inner 502
	resultTargetFailed         = "target_failed"          // inner 502 or 504: the target panicked or aborted
	resultInternal             = "internal"               // outer 500
)

var allResults = []string{
	resultOK, resultUnsupportedMediaType, resultTooLarge, resultMalformed, resultKeyConfig, resultDecrypt,
	resultInnerInvalid, resultExpectContinue, resultForbiddenTarget, resultHeaderTooLarge, resultResponseTooLarge,
	resultResponseInvalid, resultTargetFailed, resultInternal,
}

// metrics are the gateway's Prometheus collectors, with every labelled
// child resolved once so the request path does no label lookups.
type metrics struct {
	requests     *prometheus.CounterVec   // by result
	duration     *prometheus.HistogramVec // by result
	inFlight     prometheus.Gauge
	innerStatus  map[string]prometheus.Counter // by status class of the encapsulated response
	keyRequests  prometheus.Counter
	requestSize  prometheus.Histogram
	responseSize prometheus.Histogram
	byResult     map[string]resultMetrics
}

type resultMetrics struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	sizeBuckets := prometheus.ExponentialBuckets(256, 4, 9) // 256 B .. 16 MiB
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ohttp_gateway_requests_total",
			Help: "Encapsulated requests by result.",
		}, []string{"result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ohttp_gateway_request_duration_seconds",
			Help:    "Time from request to encapsulated response, by result.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16), // 50 µs .. 1.6 s
		}, []string{"result"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ohttp_gateway_in_flight_requests",
			Help: "Encapsulated requests being handled.",
		}),
		innerStatus: map[string]prometheus.Counter{},
		byResult:    map[string]resultMetrics{},
		keyRequests: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ohttp_gateway_key_config_requests_total",
			Help: "Requests for the key configuration.",
		}),
		requestSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ohttp_gateway_request_bytes", Help: "Encapsulated request sizes.", Buckets: sizeBuckets,
		}),
		responseSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ohttp_gateway_response_bytes", Help: "Encapsulated response sizes.", Buckets: sizeBuckets,
		}),
	}
	for _, r := range allResults {
		m.byResult[r] = resultMetrics{m.requests.WithLabelValues(r), m.duration.WithLabelValues(r)}
	}
	innerStatus := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ohttp_gateway_inner_responses_total",
		Help: "Encapsulated responses by status class of the inner response.",
	}, []string{"class"})
	for _, c := range []string{"2xx", "3xx", "4xx", "5xx"} {
		m.innerStatus[c] = innerStatus.WithLabelValues(c)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inFlight, innerStatus, m.keyRequests, m.requestSize, m.responseSize} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func statusClass(code int) string {
	switch {
	case code < 300:
		return "2xx"
	case code < 400:
		return "3xx"
	case code < 500:
		return "4xx"
	}
	return "5xx"
}
