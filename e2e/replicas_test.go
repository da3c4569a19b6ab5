package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/api"
	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/redis/go-redis/v9"
)

// redisStores gives every replica stores on the same Redis, as the
// deployment in deploy/ does.
func redisStores(c redis.UniversalClient, prefix string) func(int) (store.KV, store.SpentSet, error) {
	return redisStoresOf(store.NewRedis(c, prefix))
}

// redisStoresOf is redisStores on one store (one breaker for all replicas).
func redisStoresOf(r *store.Redis) func(int) (store.KV, store.SpentSet, error) {
	return func(int) (store.KV, store.SpentSet, error) {
		kv, err := r.KV("evaluation-keys", store.Limits{TTL: time.Hour, MaxKeyBytes: 128, MaxValueBytes: 4 << 20})
		if err != nil {
			return nil, nil, err
		}
		spent, err := r.SpentSet(privacypass.SpentNamespace, 72*time.Hour)
		return kv, spent, err
	}
}

// TestReplicasShareRedis runs two replicas on one real redis-server: a key
// uploaded to one is used by the other, and a token spent on one is refused
// by the other. The same steps with a private store per replica fail, which
// shows the test depends on the sharing.
func TestReplicasShareRedis(t *testing.T) {
	rp := startRedis(t)
	db := demoDB(t)
	ctx := context.Background()

	t.Run("evaluation key", func(t *testing.T) {
		s := startStack(t, StackConfig{DB: db, Replicas: 2, NewStores: redisStores(rp.client(t), "key-test:")})
		dev := s.DirectDevice(0, testUserToken)
		v, err := dev.Check(ctx, "https://www.apple.com/url-filter-test")
		if err != nil || !v.Blocked || v.Sizes.KeyBytes == 0 {
			t.Fatalf("replica 0: %+v, %v; want blocked after a key upload", v, err)
		}
		// Same device, now on replica 1, which never saw /key.
		dev.Service = "http://" + s.Replicas[1].Addr()
		dev.Issuer = dev.Service
		v, err = dev.Check(ctx, "https://tracker.example.net/pixel")
		if err != nil {
			t.Fatalf("replica 1 with the key uploaded to replica 0: %v", err)
		}
		if !v.Blocked || v.Sizes.KeyBytes != 0 {
			t.Errorf("replica 1: blocked %v, uploaded %d key bytes; want blocked with no upload", v.Blocked, v.Sizes.KeyBytes)
		}
	})

	t.Run("evaluation key, private stores", func(t *testing.T) {
		s := startStack(t, StackConfig{DB: db, Replicas: 2, NewStores: boltStores(t)})
		dev := s.DirectDevice(0, testUserToken)
		if _, err := dev.Check(ctx, "https://www.apple.com/url-filter-test"); err != nil {
			t.Fatal(err)
		}
		dev.Service = "http://" + s.Replicas[1].Addr()
		dev.Issuer = dev.Service
		_, err := dev.Check(ctx, "https://tracker.example.net/pixel")
		var se *StatusError
		if !errors.As(err, &se) || se.Status != http.StatusBadRequest || !strings.Contains(se.Body, "Evaluation key not found") {
			t.Errorf("replica 1 without shared keys: %v, want 400 Evaluation key not found", err)
		}
	})

	t.Run("spent token", func(t *testing.T) {
		for _, shared := range []bool{true, false} {
			stores := boltStores(t)
			if shared {
				stores = redisStores(rp.client(t), "token-test:")
			}
			s := startStack(t, StackConfig{DB: db, Replicas: 2, NewStores: stores})
			toks, err := s.DirectDevice(0, testUserToken).FetchTokens(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			first := postConfig(t, s.Replicas[0].Addr(), toks[0])
			replay := postConfig(t, s.Replicas[1].Addr(), toks[0])
			want := http.StatusUnauthorized
			if !shared {
				want = http.StatusOK // the double spend the shared store prevents
			}
			if first != http.StatusOK || replay != want {
				t.Errorf("shared=%v: first use %d, replay on the other replica %d; want 200, %d", shared, first, replay, want)
			}
		}
	})
}

// postConfig sends one /config call with token and returns the status.
func postConfig(t *testing.T, addr string, token []byte) int {
	t.Helper()
	return postConfigResponse(t, addr, token).StatusCode
}

// postConfigResponse sends one /config call with token and returns the
// response, its body read and closed.
func postConfigResponse(t *testing.T, addr string, token []byte) *http.Response {
	t.Helper()
	body, err := proto.Marshal(&apipb.ConfigRequest{Usecases: []string{testUsecase}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/config", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", privacypass.Authorization(token))
	req.Header.Set("User-Agent", DefaultUserAgent)
	req.Header.Set("User-Identifier", "replica-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestRedisDataLoss empties Redis under two replicas (FLUSHALL: a Redis
// restarted without persistence, a failover to an empty node). The token
// spent before is refused when replayed on either replica (the old code
// accepted it: the spent set had forgotten it); every replica finds the
// loss through the epoch record and the issuer keys rotate in the shared
// key directory. A device then recovers: with its refused tokens dropped,
// it fetches the new token key and new tokens, /config (which reports no
// key: the keys were lost too), uploads a key and its lookup succeeds.
// Tokens of the void key stay refused.
func TestRedisDataLoss(t *testing.T) {
	rp := startRedis(t)
	c := rp.client(t)
	keyDir := &api.IssuerKeyDir{Dir: t.TempDir(), Lifetime: 30 * 24 * time.Hour, Overlap: 48 * time.Hour, PublishAhead: time.Hour}
	s := startStack(t, StackConfig{DB: demoDB(t), Replicas: 2, NewStores: redisStores(c, "loss:"), KeyDir: keyDir})
	ctx := context.Background()
	dev := s.Device(testUserToken)
	if _, err := dev.Check(ctx, "https://www.apple.com/url-filter-test"); err != nil {
		t.Fatal(err)
	}
	toks, err := s.DirectDevice(0, testUserToken).FetchTokens(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if code := postConfig(t, s.Replicas[0].Addr(), toks[0]); code != http.StatusOK {
		t.Fatalf("first use of a token: %d", code)
	}
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}

	for i, r := range s.Replicas {
		if code := postConfig(t, r.Addr(), toks[0]); code != http.StatusUnauthorized {
			t.Errorf("token spent before the loss, replayed on replica %d: %d, want 401", i, code)
		}
	}
	if code := postConfig(t, s.Replicas[1].Addr(), toks[1]); code != http.StatusUnauthorized {
		t.Errorf("unspent token of the void key: %d, want 401", code)
	}

	// A device with no cached tokens and no state. The new key starts on
	// the next whole second, so for up to a second the token key answers
	// 503 with Retry-After; the device comes back, as real ones do.
	dev = s.Device(testUserToken)
	var v *Verdict
	for try := 0; ; try++ {
		v, err = dev.Check(ctx, "https://tracker.example.net/pixel")
		var se *StatusError
		if err == nil || try == 20 || !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || !v.Blocked || v.Sizes.KeyBytes == 0 {
		t.Fatalf("lookup after the loss: %+v, %v; want blocked, with new tokens and a new key upload", v, err)
	}
	if code := postConfig(t, s.Replicas[0].Addr(), toks[0]); code != http.StatusUnauthorized {
		t.Errorf("token of the void key after the recovery: %d, want 401", code)
	}
	files, _ := filepath.Glob(filepath.Join(keyDir.Dir, "*.pem"))
	if len(files) != 1 {
		t.Errorf("%d issuer keys after the rotation, want 1 (the void key deleted)", len(files))
	}
}
