package ohttp

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/blindlist/blindlist/ohttp/bhttp"
)

// TestTargetFailuresAreEncapsulated: when the target panics (an in-process
// handler's bug, or httputil.ReverseProxy aborting with
// http.ErrAbortHandler because the upstream answer is over the cap or
// stalls past the forward timeout), the client still gets an encapsulated
// 502 or 504, the in-flight gauge returns to zero, and requests running
// beside them are answered correctly.
//
// Nothing here races the clock: the gateway that serves the panics, the
// oversized answer and the concurrent load has no forward timeout (with
// one, a panic that a loaded machine delays past it is a 504, not a 502),
// and the stalling upstream blocks until the gateway's timeout has cut it
// off, so that timeout always fires first.
func TestTargetFailuresAreEncapsulated(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/huge":
			w.Write(make([]byte, 2<<20)) // over newTestGateway's 1 MiB MaxResponseBytes
		case "/stall":
			w.Header().Set("Content-Length", "100000")
			w.Write(make([]byte, 10))
			w.(http.Flusher).Flush()
			select { // until the proxy hangs up, whatever the load
			case <-r.Context().Done():
			case <-release:
			}
		}
	}))
	defer up.Close()
	defer close(release) // runs before up.Close, which waits for handlers
	proxy, err := NewProxy(ProxyConfig{Upstream: up.URL})
	if err != nil {
		t.Fatal(err)
	}
	inProcess := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Write(body[:len(body)/2])
		switch r.URL.Path {
		case "/panic":
			panic("target bug")
		case "/abort":
			panic(http.ErrAbortHandler)
		}
		w.Write(body[len(body)/2:])
	})
	targets := map[string]http.Handler{"service.example.net": inProcess, "upstream.example.net": proxy}
	tg := newTestGateway(t, testSeed(1), false, func(c *Config) { c.Targets = targets })
	stall := newTestGateway(t, testSeed(1), false, func(c *Config) {
		c.Targets = targets
		c.ForwardTimeout = 20 * time.Millisecond
	})
	for _, tc := range []struct {
		gw     *testGateway
		url    string
		status int
	}{
		{tg, "https://upstream.example.net/huge", http.StatusBadGateway},
		{stall, "https://upstream.example.net/stall", http.StatusGatewayTimeout},
		{tg, "https://service.example.net/panic", http.StatusBadGateway},
		{tg, "https://service.example.net/abort", http.StatusBadGateway},
	} {
		resp, err := tc.gw.client(false).Post(tc.url, "application/octet-stream", bytes.NewReader([]byte("query")))
		if err != nil {
			t.Errorf("%s: no encapsulated answer: %v", tc.url, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || len(body) != 0 {
			t.Errorf("%s: encapsulated %d with %d bytes, want %d and no content", tc.url, resp.StatusCode, len(body), tc.status)
		}
	}

	// Panicking and healthy requests at once, through the pool.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			client := tg.client(w%2 == 0)
			for i := range 30 {
				path := [...]string{"/ok", "/panic", "/abort"}[(w+i)%3]
				q := bytes.Repeat([]byte{byte(w), byte(i)}, 1000+i*37)
				resp, err := client.Post("https://service.example.net"+path, "application/octet-stream", bytes.NewReader(q))
				if err != nil {
					t.Errorf("%s: %v", path, err)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if path == "/ok" && (resp.StatusCode != 200 || !bytes.Equal(b, q)) {
					t.Errorf("ok request next to panicking ones: status %d, %d bytes", resp.StatusCode, len(b))
				}
				if path != "/ok" && resp.StatusCode != http.StatusBadGateway {
					t.Errorf("%s: status %d", path, resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	// A gateway counts a request after its answer is written; closing the
	// servers waits for every handler to return, so the counts are final.
	tg.server.Close()
	stall.server.Close()
	// /huge counts as response_too_large (the cap cut it); /panic, /abort
	// and the 80 failing ones of the loop as target_failed, and the stall
	// as target_failed of the other gateway.
	if n := counter(t, tg.reg, "ohttp_gateway_requests_total", resultTargetFailed); n != 2+80 {
		t.Errorf("requests_total{result=target_failed} = %v, want 82", n)
	}
	if n := counter(t, tg.reg, "ohttp_gateway_requests_total", resultResponseTooLarge); n != 1 {
		t.Errorf("requests_total{result=response_too_large} = %v, want 1", n)
	}
	if n := counter(t, stall.reg, "ohttp_gateway_requests_total", resultTargetFailed); n != 1 {
		t.Errorf("stalling gateway: requests_total{result=target_failed} = %v, want 1", n)
	}
	for _, g := range []*testGateway{tg, stall} {
		if v := gauge(t, g, "ohttp_gateway_in_flight_requests"); v != 0 {
			t.Errorf("in-flight gauge %v after every request finished", v)
		}
	}
}

// gauge reads an unlabelled gauge of the test gateway's registry.
func gauge(t *testing.T, tg *testGateway, name string) float64 {
	t.Helper()
	mfs, err := tg.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}

// TestEncapsulateResponseConcurrent: one ResponseContext may seal several
// responses at once (the exported API promises no more than that it reads
// the context), and each opens.
func TestEncapsulateResponseConcurrent(t *testing.T) {
	ks, err := DeriveKeySet(testSeed(1), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	encReq, cc, err := EncapsulateRequest(ks.Configs()[0], ks.Configs()[0].Suites[0], []byte("q"))
	if err != nil {
		t.Fatal(err)
	}
	_, rc, err := ks.DecapsulateRequest(encReq)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 500 {
				out, err := rc.EncapsulateResponse(nil, []byte("answer"))
				if err == nil {
					_, err = cc.DecapsulateResponse(out)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestResponseFieldOrderIsStable: the encapsulated response encodes one
// way however Go iterates the target's header map, also for names that
// differ only in case and for a trailer both declared and set with
// http.TrailerPrefix.
func TestResponseFieldOrderIsStable(t *testing.T) {
	target := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["x-lower"] = []string{"1"} // set without canonicalising, as some handlers do
		h.Set("Y-Upper", "2")
		h.Set("X-A", "3")
		h["X-Foo"] = []string{"a1", "a2"}
		h["x-foo"] = []string{"b1", "b2"}
		h.Set("Trailer", "X-Sum")
		h["Trailer:X-Sum"] = []string{"p"}
		w.Write([]byte("x"))
		h.Set("X-Sum", "d")
	})
	ks, err := DeriveKeySet(testSeed(3), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Keys: ks, Targets: map[string]http.Handler{"t.example": target}})
	if err != nil {
		t.Fatal(err)
	}
	plain := encodeRequest(t, "GET", "t.example", "/", nil)
	var first []byte
	for i := range 50 {
		ex := g.exchanges.get()
		resp, result := g.forward(t.Context(), ex, plain, false)
		if result != resultOK {
			t.Fatalf("result %s", result)
		}
		enc, err := resp.MarshalBinary()
		g.exchanges.put(ex)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = enc
			got, err := bhttp.ParseResponse(enc)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Header) != 7 || len(got.Trailer) != 2 {
				t.Errorf("header %v, trailer %v: want 7 header and 2 trailer lines", got.Header, got.Trailer)
			}
			continue
		}
		if !bytes.Equal(enc, first) {
			t.Fatalf("response %d encodes differently from the first", i)
		}
	}
}
