package ohttp

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/blindlist/blindlist/ohttp/bhttp"
)

// errResponseTooLarge is returned by recorder.Write past the response cap.
var errResponseTooLarge = errors.New("ohttp: target response exceeds the size cap")

// errCallDone is what a target gets from the request body or the response
// writer after its handler returned.
var errCallDone = errors.New("ohttp: request already answered")

// call is one forwarded request as its target handler sees it: the request
// body and the response writer, both over the pooled buffers of an
// [exchange]. It is allocated per request, and end cuts it off from the
// exchange under its lock, so a handler that breaks net/http's rules and
// reads the body or writes after it returned (or an http.Transport still
// sending the body in its own goroutine, which RoundTrip allows) gets
// errCallDone instead of another request's bytes.
type call struct {
	mu   sync.Mutex
	ex   *exchange // nil once the call has ended
	body callBody
	rec  recorder
	url  url.URL

	// values backs the header values of the inner request when it has
	// at most len(values) header fields.
	values [8]string
}

// callBody is the request body view of a call.
type callBody struct {
	c       *call
	content bytes.Reader // over ex.inner.Content
}

// Read reads the request content until the call ends.
func (b *callBody) Read(p []byte) (int, error) {
	b.c.mu.Lock()
	defer b.c.mu.Unlock()
	if b.c.ex == nil {
		return 0, errCallDone
	}
	return b.content.Read(p)
}

// Close is a no-op: the content is in memory.
func (b *callBody) Close() error { return nil }

// endLocked detaches the call from its exchange; c.mu is held, so no Read
// or Write is in progress, and every later one fails with errCallDone.
func (c *call) endLocked() {
	c.ex = nil
	c.body.content.Reset(nil)
}

// recorder is the http.ResponseWriter a target handler writes into. It keeps
// the response in the exchange's buffers, up to maxBytes of content, to
// encapsulate it once the handler returns. Its header map is its own: a
// handler may keep a reference to it.
type recorder struct {
	c             *call
	header        http.Header
	status        int
	informational []bhttp.Informational
	maxBytes      int
	overflow      bool
}

func (r *recorder) Header() http.Header { return r.header }

// WriteHeader records an informational response, or the final status and a
// snapshot of the header fields (later changes to declared trailers are
// trailers).
func (r *recorder) WriteHeader(code int) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if r.c.ex != nil {
		r.writeHeader(code)
	}
}

// writeHeader is WriteHeader with the call's lock held and the call live.
func (r *recorder) writeHeader(code int) {
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
	ex := r.c.ex
	ex.fields = ex.fields[:0]
	for name, values := range r.header {
		for _, v := range values {
			ex.fields = append(ex.fields, bhttp.Field{Name: name, Value: v})
		}
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	ex := r.c.ex
	if ex == nil {
		return 0, errCallDone
	}
	if r.status == 0 {
		r.writeHeader(http.StatusOK)
	}
	if r.overflow || len(ex.content)+len(p) > r.maxBytes {
		r.overflow = true
		return 0, errResponseTooLarge
	}
	ex.content = append(ex.content, p...)
	return len(p), nil
}

// FlushError satisfies http.ResponseController; the response is buffered, so
// there is nothing to flush. httputil.ReverseProxy flushes streamed bodies.
func (r *recorder) FlushError() error { return nil }

// Flush satisfies http.Flusher.
func (r *recorder) Flush() {}

// response builds the binary HTTP response in ex.resp, with the field lists
// of ex. Trailers are the fields declared in the Trailer header and the
// http.TrailerPrefix fields, as net/http's server treats them. Names are
// lower-cased (as HTTP/2 and HTTP/3 carry them) and sorted, values of one
// name kept in order, so the encoding is deterministic. Connection-specific
// fields are dropped. The handler has returned, so no lock is needed.
func (r *recorder) response(ex *exchange, indeterminate bool) *bhttp.Response {
	if r.status == 0 {
		r.writeHeader(http.StatusOK)
	}
	declared := r.sent("Trailer")
	isTrailer := func(name string) bool {
		return strings.HasPrefix(name, http.TrailerPrefix) || declaresTrailer(declared, name)
	}
	header := ex.fields[:0]
	for _, f := range ex.fields {
		if name := f.Name; !connectionFields[http.CanonicalHeaderKey(name)] && name != "Trailer" && name != "Content-Length" && !isTrailer(name) {
			header = append(header, f)
		}
	}
	lowerAndSort(header)
	ex.fields = header
	ex.trailer = ex.trailer[:0]
	for name, values := range r.header {
		if !isTrailer(name) || connectionFields[http.CanonicalHeaderKey(strings.TrimPrefix(name, http.TrailerPrefix))] {
			continue
		}
		for _, v := range values {
			ex.trailer = append(ex.trailer, bhttp.Field{Name: name, Value: v})
		}
	}
	sortFields(ex.trailer) // by map key, so Trailer:X-Sum and X-Sum keep one order
	for i := range ex.trailer {
		ex.trailer[i].Name = strings.TrimPrefix(ex.trailer[i].Name, http.TrailerPrefix)
	}
	lowerAndSort(ex.trailer)
	ex.resp = bhttp.Response{
		Informational: r.informational,
		Status:        r.status,
		Header:        header,
		Content:       ex.content,
		Trailer:       ex.trailer,
		Indeterminate: indeterminate,
	}
	return &ex.resp
}

// sent returns the values of name in the header as of the final
// WriteHeader, from the snapshot in the exchange.
func (r *recorder) sent(name string) []string {
	var values []string
	for _, f := range r.c.ex.fields {
		if f.Name == name {
			values = append(values, f.Value)
		}
	}
	return values
}

// declaresTrailer reports whether the Trailer header values list name
// (comma-separated names, any case).
func declaresTrailer(trailerValues []string, name string) bool {
	for _, v := range trailerValues {
		for v != "" {
			var item string
			item, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(item), name) {
				return true
			}
		}
	}
	return false
}

// sortFields sorts fields by name, keeping the order of values of one name.
func sortFields(fields []bhttp.Field) {
	slices.SortStableFunc(fields, func(a, b bhttp.Field) int { return strings.Compare(a.Name, b.Name) })
}

// lowerAndSort turns fields taken from an http.Header in map order, named
// by their map keys, into wire order: lower-case names, sorted, the values
// of one name in order. It sorts by map key first, so that keys that only
// differ in case (X-Foo and x-foo), or a trailer both declared and set with
// http.TrailerPrefix, still come out in one order every time.
func lowerAndSort(fields []bhttp.Field) {
	sortFields(fields)
	for i := range fields {
		fields[i].Name = lowerName(fields[i].Name)
	}
	sortFields(fields)
}

// appendFields appends h as field lines with lower-case names, in sorted
// name order so the encoding is deterministic, skipping connection-specific
// fields and names in skip.
func appendFields(dst []bhttp.Field, h http.Header, skip func(string) bool) []bhttp.Field {
	start := len(dst)
	for name, values := range h {
		if connectionFields[http.CanonicalHeaderKey(name)] || (skip != nil && skip(name)) {
			continue
		}
		for _, v := range values {
			dst = append(dst, bhttp.Field{Name: name, Value: v})
		}
	}
	lowerAndSort(dst[start:])
	return dst
}
