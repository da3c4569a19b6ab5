package ohttp

import (
	"errors"
	"net/http"
	"strings"

	"github.com/blindlist/blindlist/ohttp/bhttp"
)

// errResponseTooLarge is returned by recorder.Write past the response cap.
var errResponseTooLarge = errors.New("ohttp: target response exceeds the size cap")

// recorder is the http.ResponseWriter a target handler writes into. It keeps
// the response in memory, up to maxBytes of content, to encapsulate it once
// the handler returns.
type recorder struct {
	header        http.Header
	status        int
	informational []bhttp.Informational
	sent          http.Header // header as of the final WriteHeader
	body          []byte
	maxBytes      int
	overflow      bool
}

func newRecorder(maxBytes int) *recorder {
	return &recorder{header: make(http.Header), maxBytes: maxBytes}
}

func (r *recorder) Header() http.Header { return r.header }

// WriteHeader records an informational response, or the final status and a
// snapshot of the header (later changes to declared trailers are trailers).
func (r *recorder) WriteHeader(code int) {
	if r.status != 0 {
		return
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		if len(r.informational) < bhttp.MaxInformational {
			r.informational = append(r.informational, bhttp.Informational{
				Status: code, Header: appendFields(nil, r.header, nil),
			})
		}
		return
	}
	if code < 200 || code > 599 {
		code = http.StatusInternalServerError
	}
	r.status = code
	r.sent = r.header.Clone()
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if r.overflow || len(r.body)+len(p) > r.maxBytes {
		r.overflow = true
		return 0, errResponseTooLarge
	}
	r.body = append(r.body, p...)
	return len(p), nil
}

// FlushError satisfies http.ResponseController; the response is buffered, so
// there is nothing to flush. httputil.ReverseProxy flushes streamed bodies.
func (r *recorder) FlushError() error { return nil }

// Flush satisfies http.Flusher.
func (r *recorder) Flush() {}

// response builds the binary HTTP response. Trailers are the fields declared
// in the Trailer header and the http.TrailerPrefix fields, as net/http's
// server treats them.
func (r *recorder) response(indeterminate bool) *bhttp.Response {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	declared := map[string]bool{}
	for _, v := range r.sent.Values("Trailer") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				declared[http.CanonicalHeaderKey(name)] = true
			}
		}
	}
	trailer := make(http.Header)
	for name, vs := range r.header {
		switch {
		case strings.HasPrefix(name, http.TrailerPrefix):
			trailer[http.CanonicalHeaderKey(strings.TrimPrefix(name, http.TrailerPrefix))] = vs
		case declared[name]:
			trailer[name] = vs
		}
	}
	header := appendFields(nil, r.sent, func(name string) bool {
		return name == "Trailer" || name == "Content-Length" || declared[name] || strings.HasPrefix(name, http.TrailerPrefix)
	})
	return &bhttp.Response{
		Informational: r.informational,
		Status:        r.status,
		Header:        header,
		Content:       r.body,
		Trailer:       appendFields(nil, trailer, nil),
		Indeterminate: indeterminate,
	}
}
