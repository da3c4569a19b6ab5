package api

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// scheduler hands out the compute slots (PIR answers computed at once)
// fairly across calls: each /queries call has its own queue of work units
// (one per request), and a freed slot goes to the next call in round-robin
// order, not to the oldest waiting unit. A device's single lookup thus waits
// for at most one unit of each call ahead of it, not for whole batches of
// 64 other requests.
//
// The queue is bounded: a call is admitted with all its units at once, or
// refused with [ErrOverloaded] (503 with Retry-After) when the units
// admitted and not yet finished would exceed maxPending, so a refused call
// costs no work and an admitted one is never cut off halfway.
type scheduler struct {
	slots      int // compute slots
	maxPending int // units admitted (waiting or running) at most

	mu      sync.Mutex
	busy    int          // slots held
	pending int          // units admitted, not yet done
	ring    []*callQueue // calls with waiting units, in round-robin order
	next    int          // index in ring of the call served next
}

// callQueue is one call's waiting units, in arrival order.
type callQueue struct {
	s       *scheduler
	units   int // admitted units not yet done
	waiting []*waiter
}

// waiter is one unit waiting for a slot; granted is closed when it has one.
type waiter struct {
	granted chan struct{}
	done    bool // granted, under s.mu
}

func newScheduler(slots, maxPending int) *scheduler {
	return &scheduler{slots: slots, maxPending: maxPending}
}

// admit reserves n units for one call, or returns an error wrapping
// [ErrOverloaded] when the queue has no room for them.
func (s *scheduler) admit(n int) (*callQueue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending+n > s.maxPending {
		return nil, fmt.Errorf("api: %d answers queued, no room for %d more: %w", s.pending, n, ErrOverloaded)
	}
	s.pending += n
	return &callQueue{s: s, units: n}, nil
}

// finish gives back the call's units that never ran (the call failed
// early). Call it once, when the call is over.
func (q *callQueue) finish() {
	q.s.mu.Lock()
	defer q.s.mu.Unlock()
	q.s.pending -= q.units
	q.units = 0
}

// enter asks for a slot for one unit of q: nil when it got one at once,
// else the waiter to wait on.
func (q *callQueue) enter() *waiter {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy < s.slots && len(s.ring) == 0 {
		s.busy++
		return nil
	}
	w := &waiter{granted: make(chan struct{})}
	if len(q.waiting) == 0 {
		s.ring = append(s.ring, q)
	}
	q.waiting = append(q.waiting, w)
	return w
}

// acquire waits for a slot for one unit of q until ctx is done; the error
// then wraps [ErrOverloaded] (deadline) or is ctx.Err() (cancellation).
func (q *callQueue) acquire(ctx context.Context) error {
	w := q.enter()
	if w == nil {
		return nil
	}
	select {
	case <-w.granted:
		return nil
	case <-ctx.Done():
	}
	if !q.leave(w) {
		q.release() // granted meanwhile: pass the slot on
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("api: waiting for a compute slot: %w", ErrOverloaded)
	}
	return ctx.Err()
}

// leave removes a waiting unit; false when it was granted a slot already.
func (q *callQueue) leave(w *waiter) bool {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.done {
		return false
	}
	i := indexOf(q.waiting, w)
	q.waiting = append(q.waiting[:i], q.waiting[i+1:]...)
	if len(q.waiting) == 0 {
		s.dropFromRing(q)
	}
	return true
}

// release ends one unit of q that held a slot and hands the slot to the
// next call in the ring.
func (q *callQueue) release() {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	q.units--
	s.pending--
	if len(s.ring) == 0 {
		s.busy--
		return
	}
	if s.next >= len(s.ring) {
		s.next = 0
	}
	c := s.ring[s.next]
	w := c.waiting[0]
	c.waiting = c.waiting[1:]
	if len(c.waiting) == 0 {
		s.dropFromRing(c) // the next call moves into index s.next
	} else {
		s.next++
	}
	w.done = true
	close(w.granted)
}

// dropFromRing removes q from the ring, keeping the round-robin position.
// Callers hold s.mu.
func (s *scheduler) dropFromRing(q *callQueue) {
	i := indexOf(s.ring, q)
	s.ring = append(s.ring[:i], s.ring[i+1:]...)
	if i < s.next {
		s.next--
	}
}

func indexOf[T comparable](xs []T, x T) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	panic("api: scheduler: queue entry missing")
}
