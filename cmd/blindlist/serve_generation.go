package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/blindlist/blindlist/api"
	"github.com/blindlist/blindlist/generation"
)

// defaultGenerationPoll is how often serve looks for a newly published
// generation of its usecases' directories (--generation-poll).
const defaultGenerationPoll = 2 * time.Second

// generationWatch remembers the current generation of every usecase
// directory laid out in generations.
type generationWatch struct {
	seen map[string]string // root -> current id
}

func newGenerationWatch(fc *api.FileConfig) *generationWatch {
	w := &generationWatch{}
	w.seen, _ = currentIDs(fc)
	return w
}

// changed reports whether any root's current generation differs from the
// last call (each new id is reported once, also when its reload fails),
// and lists root=id pairs for the log.
func (w *generationWatch) changed(fc *api.FileConfig) (bool, string) {
	now, list := currentIDs(fc)
	if maps.Equal(now, w.seen) {
		return false, ""
	}
	w.seen = now
	return true, list
}

// currentIDs returns the current generation id of every usecase directory
// laid out in generations.
func currentIDs(fc *api.FileConfig) (map[string]string, string) {
	ids := map[string]string{}
	for _, v := range fc.Vendors {
		for _, uc := range v.Usecases {
			if generation.IsRoot(uc.Directory) {
				id, _ := generation.CurrentID(uc.Directory)
				ids[uc.Directory] = id
			}
		}
	}
	var parts []string
	for _, root := range slices.Sorted(maps.Keys(ids)) {
		parts = append(parts, root+"="+ids[root])
	}
	return ids, strings.Join(parts, " ")
}

// servedGenerations lists the generation of each usecase served by this
// replica and by the other ready replicas sharing its Redis: the
// prefilter endpoint offers only a prefilter all of them answer.
func (s *service) servedGenerations(ctx context.Context, usecase string) ([]string, error) {
	var ids []string
	if id := s.api.ServedGeneration(usecase); id != "" {
		ids = append(ids, id)
	}
	if s.replicas != nil {
		others, err := s.replicas.Served(ctx, usecase)
		if err != nil {
			return nil, err
		}
		ids = append(ids, others...)
	}
	return ids, nil
}

// announce tells the other replicas which generations this one serves.
func (s *service) announce(ctx context.Context) {
	if s.replicas == nil {
		return
	}
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.replicas.Announce(actx, s.api.ServedGenerations()); err != nil {
		s.log.Error("announcing the served generations failed; the prefilter endpoint may lag", "error", err.Error())
	}
}

// replicaName names this process among the replicas: host, pid and random
// bits (a restarted replica is a new member; the old one expires).
func replicaName() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}

// generationOptions are serve's generation flags.
type generationOptions struct {
	poll         time.Duration // --generation-poll
	refresh      *refreshJob   // nil: no refresh loop
	refreshEvery time.Duration
}

// loop refreshes at once and then every interval until ctx is done. A
// published generation is picked up by serve's generation poll, which
// reloads without dropping calls in flight.
func (j *refreshJob) loop(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		res, err := j.run(ctx)
		switch {
		case err != nil:
			log.Error("refresh failed; the current generation stays published", "error", err.Error())
		case res.Published != nil:
			m := res.Published.Manifest
			log.Info("refresh published a new generation", "generation", m.ID, "keys", m.Keys, "added", m.Added, "removed", m.Removed)
		default:
			log.Info("refresh: sources unchanged", "notModified", res.NotModified)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
