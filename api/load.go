package api

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/oprf"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// pirUsecase is a [Usecase] backed by processed shards loaded by package pir.
type pirUsecase struct {
	srv *pir.Server
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
func OpenUsecase(ctx context.Context, uc UsecaseConfig) (Usecase, error) {
	if uc.ShardCount < 1 {
		return nil, fmt.Errorf("api: usecase %q: shard count %d, want at least 1", uc.Name, uc.ShardCount)
	}
	shards := make([]*pir.Database, uc.ShardCount)
	for i := range shards {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("api: usecase %q: %w", uc.Name, err)
		}
		bin, pf := pir.ShardPaths(uc.Directory, uc.FileStem, i)
		db, err := pir.LoadDatabase(bin, pf)
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
