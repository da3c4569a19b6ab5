package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisHeartbeats is a table of members (replicas), each with a value and
// an expiry, kept in one Redis hash "<prefix>heartbeats:<name>": a member
// beats (sets its value and pushes its expiry out) while it is alive, and
// readers see only members whose expiry has not passed. Expiries are the
// writer's clock in Unix milliseconds, so the replicas' clocks must agree
// to well within the TTL (NTP).
type RedisHeartbeats struct {
	c      redis.UniversalClient
	health *redisHealth
	key    string
	now    func() time.Time
}

// Heartbeats returns the heartbeat table named name.
func (r *Redis) Heartbeats(name string) (*RedisHeartbeats, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	return &RedisHeartbeats{c: r.c, health: r.health, key: r.prefix + "heartbeats:" + name, now: time.Now}, nil
}

// Beat records member's value, alive for ttl.
func (h *RedisHeartbeats) Beat(ctx context.Context, member, value string, ttl time.Duration) error {
	exp := h.now().Add(ttl).UnixMilli()
	return h.health.do(ctx, "heartbeat", func(ctx context.Context) error {
		return h.c.HSet(ctx, h.key, member, strconv.FormatInt(exp, 10)+" "+value).Err()
	})
}

// Live returns the value of every member whose last beat has not expired.
// Expired members are removed.
func (h *RedisHeartbeats) Live(ctx context.Context) (map[string]string, error) {
	var all map[string]string
	err := h.health.do(ctx, "heartbeats", func(ctx context.Context) (err error) {
		all, err = h.c.HGetAll(ctx, h.key).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	now := h.now().UnixMilli()
	live := make(map[string]string, len(all))
	var expired []string
	for m, v := range all {
		exp, value, ok := strings.Cut(v, " ")
		ms, err := strconv.ParseInt(exp, 10, 64)
		if !ok || err != nil || ms < now {
			expired = append(expired, m)
			continue
		}
		live[m] = value
	}
	if len(expired) > 0 {
		// Best effort: a member that beats again in between is back at its next beat.
		h.c.HDel(ctx, h.key, expired...)
	}
	return live, nil
}

// Leave removes member at once (a replica that stops serving).
func (h *RedisHeartbeats) Leave(ctx context.Context, member string) error {
	return h.health.do(ctx, "heartbeat leave", func(ctx context.Context) error {
		if err := h.c.HDel(ctx, h.key, member).Err(); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		return nil
	})
}
