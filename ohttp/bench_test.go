package ohttp

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/blindlist/blindlist/internal/cputime"
	"github.com/blindlist/blindlist/ohttp/bhttp"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the gateway and not a recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// replayBody replays one request body without allocating.
type replayBody struct{ bytes.Reader }

func (*replayBody) Close() error { return nil }

// BenchmarkGateway measures the gateway's per-request work for one
// encapsulated request: media type check, body read, decapsulation, binary
// HTTP decoding, building the inner http.Request, running an in-process
// target that reads the query and writes an answer, binary HTTP encoding and
// encapsulation. The target does no work of its own, so this is the
// gateway's overhead. One core: run with -cpu 1.
func BenchmarkGateway(b *testing.B) {
	for _, s := range DefaultSuites() {
		for _, size := range []struct{ query, answer int }{{30 << 10, 1 << 10}, {30 << 10, 30 << 10}} {
			name := fmt.Sprintf("aead=0x%04x/query=%dKiB/answer=%dKiB", s.AEAD, size.query>>10, size.answer>>10)
			b.Run(name, func(b *testing.B) { benchGateway(b, s, size.query, size.answer) })
		}
	}
}

func benchGateway(b *testing.B, s Suite, querySize, answerSize int) {
	answer := bytes.Repeat([]byte{1}, answerSize)
	target := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			b.Error(err)
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(answer)
	})
	ks, err := DeriveKeySet(testSeed(1), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		b.Fatal(err)
	}
	g, err := New(Config{Keys: ks, Targets: map[string]http.Handler{"service.example.net": target}})
	if err != nil {
		b.Fatal(err)
	}
	plain, err := (&bhttp.Request{
		Method: "POST", Scheme: "https", Authority: "service.example.net", Path: "/queries",
		Header: []bhttp.Field{
			{Name: "authorization", Value: "PrivateToken token=" + string(bytes.Repeat([]byte{'A'}, 300))},
			{Name: "user-agent", Value: "NEURLFilter/1"}, {Name: "user-identifier", Value: "0123456789abcdef"},
		},
		Content: bytes.Repeat([]byte{2}, querySize), Indeterminate: true,
	}).MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	enc, _, err := EncapsulateRequest(ks.Configs()[0], s, plain)
	if err != nil {
		b.Fatal(err)
	}
	body := new(replayBody)
	req, err := http.NewRequest("POST", GatewayPath, body)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", mediaTypeRequest)
	req.ContentLength = int64(len(enc))
	w := &discardWriter{h: make(http.Header)}
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	cpu := cputime.Process()
	for b.Loop() {
		body.Reset(enc)
		clear(w.h)
		if result := g.handle(w, req); result != resultOK {
			b.Fatalf("result %s", result)
		}
	}
	reportCPU(b, cpu)
}

// reportCPU reports process CPU time per operation since start, as
// "cpu-ns/op" (see internal/cputime).
func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkOpenSeal measures the cryptography alone: decapsulating a request
// and encapsulating a response of the same size.
func BenchmarkOpenSeal(b *testing.B) {
	ks, err := DeriveKeySet(testSeed(1), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range DefaultSuites() {
		b.Run(fmt.Sprintf("aead=0x%04x/30KiB", s.AEAD), func(b *testing.B) {
			msg := bytes.Repeat([]byte{3}, 30<<10)
			enc, _, err := EncapsulateRequest(ks.Configs()[0], s, msg)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			cpu := cputime.Process()
			for b.Loop() {
				pt, rc, err := ks.DecapsulateRequest(enc)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := rc.EncapsulateResponse(nil, pt); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}
