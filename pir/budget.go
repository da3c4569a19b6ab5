package pir

import (
	"context"
	"sync"
	"sync/atomic"
)

// budget bounds the helper goroutines of all concurrent answers of a
// server: every answer always runs on its caller's goroutine and borrows
// helpers only while slots are free, so a busy server degrades to one
// goroutine per request instead of oversubscribing the cores.
type budget struct {
	slots chan struct{}
}

func newBudget(helpers int) *budget {
	return &budget{slots: make(chan struct{}, max(helpers, 0))}
}

// tryGo runs f on a helper goroutine if a slot is free and reports whether
// it did; done is called when f returns.
func (b *budget) tryGo(f func()) bool {
	select {
	case b.slots <- struct{}{}:
		go func() {
			defer func() { <-b.slots }()
			f()
		}()
		return true
	default:
		return false
	}
}

// forEach runs fn(0..n-1) on the calling goroutine plus as many helpers as
// the budget grants, and returns the first error. It stops handing out
// work after an error or when ctx is done.
func (b *budget) forEach(ctx context.Context, n int, fn func(i int) error) error {
	return forEachWith(b, ctx, n, func() struct{} { return struct{}{} }, func(struct{}) {},
		func(_ struct{}, i int) error { return fn(i) })
}

// forEachWith is forEach with per-goroutine state: every goroutine that
// takes part calls get once before its first item, passes the value to fn
// for each of its items, and hands it to put when it stops.
func forEachWith[T any](b *budget, ctx context.Context, n int, get func() T, put func(T), fn func(v T, i int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var failed atomic.Bool
	work := func() {
		var v T
		held := false
		defer func() {
			if held {
				put(v)
			}
		}()
		for !failed.Load() {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			err := ctx.Err()
			if err == nil {
				if !held {
					v, held = get(), true
				}
				err = fn(v, i)
			}
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				failed.Store(true)
				return
			}
		}
	}
	var wg sync.WaitGroup
	for h := 0; h < n-1; h++ {
		wg.Add(1)
		if !b.tryGo(func() { defer wg.Done(); work() }) {
			wg.Done()
			break
		}
	}
	work()
	wg.Wait()
	return first
}
