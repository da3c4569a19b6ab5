package pir

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
)

func TestBudgetForEach(t *testing.T) {
	b := newBudget(3)
	for _, n := range []int{0, 1, 2, 7, 100} {
		var hits []atomic.Int32
		hits = make([]atomic.Int32, n)
		if err := b.forEach(context.Background(), n, func(i int) error { hits[i].Add(1); return nil }); err != nil {
			t.Fatal(err)
		}
		for i := range hits {
			if hits[i].Load() != 1 {
				t.Fatalf("n=%d: item %d ran %d times", n, i, hits[i].Load())
			}
		}
	}
	boom := errors.New("boom")
	if err := b.forEach(context.Background(), 50, func(i int) error {
		if i == 7 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Errorf("err %v, want boom", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.forEach(ctx, 5, func(int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err %v", err)
	}
	// With no helper slots everything runs on the caller.
	if err := newBudget(0).forEach(context.Background(), 10, func(int) error { return nil }); err != nil {
		t.Error(err)
	}
}

// TestConcurrentAnswers runs several answers at once on one server (sharing
// its helper budget) and checks each is Apple's response.
func TestConcurrentAnswers(t *testing.T) {
	v := loadVectorSet(t, "E")
	key := v.firstKey(t)
	var wg sync.WaitGroup
	reqs := v.requests.GetRequests()
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := v.server.Answer(context.Background(), r.GetPirRequest(), key)
			if err == nil && !proto.Equal(resp, v.want.GetResponses()[i].GetPirResponse()) {
				err = errors.New("response differs from Apple's")
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
}

// TestManyConcurrentAnswers runs 16 answers at once on 2 cores, on a
// narrow (uint32) shard (set A) and a wide one (set B, 33-bit moduli),
// sharing each server's helper budget: every answer must finish, within a
// deadline (no deadlock), and equal Apple's; the answers share the
// server's pooled ciphertexts and accumulators (spare.go). Run it with
// -race.
func TestManyConcurrentAnswers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const answers = 16
	for _, set := range []string{"A", "B"} {
		t.Run(set, func(t *testing.T) {
			v := loadVectorSet(t, set)
			key := v.firstKey(t)
			reqs := v.requests.GetRequests()
			errs := make(chan error, answers)
			for i := range answers {
				go func() {
					r := i % len(reqs)
					resp, err := v.server.Answer(context.Background(), reqs[r].GetPirRequest(), key)
					if err == nil && !proto.Equal(resp, v.want.GetResponses()[r].GetPirResponse()) {
						err = errors.New("response differs from Apple's")
					}
					errs <- err
				}()
			}
			deadline := time.After(2 * time.Minute)
			for range answers {
				select {
				case err := <-errs:
					if err != nil {
						t.Error(err)
					}
				case <-deadline:
					t.Fatal("concurrent answers did not finish in 2 minutes")
				}
			}
		})
	}
}

// TestForEachWithState checks that each goroutine of forEachWith takes its
// state once and hands it back: gets equal puts, at most one per goroutine
// (caller + 3 helpers), and every item sees a value that was taken.
func TestForEachWithState(t *testing.T) {
	b := newBudget(3)
	var gets, puts atomic.Int32
	var mu sync.Mutex
	taken := map[int32]bool{}
	get := func() int32 {
		v := gets.Add(1)
		mu.Lock()
		taken[v] = true
		mu.Unlock()
		return v
	}
	err := forEachWith(b, context.Background(), 200, get, func(int32) { puts.Add(1) }, func(v int32, i int) error {
		mu.Lock()
		defer mu.Unlock()
		if !taken[v] {
			t.Errorf("item %d got state %d that was never taken", i, v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if g, p := gets.Load(), puts.Load(); g != p || g < 1 || g > 4 {
		t.Errorf("%d gets, %d puts; want equal and 1..4", g, p)
	}
	// No items, no state.
	if err := forEachWith(b, context.Background(), 0, get, func(int32) { puts.Add(1) }, func(int32, int) error { return nil }); err != nil || gets.Load() != puts.Load() {
		t.Errorf("n=0: err %v, gets %d puts %d", err, gets.Load(), puts.Load())
	}
}
