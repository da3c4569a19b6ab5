package store

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/blindlist/blindlist/internal/store/redistest"
)

// TestRedisHeartbeats checks beats from two members on a real Redis:
// both are live, a member whose beat expired is dropped (and removed), a
// member that leaves is gone at once, and a new beat brings it back.
func TestRedisHeartbeats(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	r := NewRedis(srv.Client(t), "hb:")
	a, err := r.Heartbeats("replicas")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewRedis(srv.Client(t), "hb:").Heartbeats("replicas")
	now := time.Unix(1_800_000_000, 0)
	a.now = func() time.Time { return now }
	b.now = a.now
	if err := a.Beat(ctx, "a", `{"u":"000002"}`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.Beat(ctx, "b", `{"u":"000001"}`, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	live, err := a.Live(ctx)
	if want := map[string]string{"a": `{"u":"000002"}`, "b": `{"u":"000001"}`}; err != nil || !maps.Equal(live, want) {
		t.Fatalf("live %v, %v; want %v", live, err, want)
	}
	now = now.Add(15 * time.Second) // a's beat expired, b's not
	if live, _ := b.Live(ctx); !maps.Equal(live, map[string]string{"b": `{"u":"000001"}`}) {
		t.Errorf("after a's expiry: %v", live)
	}
	if n, _ := srv.Client(t).HLen(ctx, "hb:heartbeats:replicas").Result(); n != 1 {
		t.Errorf("expired member not removed: %d fields", n)
	}
	if err := b.Leave(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if live, _ := a.Live(ctx); len(live) != 0 {
		t.Errorf("after b left: %v", live)
	}
	if err := b.Beat(ctx, "b", "x", time.Second); err != nil {
		t.Fatal(err)
	}
	if live, _ := a.Live(ctx); !maps.Equal(live, map[string]string{"b": "x"}) {
		t.Errorf("after b beat again: %v", live)
	}
	if _, err := r.Heartbeats("bad name!"); err == nil {
		t.Error("a bad table name was accepted")
	}
}
