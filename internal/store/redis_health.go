package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable means the store cannot be reached (connection refused,
// reset or timed out). Nothing was decided: callers must fail closed (the
// service answers 503 with Retry-After) and try again later.
var ErrUnavailable = errors.New("store: unavailable")

// redisProbeInterval is how often a [Redis] that lost its server pings it
// to find out that it is back.
const redisProbeInterval = 100 * time.Millisecond

// redisHealth is the circuit breaker of one [Redis]: the first operation
// that fails for want of a server opens it; while open, operations fail at
// once with [ErrUnavailable] instead of each waiting for the client's dial
// and read timeouts; one goroutine pings the server every
// redisProbeInterval and closes the breaker when it answers.
type redisHealth struct {
	c redis.UniversalClient

	mu      sync.Mutex
	down    bool
	probing bool
	cause   error
}

// do runs op unless the breaker is open; a connection failure opens it.
// The error returned wraps [ErrUnavailable] in both cases.
func (h *redisHealth) do(ctx context.Context, what string, op func(context.Context) error) error {
	if err := h.check(); err != nil {
		return fmt.Errorf("store: redis %s: %w", what, err)
	}
	err := op(ctx)
	switch {
	case err == nil:
		return nil
	case isBusyReply(err):
		return fmt.Errorf("store: redis %s: %w: %w", what, ErrUnavailable, err)
	case !isConnError(ctx, err):
		return fmt.Errorf("store: redis %s: %w", what, err)
	}
	h.trip(err)
	return fmt.Errorf("store: redis %s: %w: %w", what, ErrUnavailable, err)
}

// isBusyReply tells the error replies of a server that is up but cannot
// serve yet (loading its append-only file, a replica without its primary,
// a cluster mid-failover): unavailable, but no reason to stop sending.
func isBusyReply(err error) bool {
	for _, p := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY"} {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}

// check returns an error wrapping [ErrUnavailable] while the breaker is
// open.
func (h *redisHealth) check() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		return fmt.Errorf("%w: %v", ErrUnavailable, h.cause)
	}
	return nil
}

// trip opens the breaker and starts the probe unless it runs.
func (h *redisHealth) trip(cause error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.down, h.cause = true, cause
	if h.probing {
		return
	}
	h.probing = true
	go h.probe()
}

// probe pings until the server answers (closing the breaker) or the client
// is closed.
func (h *redisHealth) probe() {
	t := time.NewTicker(redisProbeInterval)
	defer t.Stop()
	for range t.C {
		ctx, cancel := context.WithTimeout(context.Background(), redisProbeInterval)
		err := h.c.Ping(ctx).Err()
		cancel()
		if err != nil && !errors.Is(err, redis.ErrClosed) {
			continue
		}
		h.mu.Lock()
		h.probing = false
		if err == nil {
			h.down, h.cause = false, nil
		}
		h.mu.Unlock()
		return
	}
}

// isConnError tells failures to reach the server from answers of the
// server (redis.Nil, error replies such as a script's) and from the
// caller's own cancellation or deadline, which say nothing about the
// server.
func isConnError(ctx context.Context, err error) bool {
	var re redis.Error
	switch {
	case err == nil, errors.Is(err, redis.Nil), errors.As(err, &re):
		return false
	case ctx.Err() != nil:
		return false
	}
	return true
}
