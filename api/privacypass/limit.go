package privacypass

import (
	"fmt"
	"sync"
	"time"
)

// IssueLimit bounds the tokens issued to one user token of a tier: a token
// bucket of PerSecond tokens per second holding at most Burst. Apple's
// maintainers point at issuance as the place to count a user's requests
// (pir-service-example issue #89): the bearer user token identifies the
// user there, while the PIR calls that spend the tokens are unlinkable.
// Each PIR call spends one token, so the limit bounds one user's calls, and
// one user exhausting it affects no other user of the tier.
type IssueLimit struct {
	// PerSecond is the sustained rate; 0 means unlimited.
	PerSecond float64
	// Burst is how many tokens may be issued at once (a device fetches a
	// batch); at least 1 when PerSecond > 0.
	Burst int
}

// issueLimiter keeps one bucket per user token (by digest), created on the
// user's first issuance. Only allow-listed user tokens reach it, so it holds
// at most one bucket per listed user; [Service.SetUserTokens] drops the
// buckets of users no longer listed.
type issueLimiter struct {
	limits map[string]IssueLimit // by tier; tiers not listed are unlimited

	mu      sync.Mutex
	buckets map[[32]byte]*bucket
}

func newIssueLimiter(limits map[string]IssueLimit) (*issueLimiter, error) {
	l := &issueLimiter{limits: map[string]IssueLimit{}, buckets: map[[32]byte]*bucket{}}
	for tier, lim := range limits {
		switch {
		case lim.PerSecond < 0:
			return nil, fmt.Errorf("privacypass: tier %q: negative issuance rate %v", tier, lim.PerSecond)
		case lim.PerSecond == 0:
			continue
		case lim.Burst < 1:
			return nil, fmt.Errorf("privacypass: tier %q: burst %d, want at least 1", tier, lim.Burst)
		}
		l.limits[tier] = lim
	}
	return l, nil
}

// allow takes one token from user's bucket at now; when it is empty it
// returns the wait until one is available.
func (l *issueLimiter) allow(user [32]byte, tier string, now time.Time) (bool, time.Duration) {
	lim, ok := l.limits[tier]
	if !ok {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[user]
	if b == nil || b.rate != lim.PerSecond || b.burst != float64(lim.Burst) {
		b = &bucket{rate: lim.PerSecond, burst: float64(lim.Burst), tokens: float64(lim.Burst), last: now}
		l.buckets[user] = b
	}
	return b.take(now)
}

// retain drops the buckets of users not in users.
func (l *issueLimiter) retain(users map[[32]byte]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for u := range l.buckets {
		if _, ok := users[u]; !ok {
			delete(l.buckets, u)
		}
	}
}

// bucket is a token bucket: rate tokens per second, at most burst stored.
// Callers hold the limiter's lock.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func (b *bucket) take(now time.Time) (bool, time.Duration) {
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
