package api

import (
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/internal/store/redistest"
	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// TestRedisReplicas runs two replicas on one real redis-server: a key
// uploaded through one is used by the other, and a token redeemed on one is
// refused by the other.
func TestRedisReplicas(t *testing.T) {
	rs := redistest.Start(t)
	replica := func() *testEnv {
		r := store.NewRedis(rs.Client(t), "blindlist-test:")
		kv, err := r.KV("evaluation-keys", store.Limits{TTL: time.Hour, MaxKeyBytes: 64, MaxValueBytes: defaultMaxKeyBytes})
		if err != nil {
			t.Fatal(err)
		}
		spent, err := r.SpentSet("nonces", 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return newEnv(t, envOptions{kv: kv, spent: spent})
	}
	a, b := replica(), replica()

	if code, _, body := a.post("/key", testvec.Read(t, "pir", "A", "evaluation_keys.binpb"), nil); code != http.StatusOK {
		t.Fatalf("/key on replica a: %d %s", code, body)
	}
	cr := b.config(&apipb.ConfigRequest{Usecases: []string{testUsecase}}, nil)
	if cr.GetKeyInfo()[0].GetTimestamp() == 0 {
		t.Error("replica b does not see the key uploaded to a")
	}
	var reqs apipb.Requests
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "requests.binpb"), &reqs); err != nil {
		t.Fatal(err)
	}
	reqs.Requests = reqs.Requests[:1]
	body, err := proto.Marshal(&reqs)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, resp := b.post("/queries", body, nil); code != http.StatusOK {
		t.Fatalf("/queries on replica b: %d %s", code, resp)
	}

	tok := "PrivateToken token=" + base64.RawURLEncoding.EncodeToString(a.tokens.mint())
	cfgReq, _ := proto.Marshal(&apipb.ConfigRequest{})
	if code, _, resp := a.post("/config", cfgReq, map[string]string{"Authorization": tok}); code != http.StatusOK {
		t.Fatalf("token on a: %d %s", code, resp)
	}
	if code, _, _ := b.post("/config", cfgReq, map[string]string{"Authorization": tok}); code != http.StatusUnauthorized {
		t.Errorf("token replayed on b: %d, want 401", code)
	}
}
