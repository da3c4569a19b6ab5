package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// TestQueriesApple plays the device of vector set A against a loopback
// server over Apple's processed shards: upload the key, send the queries,
// and get Apple's responses byte for byte. Present and absent keywords get
// responses of equal size.
func TestQueriesApple(t *testing.T) {
	e := newEnv(t, envOptions{})
	if code, _, body := e.post("/key", testvec.Read(t, "pir", "A", "evaluation_keys.binpb"), nil); code != http.StatusOK {
		t.Fatalf("/key: %d %s", code, body)
	}
	code, hdr, body := e.post("/queries", testvec.Read(t, "pir", "A", "requests.binpb"), nil)
	if code != http.StatusOK {
		t.Fatalf("/queries: %d %s", code, body)
	}
	if hdr.Get("Content-Type") != "application/x-protobuf" {
		t.Errorf("Content-Type %q", hdr.Get("Content-Type"))
	}
	var got, want apipb.Responses
	if err := proto.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "responses.binpb"), &want); err != nil {
		t.Fatal(err)
	}
	if len(got.GetResponses()) != len(want.GetResponses()) {
		t.Fatalf("%d responses, want %d", len(got.GetResponses()), len(want.GetResponses()))
	}
	var exp struct {
		Queries []struct {
			Present bool `json:"present"`
		} `json:"queries"`
	}
	if err := json.Unmarshal(testvec.Read(t, "pir", "A", "expected.json"), &exp); err != nil {
		t.Fatal(err)
	}
	sizes := map[bool]int{}
	for i := range want.GetResponses() {
		if !proto.Equal(got.GetResponses()[i], want.GetResponses()[i]) {
			t.Errorf("response %d differs from Apple's", i)
		}
		n := proto.Size(got.GetResponses()[i])
		present := exp.Queries[i].Present
		if s, ok := sizes[present]; ok && s != n {
			t.Errorf("response %d (present=%v) has %d bytes, others %d", i, present, n, s)
		}
		sizes[present] = n
	}
	if sizes[true] != sizes[false] {
		t.Errorf("present responses %d bytes, absent %d: size depends on the match", sizes[true], sizes[false])
	}
	if e.s.keys.len() != 1 {
		t.Errorf("%d parsed keys cached, want 1", e.s.keys.len())
	}

	// The same call again (cached key) gives the same bytes.
	_, _, again := e.post("/queries", testvec.Read(t, "pir", "A", "requests.binpb"), nil)
	if !bytes.Equal(again, body) {
		t.Error("second call differs")
	}
}

// TestQueriesInlineKey: a request carrying its own key needs no upload.
func TestQueriesInlineKey(t *testing.T) {
	e := newEnv(t, envOptions{})
	var keys apipb.EvaluationKeys
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "evaluation_keys.binpb"), &keys); err != nil {
		t.Fatal(err)
	}
	var reqs apipb.Requests
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "requests.binpb"), &reqs); err != nil {
		t.Fatal(err)
	}
	reqs.Requests = reqs.Requests[:1]
	reqs.Requests[0].GetPirRequest().EvaluationKey = keys.GetKeys()[0]
	b, err := proto.Marshal(&reqs)
	if err != nil {
		t.Fatal(err)
	}
	code, _, body := e.post("/queries", b, map[string]string{"User-Identifier": "never-uploaded"})
	if code != http.StatusOK {
		t.Fatalf("/queries with an inline key: %d %s", code, body)
	}
	var got, apple apipb.Responses
	if err := proto.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "responses.binpb"), &apple); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got.GetResponses()[0], apple.GetResponses()[0]) {
		t.Error("inline-key response differs from Apple's")
	}
}

