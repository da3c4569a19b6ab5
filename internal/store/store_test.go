package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blindlist/blindlist/internal/store/redistest"
)

// backend builds one implementation for the shared tests.
type backend struct {
	name  string
	spent func(t *testing.T, ttl time.Duration) SpentSet
	kv    func(t *testing.T, l Limits) KV
	// advance moves time forward by d (a fake clock for bbolt, a real sleep
	// for Redis, whose expiry is the server's).
	advance func(d time.Duration)
}

func boltBackend(t *testing.T) backend {
	b, err := OpenBolt(filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	b.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	n := 0
	return backend{
		name: "bolt",
		spent: func(t *testing.T, ttl time.Duration) SpentSet {
			n++
			s, err := b.SpentSet(fmt.Sprintf("s%d", n), ttl)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		kv: func(t *testing.T, l Limits) KV {
			n++
			s, err := b.KV(fmt.Sprintf("kv%d", n), l)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		advance: func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() },
	}
}

func redisBackend(t *testing.T) backend {
	srv := redistest.Start(t)
	r := NewRedis(srv.Client(t), "test:")
	if err := r.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := 0
	return backend{
		name: "redis",
		spent: func(t *testing.T, ttl time.Duration) SpentSet {
			n++
			s, err := r.SpentSet(fmt.Sprintf("s%d", n), ttl)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		kv: func(t *testing.T, l Limits) KV {
			n++
			s, err := r.KV(fmt.Sprintf("kv%d", n), l)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		advance: time.Sleep,
	}
}

// ttlForTest is short because Redis expiry is real time.
const ttlForTest = 300 * time.Millisecond

func TestBackends(t *testing.T) {
	for _, mk := range []func(*testing.T) backend{boltBackend, redisBackend} {
		be := mk(t)
		t.Run(be.name, func(t *testing.T) {
			t.Run("MarkSpent", func(t *testing.T) { testMarkSpent(t, be) })
			t.Run("MarkSpentConcurrent", func(t *testing.T) { testMarkSpentConcurrent(t, be) })
			t.Run("MarkSpentExpiry", func(t *testing.T) { testMarkSpentExpiry(t, be) })
			t.Run("KV", func(t *testing.T) { testKV(t, be) })
			t.Run("KVLimits", func(t *testing.T) { testKVLimits(t, be) })
			t.Run("KVExpiry", func(t *testing.T) { testKVExpiry(t, be) })
		})
	}
}

func testMarkSpent(t *testing.T, be backend) {
	ctx := context.Background()
	s := be.spent(t, 0)
	keys := [][]byte{[]byte("a"), []byte("b"), {0, 1, 2, 0xff}, bytes.Repeat([]byte{7}, maxSpentKeyBytes)}
	for _, k := range keys {
		if spent, err := s.MarkSpent(ctx, k); err != nil || spent {
			t.Fatalf("first MarkSpent(%x) = %v, %v; want false, nil", k, spent, err)
		}
	}
	for _, k := range keys {
		if spent, err := s.MarkSpent(ctx, k); err != nil || !spent {
			t.Fatalf("second MarkSpent(%x) = %v, %v; want true, nil", k, spent, err)
		}
	}
	other := be.spent(t, 0)
	if spent, err := other.MarkSpent(ctx, keys[0]); err != nil || spent {
		t.Fatalf("another set sees a key of the first: %v, %v", spent, err)
	}
	for _, k := range [][]byte{nil, bytes.Repeat([]byte{1}, maxSpentKeyBytes+1)} {
		if _, err := s.MarkSpent(ctx, k); err == nil {
			t.Errorf("MarkSpent accepted a key of %d bytes", len(k))
		}
	}
}

func testMarkSpentConcurrent(t *testing.T, be backend) {
	s := be.spent(t, 0)
	const workers = 16
	var wg sync.WaitGroup
	results := make(chan bool, workers)
	for range workers {
		wg.Go(func() {
			spent, err := s.MarkSpent(context.Background(), []byte("race"))
			if err != nil {
				t.Error(err)
			}
			results <- spent
		})
	}
	wg.Wait()
	close(results)
	fresh := 0
	for spent := range results {
		if !spent {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d of %d concurrent MarkSpent calls saw a fresh key, want exactly 1", fresh, workers)
	}
}

func testMarkSpentExpiry(t *testing.T, be backend) {
	ctx := context.Background()
	s := be.spent(t, ttlForTest)
	if spent, _ := s.MarkSpent(ctx, []byte("k")); spent {
		t.Fatal("fresh key reported spent")
	}
	if spent, _ := s.MarkSpent(ctx, []byte("k")); !spent {
		t.Fatal("key not spent right after marking")
	}
	be.advance(ttlForTest + 200*time.Millisecond)
	if spent, err := s.MarkSpent(ctx, []byte("k")); err != nil || spent {
		t.Fatalf("after the TTL: %v, %v; want false, nil", spent, err)
	}
}

func testKV(t *testing.T, be backend) {
	ctx := context.Background()
	s := be.kv(t, Limits{MaxKeyBytes: 64, MaxValueBytes: 1 << 20})
	if _, err := s.Get(ctx, []byte("missing")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(missing) = %v, want ErrNotFound", err)
	}
	val := bytes.Repeat([]byte{0, 1, 0xfe}, 100_000)
	if err := s.Put(ctx, []byte("user/key"), val); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, []byte("user/key"))
	if err != nil || !bytes.Equal(got, val) {
		t.Fatalf("Get after Put: %d bytes, %v; want %d bytes", len(got), err, len(val))
	}
	if err := s.Put(ctx, []byte("user/key"), []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, []byte("user/key")); string(got) != "v2" {
		t.Fatalf("Get after overwrite = %q, want v2", got)
	}
	if err := s.Put(ctx, []byte("empty"), nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, []byte("empty")); err != nil || len(got) != 0 {
		t.Fatalf("Get(empty value) = %q, %v", got, err)
	}
	if err := s.Delete(ctx, []byte("user/key")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, []byte("user/key")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, []byte("never-there")); err != nil {
		t.Fatalf("Delete(absent) = %v", err)
	}
}

func testKVLimits(t *testing.T, be backend) {
	ctx := context.Background()
	s := be.kv(t, Limits{MaxKeyBytes: 8, MaxValueBytes: 16})
	if err := s.Put(ctx, []byte("k"), make([]byte, 17)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Put of 17 bytes over a 16-byte limit = %v, want ErrTooLarge", err)
	}
	if _, err := s.Get(ctx, []byte("k")); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused Put wrote something: %v", err)
	}
	if err := s.Put(ctx, []byte("k"), make([]byte, 16)); err != nil {
		t.Errorf("Put at the limit: %v", err)
	}
	if err := s.Put(ctx, []byte("123456789"), nil); !errors.Is(err, ErrTooLarge) || !strings.HasPrefix(err.Error(), "store: ") {
		t.Errorf("Put with a 9-byte key over an 8-byte limit = %v, want a \"store: \" error wrapping ErrTooLarge", err)
	}
	if _, err := s.Get(ctx, nil); err == nil {
		t.Error("Get with an empty key succeeded")
	}
}

func testKVExpiry(t *testing.T, be backend) {
	ctx := context.Background()
	s := be.kv(t, Limits{TTL: ttlForTest, MaxKeyBytes: 8, MaxValueBytes: 8})
	if err := s.Put(ctx, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, []byte("k")); err != nil {
		t.Fatalf("Get before expiry: %v", err)
	}
	be.advance(ttlForTest + 200*time.Millisecond)
	if _, err := s.Get(ctx, []byte("k")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after expiry = %v, want ErrNotFound", err)
	}
}

func TestLimitsChecked(t *testing.T) {
	b, err := OpenBolt(filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bad := []Limits{
		{MaxKeyBytes: 0, MaxValueBytes: 1},
		{MaxKeyBytes: 1, MaxValueBytes: 0},
		{TTL: -time.Second, MaxKeyBytes: 1, MaxValueBytes: 1},
	}
	for _, l := range bad {
		if _, err := b.KV("x", l); err == nil {
			t.Errorf("KV accepted limits %+v", l)
		}
	}
	for _, name := range []string{"", "a/b", "A", "a:b"} {
		if _, err := b.SpentSet(name, 0); err == nil {
			t.Errorf("SpentSet accepted name %q", name)
		}
	}
}

// TestBoltRestart closes the file and opens it again: spent keys and values
// must survive, expiry included.
func TestBoltRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	b, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := b.SpentSet("tokens", time.Hour)
	kv, _ := b.KV("keys", Limits{MaxKeyBytes: 16, MaxValueBytes: 16})
	if spent, err := s.MarkSpent(ctx, []byte("nonce")); err != nil || spent {
		t.Fatalf("MarkSpent = %v, %v", spent, err)
	}
	if err := kv.Put(ctx, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	// A second opener is refused while the file is held.
	if _, err := OpenBolt(path); err == nil {
		t.Fatal("second OpenBolt of a held file succeeded")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b, err = OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, _ = b.SpentSet("tokens", time.Hour)
	kv, _ = b.KV("keys", Limits{MaxKeyBytes: 16, MaxValueBytes: 16})
	if spent, err := s.MarkSpent(ctx, []byte("nonce")); err != nil || !spent {
		t.Fatalf("after restart MarkSpent = %v, %v; want true (spent before the restart)", spent, err)
	}
	if got, err := kv.Get(ctx, []byte("k")); err != nil || string(got) != "v" {
		t.Fatalf("after restart Get = %q, %v", got, err)
	}
}

func TestBoltSweep(t *testing.T) {
	ctx := context.Background()
	be := boltBackend(t)
	s := be.spent(t, time.Minute).(*BoltSpentSet)
	for i := range 10 {
		if _, err := s.MarkSpent(ctx, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	be.advance(30 * time.Second)
	for i := 10; i < 15; i++ {
		if _, err := s.MarkSpent(ctx, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	be.advance(45 * time.Second) // the first 10 expired, the last 5 not
	n, err := s.Sweep(ctx)
	if err != nil || n != 10 {
		t.Fatalf("Sweep = %d, %v; want 10", n, err)
	}
	if n, _ := s.Sweep(ctx); n != 0 {
		t.Fatalf("second Sweep removed %d, want 0", n)
	}
	if spent, _ := s.MarkSpent(ctx, []byte{12}); !spent {
		t.Fatal("Sweep removed a live entry")
	}
}

// TestRedisSharedAcrossClients models two replicas on one Redis: a key spent
// through one client is spent for the other.
func TestRedisSharedAcrossClients(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	a, _ := NewRedis(srv.Client(t), "app:").SpentSet("tokens", time.Hour)
	b, _ := NewRedis(srv.Client(t), "app:").SpentSet("tokens", time.Hour)
	if spent, err := a.MarkSpent(ctx, []byte("n1")); err != nil || spent {
		t.Fatalf("replica a: %v, %v", spent, err)
	}
	if spent, err := b.MarkSpent(ctx, []byte("n1")); err != nil || !spent {
		t.Fatalf("replica b: %v, %v; want spent", spent, err)
	}
	c, _ := NewRedis(srv.Client(t), "other:").SpentSet("tokens", time.Hour)
	if spent, _ := c.MarkSpent(ctx, []byte("n1")); spent {
		t.Fatal("a different prefix shares keys")
	}
}

func BenchmarkMarkSpent(b *testing.B) {
	ctx := context.Background()
	bolt, err := OpenBolt(filepath.Join(b.TempDir(), "store.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer bolt.Close()
	s, _ := bolt.SpentSet("bench", time.Hour)
	srv := redistest.Start(b)
	rs, _ := NewRedis(srv.Client(b), "bench:").SpentSet("bench", time.Hour)
	for _, c := range []struct {
		name string
		s    SpentSet
	}{{"bolt", s}, {"redis", rs}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var key [8]byte
			i := uint64(0)
			for b.Loop() {
				i++
				for j := range key {
					key[j] = byte(i >> (8 * j))
				}
				if _, err := c.s.MarkSpent(ctx, key[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
