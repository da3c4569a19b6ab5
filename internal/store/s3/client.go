// Package s3 is a minimal client for S3-compatible object stores (AWS S3,
// Google Cloud Storage's XML API, Azure through a gateway, MinIO, Ceph RGW,
// SeaweedFS): put, get, delete and head of whole objects and bucket
// creation, path-style, signed with AWS Signature Version 4, on net/http.
//
// Every call takes a context and is bounded by [Config.Timeout]. Uploads
// carry Content-MD5 and the signed payload SHA-256, so the server stores an
// object only when it received exactly the bytes sent; S3 makes an object
// visible only once its upload completed, so a reader sees the old object,
// the new one, or none, never part of one.
//
// It does no retries: callers (the evaluation-key store) fail closed and
// let their own clients retry.
package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Errors callers branch on.
var (
	// ErrNotFound is returned by Get for an absent object (404).
	ErrNotFound = errors.New("s3: object not found")
	// ErrUnavailable wraps failures that say nothing about the object: the
	// server unreachable, the connection cut, a timeout, a 5xx or 429
	// answer. Retrying later may succeed.
	ErrUnavailable = errors.New("s3: server unavailable")
	// ErrNotModified is returned by GetIfChanged when the object still has
	// the ETag the caller holds (304): no body was sent.
	ErrNotModified = errors.New("s3: object not modified")
)

// Config locates a bucket and holds the credentials to sign with.
type Config struct {
	// Endpoint is the service's base URL, "https://s3.eu-west-1.amazonaws.com"
	// or "http://127.0.0.1:8333". Objects are addressed path-style:
	// Endpoint/Bucket/key. Required.
	Endpoint string
	// Region is the signing region ("us-east-1" for most non-AWS stores).
	// Required.
	Region string
	// Bucket is the bucket name. Required.
	Bucket string
	// AccessKey and SecretKey are the credentials. Required.
	AccessKey, SecretKey string
	// Timeout bounds one call, connection to last byte. Zero: 30 s.
	Timeout time.Duration
	// Transport carries the requests. Nil: a transport with a 3 s dial
	// timeout and a 10 s response-header timeout, so a dead server fails
	// a call quickly.
	Transport http.RoundTripper
}

// Client talks to one bucket. Safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
	hc   *http.Client
	now  func() time.Time
}

