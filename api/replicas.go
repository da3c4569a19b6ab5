package api

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Heartbeats is a shared table of live replicas and a value each
// (store.RedisHeartbeats).
type Heartbeats interface {
	Beat(ctx context.Context, member, value string, ttl time.Duration) error
	Live(ctx context.Context) (map[string]string, error)
	Leave(ctx context.Context, member string) error
}

// ReplicaTTL is how long a replica's announcement counts without a new
// one; replicas announce every few seconds.
const ReplicaTTL = 15 * time.Second

// ReplicaGenerations shares, between replicas serving the same volume,
// which generation of each usecase every ready replica serves, so the
// prefilter endpoint never offers a prefilter with keys some replica does
// not answer yet.
type ReplicaGenerations struct {
	hb   Heartbeats
	self string
}

// NewReplicaGenerations returns the table for the replica named self
// (unique per process).
func NewReplicaGenerations(hb Heartbeats, self string) *ReplicaGenerations {
	return &ReplicaGenerations{hb: hb, self: self}
}

// Announce records the generation this replica serves for each usecase
// (usecase -> generation id). Call it after every reload and every few
// seconds while ready.
func (r *ReplicaGenerations) Announce(ctx context.Context, served map[string]string) error {
	b, err := json.Marshal(served)
	if err != nil {
		return err
	}
	if err := r.hb.Beat(ctx, r.self, string(b), ReplicaTTL); err != nil {
		return fmt.Errorf("api: announcing the served generations: %w", err)
	}
	return nil
}

// Leave withdraws this replica (draining: it is no longer ready).
func (r *ReplicaGenerations) Leave(ctx context.Context) error { return r.hb.Leave(ctx, r.self) }

// Served returns the distinct generation ids of usecase that the other
// live replicas announced.
func (r *ReplicaGenerations) Served(ctx context.Context, usecase string) ([]string, error) {
	live, err := r.hb.Live(ctx)
	if err != nil {
		return nil, fmt.Errorf("api: reading the replicas' generations: %w", err)
	}
	var ids []string
	for member, v := range live {
		if member == r.self {
			continue
		}
		var served map[string]string
		if json.Unmarshal([]byte(v), &served) != nil {
			continue
		}
		if id := served[usecase]; id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// ServedGenerations returns what this server serves per usecase laid out
// in generations (usecase -> generation id), for Announce.
func (s *Server) ServedGenerations() map[string]string {
	out := map[string]string{}
	snap := s.reg.load()
	for name := range snap.usecases {
		if id := s.ServedGeneration(name); id != "" {
			out[name] = id
		}
	}
	return out
}
