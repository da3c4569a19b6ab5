package api

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/internal/store/s3"
	"github.com/blindlist/blindlist/internal/store/s3test"
	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// keyObjectTraffic counts the GETs of evaluation-key objects ('k' entries,
// hex 6b) a replica sends to the object store, by status, and the body
// bytes it reads from them.
type keyObjectTraffic struct {
	mu sync.Mutex
	n  trafficCounts
}

// trafficCounts are the counts of a [keyObjectTraffic].
type trafficCounts struct {
	full, not   int   // 200 and 304 answers
	other       int   // any other status
	bodyBytes   int64 // response body bytes read
	conditional int   // requests that carried If-None-Match
}

func (c *keyObjectTraffic) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/evaluation-keys/6b") {
		return resp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Header.Get("If-None-Match") != "" {
		c.n.conditional++
	}
	switch resp.StatusCode {
	case http.StatusOK:
		c.n.full++
	case http.StatusNotModified:
		c.n.not++
	default:
		c.n.other++
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, c: c}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	c *keyObjectTraffic
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.mu.Lock()
	b.c.n.bodyBytes += int64(n)
	b.c.mu.Unlock()
	return n, err
}

// snapshot returns the counts so far.
func (c *keyObjectTraffic) snapshot() trafficCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestObjectStoreKeyRevalidation runs two replicas on one real
// S3-compatible server (SeaweedFS) and counts what replica B reads from
// it: the first /queries reads the device's key in full, the next ones
// only revalidate it (a GET with If-None-Match answered 304, no body). A
// key re-uploaded through replica A is read in full by B and used (a key
// lacking a Galois element now fails there; the good key, uploaded again,
// answers again); a key removed from the store is not answered from B's
// copy; the store down fails /queries closed with 503 although B holds
// the key.
func TestObjectStoreKeyRevalidation(t *testing.T) {
	srv := s3test.Start(t)
	replica := func(tr http.RoundTripper) (*testEnv, store.KV) {
		cfg := srv.Config()
		cfg.Transport = tr
		c, err := s3.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		kv, err := store.NewObject(c, "revalidate/").KV("evaluation-keys",
			store.Limits{TTL: time.Hour, MaxKeyBytes: 64, MaxValueBytes: defaultMaxKeyBytes})
		if err != nil {
			t.Fatal(err)
		}
		return newEnv(t, envOptions{kv: kv, noToken: true}), kv
	}
	var reqs apipb.Requests
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "requests.binpb"), &reqs); err != nil {
		t.Fatal(err)
	}
	reqs.Requests = reqs.Requests[:1]
	query, err := proto.Marshal(&reqs)
	if err != nil {
		t.Fatal(err)
	}
	var keys apipb.EvaluationKeys
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "evaluation_keys.binpb"), &keys); err != nil {
		t.Fatal(err)
	}
	// upload sends the vector's key with metadata timestamp ts, without
	// one Galois key when broken.
	upload := func(e *testEnv, ts uint64, broken bool) int {
		t.Helper()
		k := proto.Clone(&keys).(*apipb.EvaluationKeys)
		k.Keys[0].Metadata.Timestamp = ts
		if broken {
			for g := range k.Keys[0].GetEvaluationKey().GetGaloisKey().GetKeySwitchKeys() {
				delete(k.Keys[0].EvaluationKey.GaloisKey.KeySwitchKeys, g)
				break
			}
		}
		body, err := proto.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		if code, _, b := e.post("/key", body, nil); code != http.StatusOK {
			t.Fatalf("/key: %d %s", code, b)
		}
		return proto.Size(k.Keys[0])
	}
	queries := func(e *testEnv, want int) {
		t.Helper()
		if code, _, b := e.post("/queries", query, nil); code != want {
			t.Fatalf("/queries: %d %s, want %d", code, b, want)
		}
	}

	a, _ := replica(nil)
	var trafficB keyObjectTraffic
	b, kvB := replica(&trafficB)
	keySize := upload(a, 1, false)
	if got, want := b.s.KeyCacheBytes(), int64(DefaultKeyCacheBytes+DefaultKeyCacheBytes/8); got != want {
		t.Errorf("KeyCacheBytes with the object store = %d, want %d (parsed keys + serialized copies)", got, want)
	}

	const calls = 5
	for range calls {
		queries(b, http.StatusOK)
	}
	got := trafficB.snapshot()
	t.Logf("%d /queries on replica B: %d full GETs, %d answered 304, %d body bytes (key %d bytes)",
		calls, got.full, got.not, got.bodyBytes, keySize)
	if got.full != 1 || got.not != calls-1 || got.other != 0 || got.conditional != calls-1 {
		t.Fatalf("%d /queries read the key object %+v; want 1 full GET and %d conditional ones answered 304", calls, got, calls-1)
	}
	if got.bodyBytes < int64(keySize) || got.bodyBytes > int64(keySize)+4096 {
		t.Fatalf("%d /queries read %d body bytes; want one key (%d bytes plus its frame), revalidations without a body", calls, got.bodyBytes, keySize)
	}

	// A re-upload through replica A must reach B: the broken key fails.
	before := trafficB.snapshot()
	upload(a, 2, true)
	queries(b, http.StatusInternalServerError)
	upload(a, 3, false)
	queries(b, http.StatusOK)
	queries(b, http.StatusOK)
	got = trafficB.snapshot()
	if got.full-before.full != 2 || got.not-before.not != 1 {
		t.Fatalf("after two re-uploads through A, B read the key object %+v (before %+v); want 2 full GETs and 1 answered 304", got, before)
	}

	// A key gone from the store (deleted, or expired by a lifecycle rule)
	// is not answered from B's copy.
	if err := kvB.Delete(t.Context(), storeKey('k', keyDigest("3F2504E0-4F89-11D3-9A0C-0305E82C3301", keys.Keys[0].GetMetadata().GetIdentifier()))); err != nil {
		t.Fatal(err)
	}
	if code, _, body := b.post("/queries", query, nil); code == http.StatusOK {
		t.Fatalf("/queries for a key removed from the store answered 200 from the cached copy: %s", body)
	}

	// Store down: fail closed although B holds a parsed key.
	upload(a, 4, false)
	queries(b, http.StatusOK)
	srv.Kill()
	code, hdr, body := b.post("/queries", query, nil)
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
		t.Fatalf("/queries with the object store down: %d, Retry-After %q, %s; want 503 with Retry-After", code, hdr.Get("Retry-After"), body)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	queries(b, http.StatusOK)
}
