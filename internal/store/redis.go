package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the shared store: every namespace lives under a key prefix in one
// Redis database, so several replicas see the same spent tokens and keys.
// Expiry is Redis's own (SET with PX), so no sweeping is needed. Durability
// across a Redis restart is the Redis server's configuration (AOF or RDB).
type Redis struct {
	c      redis.UniversalClient
	prefix string
}

// NewRedis returns a store on the client c whose keys all start with prefix
// (for example "blindlist:"), so one Redis can serve several deployments.
func NewRedis(c redis.UniversalClient, prefix string) *Redis {
	return &Redis{c: c, prefix: prefix}
}

// Ping checks that the server answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("store: redis ping: %w", err)
	}
	return nil
}

// SpentSet returns the spent-key set named name, whose entries live for ttl
// (zero: forever).
func (r *Redis) SpentSet(name string, ttl time.Duration) (*RedisSpentSet, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if ttl < 0 {
		return nil, fmt.Errorf("store: negative TTL %v", ttl)
	}
	return &RedisSpentSet{c: r.c, prefix: r.prefix + "spent:" + name + ":", ttl: ttl}, nil
}

// KV returns the key/value namespace named name with the given limits.
func (r *Redis) KV(name string, l Limits) (*RedisKV, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	return &RedisKV{c: r.c, prefix: r.prefix + "kv:" + name + ":", limits: l}, nil
}

// RedisSpentSet is a [SpentSet] in Redis.
type RedisSpentSet struct {
	c      redis.UniversalClient
	prefix string
	ttl    time.Duration
}

// MarkSpent implements [SpentSet] with one SET NX (plus PX when the set has
// a TTL), which Redis executes atomically.
func (s *RedisSpentSet) MarkSpent(ctx context.Context, key []byte) (bool, error) {
	if err := checkSpentKey(key); err != nil {
		return false, err
	}
	set, err := s.c.SetNX(ctx, s.prefix+string(key), "1", s.ttl).Result()
	if err != nil {
		return false, fmt.Errorf("store: redis mark spent: %w", err)
	}
	return !set, nil
}

// RedisKV is a [KV] in Redis.
type RedisKV struct {
	c      redis.UniversalClient
	prefix string
	limits Limits
}

// Get implements [KV].
func (s *RedisKV) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := s.limits.checkKey(key); err != nil {
		return nil, err
	}
	v, err := s.c.Get(ctx, s.prefix+string(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("store: redis get: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: redis get: %w", err)
	}
	return v, nil
}

// Put implements [KV].
func (s *RedisKV) Put(ctx context.Context, key, value []byte) error {
	if err := s.limits.checkKey(key); err != nil {
		return err
	}
	if len(value) > s.limits.MaxValueBytes {
		return fmt.Errorf("store: value of %d bytes, limit %d: %w", len(value), s.limits.MaxValueBytes, ErrTooLarge)
	}
	if err := s.c.Set(ctx, s.prefix+string(key), value, s.limits.TTL).Err(); err != nil {
		return fmt.Errorf("store: redis put: %w", err)
	}
	return nil
}

// Delete implements [KV].
func (s *RedisKV) Delete(ctx context.Context, key []byte) error {
	if err := s.limits.checkKey(key); err != nil {
		return err
	}
	if err := s.c.Del(ctx, s.prefix+string(key)).Err(); err != nil {
		return fmt.Errorf("store: redis delete: %w", err)
	}
	return nil
}

// Interface checks.
var (
	_ SpentSet = (*BoltSpentSet)(nil)
	_ SpentSet = (*RedisSpentSet)(nil)
	_ KV       = (*BoltKV)(nil)
	_ KV       = (*RedisKV)(nil)
)
