package ohttp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/blindlist/blindlist/ohttp/bhttp"
)

// TestConcurrentRequestsStayApart sends many different requests at once
// through a real loopback gateway and relay, in both framings, and checks
// that every answer is the one for its own request: the pooled buffers of
// one request never show up in another's answer.
func TestConcurrentRequestsStayApart(t *testing.T) {
	tg := newTestGateway(t, testSeed(1), false, nil)
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := tg.client(w%2 == 0)
			for i := range perWorker {
				// Sizes vary so that buffers are reused with other lengths.
				size := 2 + (w*perWorker+i)*397%40000
				query := bytes.Repeat([]byte{byte(w), byte(i)}, size/2)
				req, err := http.NewRequest("POST", "https://service.example.net/queries?w="+strconv.Itoa(w), bytes.NewReader(query))
				if err != nil {
					errs <- err
					return
				}
				ua := fmt.Sprintf("worker-%d-%d", w, i)
				req.Header.Set("User-Agent", ua)
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				echo := resp.Header.Get("X-Echo")
				switch {
				case err != nil:
					errs <- err
				case resp.StatusCode != 200 || len(body) != len(query)/2:
					errs <- fmt.Errorf("%s: status %d, %d bytes, want %d", ua, resp.StatusCode, len(body), len(query)/2)
				case !strings.Contains(echo, fmt.Sprintf("w=%d auth", w)) || !strings.Contains(echo, strconv.Quote(ua)):
					errs <- fmt.Errorf("%s: answer echoes another request: %q", ua, echo)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestHandlerCannotOutliveCall keeps the body and the response writer a
// target got and uses them after its handler returned, as a buggy handler
// or an http.Transport still sending the body might: both fail with
// errCallDone, and the next request through the same pooled exchange is
// answered correctly.
func TestHandlerCannotOutliveCall(t *testing.T) {
	var keptBody io.Reader
	var keptWriter http.ResponseWriter
	target := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/keep" {
			keptBody, keptWriter = r.Body, w
			w.Write([]byte("kept"))
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Write(body)
	})
	ks, err := DeriveKeySet(testSeed(2), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Keys: ks, Targets: map[string]http.Handler{"t.example": target}})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip := func(path string, content []byte) []byte {
		t.Helper()
		plain := encodeRequest(t, "POST", "t.example", path, content)
		ex := g.exchanges.get()
		defer g.exchanges.put(ex)
		resp, result := g.forward(t.Context(), ex, plain, false)
		if result != resultOK {
			t.Fatalf("%s: result %s", path, result)
		}
		return bytes.Clone(resp.Content)
	}
	if got := roundTrip("/keep", []byte("secret query A")); string(got) != "kept" {
		t.Fatalf("first answer %q", got)
	}
	if n, err := keptBody.Read(make([]byte, 64)); n != 0 || !errors.Is(err, errCallDone) {
		t.Errorf("read after the handler returned: %d bytes, %v; want errCallDone", n, err)
	}
	if n, err := keptWriter.Write([]byte("late")); n != 0 || !errors.Is(err, errCallDone) {
		t.Errorf("write after the handler returned: %d bytes, %v; want errCallDone", n, err)
	}
	keptWriter.WriteHeader(http.StatusTeapot) // ignored, must not panic
	if got := roundTrip("/echo", []byte("query B")); string(got) != "query B" {
		t.Errorf("next answer %q, want the echo of query B", got)
	}
}

