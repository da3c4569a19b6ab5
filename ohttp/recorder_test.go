package ohttp

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/blindlist/blindlist/ohttp/bhttp"
)

// TestForwardResponseShape runs targets in process and checks how their
// responses become binary HTTP: informational responses, trailers declared
// either way, lower-case names, connection fields dropped.
func TestForwardResponseShape(t *testing.T) {
	target := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Connection") + r.Header.Get("Transfer-Encoding") + r.Header.Get("Keep-Alive"); got != "" {
			t.Errorf("target saw connection fields %q", got)
		}
		if r.ContentLength != 3 || r.Trailer.Get("X-Req-Trailer") != "rt" {
			t.Errorf("target saw ContentLength %d, trailer %v", r.ContentLength, r.Trailer)
		}
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Trailer", "X-Declared")
		w.Header().Set("Connection", "close")
		w.Header().Set("X-Plain", "p")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte("body"))
		w.Header().Set("X-Declared", "d")
		w.Header().Set(http.TrailerPrefix+"X-Late", "l")
	})
	ks, err := DeriveKeySet(testSeed(1), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Keys: ks, Targets: map[string]http.Handler{"t.example": target}})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := (&bhttp.Request{
		Method: "PUT", Scheme: "https", Authority: "t.example", Path: "/x",
		Header: []bhttp.Field{
			{Name: "connection", Value: "close"}, {Name: "transfer-encoding", Value: "chunked"},
			{Name: "keep-alive", Value: "1"}, {Name: "content-length", Value: "999"},
		},
		Content: []byte("abc"),
		Trailer: []bhttp.Field{{Name: "x-req-trailer", Value: "rt"}},
	}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	resp, result := g.forward(context.Background(), new(exchange), plain, false)
	if result != resultOK {
		t.Fatalf("result %s", result)
	}
	if len(resp.Informational) != 1 || resp.Informational[0].Status != 103 ||
		len(resp.Informational[0].Header) != 1 || resp.Informational[0].Header[0] != (bhttp.Field{Name: "link", Value: "</a.css>; rel=preload"}) {
		t.Errorf("informational %+v", resp.Informational)
	}
	if resp.Status != 201 || string(resp.Content) != "body" {
		t.Errorf("status %d content %q", resp.Status, resp.Content)
	}
	wantHeader := []bhttp.Field{{Name: "x-plain", Value: "p"}}
	if !equalFieldSlices(resp.Header, wantHeader) {
		t.Errorf("header %+v, want %+v", resp.Header, wantHeader)
	}
	wantTrailer := []bhttp.Field{{Name: "x-declared", Value: "d"}, {Name: "x-late", Value: "l"}}
	if !equalFieldSlices(resp.Trailer, wantTrailer) {
		t.Errorf("trailer %+v, want %+v", resp.Trailer, wantTrailer)
	}
	if _, err := resp.MarshalBinary(); err != nil {
		t.Errorf("response does not encode: %v", err)
	}
}

func equalFieldSlices(a, b []bhttp.Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTargetBadHeaderValue checks that a target response that cannot be
// encoded still yields an encapsulated answer, a 502.
func TestTargetBadHeaderValue(t *testing.T) {
	target := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["X-Bad"] = []string{"a\nb"}
	})
	ks, err := DeriveKeySet(testSeed(1), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Keys: ks, Targets: map[string]http.Handler{"t.example": target}})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := (&bhttp.Request{Method: "GET", Scheme: "https", Authority: "t.example", Path: "/"}).MarshalBinary()
	enc, cc, err := EncapsulateRequest(ks.Configs()[0], DefaultSuites()[0], plain)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req, _ := http.NewRequest("POST", GatewayPath, bytes.NewReader(enc))
	req.Header.Set("Content-Type", mediaTypeRequest)
	if result := g.handle(rec, req); result != resultResponseInvalid {
		t.Errorf("result %s, want %s", result, resultResponseInvalid)
	}
	inner, err := cc.DecapsulateResponse(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	br, err := bhttp.ParseResponse(inner)
	if err != nil || br.Status != 502 {
		t.Errorf("inner response %+v, %v; want status 502", br, err)
	}
}

// FuzzForward feeds arbitrary decapsulated plaintext to the gateway's inner
// path: binary HTTP decoding, allow-list lookup, http.Request construction,
// the target and response encoding. No input may panic, and the answer must
// always be encodable, since it goes back encapsulated.
func FuzzForward(f *testing.F) {
	for _, r := range []*bhttp.Request{
		{Method: "GET", Scheme: "https", Authority: "t.example", Path: "/a?b=c#d"},
		{Method: "POST", Scheme: "https", Path: "//x/../y", Header: []bhttp.Field{{Name: "host", Value: "T.EXAMPLE"}}, Content: []byte("z"), Indeterminate: true},
		{Method: "OPTIONS", Scheme: "https", Authority: "t.example", Path: "*"},
	} {
		b, err := r.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	ks, err := DeriveKeySet(testSeed(1), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		f.Fatal(err)
	}
	target := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Path", r.URL.Path)
		w.Header().Set("X-Query", r.URL.RawQuery)
		for name, vs := range r.Header {
			w.Header()["X-Echo-"+name] = vs
		}
	})
	g, err := New(Config{Keys: ks, Targets: map[string]http.Handler{"t.example": target}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, plaintext []byte) {
		ex := g.exchanges.get() // pooled, so the fuzzer also exercises reuse
		defer g.exchanges.put(ex)
		resp, _ := g.forward(context.Background(), ex, plaintext, len(plaintext) > 0 && plaintext[0] == 2)
		if resp == nil {
			t.Fatal("no response")
		}
		if _, err := resp.MarshalBinary(); err != nil {
			// Only the target's own header values can make this fail; the
			// gateway then answers 502 (TestTargetBadHeaderValue).
			if !errors.Is(err, bhttp.ErrInvalid) {
				t.Fatalf("unexpected encoding error %v", err)
			}
		}
	})
}
