package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// BenchmarkLookupUnderBatches measures what a device's single lookup waits
// while other clients keep the compute slots busy with batches: four
// clients each send /queries calls of 64 requests back to back (vector set
// A, 2 compute slots), and the benchmark times one-request calls among
// them. It reports the p50 and p99 latency of the single lookups (wall
// time: what the device sees) besides ns/op.
//
//	go test ./api -run '^$' -bench LookupUnderBatches -benchtime 40x
func BenchmarkLookupUnderBatches(b *testing.B) {
	e := newEnv(b, envOptions{noToken: true, cfg: Config{Limits: LimitsConfig{MaxConcurrentAnswers: 2, RequestTimeout: Duration(10 * time.Minute)}}})
	if code, _, body := e.post("/key", testvec.Read(b, "pir", "A", "evaluation_keys.binpb"), nil); code != http.StatusOK {
		b.Fatalf("/key: %d %s", code, body)
	}
	var reqs apipb.Requests
	if err := proto.Unmarshal(testvec.Read(b, "pir", "A", "requests.binpb"), &reqs); err != nil {
		b.Fatal(err)
	}
	body := func(n int) []byte {
		out := &apipb.Requests{}
		for i := range n {
			out.Requests = append(out.Requests, reqs.Requests[i%len(reqs.Requests)])
		}
		p, err := proto.Marshal(out)
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	batch, single := body(64), body(1)
	post := func(ctx context.Context, p []byte) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/queries", bytes.NewReader(p))
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", testUA)
		req.Header.Set("User-Identifier", "3F2504E0-4F89-11D3-9A0C-0305E82C3301")
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				_ = post(ctx, batch)
			}
		})
	}
	defer func() { cancel(); wg.Wait() }()
	time.Sleep(200 * time.Millisecond) // let the batches fill the slots

	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := post(context.Background(), single); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e6 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
