package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/blindlist/blindlist/internal/store/redistest"
)

// waitAvailable polls r.Check until the server answers again; the bound
// only keeps a broken recovery from hanging the test.
func waitAvailable(t *testing.T, r *Redis) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := r.Check(context.Background())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("store never recovered after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisDownAndBack kills a real redis-server (persistence on, as in
// deploy/) under the store: every operation then fails with ErrUnavailable
// (the service's 503), including the readiness check; after a restart on
// the same data the store recovers by itself, and the evaluation key and
// the spent token written before the crash are still there.
func TestRedisDownAndBack(t *testing.T) {
	ctx := context.Background()
	srv := redistest.StartPersistent(t)
	c := redis.NewClient(RedisClientOptions(srv.Addr, ""))
	t.Cleanup(func() { _ = c.Close() })
	r := NewRedis(c, "fault:")
	kv, err := r.KV("keys", Limits{TTL: time.Hour, MaxKeyBytes: 64, MaxValueBytes: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	spent, err := r.SpentSet("tokens", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Put(ctx, []byte("user-key"), []byte("key bytes")); err != nil {
		t.Fatal(err)
	}
	if was, err := spent.MarkSpent(ctx, []byte("nonce")); err != nil || was {
		t.Fatalf("first spend: %v, %v", was, err)
	}
	if err := r.Check(ctx); err != nil {
		t.Fatalf("Check with the server up: %v", err)
	}

	srv.Kill()
	for i := range 3 { // the first call opens the breaker, the next ones fail without trying
		if _, err := kv.Get(ctx, []byte("user-key")); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Get %d with the server down: %v, want ErrUnavailable", i, err)
		}
		if _, err := spent.MarkSpent(ctx, []byte("other")); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("MarkSpent %d with the server down: %v, want ErrUnavailable", i, err)
		}
		if err := kv.Put(ctx, []byte("k2"), []byte("v")); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Put %d with the server down: %v, want ErrUnavailable", i, err)
		}
	}
	if err := r.Check(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Check with the server down: %v, want ErrUnavailable", err)
	}

	srv.Restart(t)
	waitAvailable(t, r)
	if v, err := kv.Get(ctx, []byte("user-key")); err != nil || string(v) != "key bytes" {
		t.Fatalf("key after the restart: %q, %v", v, err)
	}
	if was, err := spent.MarkSpent(ctx, []byte("nonce")); err != nil || !was {
		t.Fatalf("token spent before the crash, replayed after the restart: spent %v, %v; want spent", was, err)
	}
}

// TestRedisErrorRepliesKeepBreakerClosed checks that answers of a working
// server (a missing key, an error reply) are not taken for an outage.
func TestRedisErrorRepliesKeepBreakerClosed(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c := redis.NewClient(RedisClientOptions(srv.Addr, ""))
	t.Cleanup(func() { _ = c.Close() })
	r := NewRedis(c, "replies:")
	kv, _ := r.KV("keys", Limits{MaxKeyBytes: 64, MaxValueBytes: 64})
	if _, err := kv.Get(ctx, []byte("absent")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of an absent key: %v", err)
	}
	// A wrong-type reply: the key holds a list.
	if err := c.RPush(ctx, "replies:kv:keys:list", "x").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, []byte("list")); err == nil || errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get of a list: %v, want a WRONGTYPE error that is not ErrUnavailable", err)
	}
	if err := r.Check(ctx); err != nil {
		t.Fatalf("Check after error replies: %v", err)
	}
	// The caller's own cancellation is not an outage either.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := kv.Get(cctx, []byte("absent")); errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get with a canceled context: %v", err)
	}
	if err := r.Check(ctx); err != nil {
		t.Fatalf("Check after a canceled call: %v", err)
	}
}
