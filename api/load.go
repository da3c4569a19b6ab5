package api

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/blindlist/blindlist/generation"
	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/oprf"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// pirUsecase is a [Usecase] backed by processed shards loaded by package pir.
type pirUsecase struct {
	srv *pir.Server
	// generation is the id of the generation the shards came from; ""
	// for a flat directory.
	generation string
}

func (u *pirUsecase) Config() *apipb.Config                { return u.srv.Config().Proto }
func (u *pirUsecase) KeyConfig() *hepb.EvaluationKeyConfig { return u.srv.Config().KeyConfig }
func (u *pirUsecase) ShardCount() int                      { return u.srv.ShardCount() }

func (u *pirUsecase) ParseKey(k *hepb.SerializedEvaluationKey) (*pir.EvaluationKey, error) {
	pk, err := u.srv.ParseEvaluationKey(k)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return pk, nil
}

func (u *pirUsecase) Answer(ctx context.Context, key *pir.EvaluationKey, req *apipb.PIRRequest) (*apipb.PIRResponse, error) {
	resp, err := u.srv.Answer(ctx, req, key)
	switch {
	case err == nil:
		return resp, nil
	case errors.Is(err, pir.ErrBadRequest), errors.Is(err, pir.ErrShardIndex),
		errors.Is(err, pir.ErrKeyMismatch), errors.Is(err, pir.ErrUnknownConfig):
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	default:
		return nil, err
	}
}

func (u *pirUsecase) Symmetric() bool { return u.srv.Symmetric() }

func (u *pirUsecase) EvaluateOPRF(req *apipb.OPRFRequest) (*apipb.OPRFResponse, error) {
	resp, err := u.srv.EvaluateOPRF(req)
	if errors.Is(err, pir.ErrBadRequest) {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return resp, err
}

// OpenUsecase loads the shards `<stem>-<i>.bin` and `<stem>-<i>.params.txtpb`
// for i in [0, ShardCount) from the usecase's directory and builds its
// configuration exactly as Apple's service does, so the config id is stable
// across restarts for the same files.
//
// A Directory laid out in generations ('blindlist build') is served from
// its current generation, verified against its manifest first (package
// generation); a generation that does not verify is refused with an error
// that names it. A shardCount that disagrees with the generation's, or with
// the shards in a flat directory, is an error naming both numbers: serving
// a subset would answer "allow" for listed keys.
func OpenUsecase(ctx context.Context, uc UsecaseConfig) (Usecase, error) {
	if uc.ShardCount < 1 {
		return nil, fmt.Errorf("api: usecase %q: shard count %d, want at least 1", uc.Name, uc.ShardCount)
	}
	dir := uc.Directory
	if generation.IsRoot(dir) {
		g, err := generation.Open(dir)
		if err != nil {
			return nil, fmt.Errorf("api: usecase %q: refusing %w", uc.Name, err)
		}
		return openGeneration(ctx, uc, g)
	}
	if n := countShards(dir, uc.FileStem); n != uc.ShardCount {
		return nil, fmt.Errorf("api: usecase %q: shardCount is %d in the configuration but %s holds %d shards (%s-0 … %s-%d)",
			uc.Name, uc.ShardCount, dir, n, uc.FileStem, uc.FileStem, max(n-1, 0))
	}
	return openShards(ctx, uc, dir, pir.OpenDatabase)
}

// openGeneration opens the shards of a verified generation.
func openGeneration(ctx context.Context, uc UsecaseConfig, g *generation.Generation) (Usecase, error) {
	m := g.Manifest
	switch {
	case m.ShardCount == 0:
		return nil, fmt.Errorf("api: usecase %q: generation %s of %s has no PIR shards (built with --no-pir)", uc.Name, m.ID, g.Root)
	case m.ShardCount != uc.ShardCount:
		return nil, fmt.Errorf("api: usecase %q: shardCount is %d in the configuration but generation %s of %s has %d shards",
			uc.Name, uc.ShardCount, m.ID, g.Root, m.ShardCount)
	case m.Stem != uc.FileStem:
		return nil, fmt.Errorf("api: usecase %q: fileStem is %q in the configuration but generation %s of %s names its shards %q",
			uc.Name, uc.FileStem, m.ID, g.Root, m.Stem)
	}
	// Every file was just checked against the manifest the build wrote
	// (or trusted by its verification stamp): the residues need not be
	// read again (pir.OpenVerifiedDatabase).
	u, err := openShards(ctx, uc, g.Dir, pir.OpenVerifiedDatabase)
	if err != nil {
		return nil, err
	}
	u.(*pirUsecase).generation = m.ID
	return u, nil
}

// openShards loads uc.ShardCount shards from dir with open
// (pir.OpenDatabase, or pir.OpenVerifiedDatabase for a verified generation).
func openShards(ctx context.Context, uc UsecaseConfig, dir string, open func(bin, params string) (*pir.Database, error)) (Usecase, error) {
	shards := make([]*pir.Database, uc.ShardCount)
	for i := range shards {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("api: usecase %q: %w", uc.Name, err)
		}
		bin, pf := pir.ShardPaths(dir, uc.FileStem, i)
		db, err := open(bin, pf)
		if err != nil {
			return nil, fmt.Errorf("api: usecase %q: shard %d: %w", uc.Name, i, err)
		}
		shards[i] = db
	}
	var opts pir.ServerOptions
	symmetric := shards[0].Params().SymmetricPublicKey != nil
	switch sa := uc.SymmetricPirArguments; {
	case sa != nil:
		k, err := oprf.ReadKeyFile(sa.DatabaseEncryptionKeyFilePath)
		if err != nil {
			return nil, fmt.Errorf("api: usecase %q: symmetricPirArguments: %w", uc.Name, err)
		}
		opts.SymmetricKey = k
	case symmetric:
		// Apple's service would serve the config and fail every OPRF
		// request; a device could then look nothing up.
		return nil, fmt.Errorf("api: usecase %q: the shards are symmetric PIR (server_public_key set) but symmetricPirArguments.databaseEncryptionKeyFilePath is not configured", uc.Name)
	}
	srv, err := pir.NewServer(shards, opts)
	if err != nil {
		return nil, fmt.Errorf("api: usecase %q: %w", uc.Name, err)
	}
	return &pirUsecase{srv: srv}, nil
}

