package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/blindlist/blindlist/internal/store/redistest"
)

// TestRedisEpoch checks the epoch record against a real redis-server: the
// first Epoch writes it, a second caller adopts it, MarkSpentInEpoch works
// within it; after FLUSHALL (the data lost) a spend with the old epoch
// fails with ErrEpochChanged and records nothing, even for a key never
// seen; a new record begins at the given time, and a process still
// holding the old epoch keeps failing until it adopts the new one.
func TestRedisEpoch(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c := srv.Client(t)
	a, _ := NewRedis(c, "epoch:").SpentSet("tokens", time.Hour)
	b, _ := NewRedis(srv.Client(t), "epoch:").SpentSet("tokens", time.Hour)

	ea, err := a.Epoch(ctx, time.Time{})
	if err != nil || !ea.Since.IsZero() || ea.ID == "" {
		t.Fatalf("first epoch: %+v, %v; want a record since the beginning", ea, err)
	}
	eb, err := b.Epoch(ctx, time.Now())
	if err != nil || eb != ea {
		t.Fatalf("second caller: %+v, %v; want the record the first wrote, %+v", eb, err, ea)
	}
	if was, err := a.MarkSpentInEpoch(ctx, ea, []byte("n1")); err != nil || was {
		t.Fatalf("first spend: %v, %v", was, err)
	}
	if was, err := b.MarkSpentInEpoch(ctx, eb, []byte("n1")); err != nil || !was {
		t.Fatalf("replay on the other client: %v, %v; want spent", was, err)
	}
	if ttl, err := c.PTTL(ctx, "epoch:spent:tokens:n1").Result(); err != nil || ttl <= 0 || ttl > time.Hour {
		t.Errorf("spent entry TTL %v, %v; want within the set's hour", ttl, err)
	}

	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"n1", "n2"} {
		if _, err := a.MarkSpentInEpoch(ctx, ea, []byte(key)); !errors.Is(err, ErrEpochChanged) {
			t.Fatalf("spend of %s after FLUSHALL: %v, want ErrEpochChanged", key, err)
		}
	}
	if n, err := c.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Fatalf("a refused spend wrote %d keys (%v)", n, err)
	}

	lost := time.Now()
	ea2, err := a.Epoch(ctx, lost)
	if err != nil || ea2.ID == ea.ID || !ea2.Since.Equal(lost) {
		t.Fatalf("epoch after the loss: %+v, %v; want a new record since %v", ea2, err, lost)
	}
	if _, err := b.MarkSpentInEpoch(ctx, eb, []byte("n3")); !errors.Is(err, ErrEpochChanged) {
		t.Fatalf("spend with the replaced epoch: %v, want ErrEpochChanged", err)
	}
	if eb2, err := b.Epoch(ctx, time.Now()); err != nil || eb2 != ea2 {
		t.Fatalf("the other client adopts: %+v, %v; want %+v", eb2, err, ea2)
	}
	if was, err := b.MarkSpentInEpoch(ctx, ea2, []byte("n1")); err != nil || was {
		t.Fatalf("spend in the new epoch: %v, %v", was, err)
	}
}

func TestParseEpoch(t *testing.T) {
	for _, bad := range []string{"", "x", "12", "-1-ab", "abc-12"} {
		if _, err := parseEpoch(bad); err == nil {
			t.Errorf("parseEpoch(%q) accepted", bad)
		}
	}
	since := time.Unix(1700000000, 123456789)
	id, err := newEpochID(since)
	if err != nil {
		t.Fatal(err)
	}
	e, err := parseEpoch(id)
	if err != nil || !e.Since.Equal(since) || e.ID != id {
		t.Fatalf("round trip: %+v, %v", e, err)
	}
}
