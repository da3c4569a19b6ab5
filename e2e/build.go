package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/bloom"
	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/oprf"
)

// DefaultPreset is the encryption preset of Apple's NEURLFilter example and
// of `blindlist pir process`.
const DefaultPreset = "n_4096_logq_27_28_28_logt_5"

// Built is a database written to disk: the prefilter and the processed PIR
// shards of one key list, ready for api.OpenUsecase.
type Built struct {
	// Dir holds prefilter.bin, prefilter.json and <Stem>-<i>.{bin,params.txtpb}.
	Dir string
	// Stem is the shard file stem.
	Stem string
	// ShardCount is the number of shards.
	ShardCount int
	// Prefilter is the Bloom filter of Keys.
	Prefilter *bloom.Filter
	// Keys are the keys, in both the prefilter and the PIR database.
	Keys []string
	// Shards are the processed shards.
	Shards []*pir.Database
	// SymmetricKeyFile is the symmetric-PIR key file of a database built
	// with BuildOptions.SymmetricKeyFile; empty for plain keyword PIR.
	SymmetricKeyFile string
}

// BuildOptions tune BuildKeys. The zero value is usable.
type BuildOptions struct {
	// ShardCount is the number of PIR shards. Zero: 1.
	ShardCount int
	// Tolerance is the prefilter's per-key false-positive rate. Zero: 0.001.
	Tolerance float64
	// Preset is the encryption preset. Empty: DefaultPreset.
	Preset string
	// SymmetricKeyFile, if set, builds a symmetric-PIR database (pir-spec
	// §5) with the key in this file, created (mode 0600) if missing.
	SymmetricKeyFile string
}

// BuildKeys writes the prefilter and the PIR database (value "1" for every
// key, as NEURLFilter expects) of keys into dir, which is created if needed.
// Both come from the same keys, as client-spec §1 requires. The Bloom seed
// is derived from the keys, so the same keys give the same files.
func BuildKeys(ctx context.Context, keys []string, dir string, opts BuildOptions) (*Built, error) {
	if len(keys) == 0 {
		return nil, errors.New("e2e: no keys to build")
	}
	if opts.ShardCount == 0 {
		opts.ShardCount = 1
	}
	if opts.Tolerance == 0 {
		opts.Tolerance = 0.001
	}
	if opts.Preset == "" {
		opts.Preset = DefaultPreset
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{'\n'})
	}
	seed := binary.BigEndian.Uint32(h.Sum(nil))
	f, err := bloom.Build(keys, opts.Tolerance, seed, 0)
	if err != nil {
		return nil, fmt.Errorf("e2e: prefilter: %w", err)
	}
	if err := f.WriteDir(dir); err != nil {
		return nil, fmt.Errorf("e2e: prefilter: %w", err)
	}
	rows := make([]pir.Row, len(keys))
	for i, k := range keys {
		rows[i] = pir.Row{Keyword: []byte(k), Value: []byte("1")}
	}
	pc := pir.ProcessConfig{Preset: opts.Preset, ShardCount: opts.ShardCount}
	if opts.SymmetricKeyFile != "" {
		if pc.Symmetric, _, err = oprf.CreateKeyFile(opts.SymmetricKeyFile, rand.Reader); err != nil {
			return nil, fmt.Errorf("e2e: %w", err)
		}
	}
	shards, err := pir.ProcessKeywords(ctx, rows, pc)
	if err != nil {
		return nil, fmt.Errorf("e2e: processing the PIR database: %w", err)
	}
	const stem = "url"
	for i, db := range shards {
		if err := pir.WriteShard(dir, stem, i, db); err != nil {
			return nil, fmt.Errorf("e2e: writing shard %d: %w", i, err)
		}
	}
	return &Built{Dir: dir, Stem: stem, ShardCount: len(shards), Prefilter: f, Keys: keys, Shards: shards,
		SymmetricKeyFile: opts.SymmetricKeyFile}, nil
}

// BuildDemo compiles blocklist's embedded demo list (with Apple's onboarding
// test keys) and builds it into dir.
func BuildDemo(ctx context.Context, dir string) (*Built, error) {
	res, err := blocklist.Compile(ctx, []blocklist.Source{blocklist.DemoSource()}, nil, blocklist.Options{TestIdentity: true})
	if err != nil {
		return nil, fmt.Errorf("e2e: compiling the demo list: %w", err)
	}
	return BuildKeys(ctx, res.Keys, dir, BuildOptions{})
}
