package ohttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
)

// problemType returns the "type" member of a problem+json body, or "".
func problemType(body []byte) string {
	var p struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	return p.Type
}

// RelayConfig configures a [Relay].
type RelayConfig struct {
	// GatewayURL is the gateway resource every request is forwarded to
	// (RFC 9458 uses a one-to-one relay-to-gateway mapping, §8.2). Required.
	GatewayURL string

	// Transport carries requests to the gateway. Nil means a transport that
	// speaks HTTP/1.1 or h2 (by ALPN) and ignores proxy environment
	// variables.
	Transport http.RoundTripper

	// MaxRequestBytes and MaxResponseBytes cap the bodies the relay carries.
	// Zero means DefaultMaxRequestBytes and DefaultMaxResponseBytes.
	MaxRequestBytes  int64
	MaxResponseBytes int64

	// Logger receives one line per failed request, without addresses or
	// payloads. Nil discards.
	Logger *slog.Logger
}

// Relay is an Oblivious Relay Resource for local tests and development (in
// production Apple runs the relay). It accepts POSTed message/ohttp-req
// bodies at any path and forwards them to the gateway in a fresh request
// that carries only the Content-Type and the body: no client header, no
// Forwarded or X-Forwarded-For, nothing about the client's address
// (RFC 9458 §6.2). The gateway's answer comes back with its status,
// Content-Type and body only.
type Relay struct {
	gateway          string
	transport        http.RoundTripper
	maxRequestBytes  int64
	maxResponseBytes int64
	log              *slog.Logger
}

// NewRelay checks cfg and returns a relay.
func NewRelay(cfg RelayConfig) (*Relay, error) {
	u, err := url.Parse(cfg.GatewayURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("ohttp: gateway URL %q must be http://host/… or https://host/…", cfg.GatewayURL)
	}
	if cfg.MaxRequestBytes < 0 || cfg.MaxResponseBytes < 0 {
		return nil, errors.New("ohttp: relay size caps must not be negative")
	}
	r := &Relay{
		gateway:          u.String(),
		transport:        cfg.Transport,
		maxRequestBytes:  cmpOr(cfg.MaxRequestBytes, DefaultMaxRequestBytes),
		maxResponseBytes: cmpOr(cfg.MaxResponseBytes, DefaultMaxResponseBytes),
		log:              cfg.Logger,
	}
	if r.transport == nil {
		r.transport = &http.Transport{ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// Handler returns the relay's HTTP handler.
func (rl *Relay) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", rl.serve)
	return mux
}

func (rl *Relay) serve(w http.ResponseWriter, r *http.Request) {
	if !isMediaType(r.Header.Get("Content-Type"), mediaTypeRequest) {
		http.Error(w, http.StatusText(http.StatusUnsupportedMediaType), http.StatusUnsupportedMediaType)
		return
	}
	body, err := readBody(w, r, rl.maxRequestBytes, nil)
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		http.Error(w, http.StatusText(http.StatusRequestEntityTooLarge), http.StatusRequestEntityTooLarge)
		return
	case err != nil || len(body) == 0:
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	out, err := http.NewRequestWithContext(r.Context(), http.MethodPost, rl.gateway, bytes.NewReader(body))
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	out.Header.Set("Content-Type", mediaTypeRequest)
	resp, err := rl.transport.RoundTrip(out)
	if err != nil {
		rl.log.LogAttrs(r.Context(), slog.LevelWarn, "ohttp relay: gateway unreachable")
		http.Error(w, http.StatusText(http.StatusBadGateway), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, rl.maxResponseBytes+1))
	if err != nil || int64(len(respBody)) > rl.maxResponseBytes {
		rl.log.LogAttrs(r.Context(), slog.LevelWarn, "ohttp relay: bad gateway response")
		http.Error(w, http.StatusText(http.StatusBadGateway), http.StatusBadGateway)
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(respBody)))
	w.WriteHeader(resp.StatusCode)
	w.Write(respBody)
}
