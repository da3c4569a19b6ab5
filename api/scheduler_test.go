package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// granted reports whether w holds a slot.
func granted(w *waiter) bool {
	select {
	case <-w.granted:
		return true
	default:
		return false
	}
}

// TestSchedulerRoundRobin checks the order in which freed slots go to
// waiting units, without goroutines or clocks: with one slot held, call A
// queues 3 units, B 3, C (a single lookup) 1; each release then grants the
// next call in turn: A, B, C, A, B, A, B. The old FIFO semaphore served
// all of A and B before C.
func TestSchedulerRoundRobin(t *testing.T) {
	s := newScheduler(1, 100)
	holder, _ := s.admit(1)
	if w := holder.enter(); w != nil {
		t.Fatal("first unit waited with a free slot")
	}
	type unit struct {
		name string
		q    *callQueue
		w    *waiter
	}
	var waiting []unit
	for _, c := range []struct {
		name string
		n    int
	}{{"A", 3}, {"B", 3}, {"C", 1}} {
		q, err := s.admit(c.n)
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.n {
			w := q.enter()
			if w == nil {
				t.Fatalf("%s%d got a slot while the only one is held", c.name, i)
			}
			waiting = append(waiting, unit{fmt.Sprintf("%s%d", c.name, i), q, w})
		}
	}
	var order []string
	running := holder
	for range len(waiting) {
		running.release()
		var now []unit
		for _, u := range waiting {
			if granted(u.w) && !slices.Contains(order, u.name) {
				now = append(now, u)
			}
		}
		if len(now) != 1 {
			t.Fatalf("one release granted %d units", len(now))
		}
		order = append(order, now[0].name)
		running = now[0].q
	}
	want := []string{"A0", "B0", "C0", "A1", "B1", "A2", "B2"}
	if !slices.Equal(order, want) {
		t.Errorf("grant order %v, want %v", order, want)
	}
	running.release()
	if s.busy != 0 || s.pending != 0 || len(s.ring) != 0 {
		t.Errorf("after all units: busy %d, pending %d, %d calls queued; want all zero", s.busy, s.pending, len(s.ring))
	}
}

// TestSchedulerBound: a call is admitted whole or refused with
// ErrOverloaded while its units would not fit; finished and abandoned
// units free their room.
func TestSchedulerBound(t *testing.T) {
	s := newScheduler(2, 10)
	a, err := s.admit(8)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.admit(3); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("3 units over a bound of 10 with 8 pending: %v, want ErrOverloaded", err)
	}
	b, err := s.admit(2)
	if err != nil {
		t.Fatalf("2 units that fit: %v", err)
	}
	// a runs 2 units and gives up the 6 others (its call failed).
	for range 2 {
		if err := a.acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	a.release()
	a.release()
	a.finish()
	b.finish()
	if s.pending != 0 || s.busy != 0 {
		t.Fatalf("pending %d, busy %d after both calls ended", s.pending, s.busy)
	}
	if _, err := s.admit(10); err != nil {
		t.Errorf("a full-size call after the others ended: %v", err)
	}
}

// TestSchedulerCancel: a waiting unit whose context ends leaves the queue
// (the deadline is ErrOverloaded, a cancellation is context.Canceled), and
// the slot then goes to the next waiter.
func TestSchedulerCancel(t *testing.T) {
	s := newScheduler(1, 10)
	holder, _ := s.admit(1)
	if err := holder.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	q, _ := s.admit(2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled wait: %v", err)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 0)
	defer dcancel()
	if err := q.acquire(dctx); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("wait past the deadline: %v, want ErrOverloaded", err)
	}
	if len(s.ring) != 0 {
		t.Fatalf("%d calls still queued after their units left", len(s.ring))
	}
	q.finish()
	other, _ := s.admit(1)
	w := other.enter()
	holder.release()
	if w == nil || !granted(w) {
		t.Fatal("the slot did not go to the next waiter")
	}
	other.release()
	if s.busy != 0 || s.pending != 0 {
		t.Errorf("busy %d, pending %d at the end", s.busy, s.pending)
	}
}

// TestQueriesQueueFull: with the queue full (its room held by another
// call's admitted units), /queries answers 503 with Retry-After at once,
// before any answer is computed; once that call ends the same request is
// answered.
func TestQueriesQueueFull(t *testing.T) {
	e := newEnv(t, envOptions{cfg: Config{Limits: LimitsConfig{MaxConcurrentAnswers: 1, MaxRequestsPerCall: 8, MaxQueuedAnswers: 8}}})
	if code, _, body := e.post("/key", testvec.Read(t, "pir", "A", "evaluation_keys.binpb"), nil); code != http.StatusOK {
		t.Fatalf("/key: %d %s", code, body)
	}
	var reqs apipb.Requests
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "requests.binpb"), &reqs); err != nil {
		t.Fatal(err)
	}
	reqs.Requests = reqs.Requests[:1]
	body, err := proto.Marshal(&reqs)
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.s.sched.admit(8) // another call holds the whole queue
	if err != nil {
		t.Fatal(err)
	}
	code, hdr, resp := e.post("/queries", body, nil)
	if ra, err := strconv.Atoi(hdr.Get("Retry-After")); code != http.StatusServiceUnavailable || err != nil || ra < 1 {
		t.Fatalf("/queries with the queue full: %d %s, Retry-After %q; want 503 with Retry-After", code, resp, hdr.Get("Retry-After"))
	}
	other.finish()
	if code, _, resp := e.post("/queries", body, nil); code != http.StatusOK {
		t.Fatalf("/queries after the queue emptied: %d %s", code, resp)
	}
}
