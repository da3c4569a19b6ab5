package pir

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

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
	key, err := v.server.ParseEvaluationKey(v.keys.GetKeys()[0].GetEvaluationKey())
	if err != nil {
		t.Fatal(err)
	}
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
