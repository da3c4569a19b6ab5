// Package store keeps small byte values durably for the services: spent
// Privacy Pass token nonces ([SpentSet]) and uploaded evaluation keys ([KV]).
//
// Three implementations sit behind the same interfaces: [Bolt], an embedded
// bbolt file that survives restarts of a single process (the default);
// [Redis], a shared Redis server or Redis Cluster for several replicas
// ([Redis.ReplicatedSpentSet] acknowledges a spend only once a replica
// holds it); and [Object], evaluation keys in an S3-compatible bucket for
// millions of devices (KV only). They give the same guarantees:
// [SpentSet.MarkSpent] is atomic (one bbolt write transaction, one Redis
// SET NX), entries expire after a fixed TTL, and keys and values have size
// caps checked before anything is written.
//
// Redis adds two things bbolt does not need: an unreachable server fails
// calls at once with [ErrUnavailable] (a circuit breaker, see [Redis]), and
// its spent sets are [EpochSpentSet]s, whose epoch record tells a caller
// that the server lost its data (FLUSHALL, a fresh instance, a failover to
// an empty node) before a forgotten key is taken for a new one.
//
// The package stores bytes and knows nothing of tokens or keys; it imports no
// other blindlist package. Keys may hold any bytes; callers that store
// identifiers of users should store digests of them.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors callers branch on.
var (
	// ErrNotFound means the key is absent or its entry has expired.
	ErrNotFound = errors.New("store: key not found")
	// ErrTooLarge means a key or value exceeds the store's size limit.
	ErrTooLarge = errors.New("store: key or value too large")
	// ErrUnchanged is returned by [VersionedKV.GetIfChanged] when the value
	// still has the version the caller holds.
	ErrUnchanged = errors.New("store: value unchanged")
)

// VersionedKV is a [KV] whose reads can be revalidated: a caller that
// keeps a value can ask whether it is still current for much less than
// the value costs to read again (the object store answers a conditional
// GET with 304 and no body).
type VersionedKV interface {
	KV
	// GetIfChanged returns the value under key and its version, an opaque
	// string. With version from an earlier call, it returns an error
	// wrapping [ErrUnchanged] when the value is still that one and has not
	// expired; an expired, replaced or removed value is read as by Get
	// ([ErrNotFound] when absent). An empty version reads unconditionally.
	GetIfChanged(ctx context.Context, key []byte, version string) (value []byte, newVersion string, err error)
}

// SpentSet is a set of one-time keys, such as the nonces of redeemed tokens.
type SpentSet interface {
	// MarkSpent adds key to the set and reports whether it was already there.
	// The check and the insertion are one atomic step, so of two concurrent
	// calls with the same key exactly one sees alreadySpent == false. The entry
	// is kept at least for the set's TTL.
	MarkSpent(ctx context.Context, key []byte) (alreadySpent bool, err error)
}

// KV is a key/value store with an expiry and size limits.
type KV interface {
	// Get returns the value stored under key, or an error wrapping
	// [ErrNotFound] when it is absent or expired.
	Get(ctx context.Context, key []byte) ([]byte, error)
	// Put stores value under key, replacing any previous value and restarting
	// its TTL. It returns an error wrapping [ErrTooLarge] when key or value
	// exceeds the limits, and then writes nothing.
	Put(ctx context.Context, key, value []byte) error
	// Delete removes key. Deleting an absent key is not an error.
	Delete(ctx context.Context, key []byte) error
}

// Limits configures a [KV]. Every field must be set explicitly: a store
// never picks a size for the caller.
type Limits struct {
	// TTL is how long an entry lives after its last Put. Zero means entries
	// never expire.
	TTL time.Duration
	// MaxKeyBytes is the largest key accepted. Must be positive.
	MaxKeyBytes int
	// MaxValueBytes is the largest value accepted. Must be positive.
	MaxValueBytes int
}

func (l Limits) check() error {
	switch {
	case l.TTL < 0:
		return fmt.Errorf("store: negative TTL %v", l.TTL)
	case l.MaxKeyBytes <= 0:
		return fmt.Errorf("store: MaxKeyBytes is %d, want a positive limit", l.MaxKeyBytes)
	case l.MaxValueBytes <= 0:
		return fmt.Errorf("store: MaxValueBytes is %d, want a positive limit", l.MaxValueBytes)
	}
	return nil
}

func (l Limits) checkKey(key []byte) error {
	if len(key) == 0 {
		return errors.New("store: empty key")
	}
	if len(key) > l.MaxKeyBytes {
		return fmt.Errorf("store: key of %d bytes, limit %d: %w", len(key), l.MaxKeyBytes, ErrTooLarge)
	}
	return nil
}

// maxSpentKeyBytes caps the keys of a [SpentSet]: token nonces and their
// key ids are 64 bytes; anything much longer is a caller bug.
const maxSpentKeyBytes = 256

func checkSpentKey(key []byte) error {
	return Limits{MaxKeyBytes: maxSpentKeyBytes}.checkKey(key)
}

// checkName rejects namespace names that could collide after joining.
func checkName(name string) error {
	if name == "" {
		return errors.New("store: empty namespace name")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("store: namespace name %q: use a-z, 0-9, '-', '_', '.'", name)
		}
	}
	return nil
}
