package api

import (
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/internal/store/redistest"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// TestRedisClusterTokens runs two replicas whose evaluation keys and
// spent tokens live on a real Redis Cluster (3 masters, 3 replicas), the
// spends acknowledged only after WAIT and checked against the per-group
// epoch records: a token redeemed on one replica is refused on the other;
// with the cluster's replicas gone a fresh spend is not acknowledged (503
// with Retry-After) while replays are still refused; when a master loses
// its data no earlier token is accepted again on either replica.
func TestRedisClusterTokens(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 1)
	ctx := context.Background()
	if err := cl.WaitHealthy(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	replica := func() *testEnv {
		r := store.NewRedis(cl.Client(t), "blindlist-test:")
		kv, err := r.KV("evaluation-keys", store.Limits{TTL: time.Hour, MaxKeyBytes: 64, MaxValueBytes: defaultMaxKeyBytes})
		if err != nil {
			t.Fatal(err)
		}
		spent, err := r.ReplicatedSpentSet("nonces", 24*time.Hour, 1, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return newEnv(t, envOptions{kv: kv, spent: spent})
	}
	a, b := replica(), replica()
	cfgReq, _ := proto.Marshal(&apipb.ConfigRequest{})
	redeem := func(e *testEnv, tok []byte) (int, http.Header) {
		t.Helper()
		code, hdr, _ := e.post("/config", cfgReq, map[string]string{"Authorization": "PrivateToken token=" + base64.RawURLEncoding.EncodeToString(tok)})
		return code, hdr
	}

	// Replicas come online a moment after the cluster is healthy: the
	// first spends may be refused with 503 until WAIT is answered.
	var tokens [][]byte
	deadline := time.Now().Add(30 * time.Second)
	for len(tokens) < 30 {
		tok := a.tokens.mint()
		switch code, _ := redeem(a, tok); code {
		case http.StatusOK:
			tokens = append(tokens, tok)
		case http.StatusServiceUnavailable:
			if time.Now().After(deadline) {
				t.Fatal("spends still unacknowledged 30 s after the cluster started")
			}
			time.Sleep(100 * time.Millisecond)
		default:
			t.Fatalf("fresh token: %d", code)
		}
	}
	for i, tok := range tokens {
		if code, _ := redeem(b, tok); code != http.StatusUnauthorized {
			t.Fatalf("token %d replayed on the other replica: %d, want 401", i, code)
		}
	}

	// Kill every replica: a spend can no longer be confirmed.
	masters, err := cl.Masters(ctx)
	if err != nil || len(masters) != 3 {
		t.Fatalf("masters %v, %v", masters, err)
	}
	for _, n := range cl.Running() {
		if !slices.Contains(masters, n) {
			cl.Kill(n)
		}
	}
	code, hdr := redeem(a, a.tokens.mint())
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
		t.Fatalf("spend with no replica to confirm it: %d, Retry-After %q; want 503 with Retry-After", code, hdr.Get("Retry-After"))
	}
	if code, _ := redeem(b, tokens[0]); code != http.StatusUnauthorized {
		t.Fatalf("replay with the replicas down: %d, want 401", code)
	}

	// One master loses its data: no earlier token is accepted again.
	c := redis.NewClient(&redis.Options{Addr: masters[0]})
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	for i, tok := range tokens {
		e := a
		if i%2 == 1 {
			e = b
		}
		if code, _ := redeem(e, tok); code == http.StatusOK {
			t.Fatalf("token %d accepted again after a master lost its data", i)
		} else if code != http.StatusUnauthorized {
			t.Fatalf("token %d after a master lost its data: %d, want 401", i, code)
		}
	}
}