// BenchmarkQueries measures one /queries call of set A (12 requests) over
// loopback, key cached.
func BenchmarkQueries(b *testing.B) {
	e := newEnv(b, envOptions{noToken: true})
	if code, _, body := e.post("/key", testvec.Read(b, "pir", "A", "evaluation_keys.binpb"), nil); code != http.StatusOK {
		b.Fatalf("/key: %d %s", code, body)
	}
	reqs := testvec.Read(b, "pir", "A", "requests.binpb")
	b.ReportAllocs()
	b.SetBytes(int64(len(reqs)))
	for b.Loop() {
		if code, _, body := e.post("/queries", reqs, nil); code != http.StatusOK {
			b.Fatalf("/queries: %d %s", code, body)
		}
	}
}

// TestQueriesBoundParsedKeys fires many /queries calls at once, each
// request carrying its own key, at a server with no key cache and two
// compute slots: every request parses its key, yet no more parsed keys are
// alive at once than there are slots, and every answer is still Apple's.
func TestQueriesBoundParsedKeys(t *testing.T) {
	const slots, calls, perCall = 2, 12, 4
	reg := prometheus.NewRegistry()
	e := newEnv(t, envOptions{noToken: true, metrics: reg, cfg: Config{
		KeyCacheSize: -1,
		Limits:       LimitsConfig{MaxConcurrentAnswers: slots},
	}})
	var keys apipb.EvaluationKeys
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "evaluation_keys.binpb"), &keys); err != nil {
		t.Fatal(err)
	}
	var apple apipb.Responses
	var all apipb.Requests
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "requests.binpb"), &all); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "responses.binpb"), &apple); err != nil {
		t.Fatal(err)
	}
	// Call c sends requests c, c+1, … (mod 12), so the calls differ.
	bodies := make([][]byte, calls)
	for c := range calls {
		var call apipb.Requests
		for i := range perCall {
			r := proto.Clone(all.GetRequests()[(c+i)%len(all.GetRequests())]).(*apipb.Request)
			r.GetPirRequest().EvaluationKey = keys.GetKeys()[0]
			call.Requests = append(call.Requests, r)
		}
		b, err := proto.Marshal(&call)
		if err != nil {
			t.Fatal(err)
		}
		bodies[c] = b
	}

	errs := make(chan error, calls)
	for c, body := range bodies {
		go func() {
			errs <- func() error {
				req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/queries", bytes.NewReader(body))
				if err != nil {
					return err
				}
				req.Header.Set("User-Agent", testUA)
				req.Header.Set("User-Identifier", "never-uploaded")
				resp, err := e.srv.Client().Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					return err
				}
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("call %d: %d %s", c, resp.StatusCode, b)
				}
				var got apipb.Responses
				if err := proto.Unmarshal(b, &got); err != nil {
					return fmt.Errorf("call %d: %w", c, err)
				}
				if len(got.GetResponses()) != perCall {
					return fmt.Errorf("call %d: %d responses, want %d", c, len(got.GetResponses()), perCall)
				}
				for i, r := range got.GetResponses() {
					if !proto.Equal(r, apple.GetResponses()[(c+i)%len(apple.GetResponses())]) {
						return fmt.Errorf("call %d: response %d differs from Apple's", c, i)
					}
				}
				return nil
			}()
		}()
	}
	for range calls {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var misses, inUse float64 = -1, -1
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch {
			case f.GetName() == "blindlist_api_key_cache_lookups_total" && m.GetLabel()[0].GetValue() == "miss":
				misses = m.GetCounter().GetValue()
			case f.GetName() == "blindlist_api_key_parses_in_use":
				inUse = m.GetGauge().GetValue()
			}
		}
	}
	if misses != calls*perCall {
		t.Errorf("%v cache misses, want %d (every request parses its key)", misses, calls*perCall)
	}
	if inUse != 0 {
		t.Errorf("blindlist_api_key_parses_in_use is %v after every call ended, want 0", inUse)
	}
	peak := e.s.uncached.peak.Load()
	if peak < 1 || peak > slots {
		t.Errorf("at most %d parsed keys alive at once, want 1 to %d (the compute slots)", peak, slots)
	}
	if n := e.s.uncached.n.Load(); n != 0 {
		t.Errorf("%d parsed keys still counted in use after every call ended", n)
	}
}
