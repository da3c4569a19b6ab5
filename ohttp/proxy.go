package ohttp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// ProxyConfig configures [NewProxy].
type ProxyConfig struct {
	// Upstream is the base URL inner requests are forwarded to, "https://…"
	// or "http://…". Its path, if any, prefixes the inner request's path.
	// Required.
	Upstream string

	// H2C makes an "http://" upstream speak HTTP/2 without TLS (prior
	// knowledge, "h2c"). Otherwise http upstreams get HTTP/1.1, and https
	// upstreams negotiate HTTP/2 ("h2") or HTTP/1.1 by ALPN.
	H2C bool

	// TLSConfig is used for https upstreams. Nil means the system roots.
	TLSConfig *tls.Config

	// DialTimeout bounds connecting to the upstream. Zero means 10 seconds.
	DialTimeout time.Duration
}

// NewProxy returns a target handler for [Config.Targets] that forwards inner
// requests to an upstream over HTTP: the standalone mode, where the gateway
// runs apart from the service. It keeps the inner authority as the Host,
// adds no Forwarded or X-Forwarded-For fields (the gateway knows nothing of
// the client to add), ignores proxy environment variables, and answers
// upstream failures with 502, or 504 when the forward timeout expired.
//
// HTTP/2 uses net/http's own support (Go 1.24+ http.Protocols), which
// replaces the deprecated golang.org/x/net/http2/h2c.
func NewProxy(cfg ProxyConfig) (http.Handler, error) {
	u, err := url.Parse(cfg.Upstream)
	if err != nil {
		return nil, fmt.Errorf("ohttp: upstream URL: %w", err)
	}
	if u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("ohttp: upstream URL %q must be http://host or https://host", cfg.Upstream)
	}
	if cfg.H2C && u.Scheme != "http" {
		return nil, errors.New("ohttp: h2c needs an http:// upstream; https negotiates h2 by itself")
	}
	dialTimeout := cfg.DialTimeout
	if dialTimeout == 0 {
		dialTimeout = 10 * time.Second
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     cfg.TLSConfig,
		TLSHandshakeTimeout: dialTimeout,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
		Protocols:           new(http.Protocols),
	}
	switch {
	case cfg.H2C:
		tr.Protocols.SetUnencryptedHTTP2(true)
	case u.Scheme == "https":
		tr.Protocols.SetHTTP1(true)
		tr.Protocols.SetHTTP2(true)
	default:
		tr.Protocols.SetHTTP1(true)
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
		},
		Transport: tr,
		ErrorLog:  log.New(io.Discard, "", 0),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status := http.StatusBadGateway
			if errors.Is(err, context.DeadlineExceeded) {
				status = http.StatusGatewayTimeout
			}
			w.WriteHeader(status)
		},
	}, nil
}
