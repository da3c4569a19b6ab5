package api

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// bucket is a token-bucket rate limiter: rate tokens per second, at most
// burst stored. It is safe for concurrent use.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int, now time.Time) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// allow takes one token if available. When it cannot, it returns the wait
// until one is available.
func (b *bucket) allow(now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// TierLimit is the call rate allowed to one user-token tier.
type TierLimit struct {
	// PerSecond is the sustained rate; 0 means unlimited.
	PerSecond float64
	// Burst is how many calls may come at once (≥ 1 when PerSecond > 0).
	Burst int
}

// tierLimiter applies a [TierLimit] per tier name. Tiers without a limit are
// not limited. The set of tiers is fixed at construction.
type tierLimiter struct {
	buckets map[string]*bucket
	now     func() time.Time
}

func newTierLimiter(limits map[string]TierLimit, now func() time.Time) (*tierLimiter, error) {
	l := &tierLimiter{buckets: map[string]*bucket{}, now: now}
	for tier, lim := range limits {
		switch {
		case lim.PerSecond < 0:
			return nil, fmt.Errorf("api: tier %q: negative rate %v", tier, lim.PerSecond)
		case lim.PerSecond == 0:
			continue
		case lim.Burst < 1:
			return nil, fmt.Errorf("api: tier %q: burst %d, want at least 1", tier, lim.Burst)
		}
		l.buckets[tier] = newBucket(lim.PerSecond, lim.Burst, now())
	}
	return l, nil
}

// allow reports whether a call of this tier may proceed, and otherwise how
// long to wait.
func (l *tierLimiter) allow(tier string) (bool, time.Duration) {
	b, ok := l.buckets[tier]
	if !ok {
		return true, 0
	}
	return b.allow(l.now())
}

// slots bounds the number of PIR answers computed at once. Answers are CPU
// bound; running more than the CPUs can take only adds latency to all.
type slots chan struct{}

// acquire waits for a slot until ctx is done; the error then wraps
// [ErrOverloaded] (deadline) or ctx.Err() (cancellation).
func (s slots) acquire(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	default:
	}
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("api: waiting for a compute slot: %w", ErrOverloaded)
		}
		return ctx.Err()
	}
}

func (s slots) release() { <-s }