// encodeRequest is a binary HTTP request for the in-process tests.
func encodeRequest(t *testing.T, method, authority, path string, content []byte) []byte {
	t.Helper()
	q := &bhttp.Request{Method: method, Scheme: "https", Authority: authority, Path: path, Content: content}
	b, err := q.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExchangePoolDropsLargeBuffers: buffers above maxPooledBuffer (an
// evaluation-key upload) are not kept, smaller ones are kept and emptied,
// and nothing of the request is left in a pooled exchange.
func TestExchangePoolDropsLargeBuffers(t *testing.T) {
	var p exchangePool
	ex := &exchange{body: make([]byte, maxPooledBuffer+1), out: make([]byte, 100), content: make([]byte, 10, 64)}
	ex.inner.Header = append(ex.inner.Header, bhttp.Field{Name: "user-identifier", Value: "u-123"})
	ex.rc.buf[0], ex.rc.nonce[0] = 1, 1
	ex.rc.secret = ex.rc.buf[:16]
	p.put(ex)
	if ex.body != nil || cap(ex.out) != 100 || len(ex.out) != 0 || cap(ex.content) != 64 || len(ex.content) != 0 {
		t.Errorf("after put: body cap %d, out len/cap %d/%d, content len/cap %d/%d",
			cap(ex.body), len(ex.out), cap(ex.out), len(ex.content), cap(ex.content))
	}
	if h := ex.inner.Header[:1]; h[0].Name != "" || h[0].Value != "" {
		t.Errorf("pooled exchange still references a header field: %+v", h[0])
	}
	if ex.rc.buf != [nh]byte{} || ex.rc.nonce != [nh]byte{} || ex.rc.secret != nil {
		t.Error("pooled exchange still holds the response secret")
	}
}

// TestParseRequestPathMatchesURL holds the allocation-free path parser to
// url.ParseRequestURI's results.
func TestParseRequestPathMatchesURL(t *testing.T) {
	for _, path := range []string{
		"/", "/queries", "/config", "/key", "/a/b/c", "//double", "/a:b@c", "/$&+,;=", "/-._~",
		"/queries?shard=3", "/q?", "/%41", "/a%2Fb", "/sp%20ace", "/ü", "/a!b", "/(x)", "/a*b", "/'q'",
		"/a#frag", "/a?b?c", "/%zz", "relative", "",
	} {
		checkPath(t, path)
	}
}

// FuzzParseRequestPath is TestParseRequestPathMatchesURL on any path.
func FuzzParseRequestPath(f *testing.F) {
	for _, s := range []string{"/", "/queries", "/a?b", "/%41", "//x"} {
		f.Add(s)
	}
	f.Fuzz(checkPath)
}

func checkPath(t *testing.T, path string) {
	var got url.URL
	err := parseRequestPath(&got, path)
	want, wantErr := url.ParseRequestURI(path)
	if !strings.HasPrefix(path, "/") {
		if err == nil {
			t.Errorf("%q: accepted a path that is not absolute", path)
		}
		return
	}
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, url.ParseRequestURI %v", path, err, wantErr)
	}
	if err == nil && got != *want {
		t.Errorf("%q: got %#v, want %#v", path, got, *want)
	}
}

// TestContentLengthCache returns the right value for every size, shares the
// value of a size it has seen, and stops growing at maxContentLengths.
func TestContentLengthCache(t *testing.T) {
	var c contentLengthCache
	for n := range maxContentLengths + 50 {
		if v := c.value(n); len(v) != 1 || v[0] != strconv.Itoa(n) {
			t.Fatalf("value(%d) = %q", n, v)
		}
	}
	if m := c.values.Load(); len(*m) != maxContentLengths {
		t.Errorf("cache holds %d sizes, want %d", len(*m), maxContentLengths)
	}
	if a, b := c.value(7), c.value(7); &a[0] != &b[0] {
		t.Error("a cached size is not shared")
	}
	if v := c.value(1 << 30); v[0] != "1073741824" {
		t.Errorf("value past the cap = %q", v)
	}
}

// TestGatewayAllocations bounds what one request allocates once the pool is
// warm (the benchmark reports the same number): crypto/ecdh and crypto/aes
// state, the inner http.Request and the header maps a handler may keep, and
// the one string of the inner header fields. It fails if a change brings
// back per-field or per-buffer allocations.
func TestGatewayAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	answer := bytes.Repeat([]byte{1}, 1000)
	target := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(answer)
	})
	ks, err := DeriveKeySet(testSeed(1), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Keys: ks, Targets: map[string]http.Handler{"service.example.net": target}})
	if err != nil {
		t.Fatal(err)
	}
	plain := encodeRequest(t, "POST", "service.example.net", "/queries", bytes.Repeat([]byte{2}, 30<<10))
	enc, _, err := EncapsulateRequest(ks.Configs()[0], Suite{KDF: KDFHKDFSHA256, AEAD: AEADAES128GCM}, plain)
	if err != nil {
		t.Fatal(err)
	}
	body := new(replayBody)
	req, err := http.NewRequest("POST", GatewayPath, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mediaTypeRequest)
	req.ContentLength = int64(len(enc))
	w := &discardWriter{h: make(http.Header)}
	allocs := testing.AllocsPerRun(200, func() {
		body.Reset(enc)
		clear(w.h)
		if result := g.handle(w, req); result != resultOK {
			t.Fatalf("result %s", result)
		}
	})
	// 7 in crypto (X25519 peer key and output, two AES-GCM states), 8 ours
	// and the target's (call, request, two header maps and their first
	// groups, header string).
	if allocs > 16 {
		t.Errorf("%v allocations per request, want at most 16", allocs)
	}
}

