package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// Usecase is one loaded version of a PIR database: what /config announces and
// what /queries computes on. [OpenUsecase] builds one from processed shards
// with package pir. Implementations must be safe for concurrent use and
// immutable once published.
type Usecase interface {
	// Config returns the Config sent by /config, with pir_config and
	// config_id set (pir-spec §6.5). Callers must not modify it.
	Config() *apipb.Config

	// KeyConfig returns the evaluation-key configuration sent in
	// KeyStatus.key_config. Its SHA-256 is
	// Config().PirConfig.evaluation_key_config_hash. Callers must not
	// modify it.
	KeyConfig() *hepb.EvaluationKeyConfig

	// ShardCount returns the number of shards; PIRRequest.shard_index must
	// be below it.
	ShardCount() int

	// ParseKey parses an uploaded evaluation key for this usecase's
	// encryption parameters (the costly step, done once per key and
	// cached by the server). Errors wrap [ErrBadRequest].
	ParseKey(k *hepb.SerializedEvaluationKey) (*pir.EvaluationKey, error)

	// Answer computes the response to one PIR request. Errors caused by
	// the request or key content wrap [ErrBadRequest]. The work and the
	// response size depend only on public parameters, never on whether
	// the keyword is present. Answer honours ctx cancellation.
	Answer(ctx context.Context, key *pir.EvaluationKey, req *apipb.PIRRequest) (*apipb.PIRResponse, error)

	// Symmetric reports whether the usecase holds a symmetric-PIR key and
	// so answers OPRF requests (pir-spec §5).
	Symmetric() bool

	// EvaluateOPRF answers one OPRF request with the usecase's
	// symmetric-PIR key. A malformed element wraps [ErrBadRequest]. Its
	// work does not depend on the element beyond the group arithmetic.
	EvaluateOPRF(req *apipb.OPRFRequest) (*apipb.OPRFResponse, error)
}

// Entry is one usecase to publish in a [Registry].
type Entry struct {
	// Name is the usecase name ("<bundle id>.url.filtering").
	Name string
	// Vendor is the tenant owning the usecase (logs and host filtering).
	Vendor string
	// Hosts restrict the "all usecases" /config listing to requests whose
	// Host is one of these; empty means every host.
	Hosts []string
	// VersionCount is how many configurations stay answerable (≥ 1).
	VersionCount int
	// Usecase is the loaded database.
	Usecase Usecase
	// Previous are older versions to keep answerable beside Usecase,
	// oldest first (the previous generations of a build, loaded at start
	// so a restart does not answer 410 to devices holding them). Versions
	// already kept are not replaced.
	Previous []Usecase
}

// Registry holds the usecases a server answers for, each with its last few
// versions. Readers take an immutable snapshot with one atomic load, so a
// reload never blocks or disturbs requests in flight: a request keeps using
// the snapshot it started with, and the old database stays in memory until
// the last such request finishes (the garbage collector frees it).
//
// The zero Registry is empty and ready to use.
type Registry struct {
	mu   sync.Mutex // serializes writers
	snap atomic.Pointer[snapshot]
}

// snapshot is an immutable view of the registry.
type snapshot struct {
	usecases map[string]*versioned
}

// versioned is one usecase name with its kept versions, oldest first.
type versioned struct {
	vendor       string
	hosts        []string
	versionCount int
	ids          []string // config ids, oldest first; the last is served by /config
	byID         map[string]Usecase
}

func (v *versioned) latest() Usecase { return v.byID[v.ids[len(v.ids)-1]] }

// servesHost reports whether the "all usecases" listing includes this usecase
// for a request with the given host.
func (v *versioned) servesHost(host string) bool {
	return len(v.hosts) == 0 || slices.Contains(v.hosts, host)
}

func (r *Registry) load() *snapshot {
	if s := r.snap.Load(); s != nil {
		return s
	}
	return &snapshot{usecases: map[string]*versioned{}}
}

