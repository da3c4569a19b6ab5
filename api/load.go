package api

import (
	"context"
	"fmt"
	"slices"

	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// pirUsecase is a [Usecase] backed by processed shards loaded by package pir.
type pirUsecase struct {
	cfg    *pir.Config
	shards []*pir.Database
}

func (u *pirUsecase) Config() *apipb.Config                { return u.cfg.Proto }
func (u *pirUsecase) KeyConfig() *hepb.EvaluationKeyConfig { return u.cfg.KeyConfig }
func (u *pirUsecase) ShardCount() int                      { return len(u.shards) }

// OpenUsecase loads the shards `<stem>-<i>.bin` and `<stem>-<i>.params.txtpb`
// for i in [0, ShardCount) from the usecase's directory and builds its
// configuration exactly as Apple's service does, so the config id is stable
// across restarts for the same files.
func OpenUsecase(ctx context.Context, uc UsecaseConfig) (Usecase, error) {
	if uc.ShardCount < 1 {
		return nil, fmt.Errorf("api: usecase %q: shard count %d, want at least 1", uc.Name, uc.ShardCount)
	}
	u := &pirUsecase{shards: make([]*pir.Database, uc.ShardCount)}
	params := make([]*pir.Params, uc.ShardCount)
	for i := range u.shards {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("api: usecase %q: %w", uc.Name, err)
		}
		bin, pf := pir.ShardPaths(uc.Directory, uc.FileStem, i)
		db, err := pir.LoadDatabase(bin, pf)
		if err != nil {
			return nil, fmt.Errorf("api: usecase %q: shard %d: %w", uc.Name, i, err)
		}
		u.shards[i] = db
		params[i] = db.Params()
	}
	cfg, err := pir.BuildConfig(params)
	if err != nil {
		return nil, fmt.Errorf("api: usecase %q: %w", uc.Name, err)
	}
	u.cfg = cfg
	return u, nil
}

// LoadEntries opens every usecase of a configuration file, ready for
// [Server.Replace] (or [Registry.Replace]). It loads everything before
// returning, so a failure leaves the served set untouched.
func LoadEntries(ctx context.Context, fc *FileConfig) ([]Entry, error) {
	var entries []Entry
	for _, v := range fc.Vendors {
		for _, uc := range v.Usecases {
			u, err := OpenUsecase(ctx, uc)
			if err != nil {
				return nil, err
			}
			entries = append(entries, Entry{
				Name:         uc.Name,
				Vendor:       v.Name,
				Hosts:        slices.Clone(v.Hosts),
				VersionCount: uc.VersionCount,
				Usecase:      u,
			})
		}
	}
	return entries, nil
}

// Answer computes one PIR response.
//
// TODO(api): call package pir's answer once it lands; until then every
// query fails with an internal error.
func (u *pirUsecase) Answer(ctx context.Context, key *apipb.EvaluationKey, req *apipb.PIRRequest) (*apipb.PIRResponse, error) {
	return nil, fmt.Errorf("api: PIR answering is not wired yet")
}
