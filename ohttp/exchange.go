package ohttp

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/blindlist/blindlist/ohttp/bhttp"
)

// The gateway's per-request memory. A request needs a few buffers that are
// as large as the messages: the encapsulated request (opened in place, so it
// becomes the binary HTTP request), the target's response content and the
// encapsulated response, plus field lists. An [exchange] holds them and goes
// back to a pool when the request is done, so in steady state a request
// allocates none of them. What is allocated per request is what a target
// handler may keep after it returns, because net/http allows it to keep it:
// the inner http.Request with its URL and header map, the header strings
// (one string for all of them, see bhttp.Request.UnmarshalBinary) and the
// response header map. Handlers may not read the body or write the response
// after they return, and [call] enforces that, so the pooled buffers behind
// them are never reachable from an earlier request.

// maxPooledBuffer bounds the capacity of a buffer an exchange keeps when it
// goes back to the pool: a 10 MiB evaluation-key upload is served, then its
// buffers are left to the garbage collector instead of pinning 10 MiB per
// pooled exchange. Queries and answers (tens of KiB) stay well below it.
const maxPooledBuffer = maxBodyPrealloc

// exchange is the reusable working memory of one gateway request.
type exchange struct {
	body    []byte          // the encapsulated request, opened in place
	out     []byte          // the encapsulated response
	content []byte          // the target's response content
	inner   bhttp.Request   // the decoded inner request; Content aliases body
	resp    bhttp.Response  // the response being encoded
	fields  []bhttp.Field   // response header fields as of the final WriteHeader
	trailer []bhttp.Field   // response trailer fields
	rc      ResponseContext // what the response encapsulation needs
}

// exchangePool is a pool of exchanges with a cap on what they keep.
type exchangePool struct{ pool sync.Pool }

func (p *exchangePool) get() *exchange {
	if ex, ok := p.pool.Get().(*exchange); ok {
		return ex
	}
	return new(exchange)
}

// put returns ex to the pool after dropping what must not outlive the
// request: its plaintext, references into the request's strings, the
// secret of the response context, and buffers above maxPooledBuffer.
func (p *exchangePool) put(ex *exchange) {
	// The request's plaintext (headers with tokens, the query) and the
	// answer would otherwise stay in pooled memory until overwritten.
	clear(ex.body)
	clear(ex.content)
	ex.body = reuse(ex.body)
	ex.out = reuse(ex.out)
	ex.content = reuse(ex.content)
	clear(ex.inner.Header[:cap(ex.inner.Header)])
	clear(ex.inner.Trailer[:cap(ex.inner.Trailer)])
	ex.inner = bhttp.Request{Header: ex.inner.Header[:0], Trailer: ex.inner.Trailer[:0]}
	ex.resp = bhttp.Response{}
	clear(ex.fields[:cap(ex.fields)])
	ex.fields = ex.fields[:0]
	clear(ex.trailer[:cap(ex.trailer)])
	ex.trailer = ex.trailer[:0]
	clear(ex.rc.buf[:])
	ex.rc = ResponseContext{}
	p.pool.Put(ex)
}

// reuse returns b emptied for reuse, or nil when it is too large to keep.
func reuse(b []byte) []byte {
	if cap(b) > maxPooledBuffer {
		return nil
	}
	return b[:0]
}

// grow returns b with length n, reusing its capacity when it can.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// maxBodyPrealloc bounds the buffer allocated from a declared
// Content-Length before any body byte arrived. Larger bodies grow the buffer
// as bytes come in, so a client cannot make the gateway hold
// MaxRequestBytes per connection by declaring a length and sending nothing.
const maxBodyPrealloc = 1 << 20

// readBody reads the request body, at most maxBytes of it, into buf's
// memory. With a declared Content-Length up to [maxBodyPrealloc] it reads
// into one buffer of that size (net/http's server holds the body to its
// declared length); otherwise it reads through http.MaxBytesReader, growing
// as the bytes arrive.
func readBody(w http.ResponseWriter, r *http.Request, maxBytes int64, buf []byte) ([]byte, error) {
	if r.ContentLength > maxBytes {
		return nil, &http.MaxBytesError{Limit: maxBytes}
	}
	if r.ContentLength >= 0 && r.ContentLength <= maxBodyPrealloc {
		buf = grow(buf, int(r.ContentLength))
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			return nil, fmt.Errorf("%w: reading body: %w", ErrMalformed, err)
		}
		return buf, nil
	}
	buf, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err == nil && r.ContentLength >= 0 && int64(len(buf)) != r.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading body: %w", ErrMalformed, err)
	}
	return buf, nil
}

// contentLengthCache keeps the Content-Length header value of each response
// size it has seen, up to maxContentLengths sizes, so that answers of the
// few sizes a PIR service sends (one per shard configuration) take no
// allocation for it. Values are shared and never modified; net/http copies a
// handler's header before writing it. The map is copied on write, which
// happens once per new size.
type contentLengthCache struct {
	mu     sync.Mutex // serializes writers
	values atomic.Pointer[map[int][]string]
}

// maxContentLengths bounds the cache: 1024 sizes of a few dozen bytes each.
const maxContentLengths = 1024

// value returns the header value for n bytes.
func (c *contentLengthCache) value(n int) []string {
	m := c.values.Load()
	if m != nil {
		if v, ok := (*m)[n]; ok {
			return v
		}
		if len(*m) >= maxContentLengths {
			return []string{strconv.Itoa(n)}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.values.Load()
	if old != nil {
		if v, ok := (*old)[n]; ok {
			return v
		}
	}
	v := []string{strconv.Itoa(n)}
	next := map[int][]string{n: v}
	if old != nil {
		maps.Copy(next, *old)
	}
	c.values.Store(&next)
	return v
}