// TestResponsePadding: with ResponsePadding set, every binary HTTP response
// the relay carries is a multiple of it, so an error answer and small
// answers of different sizes are one size on the wire; clients still read
// status, fields and content, and see the padding.
func TestResponsePadding(t *testing.T) {
	const padding = 1024
	tg := newTestGateway(t, testSeed(1), false, func(c *Config) { c.ResponsePadding = padding })
	plain := newTestGateway(t, testSeed(1), false, nil)
	sizes := map[int]bool{}
	for _, tc := range []struct {
		req    *bhttp.Request
		status int
	}{
		{&bhttp.Request{Method: "POST", Scheme: "https", Authority: "service.example.net", Path: "/queries", Content: make([]byte, 10)}, 200},
		{&bhttp.Request{Method: "POST", Scheme: "https", Authority: "service.example.net", Path: "/queries", Content: make([]byte, 900), Indeterminate: true}, 200},
		{&bhttp.Request{Method: "GET", Scheme: "https", Authority: "evil.example", Path: "/"}, 403},
		{&bhttp.Request{Method: "GET", Scheme: "https", Authority: "service.example.net", Path: "/big"}, 200},
	} {
		for _, g := range []*testGateway{tg, plain} {
			p, err := tc.req.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			encReq, cc, err := EncapsulateRequest(g.config, g.config.Suites[0], p)
			if err != nil {
				t.Fatal(err)
			}
			_, body := post(t, g, mediaTypeRequest, encReq)
			inner, err := cc.DecapsulateResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			br, err := bhttp.ParseResponse(inner)
			if err != nil {
				t.Fatal(err)
			}
			if br.Status != tc.status {
				t.Errorf("%s %s: status %d, want %d", tc.req.Method, tc.req.Path, br.Status, tc.status)
			}
			if g == plain {
				if br.Padding != 0 {
					t.Errorf("padding %d without ResponsePadding", br.Padding)
				}
				continue
			}
			if len(inner)%padding != 0 || br.Padding >= padding {
				t.Errorf("%s %s: binary response of %d bytes (padding %d), want a multiple of %d",
					tc.req.Method, tc.req.Path, len(inner), br.Padding, padding)
			}
			sizes[len(body)] = true
		}
	}
	if len(sizes) != 2 { // 1 KiB for the small answers and the 403, 5 KiB for /big
		t.Errorf("padded answers came in %d sizes, want 2: %v", len(sizes), sizes)
	}
	if _, err := New(Config{Keys: tg.gw.keys.Load(), Targets: map[string]http.Handler{"a": http.NotFoundHandler()}, ResponsePadding: -1}); err == nil {
		t.Error("negative ResponsePadding accepted")
	}
}
