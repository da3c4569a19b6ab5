package ohttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/blindlist/blindlist/ohttp/bhttp"
)

// StatusError is a relay or gateway answer that is not an encapsulated
// response: an error status sent without protection (RFC 9458 §5.2). A
// ProblemType ending in "#ohttp-key" means the key configuration is stale.
type StatusError struct {
	StatusCode  int
	ProblemType string // the "type" of an application/problem+json body, if any
}

func (e *StatusError) Error() string {
	if e.ProblemType != "" {
		return fmt.Sprintf("ohttp: relay answered %d (%s)", e.StatusCode, e.ProblemType)
	}
	return fmt.Sprintf("ohttp: relay answered %d", e.StatusCode)
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

	// KnownLength selects the known-length binary HTTP framing. The default
	// is indeterminate-length, the form Apple's client library sends.
	KnownLength bool

	// MaxResponseBytes caps the encapsulated response. Zero means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
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
	plaintext, err := newBinaryRequest(req, content, !c.KnownLength).MarshalBinary()
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