// maxErrorBody caps how much of an error response is read.
const maxErrorBody = 4 << 10

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.Endpoint == "":
		return nil, errors.New("s3: endpoint is required")
	case cfg.Region == "":
		return nil, errors.New("s3: region is required")
	case cfg.Bucket == "" || strings.ContainsAny(cfg.Bucket, "/?#%"):
		return nil, fmt.Errorf("s3: bucket name %q is empty or holds '/', '?', '#' or '%%'", cfg.Bucket)
	case cfg.AccessKey == "" || cfg.SecretKey == "":
		return nil, errors.New("s3: access key and secret key are required")
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("s3: negative timeout %v", cfg.Timeout)
	}
	u, err := url.Parse(strings.TrimSuffix(cfg.Endpoint, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("s3: endpoint %q is not an http(s) base URL", cfg.Endpoint)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	tr := cfg.Transport
	if tr == nil {
		tr = &http.Transport{
			DialContext:           (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ResponseHeaderTimeout: 10 * time.Second,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		}
	}
	return &Client{cfg: cfg, base: u, hc: &http.Client{Transport: tr}, now: time.Now}, nil
}

// Bucket returns the bucket name.
func (c *Client) Bucket() string { return c.cfg.Bucket }

// objectURL is Endpoint/Bucket/key.
func (c *Client) objectURL(key string) *url.URL {
	u := *c.base
	u.Path = u.Path + "/" + c.cfg.Bucket
	if key != "" {
		u.Path += "/" + key
	}
	u.RawPath = ""
	return &u
}

// do signs and sends one request with body (nil for none) and returns the
// response; the caller closes its body.
func (c *Client) do(ctx context.Context, method, key string, body []byte, hdr http.Header) (*http.Response, error) {
	u := c.objectURL(key)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("s3: %s %s: %w", method, key, err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	sum := sha256.Sum256(body)
	if body != nil {
		m := md5.Sum(body)
		req.Header.Set("Content-Md5", base64.StdEncoding.EncodeToString(m[:]))
		req.ContentLength = int64(len(body))
	}
	sign(req, c.cfg.AccessKey, c.cfg.SecretKey, c.cfg.Region, hex.EncodeToString(sum[:]), c.now())
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("s3: %s %s: %w: %w", method, c.cfg.Bucket+"/"+key, ErrUnavailable, err)
	}
	return resp, nil
}

// statusError reads the error response's S3 error code.
func statusError(method, what string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	code := ""
	if i := bytes.Index(b, []byte("<Code>")); i >= 0 {
		rest := b[i+len("<Code>"):]
		if j := bytes.Index(rest, []byte("</Code>")); j >= 0 {
			code = " " + string(rest[:j])
		}
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return fmt.Errorf("s3: %s %s: status %d%s: %w", method, what, resp.StatusCode, code, ErrUnavailable)
	}
	return fmt.Errorf("s3: %s %s: status %d%s", method, what, resp.StatusCode, code)
}

// Put stores body under key, replacing any object there. It returns once
// the server acknowledged the whole object.
func (c *Client) Put(ctx context.Context, key string, body []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	if body == nil {
		body = []byte{}
	}
	resp, err := c.do(ctx, http.MethodPut, key, body, http.Header{"Content-Type": {"application/octet-stream"}})
	if err != nil {
		return err
	}
	defer drain(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return statusError("PUT", c.cfg.Bucket+"/"+key, resp)
	}
	return nil
}

// Get returns the object stored under key, reading at most maxBytes
// (larger objects are an error), or an error wrapping [ErrNotFound].
func (c *Client) Get(ctx context.Context, key string, maxBytes int64) ([]byte, error) {
	b, _, err := c.GetIfChanged(ctx, key, "", maxBytes)
	return b, err
}

// GetIfChanged is [Client.Get] conditioned on the object's ETag: with etag
// not empty it sends If-None-Match, and when the object still has that
// ETag the server answers 304 without a body and GetIfChanged returns
// [ErrNotModified]. Otherwise it returns the object and its ETag (empty if
// the server sent none). A revalidation costs one request and a few
// hundred bytes of headers instead of the whole object.
func (c *Client) GetIfChanged(ctx context.Context, key, etag string, maxBytes int64) ([]byte, string, error) {
	if err := checkKey(key); err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var hdr http.Header
	if etag != "" {
		hdr = http.Header{"If-None-Match": {etag}}
	}
	resp, err := c.do(ctx, http.MethodGet, key, nil, hdr)
	if err != nil {
		return nil, "", err
	}
	defer drain(resp.Body)
	what := c.cfg.Bucket + "/" + key
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		if etag == "" {
			return nil, "", fmt.Errorf("s3: GET %s: status 304 to an unconditional request", what)
		}
		return nil, etag, fmt.Errorf("s3: GET %s: %w", what, ErrNotModified)
	case http.StatusNotFound:
		return nil, "", fmt.Errorf("s3: GET %s: %w", what, ErrNotFound)
	default:
		return nil, "", statusError("GET", what, resp)
	}
	if resp.ContentLength > maxBytes {
		return nil, "", fmt.Errorf("s3: GET %s: object of %d bytes, limit %d", what, resp.ContentLength, maxBytes)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("s3: GET %s: reading: %w: %w", what, ErrUnavailable, err)
	}
	if int64(len(b)) > maxBytes {
		return nil, "", fmt.Errorf("s3: GET %s: object over %d bytes", what, maxBytes)
	}
	if resp.ContentLength >= 0 && int64(len(b)) != resp.ContentLength {
		return nil, "", fmt.Errorf("s3: GET %s: read %d of %d bytes: %w", what, len(b), resp.ContentLength, ErrUnavailable)
	}
	return b, resp.Header.Get("Etag"), nil
}

// Delete removes key. Removing an absent object is not an error.
func (c *Client) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodDelete, key, nil, nil)
	if err != nil {
		return err
	}
	defer drain(resp.Body)
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
		return statusError("DELETE", c.cfg.Bucket+"/"+key, resp)
	}
	return nil
}

// HeadBucket checks that the bucket exists and the credentials may use it.
func (c *Client) HeadBucket(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodHead, "", nil, nil)
	if err != nil {
		return err
	}
	defer drain(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return statusError("HEAD bucket", c.cfg.Bucket, resp)
	}
	return nil
}

// CreateBucket creates the bucket; one that the caller already owns is not
// an error.
func (c *Client) CreateBucket(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodPut, "", nil, nil)
	if err != nil {
		return err
	}
	defer drain(resp.Body)
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	err = statusError("PUT bucket", c.cfg.Bucket, resp)
	if strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
		return nil
	}
	return err
}

// checkKey rejects object keys S3 would treat specially.
func checkKey(key string) error {
	if key == "" || len(key) > 1024 || strings.HasPrefix(key, "/") {
		return fmt.Errorf("s3: object key %q is empty, over 1024 bytes or starts with '/'", key)
	}
	return nil
}

// drain reads a little of an unread body so the connection can be reused,
// then closes it.
func drain(r io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, maxErrorBody))
	_ = r.Close()
}
