package ohttp

import (
	"bytes"
	"context"
	"crypto/hpke"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/blindlist/blindlist/ohttp/bhttp"
)

// StatusError is a relay or gateway answer that is not an encapsulated
// response: an error status sent without protection (RFC 9458 §5.2).
//
// A gateway that does not know the request's key configuration answers 400
// with the RFC 9458 §5.3 "ohttp-key" problem document (ours does), or 401
// without one (ohttp-go based gateways, such as privacy-gateway-server-go);
// [StatusError.StaleKeyConfig] reports both, and errors.Is(err,
// [ErrKeyConfig]) holds for them, so callers know to fetch the key
// configuration again.
type StatusError struct {
	StatusCode  int
	ProblemType string // the "type" of an application/problem+json body, if any
}

// StaleKeyConfig reports whether the answer means that the gateway does not
// know the key configuration the request was sealed to: the "ohttp-key"
// problem type, or a 401 without a problem document. A 401 might also come
// from a relay that wants credentials, but an OHTTP relay forwards
// anonymously, so the stale key is the likely cause.
func (e *StatusError) StaleKeyConfig() bool {
	return strings.HasSuffix(e.ProblemType, "#ohttp-key") ||
		e.StatusCode == http.StatusUnauthorized && e.ProblemType == ""
}

func (e *StatusError) Error() string {
	what := fmt.Sprintf("relay answered %d", e.StatusCode)
	if e.ProblemType != "" {
		what = fmt.Sprintf("relay answered %d (%s)", e.StatusCode, e.ProblemType)
	}
	if e.StaleKeyConfig() {
		return "ohttp: the gateway does not know the key configuration, which is probably stale (" + what + ")"
	}
	return "ohttp: " + what
}

// Unwrap returns [ErrKeyConfig] when the key configuration is stale.
func (e *StatusError) Unwrap() error {
	if e.StaleKeyConfig() {
		return ErrKeyConfig
	}
	return nil
}

// Client is an http.RoundTripper that sends each request through an
// Oblivious HTTP relay: it encodes the request as binary HTTP, encapsulates
// it to the gateway's key, POSTs it to the relay, and opens the
// encapsulated response. Put it in an http.Client's Transport to make
// ordinary requests obliviously; the request URL names the target.
type Client struct {
	// RelayURL is the relay resource encapsulated requests are POSTed to.
	RelayURL string

	// KeyConfig is the gateway's key configuration.
	KeyConfig KeyConfig

	// Suite is the HPKE suite to use. The zero value picks the first suite of
	// KeyConfig that this package supports.
	Suite Suite

	// Transport carries the request to the relay. Nil means
	// http.DefaultTransport.
	Transport http.RoundTripper

	// IndeterminateLength selects the indeterminate-length binary HTTP
	// framing (RFC 9292 §3.2), the form Apple's client library sends. The
	// default is known-length, the one framing every gateway decodes
	// (ohttp-go based gateways, such as privacy-gateway-server-go, answer
	// 400 to indeterminate-length requests). Our gateway accepts both.
	IndeterminateLength bool

	// MaxResponseBytes caps the encapsulated response. Zero means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
}

// SelectKeyConfig returns the configuration of configs that a [Client]
// should use: the first MLKEM768-X25519 (post-quantum hybrid) one it can
// use, else the first it can use at all. Usable means a KEM that crypto/hpke
// implements, a public key it accepts, and a suite this package supports.
// Lists from [ParseKeyConfigs] may hold configurations for KEMs that other
// gateways offer beside X25519; those are passed over.
func SelectKeyConfig(configs []KeyConfig) (KeyConfig, error) {
	for _, kc := range configs {
		if kc.KEM == KEMMLKEM768X25519 && usable(kc) == nil {
			return kc, nil
		}
	}
	var reasons []string
	for _, kc := range configs {
		err := usable(kc)
		if err == nil {
			return kc, nil
		}
		reasons = append(reasons, fmt.Sprintf("key id %d: %v", kc.KeyID, err))
	}
	return KeyConfig{}, fmt.Errorf("%w: no usable key configuration among %d (%s)", ErrKeyConfig, len(configs), strings.Join(reasons, "; "))
}

// usable reports why a client cannot seal requests to kc, or nil.
func usable(kc KeyConfig) error {
	kem, err := hpke.NewKEM(kc.KEM)
	if err != nil {
		return fmt.Errorf("KEM 0x%04x is not supported", kc.KEM)
	}
	if _, err := kem.NewPublicKey(kc.PublicKey); err != nil {
		return fmt.Errorf("invalid public key for KEM 0x%04x", kc.KEM)
	}
	if _, err := (&Client{KeyConfig: kc}).suite(); err != nil {
		return errors.New("no supported suite")
	}
	return nil
}

func (c *Client) suite() (Suite, error) {
	if c.Suite != (Suite{}) {
		return c.Suite, nil
	}
	for _, s := range c.KeyConfig.Suites {
		if _, _, err := hpkeSuite(s); err == nil {
			return s, nil
		}
	}
	return Suite{}, fmt.Errorf("%w: key id %d offers no supported suite", ErrKeyConfig, c.KeyConfig.KeyID)
}

// RoundTrip implements http.RoundTripper. It reads and closes req.Body.
func (c *Client) RoundTrip(req *http.Request) (*http.Response, error) {
	var content []byte
	if req.Body != nil {
		var err error
		content, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("ohttp: reading request body: %w", err)
		}
	}
	suite, err := c.suite()
	if err != nil {
		return nil, err
	}
	plaintext, err := newBinaryRequest(req, content, c.IndeterminateLength).MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("ohttp: encoding request: %w", err)
	}
	encRequest, cc, err := EncapsulateRequest(c.KeyConfig, suite, plaintext)
	if err != nil {
		return nil, err
	}
	encResponse, err := c.post(req.Context(), encRequest)
	if err != nil {
		return nil, err
	}
	plainResponse, err := cc.DecapsulateResponse(encResponse)
	if err != nil {
		return nil, err
	}
	br, err := bhttp.ParseResponse(plainResponse)
	if err != nil {
		return nil, fmt.Errorf("ohttp: decoding response: %w", err)
	}
	return newClientResponse(req, br), nil
}

// post sends an encapsulated request to the relay and returns the
// encapsulated response.
func (c *Client) post(ctx context.Context, encRequest []byte) ([]byte, error) {
	outer, err := http.NewRequestWithContext(ctx, http.MethodPost, c.RelayURL, bytes.NewReader(encRequest))
	if err != nil {
		return nil, fmt.Errorf("ohttp: relay request: %w", err)
	}
	outer.Header.Set("Content-Type", mediaTypeRequest)
	tr := c.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	resp, err := tr.RoundTrip(outer)
	if err != nil {
		return nil, fmt.Errorf("ohttp: relay: %w", err)
	}
	defer resp.Body.Close()
	maxBytes := c.MaxResponseBytes
	if maxBytes == 0 {
		maxBytes = DefaultMaxResponseBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("ohttp: reading relay response: %w", err)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || mt != mediaTypeResponse {
		se := &StatusError{StatusCode: resp.StatusCode}
		if mt == "application/problem+json" {
			se.ProblemType = problemType(body)
		}
		return nil, se
	}
	if int64(len(body)) > maxBytes {
		return nil, errors.New("ohttp: encapsulated response exceeds MaxResponseBytes")
	}
	return body, nil
}