// Replace publishes a new set of usecases atomically. For a name already
// present, the entry's configuration becomes the newest version and the
// older ones are kept up to VersionCount (the same configuration id
// republished just becomes the newest again). Names absent from entries are
// removed. Either every entry is valid and the whole set is published, or
// nothing changes.
func (r *Registry) Replace(entries []Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.load()
	next := &snapshot{usecases: make(map[string]*versioned, len(entries))}
	for _, e := range entries {
		if e.Usecase == nil {
			return fmt.Errorf("api: usecase %q: nil database", e.Name)
		}
		if _, dup := next.usecases[e.Name]; dup {
			return fmt.Errorf("api: usecase %q listed twice", e.Name)
		}
		if e.VersionCount < 1 {
			return fmt.Errorf("api: usecase %q: version count %d, want at least 1", e.Name, e.VersionCount)
		}
		cfg := e.Usecase.Config()
		if len(cfg.GetConfigId()) == 0 {
			return fmt.Errorf("api: usecase %q: config has no config_id", e.Name)
		}
		if len(cfg.GetPirConfig().GetEvaluationKeyConfigHash()) == 0 {
			return fmt.Errorf("api: usecase %q: config has no evaluation_key_config_hash", e.Name)
		}
		id := string(cfg.GetConfigId())
		v := &versioned{
			vendor:       e.Vendor,
			hosts:        slices.Clone(e.Hosts),
			versionCount: e.VersionCount,
			byID:         map[string]Usecase{},
		}
		if prev, ok := old.usecases[e.Name]; ok {
			for _, pid := range prev.ids {
				if pid != id {
					v.ids = append(v.ids, pid)
					v.byID[pid] = prev.byID[pid]
				}
			}
		}
		for _, p := range e.Previous {
			pid := string(p.Config().GetConfigId())
			if _, ok := v.byID[pid]; ok || pid == id || pid == "" {
				continue
			}
			v.ids = append(v.ids, pid)
			v.byID[pid] = p
		}
		v.ids = append(v.ids, id)
		v.byID[id] = e.Usecase
		for len(v.ids) > v.versionCount {
			delete(v.byID, v.ids[0])
			v.ids = v.ids[1:]
		}
		next.usecases[e.Name] = v
	}
	r.snap.Store(next)
	return nil
}

// lookup errors, mapped to statuses by the handlers.
var (
	errUnknownUsecase = errors.New("api: unknown usecase")
	errConfigGone     = errors.New("api: configuration id not available")
)

// Latest returns the newest version of a usecase.
func (s *snapshot) latest(name string) (Usecase, bool) {
	v, ok := s.usecases[name]
	if !ok {
		return nil, false
	}
	return v.latest(), true
}

// version returns the version of a usecase with the given config id:
// errUnknownUsecase when the name is not served, errConfigGone when the id is
// not (or no longer) one of its kept versions.
func (s *snapshot) version(name string, configID []byte) (Usecase, error) {
	v, ok := s.usecases[name]
	if !ok {
		return nil, errUnknownUsecase
	}
	u, ok := v.byID[string(configID)]
	if !ok {
		return nil, errConfigGone
	}
	return u, nil
}

// names returns the usecases listed for a /config call with no usecases
// from the given host, sorted.
func (s *snapshot) names(host string) []string {
	var out []string
	for name, v := range s.usecases {
		if v.servesHost(host) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Versions returns, for each usecase name, its kept configuration ids,
// oldest first. It is meant for status pages and tests.
func (r *Registry) Versions() map[string][][]byte {
	s := r.load()
	out := make(map[string][][]byte, len(s.usecases))
	for name, v := range s.usecases {
		for _, id := range v.ids {
			out[name] = append(out[name], []byte(id))
		}
	}
	return out
}

// Len returns the number of usecases served.
func (r *Registry) Len() int { return len(r.load().usecases) }
