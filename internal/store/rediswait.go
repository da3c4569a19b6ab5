package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated means a write reached the Redis master but no replica
// confirmed it within the timeout, so it could be lost in a failover; the
// write is withdrawn and the caller must treat the call as failed.
var ErrNotReplicated = errors.New("store: write not confirmed by a replica")

// ReplicatedSpentSet returns the spent-key set named name whose spends are
// acknowledged only once replicas replicas hold them (Redis WAIT, up to
// timeout). With Redis Cluster (the store's client a
// *redis.ClusterClient) or a master with replicas, this is what keeps a
// token from being accepted twice across a failover: Redis replicates
// asynchronously, so a spend the master acknowledged and then lost when it
// died would let the same token be spent again on the promoted replica.
//
// A spend not confirmed in time fails with [ErrNotReplicated], which wraps
// [ErrUnavailable] (fail closed: the call gets 503, the device retries with a fresh token) and is
// withdrawn from the master when it can still be reached, so an
// unanswered spend never burns a token.
func (r *Redis) ReplicatedSpentSet(name string, ttl time.Duration, replicas int, timeout time.Duration) (*ReplicatedSpentSet, error) {
	if replicas < 1 || timeout <= 0 {
		return nil, fmt.Errorf("store: replicated spent set needs replicas ≥ 1 and a positive timeout, got %d, %v", replicas, timeout)
	}
	s, err := r.SpentSet(name, ttl)
	if err != nil {
		return nil, err
	}
	if _, ok := r.c.(*redis.ClusterClient); ok && strings.ContainsAny(s.prefix, "{}") {
		return nil, errPrefixBrace
	}
	return &ReplicatedSpentSet{s: s, replicas: replicas, timeout: timeout}, nil
}

// ReplicatedSpentSet is a [SpentSet] in Redis whose spends a replica has
// confirmed (see [Redis.ReplicatedSpentSet]).
type ReplicatedSpentSet struct {
	s        *RedisSpentSet
	replicas int
	timeout  time.Duration
}

// withdrawScript deletes KEYS[1] only if it still holds ARGV[1] (this
// attempt's marker), so a withdrawal never removes another call's spend.
var withdrawScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

// MarkSpent implements [SpentSet]: SET NX PX, then WAIT, on one connection
// to the master holding the key.
func (s *ReplicatedSpentSet) MarkSpent(ctx context.Context, key []byte) (bool, error) {
	return s.mark(ctx, key, func(ctx context.Context, conn *redis.Conn, k, marker string) (bool, error) {
		setVal, err := conn.SetArgs(ctx, k, marker, redis.SetArgs{Mode: "NX", TTL: s.s.ttl}).Result()
		switch {
		case errors.Is(err, redis.Nil):
			return true, nil // already there: spent before, whoever's spend it was
		case err != nil:
			return false, err
		case setVal != "OK":
			return false, fmt.Errorf("SET answered %q", setVal)
		}
		return false, nil
	})
}

// Epoch implements [EpochSpentSet] (see [RedisSpentSet.Epoch]); on a
// cluster, every hash-tag group holds a copy of the record (see
// spentGroups).
func (s *ReplicatedSpentSet) Epoch(ctx context.Context, since time.Time) (Epoch, error) {
	c, ok := s.s.c.(*redis.ClusterClient)
	if !ok {
		return s.s.Epoch(ctx, since)
	}
	id, err := newEpochID(since)
	if err != nil {
		return Epoch{}, err
	}
	return s.clusterEpoch(ctx, c, id)
}

// names returns the spent key's name and its epoch record's: on a
// cluster both carry the key's group hash tag (see spentGroups), so they
// share a slot and a master.
func (s *ReplicatedSpentSet) names(key []byte) (k, epoch string) {
	if _, ok := s.s.c.(*redis.ClusterClient); ok {
		tag := clusterGroupTag(key)
		return s.s.prefix + tag + string(key), s.s.epochKey() + tag
	}
	return s.s.prefix + string(key), s.s.epochKey()
}

// markSpentInEpochMarked is markSpentInEpoch storing ARGV[3] (the
// attempt's marker) as the value, so an unconfirmed spend can be withdrawn.
var markSpentInEpochMarked = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local ok
if ARGV[2] == '0' then
  ok = redis.call('SET', KEYS[2], ARGV[3], 'NX')
