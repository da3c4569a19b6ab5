package api

import (
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/internal/store/s3test"
	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// TestObjectStoreKeys keeps evaluation keys in a real S3-compatible server
// (SeaweedFS): a key uploaded before a service restart answers queries
// after it; while the object store is down /key and /queries fail closed
// with 503 and Retry-After; once it is back the same calls succeed.
func TestObjectStoreKeys(t *testing.T) {
	srv := s3test.Start(t)
	service := func() *testEnv {
		kv, err := store.NewObject(srv.Client(t), "api-test/").KV("evaluation-keys",
			store.Limits{TTL: time.Hour, MaxKeyBytes: 64, MaxValueBytes: defaultMaxKeyBytes})
		if err != nil {
			t.Fatal(err)
		}
		// Tokens are not the point here (the spent set is tested on Redis
		// Cluster in internal/store).
		return newEnv(t, envOptions{kv: kv, noToken: true})
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
	keyBody := testvec.Read(t, "pir", "A", "evaluation_keys.binpb")

	a := service()
	if code, _, body := a.post("/key", keyBody, nil); code != http.StatusOK {
		t.Fatalf("/key: %d %s", code, body)
	}
	a.close()

	b := service() // the service restarted: nothing in memory
	if cr := b.config(&apipb.ConfigRequest{Usecases: []string{testUsecase}}, nil); cr.GetKeyInfo()[0].GetTimestamp() == 0 {
		t.Fatal("after a service restart /config reports no key")
	}
	if code, _, body := b.post("/queries", query, nil); code != http.StatusOK {
		t.Fatalf("/queries after a service restart: %d %s", code, body)
	}

	srv.Kill()
	c := service() // a fresh replica: no parsed key cached
	for _, call := range []struct {
		path string
		body []byte
	}{{"/key", keyBody}, {"/queries", query}} {
		code, hdr, body := c.post(call.path, call.body, nil)
		if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
			t.Errorf("%s with the object store down: %d, Retry-After %q, %s; want 503 with Retry-After", call.path, code, hdr.Get("Retry-After"), body)
		}
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if code, _, body := c.post("/queries", query, nil); code != http.StatusOK {
		t.Fatalf("/queries after the object store recovered: %d %s", code, body)
	}
	if code, _, body := c.post("/key", keyBody, nil); code != http.StatusOK {
		t.Fatalf("/key after the object store recovered: %d %s", code, body)
	}
}
