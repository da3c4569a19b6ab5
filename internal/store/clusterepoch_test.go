package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/internal/store/redistest"
)

// TestReplicatedSpentSetClusterEpoch runs the epoch-checked spends on a
// real Redis Cluster (3 masters, 3 replicas): no CROSSSLOT, two processes
// agree on one epoch, spends land on every master and are acknowledged
// after WAIT, replays are refused; when one master loses its data
// (FLUSHALL, which its replica follows, as a master restarted without
// persistence would), a replay of a token it held is refused with
// ErrEpochChanged instead of accepted, and the next Epoch call gives every
// group and process one newer epoch, so spends in the old epoch fail on
// every master.
func TestReplicatedSpentSetClusterEpoch(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 1)
	ctx := context.Background()
	waitReplicasOnline(t, cl)
	newSet := func() *store.ReplicatedSpentSet {
		s, err := store.NewRedis(cl.Client(t), "t:").ReplicatedSpentSet("tokens", time.Hour, 1, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := newSet(), newSet()
	start := time.Now()
	ea, err := a.Epoch(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := b.Epoch(ctx, start.Add(time.Second)) // a later process: adopts the record
	if err != nil || eb.ID != ea.ID {
		t.Fatalf("second process's epoch %q, %v; want the first's %q", eb.ID, err, ea.ID)
	}

	const n = 300
	tokens := make([][]byte, n)
	for i := range tokens {
		tokens[i] = fmt.Appendf(nil, "key-id||nonce-%06d", i)
		if already, err := a.MarkSpentInEpoch(ctx, ea, tokens[i]); err != nil || already {
			t.Fatalf("first spend of token %d: already %v, %v", i, already, err)
		}
	}
	for i, tok := range tokens {
		if already, err := b.MarkSpentInEpoch(ctx, eb, tok); err != nil || !already {
			t.Fatalf("replay of token %d through another process: already %v, %v; want refused", i, already, err)
		}
	}
	// Every master holds spends: the groups spread the tokens.
	masters, err := cl.Masters(ctx)
	if err != nil || len(masters) != 3 {
		t.Fatalf("masters %v, %v", masters, err)
	}
	sizes := map[string]int64{}
	for _, m := range masters {
		c := redis.NewClient(&redis.Options{Addr: m})
		sizes[m], err = c.DBSize(ctx).Result()
		_ = c.Close()
		if err != nil {
			t.Fatal(err)
		}
		// spentGroups epoch records are spread too; at least a fifth of
		// the spends must be here.
		if sizes[m] < 256/3/2+n/5 {
			t.Errorf("master %s holds %d keys; want the spends spread over all masters", m, sizes[m])
		}
	}
	t.Logf("keys per master (spends + epoch records): %v", sizes)

	// One master loses its data.
	lost := masters[0]
	c := redis.NewClient(&redis.Options{Addr: lost})
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	changed := 0
	for i, tok := range tokens {
		already, err := a.MarkSpentInEpoch(ctx, ea, tok)
		switch {
		case errors.Is(err, store.ErrEpochChanged):
			changed++
		case err != nil:
			t.Fatalf("replay of token %d after the data loss: %v", i, err)
		case !already:
			t.Fatalf("token %d accepted twice after a master lost its data", i)
		}
	}
	if changed == 0 {
		t.Fatal("no replay detected the lost data")
	}
	t.Logf("%d of %d replays refused with ErrEpochChanged (their master lost its data), the rest as spent", changed, n)

	renewed := time.Now()
	ea2, err := a.Epoch(ctx, renewed)
	if err != nil {
		t.Fatal(err)
	}
	if ea2.ID == ea.ID || ea2.Since.Before(renewed) {
		t.Fatalf("epoch after the data loss %+v; want a new one beginning at %v", ea2, renewed)
	}
	eb2, err := b.Epoch(ctx, time.Now())
	if err != nil || eb2.ID != ea2.ID {
		t.Fatalf("other process's epoch after the data loss %q, %v; want %q", eb2.ID, err, ea2.ID)
	}
	for i, tok := range tokens {
		if _, err := b.MarkSpentInEpoch(ctx, eb, tok); !errors.Is(err, store.ErrEpochChanged) {
			t.Fatalf("spend of token %d in the old epoch after renewal: %v; want ErrEpochChanged on every master", i, err)
		}
	}
	fresh := []byte("key-id||nonce-fresh")
	if already, err := b.MarkSpentInEpoch(ctx, eb2, fresh); err != nil || already {
		t.Fatalf("fresh spend in the new epoch: already %v, %v", already, err)
	}
	if already, err := a.MarkSpentInEpoch(ctx, ea2, fresh); err != nil || !already {
		t.Fatalf("replay in the new epoch: already %v, %v; want refused", already, err)
	}
}

// waitReplicasOnline waits until every master has its replica online, so
// WAIT can be answered.
func waitReplicasOnline(t *testing.T, cl *redistest.Cluster) {
	t.Helper()
	ctx := context.Background()
	if err := cl.WaitHealthy(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		masters, err := cl.Masters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		online := 0
		for _, m := range masters {
			c := redis.NewClient(&redis.Options{Addr: m})
			info, err := c.Info(ctx, "replication").Result()
			_ = c.Close()
			if err == nil && strings.Contains(info, "state=online") {
				online++
			}
		}
		if len(masters) > 0 && online == len(masters) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d masters have a replica online after 30 s", online, len(masters))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
