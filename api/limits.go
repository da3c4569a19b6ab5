package api

import (
	"context"
	"errors"
	"fmt"
)

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
