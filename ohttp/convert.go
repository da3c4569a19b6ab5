package ohttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/blindlist/blindlist/ohttp/bhttp"
)

// connectionFields are the connection-specific fields of RFC 9110 §7.6.1.
// RFC 9292 §3.6 says they cannot take effect inside a binary message; the
// gateway drops them from inner requests and responses.
var connectionFields = map[string]bool{
	"Connection":        true,
	"Keep-Alive":        true,
	"Proxy-Connection":  true,
	"Te":                true,
	"Transfer-Encoding": true,
	"Upgrade":           true,
}

// errInnerRequest marks a binary HTTP request that decodes but cannot become
// an http.Request; the gateway answers it with an encapsulated 400.
var errInnerRequest = errors.New("ohttp: unusable inner request")

// innerAuthority is the authority a request targets: its control data, or
// the Host field when the authority is empty (RFC 9292 §3.4).
func innerAuthority(r *bhttp.Request) string {
	if r.Authority != "" {
		return r.Authority
	}
	for _, f := range r.Header {
		if strings.EqualFold(f.Name, "host") {
			return f.Value
		}
	}
	return ""
}

// newInnerRequest turns a decoded binary HTTP request into the server-side
// http.Request handed to a target handler. RemoteAddr stays empty: the
// gateway never learns the client's address, and never invents one.
func newInnerRequest(ctx context.Context, br *bhttp.Request, authority string) (*http.Request, error) {
	if !strings.HasPrefix(br.Path, "/") {
		return nil, fmt.Errorf("%w: path %q is not absolute", errInnerRequest, br.Path)
	}
	u, err := url.ParseRequestURI(br.Path)
	if err != nil {
		return nil, fmt.Errorf("%w: path: %w", errInnerRequest, err)
	}
	u.Scheme, u.Host = br.Scheme, authority
	req := &http.Request{
		Method:        br.Method,
		URL:           u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        make(http.Header, len(br.Header)),
		ContentLength: int64(len(br.Content)),
		Host:          authority,
		RequestURI:    br.Path,
		Body:          http.NoBody,
	}
	if len(br.Content) > 0 {
		req.Body = io.NopCloser(bytes.NewReader(br.Content))
	}
	for _, f := range br.Header {
		name := http.CanonicalHeaderKey(f.Name)
		if connectionFields[name] || name == "Host" || name == "Content-Length" {
			continue
		}
		req.Header[name] = append(req.Header[name], f.Value)
	}
	if len(br.Trailer) > 0 {
		req.Trailer = make(http.Header, len(br.Trailer))
		for _, f := range br.Trailer {
			name := http.CanonicalHeaderKey(f.Name)
			req.Trailer[name] = append(req.Trailer[name], f.Value)
		}
	}
	return req.WithContext(ctx), nil
}

// appendFields appends h as field lines with lower-case names (as HTTP/2
// and HTTP/3 carry them), in sorted name order so the encoding is
// deterministic, skipping connection-specific fields and names in skip.
func appendFields(dst []bhttp.Field, h http.Header, skip func(string) bool) []bhttp.Field {
	names := make([]string, 0, len(h))
	for name := range h {
		if connectionFields[http.CanonicalHeaderKey(name)] || (skip != nil && skip(name)) {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		lower := strings.ToLower(name)
		for _, v := range h[name] {
			dst = append(dst, bhttp.Field{Name: lower, Value: v})
		}
	}
	return dst
}

// newBinaryRequest is the client side: it turns an http.Request and its
// body into a binary HTTP request.
func newBinaryRequest(req *http.Request, content []byte, indeterminate bool) *bhttp.Request {
	authority := req.Host
	if authority == "" {
		authority = req.URL.Host
	}
	br := &bhttp.Request{
		Method:        req.Method,
		Scheme:        req.URL.Scheme,
		Authority:     authority,
		Path:          req.URL.RequestURI(),
		Content:       content,
		Indeterminate: indeterminate,
	}
	if br.Method == "" {
		br.Method = http.MethodGet
	}
	br.Header = appendFields(nil, req.Header, func(name string) bool {
		return strings.EqualFold(name, "Host") || strings.EqualFold(name, "Content-Length")
	})
	br.Trailer = appendFields(nil, req.Trailer, nil)
	return br
}

// newClientResponse turns a decoded binary HTTP response into the
// http.Response a client's RoundTrip returns. Informational responses are
// dropped, as net/http's own client does unless asked through httptrace.
func newClientResponse(req *http.Request, br *bhttp.Response) *http.Response {
	resp := &http.Response{
		Status:        fmt.Sprintf("%d %s", br.Status, http.StatusText(br.Status)),
		StatusCode:    br.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        make(http.Header, len(br.Header)),
		Body:          io.NopCloser(bytes.NewReader(br.Content)),
		ContentLength: int64(len(br.Content)),
		Request:       req,
	}
	for _, f := range br.Header {
		name := http.CanonicalHeaderKey(f.Name)
		if name == "Content-Length" {
			continue
		}
		resp.Header[name] = append(resp.Header[name], f.Value)
	}
	if len(br.Trailer) > 0 {
		resp.Trailer = make(http.Header, len(br.Trailer))
		for _, f := range br.Trailer {
			name := http.CanonicalHeaderKey(f.Name)
			resp.Trailer[name] = append(resp.Trailer[name], f.Value)
		}
	}
	return resp
}
