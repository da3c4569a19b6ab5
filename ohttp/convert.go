package ohttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

// commonFieldNames are the field names seen on nearly every request or
// response the gateway converts (the device's and the PIR service's, and
// HTTP's usual ones), in canonical form.
var commonFieldNames = []string{
	"Accept", "Accept-Encoding", "Accept-Language", "Age", "Authorization", "Cache-Control",
	"Content-Encoding", "Content-Language", "Content-Length", "Content-Type", "Date", "Etag",
	"Expires", "Host", "Last-Modified", "Link", "Location", "Retry-After", "Server", "Trailer",
	"User-Agent", "User-Identifier", "Vary", "Www-Authenticate", "X-Content-Type-Options",
}

// canonicalByLower and lowerByCanonical map the lower-case form of each
// common name (as HTTP/2 and binary HTTP carry it) to its canonical form (as
// http.Header keys it) and back, so converting them costs no allocation.
// Both are filled once here and only read after.
var canonicalByLower, lowerByCanonical = func() (map[string]string, map[string]string) {
	toCanonical := make(map[string]string, len(commonFieldNames))
	toLower := make(map[string]string, len(commonFieldNames))
	for _, name := range commonFieldNames {
		toCanonical[strings.ToLower(name)] = name
		toLower[name] = strings.ToLower(name)
	}
	return toCanonical, toLower
}()

// canonicalName is http.CanonicalHeaderKey(name), without allocating for
// common names or names already in canonical form.
func canonicalName(name string) string {
	if c, ok := canonicalByLower[name]; ok {
		return c
	}
	return http.CanonicalHeaderKey(name)
}

// lowerName is strings.ToLower(name), without allocating for common names
// or names already in lower case.
func lowerName(name string) string {
	if l, ok := lowerByCanonical[name]; ok {
		return l
	}
	return strings.ToLower(name)
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
// http.Request handed to a target handler, with c's body and URL. RemoteAddr
// stays empty: the gateway never learns the client's address, and never
// invents one. The request and its header map are its allocations (and an
// array for the header values past the eight c holds); names and values are
// the decoded strings.
func newInnerRequest(ctx context.Context, c *call, br *bhttp.Request, authority string) (*http.Request, error) {
	if err := parseRequestPath(&c.url, br.Path); err != nil {
		return nil, err
	}
	c.url.Scheme, c.url.Host = br.Scheme, authority
	c.body.content.Reset(br.Content)
	body := io.ReadCloser(http.NoBody)
	if len(br.Content) > 0 {
		body = &c.body
	}
	header := make(http.Header, len(br.Header))
	values := c.values[:0]
	if len(br.Header) > len(c.values) {
		values = make([]string, len(br.Header))
	}
	values = values[:len(br.Header)]
	for i, f := range br.Header {
		name := canonicalName(f.Name)
		if connectionFields[name] || name == "Host" || name == "Content-Length" {
			continue
		}
		if vs, ok := header[name]; ok {
			header[name] = append(vs, f.Value)
			continue
		}
		values[i] = f.Value
		header[name] = values[i : i+1 : i+1]
	}
	var trailer http.Header
	if len(br.Trailer) > 0 {
		trailer = make(http.Header, len(br.Trailer))
		for _, f := range br.Trailer {
			name := canonicalName(f.Name)
			trailer[name] = append(trailer[name], f.Value)
		}
	}
	req := http.Request{
		Method:        br.Method,
		URL:           &c.url,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Trailer:       trailer,
		ContentLength: int64(len(br.Content)),
		Host:          authority,
		RequestURI:    br.Path,
		Body:          body,
	}
	return req.WithContext(ctx), nil
}

// parseRequestPath sets u to the URL of an HTTP/2 :path, as
// url.ParseRequestURI would. Paths made only of characters that need no
// escaping in a path (RFC 3986 unreserved, sub-delims that Go's url leaves
// alone, '/', ':' and '@') with no query are the URL's Path as they are, and
// take no allocation; anything else goes through url.ParseRequestURI.
// TestParseRequestPathMatchesURL holds the two to the same results.
func parseRequestPath(u *url.URL, path string) error {
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("%w: path %q is not absolute", errInnerRequest, path)
	}
	if isPlainPath(path) {
		*u = url.URL{Path: path}
		return nil
	}
	parsed, err := url.ParseRequestURI(path)
	if err != nil {
		return fmt.Errorf("%w: path: %w", errInnerRequest, err)
	}
	*u = *parsed
	return nil
}

// isPlainPath reports whether every byte of path is one that net/url keeps
// as it is in a path: its escaped form equals the path, so RawPath is empty.
func isPlainPath(path string) bool {
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == '~', c == '/', c == ':', c == '@',
			c == '$', c == '&', c == '+', c == ',', c == ';', c == '=':
		default:
			return false
		}
	}
	return true
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
