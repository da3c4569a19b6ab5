package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/internal/store/redistest"
)

// TestReplicatedSpentSetFailsClosedWithoutReplica: a Redis with no replica
// can never confirm a spend, so every spend fails with ErrNotReplicated
// and is withdrawn: the same token fails the same way again instead of
// reading as already spent (a failed call burns no token).
func TestReplicatedSpentSetFailsClosedWithoutReplica(t *testing.T) {
	srv := redistest.Start(t)
	r := store.NewRedis(srv.Client(t), "t:")
	s, err := r.ReplicatedSpentSet("tokens", time.Hour, 1, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 2 {
		spent, err := s.MarkSpent(ctx, []byte("nonce"))
		if !errors.Is(err, store.ErrNotReplicated) || spent {
			t.Fatalf("attempt %d: spent=%v err=%v, want ErrNotReplicated", i, spent, err)
		}
	}
	if n, err := srv.Client(t).Exists(ctx, "t:spent:tokens:nonce").Result(); err != nil || n != 0 {
		t.Fatalf("withdrawn spend still stored: exists=%d err=%v", n, err)
	}
	// The epoch-checked spend fails the same way, and a stale epoch is
	// refused before anything is written.
	e, err := s.Epoch(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if spent, err := s.MarkSpentInEpoch(ctx, e, []byte("nonce")); !errors.Is(err, store.ErrNotReplicated) || spent {
		t.Fatalf("MarkSpentInEpoch: spent=%v err=%v, want ErrNotReplicated", spent, err)
	}
	if _, err := s.MarkSpentInEpoch(ctx, store.Epoch{ID: "0-stale"}, []byte("nonce")); !errors.Is(err, store.ErrEpochChanged) {
		t.Fatalf("MarkSpentInEpoch with a stale epoch: %v, want ErrEpochChanged", err)
	}
	if n, err := srv.Client(t).Exists(ctx, "t:spent:tokens:nonce").Result(); err != nil || n != 0 {
		t.Fatalf("epoch spends left a key: exists=%d err=%v", n, err)
	}
	if _, err := r.ReplicatedSpentSet("tokens", time.Hour, 0, time.Second); err == nil {
		t.Error("replicas=0 accepted")
	}
}

// TestReplicatedSpentSetClusterFailover runs spends on a real Redis
// Cluster (3 masters, 3 replicas) and kills a master mid-load. Workers play
// devices: each lookup spends a fresh token, and on an error retries with
// another fresh token until the cluster has failed over. Afterwards every
// acknowledged token must read as spent (none accepted twice, whatever
// master it lived on), and every lookup must have completed.
func TestReplicatedSpentSetClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 6-node Redis Cluster and waits for a failover")
	}
	cl := redistest.StartCluster(t, 3, 1)
	ctx := context.Background()
	cc := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: cl.Addrs, DialTimeout: 500 * time.Millisecond,
		ReadTimeout: 3 * time.Second, WriteTimeout: time.Second, MaxRedirects: 8,
	})
	t.Cleanup(func() { _ = cc.Close() })
	spent, err := store.NewRedis(cc, "t:").ReplicatedSpentSet("tokens", time.Hour, 1, time.Second)
	if err != nil {
		t.Fatal(err)
	}

	const workers, lookups = 8, 60
	var (
		mu        sync.Mutex
		acked     [][]byte
		failures  atomic.Int64
		completed atomic.Int64
		next      atomic.Int64
		killed    = make(chan struct{})
	)
	fresh := func() []byte { return fmt.Appendf(nil, "token-%08d", next.Add(1)) }
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for i := range lookups {
				if w == 0 && i == lookups/3 {
					masters, err := cl.Masters(ctx)
					if err != nil || len(masters) == 0 {
						t.Errorf("masters: %v %v", masters, err)
						return
					}
					cl.Kill(masters[0])
					t.Logf("killed %s at %v", masters[0], time.Since(start))
					close(killed)
				}
				deadline := time.Now().Add(30 * time.Second)
				for {
					tok := fresh()
					already, err := spent.MarkSpent(ctx, tok)
					if err == nil && !already {
						mu.Lock()
						acked = append(acked, tok)
						mu.Unlock()
						completed.Add(1)
						break
					}
					if already {
						t.Errorf("fresh token %s read as already spent", tok)
						return
					}
					failures.Add(1)
					if time.Now().After(deadline) {
						t.Errorf("lookup lost: no spend accepted for 30s after %v", err)
						return
					}
					time.Sleep(100 * time.Millisecond) // the device's retry delay
				}
			}
		})
	}
	wg.Wait()
	t.Logf("load done after %v", time.Since(start))
	select {
	case <-killed:
	default:
		t.Fatal("the master was never killed")
	}
	if got := completed.Load(); got != workers*lookups {
		t.Fatalf("%d of %d lookups completed", got, workers*lookups)
	}
	if err := cl.WaitHealthy(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	// No token accepted twice: every acknowledged spend is still there on
	// whichever master now holds its slot.
	for _, tok := range acked {
		var already bool
		var err error
		for range 50 {
			if already, err = spent.MarkSpent(ctx, tok); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil || !already {
			t.Fatalf("acknowledged token %s: spent again=%v err=%v (accepted twice)", tok, !already, err)
		}
	}
	t.Logf("checked after %v", time.Since(start))
	t.Logf("%d spends acknowledged, %d failed attempts retried during the failover", len(acked), failures.Load())
}

// TestReplicatedSpentSetWithReplica: a master with one real replica
// confirms spends, plain and epoch-checked; a replay reads as spent.
func TestReplicatedSpentSetWithReplica(t *testing.T) {
	master := redistest.Start(t)
	port, err := freeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	host, mport, _ := net.SplitHostPort(master.Addr)
	replica := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", t.TempDir(), "--replicaof", host, mport)
	if err := replica.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = replica.Process.Kill(); _ = replica.Wait() })
	c := master.Client(t)
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, _ := c.Info(ctx, "replication").Result()
		if strings.Contains(info, "connected_slaves:1") && strings.Contains(info, "state=online") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica never came online: %s", info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s, err := store.NewRedis(c, "t:").ReplicatedSpentSet("tokens", time.Hour, 1, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if spent, err := s.MarkSpent(ctx, []byte("a")); err != nil || spent {
		t.Fatalf("first spend: %v %v", spent, err)
	}
	if spent, err := s.MarkSpent(ctx, []byte("a")); err != nil || !spent {
		t.Fatalf("replay: %v %v, want already spent", spent, err)
	}
	e, err := s.Epoch(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if spent, err := s.MarkSpentInEpoch(ctx, e, []byte("b")); err != nil || spent {
		t.Fatalf("first epoch spend: %v %v", spent, err)
	}
	if spent, err := s.MarkSpentInEpoch(ctx, e, []byte("b")); err != nil || !spent {
		t.Fatalf("epoch replay: %v %v, want already spent", spent, err)
	}
}

func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