else
  ok = redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[2])
end
if ok then return 0 end
return 1
`)

// MarkSpentInEpoch implements [EpochSpentSet]: the epoch check and the
// spend are one script, then WAIT as in MarkSpent. On Redis Cluster the
// record checked is the copy in the key's hash-tag group, on the same
// master (see spentGroups).
func (s *ReplicatedSpentSet) MarkSpentInEpoch(ctx context.Context, e Epoch, key []byte) (bool, error) {
	changed := false
	_, epochKey := s.names(key)
	spent, err := s.mark(ctx, key, func(ctx context.Context, conn *redis.Conn, k, marker string) (bool, error) {
		n, err := markSpentInEpochMarked.Run(ctx, conn, []string{epochKey, k},
			e.ID, strconv.FormatInt(ttlMillis(s.s.ttl), 10), marker).Int64()
		if err != nil {
			return false, err
		}
		if n < 0 {
			changed = true
			return true, nil // nothing written: skip WAIT
		}
		return n == 1, nil
	})
	if changed {
		return false, fmt.Errorf("store: redis mark spent: %w", ErrEpochChanged)
	}
	return spent, err
}

// mark runs write on one connection to the master holding key; when it
// added the key (already false) it waits for the replicas, withdrawing the
// spend if they do not confirm it.
func (s *ReplicatedSpentSet) mark(ctx context.Context, key []byte,
	write func(ctx context.Context, conn *redis.Conn, k, marker string) (already bool, err error)) (bool, error) {
	if err := checkSpentKey(key); err != nil {
		return false, err
	}
	k, _ := s.names(key)
	node, err := s.node(ctx, k)
	if err != nil {
		return false, err
	}
	// 8 random bytes: enough to tell this attempt's spend from another's,
	// small beside the ~220 bytes Redis spends per nonce.
	var m [8]byte
	if _, err := rand.Read(m[:]); err != nil {
		return false, fmt.Errorf("store: spend marker: %w", err)
	}
	marker := string(m[:])
	// One connection for both steps: WAIT counts the replicas that
	// acknowledged this connection's writes. WAIT runs only after a write,
	// so a replayed token is refused at once.
	conn := node.Conn()
	defer conn.Close()
	already, err := write(ctx, conn, k, marker)
	if err != nil {
		s.refresh(ctx)
		return false, fmt.Errorf("store: redis mark spent: %w: %w", ErrUnavailable, err)
	}
	if already {
		return true, nil
	}
	acked, werr := conn.Wait(ctx, s.replicas, s.timeout).Result()
	if werr == nil && acked >= int64(s.replicas) {
		return false, nil
	}
	// Not confirmed: withdraw this attempt's spend if the master still
	// answers, so the token is not burnt by a call that fails.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	_ = withdrawScript.Run(wctx, conn, []string{k}, marker).Err()
	if werr != nil {
		return false, fmt.Errorf("store: redis WAIT: %w: %w", ErrUnavailable, werr)
	}
	return false, fmt.Errorf("store: %d of %d replicas confirmed the spend within %v: %w: %w", acked, s.replicas, s.timeout, ErrNotReplicated, ErrUnavailable)
}

// node returns the client of the master holding k: the cluster's master
// for k's slot, or the single server's client.
func (s *ReplicatedSpentSet) node(ctx context.Context, k string) (*redis.Client, error) {
	switch c := s.s.c.(type) {
	case *redis.ClusterClient:
		n, err := c.MasterForKey(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("store: redis cluster: master for key: %w: %w", ErrUnavailable, err)
		}
		return n, nil
	case *redis.Client:
		return c, nil
	default:
		return nil, fmt.Errorf("store: replicated spent set needs a *redis.Client or *redis.ClusterClient, not %T", s.s.c)
	}
}

// refresh reloads the cluster's slot map after an error that may come from
// a failover (MOVED, a dead master), so the next spend goes to the new
// master.
func (s *ReplicatedSpentSet) refresh(ctx context.Context) {
	if c, ok := s.s.c.(*redis.ClusterClient); ok {
		c.ReloadState(ctx)
	}
}

var _ EpochSpentSet = (*ReplicatedSpentSet)(nil)
