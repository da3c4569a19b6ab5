package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the shared store: every namespace lives under a key prefix in one
// Redis database, so several replicas see the same spent tokens and keys.
// Expiry is Redis's own (SET with PX), so no sweeping is needed. Durability
// across a Redis restart is the Redis server's configuration (AOF or RDB).
//
// When the server cannot be reached, operations fail with errors wrapping
// [ErrUnavailable], and after the first such failure they fail at once
// (a circuit breaker shared by every namespace of the store) until a
// background ping finds the server back; [Redis.Check] reports the state
// for readiness probes. Give the client short dial and read timeouts and
// no retries ([RedisClientOptions]): a retried SET NX whose first reply was
// lost would report a token as spent by itself.
type Redis struct {
	c      redis.UniversalClient
	prefix string
	health *redisHealth
}

// NewRedis returns a store on the client c whose keys all start with prefix
// (for example "blindlist:"), so one Redis can serve several deployments.
func NewRedis(c redis.UniversalClient, prefix string) *Redis {
	return &Redis{c: c, prefix: prefix, health: &redisHealth{c: c}}
}

// RedisTimeout bounds one Redis operation's dial, write and read on the
// clients `blindlist serve` builds.
const RedisTimeout = 500 * time.Millisecond

// RedisClientOptions returns the client options the store expects for one
// server at addr: timeouts of [RedisTimeout] and no retries.
func RedisClientOptions(addr, password string) *redis.Options {
	return &redis.Options{
		Addr:         addr,
		Password:     password,
		DialTimeout:  RedisTimeout,
		ReadTimeout:  RedisTimeout,
		WriteTimeout: RedisTimeout,
		PoolTimeout:  RedisTimeout,
		MaxRetries:   -1,
	}
}

// RedisClusterOptions are [RedisClientOptions] for a Redis Cluster seeded
// with addrs: the same short timeouts, no retries, and enough redirects to
// follow a failover's slot moves.
func RedisClusterOptions(addrs []string, password string) *redis.ClusterOptions {
	return &redis.ClusterOptions{
		Addrs:        addrs,
		Password:     password,
		DialTimeout:  RedisTimeout,
		ReadTimeout:  RedisTimeout,
		WriteTimeout: RedisTimeout,
		PoolTimeout:  RedisTimeout,
		MaxRetries:   -1,
		MaxRedirects: 8,
	}
}

// Ping checks that the server answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("store: redis ping: %w", err)
	}
	return nil
}

// Check is the readiness check: an error wrapping [ErrUnavailable] while
// the server is known to be unreachable, else the result of a PING (whose
// failure opens the breaker).
func (r *Redis) Check(ctx context.Context) error {
	return r.health.do(ctx, "ping", func(ctx context.Context) error { return r.c.Ping(ctx).Err() })
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
	return &RedisSpentSet{c: r.c, health: r.health, prefix: r.prefix + "spent:" + name + ":", ttl: ttl}, nil
}

// KV returns the key/value namespace named name with the given limits.
func (r *Redis) KV(name string, l Limits) (*RedisKV, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	return &RedisKV{c: r.c, health: r.health, prefix: r.prefix + "kv:" + name + ":", limits: l}, nil
}

// RedisSpentSet is an [EpochSpentSet] in Redis: the epoch record is the
// key "<prefix>spent:<name>#epoch", without expiry, and
// [RedisSpentSet.MarkSpentInEpoch] is one Lua script (GET the record,
// compare, SET NX PX), which Redis runs atomically. Both keys must live on
// one server: on Redis Cluster they would need one hash slot.
type RedisSpentSet struct {
	c      redis.UniversalClient
	health *redisHealth
	prefix string
	ttl    time.Duration
}

// MarkSpent implements [SpentSet] with one SET NX (plus PX when the set has
// a TTL), which Redis executes atomically.
func (s *RedisSpentSet) MarkSpent(ctx context.Context, key []byte) (bool, error) {
	if err := checkSpentKey(key); err != nil {
		return false, err
	}
	var set bool
	err := s.health.do(ctx, "mark spent", func(ctx context.Context) (err error) {
		set, err = s.c.SetNX(ctx, s.prefix+string(key), "1", s.ttl).Result()
		return err
	})
	if err != nil {
		return false, err
	}
	return !set, nil
}