// LoadEntries opens every usecase of a configuration file, ready for
// [Server.Replace] (or [Registry.Replace]). It loads everything before
// returning, so a failure leaves the served set untouched.
func LoadEntries(ctx context.Context, fc *FileConfig) ([]Entry, error) {
	return loadEntries(ctx, fc, false)
}

// LoadEntriesWithHistory is LoadEntries that also loads, for usecases laid
// out in generations, up to VersionCount-1 earlier kept generations into
// Entry.Previous, so that after a restart devices holding the previous
// configuration are still answered. An earlier generation that does not
// verify or load is left out (it was served before; the current one is
// what must be whole).
func LoadEntriesWithHistory(ctx context.Context, fc *FileConfig) ([]Entry, error) {
	return loadEntries(ctx, fc, true)
}

func loadEntries(ctx context.Context, fc *FileConfig, history bool) ([]Entry, error) {
	var entries []Entry
	for _, v := range fc.Vendors {
		for _, uc := range v.Usecases {
			u, err := OpenUsecase(ctx, uc)
			if err != nil {
				return nil, err
			}
			e := Entry{
				Name:         uc.Name,
				Vendor:       v.Name,
				Hosts:        slices.Clone(v.Hosts),
				VersionCount: uc.VersionCount,
				Usecase:      u,
			}
			if history {
				e.Previous = openPrevious(ctx, uc)
			}
			entries = append(entries, e)
		}
	}
	return entries, nil
}

// openPrevious opens up to VersionCount-1 generations before the current
// one, oldest first.
func openPrevious(ctx context.Context, uc UsecaseConfig) []Usecase {
	if uc.VersionCount < 2 || !generation.IsRoot(uc.Directory) {
		return nil
	}
	cur, err := generation.CurrentID(uc.Directory)
	if err != nil {
		return nil
	}
	ids, err := generation.IDs(uc.Directory)
	if err != nil {
		return nil
	}
	var out []Usecase
	for i := slices.Index(ids, cur) - 1; i >= 0 && len(out) < uc.VersionCount-1; i-- {
		g, err := generation.OpenID(uc.Directory, ids[i])
		if err != nil || g.Manifest.ShardCount == 0 || g.Manifest.Stem != uc.FileStem {
			continue
		}
		prev := uc
		prev.ShardCount = g.Manifest.ShardCount
		u, err := openShards(ctx, prev, g.Dir, pir.OpenVerifiedDatabase)
		if err != nil {
			continue
		}
		u.(*pirUsecase).generation = g.ID()
		out = append(out, u)
	}
	slices.Reverse(out)
	return out
}

// Reload loads every usecase of fc and publishes them atomically: calls in
// flight finish on the databases they started with, new calls see the new
// set, and older configurations stay answerable up to each usecase's
// VersionCount. On error nothing changes.
func (s *Server) Reload(ctx context.Context, fc *FileConfig) error {
	entries, err := LoadEntries(ctx, fc)
	if err != nil {
		s.m.reloads.WithLabelValues("error").Inc()
		return err
	}
	return s.Replace(entries)
}