func (s *RedisSpentSet) epochKey() string { return strings.TrimSuffix(s.prefix, ":") + "#epoch" }

// Epoch implements [EpochSpentSet] with SET NX then GET.
func (s *RedisSpentSet) Epoch(ctx context.Context, since time.Time) (Epoch, error) {
	id, err := newEpochID(since)
	if err != nil {
		return Epoch{}, err
	}
	var got string
	err = s.health.do(ctx, "epoch", func(ctx context.Context) error {
		if err := s.c.SetNX(ctx, s.epochKey(), id, 0).Err(); err != nil {
			return err
		}
		got, err = s.c.Get(ctx, s.epochKey()).Result()
		return err
	})
	if err != nil {
		return Epoch{}, err
	}
	return parseEpoch(got)
}

// markSpentInEpoch: KEYS[1] the epoch record, KEYS[2] the spent key;
// ARGV[1] the caller's epoch, ARGV[2] the TTL in ms (0: none). Returns -1
// when the epoch differs, else 1 when the key was already there, 0 when
// it was added.
var markSpentInEpoch = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local ok
if ARGV[2] == '0' then
  ok = redis.call('SET', KEYS[2], '1', 'NX')
else
  ok = redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2])
end
if ok then return 0 end
return 1
`)

// MarkSpentInEpoch implements [EpochSpentSet].
func (s *RedisSpentSet) MarkSpentInEpoch(ctx context.Context, e Epoch, key []byte) (bool, error) {
	if err := checkSpentKey(key); err != nil {
		return false, err
	}
	var n int64
	err := s.health.do(ctx, "mark spent", func(ctx context.Context) (err error) {
		n, err = markSpentInEpoch.Run(ctx, s.c, []string{s.epochKey(), s.prefix + string(key)},
			e.ID, strconv.FormatInt(ttlMillis(s.ttl), 10)).Int64()
		return err
	})
	switch {
	case err != nil:
		return false, err
	case n < 0:
		return false, fmt.Errorf("store: redis mark spent: %w", ErrEpochChanged)
	}
	return n == 1, nil
}

// ttlMillis is d in whole milliseconds for PX, at least 1 for a positive d
// (0 means no expiry).
func ttlMillis(d time.Duration) int64 {
	if d > 0 {
		return max(1, d.Milliseconds())
	}
	return 0
}

// RedisKV is a [KV] in Redis.
type RedisKV struct {
	c      redis.UniversalClient
	health *redisHealth
	prefix string
	limits Limits
}

// Get implements [KV].
func (s *RedisKV) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := s.limits.checkKey(key); err != nil {
		return nil, err
	}
	var v []byte
	err := s.health.do(ctx, "get", func(ctx context.Context) (err error) {
		v, err = s.c.Get(ctx, s.prefix+string(key)).Bytes()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("store: redis get: %w", ErrNotFound)
	}
	if err != nil {
		return nil, err
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
	return s.health.do(ctx, "put", func(ctx context.Context) error {
		return s.c.Set(ctx, s.prefix+string(key), value, s.limits.TTL).Err()
	})
}

// Delete implements [KV].
func (s *RedisKV) Delete(ctx context.Context, key []byte) error {
	if err := s.limits.checkKey(key); err != nil {
		return err
	}
	return s.health.do(ctx, "delete", func(ctx context.Context) error {
		return s.c.Del(ctx, s.prefix+string(key)).Err()
	})
}

// Interface checks.
var (
	_ SpentSet      = (*BoltSpentSet)(nil)
	_ SpentSet      = (*RedisSpentSet)(nil)
	_ EpochSpentSet = (*RedisSpentSet)(nil)
	_ KV            = (*BoltKV)(nil)
	_ KV            = (*RedisKV)(nil)
)
