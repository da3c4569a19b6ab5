package pir

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/blindlist/blindlist/pir/he/ring"
	"github.com/blindlist/blindlist/pir/oprf"
)

// ProcessConfig says how keyword rows become processed shards, like the JSON
// config of Apple's PIRProcessDatabase (pir-spec §7.3). Zero values of
// optional fields select Apple's defaults.
type ProcessConfig struct {
	// Preset is the Apple rlwe preset name, e.g. n_4096_logq_27_28_28_logt_5.
	Preset string
	// ShardCount fixes the number of shards. If zero, EntryCountPerShard
	// decides: max(rows / EntryCountPerShard, 1). If both are zero: 1 shard.
	ShardCount int
	// EntryCountPerShard is the average row count per shard.
	EntryCountPerShard int
	// Sharding routes keywords to shards (default SHA-256).
	Sharding ShardingFunction
	// Cuckoo configures the cuckoo tables. A zero MaxSerializedBucketSize
	// selects DefaultMaxSerializedBucketSize for the largest value.
	Cuckoo CuckooConfig
	// KeyCompression selects the Galois elements of the evaluation key.
	KeyCompression KeyCompression
	// UseMaxSerializedBucketSize makes every entry MaxSerializedBucketSize
	// bytes instead of the largest actual bucket.
	UseMaxSerializedBucketSize bool
	// EvenDimensions turns off Apple's uneven-dimension search.
	EvenDimensions bool
	// Workers bounds the shards processed in parallel (default GOMAXPROCS).
	Workers int
	// Progress, if set, is called after each finished shard with the count
	// of finished shards and the total. It may be called concurrently.
	Progress func(done, total int)
	// Symmetric, if set, makes a symmetric-PIR database (pir-spec §5,
	// PIRProcessDatabase's symmetricPirArguments): [ProcessKeywords] and
	// [ProcessKeywordsFunc] first transform the rows with [SymmetricRows]
	// (and hand the transformed rows to emit); every shard's parameters carry
	// the key's public key. [ProcessShard] takes rows already transformed
	// (they are routed by their oblivious keywords) and only records the key.
	Symmetric *oprf.PrivateKey
}

// resolved is a validated ProcessConfig for a given set of rows.
type resolved struct {
	ProcessConfig
	he     heParams
	shards int
}

func (c ProcessConfig) resolve(rows []Row) (*resolved, error) {
	maxValue := 0
	for _, row := range rows {
		maxValue = max(maxValue, len(row.Value))
	}
	return c.resolveCounts(len(rows), maxValue)
}

// resolveCounts is resolve for rowCount rows whose largest value has
// maxValue bytes.
func (c ProcessConfig) resolveCounts(rowCount, maxValue int) (*resolved, error) {
	he, err := lookupPreset(c.Preset)
	if err != nil {
		return nil, err
	}
	r := &resolved{ProcessConfig: c, he: he}
	r.Cuckoo = c.Cuckoo.withDefaults()
	if maxValue > maxBucketValueLen {
		return nil, fmt.Errorf("pir: a value has %d bytes, at most %d fit a hash bucket", maxValue, maxBucketValueLen)
	}
	if r.Cuckoo.MaxSerializedBucketSize == 0 {
		r.Cuckoo.MaxSerializedBucketSize = DefaultMaxSerializedBucketSize(maxValue, he.bytesPerPlaintext())
	}
	if need := singleBucketSize(maxValue); r.Cuckoo.MaxSerializedBucketSize < need {
		return nil, fmt.Errorf("pir: max serialized bucket size %d is below %d, the bucket of the largest (%d-byte) value",
			r.Cuckoo.MaxSerializedBucketSize, need, maxValue)
	}
	if err := r.Cuckoo.validate(); err != nil {
		return nil, err
	}
	switch {
	case c.ShardCount < 0 || c.EntryCountPerShard < 0:
		return nil, fmt.Errorf("pir: negative shard count or entries per shard")
	case c.ShardCount > 0 && c.EntryCountPerShard > 0:
		return nil, fmt.Errorf("pir: set shard count or entry count per shard, not both")
	case c.ShardCount > 0:
		r.shards = c.ShardCount
	case c.EntryCountPerShard > 0:
		r.shards = max(rowCount/c.EntryCountPerShard, 1)
	default:
		r.shards = 1
	}
	if r.shards > maxConfigShards {
		return nil, fmt.Errorf("pir: %d shards, at most %d", r.shards, maxConfigShards)
	}
	if c.KeyCompression < NoCompression || c.KeyCompression > HybridCompression {
		return nil, fmt.Errorf("pir: unknown key compression %d", c.KeyCompression)
	}
	if r.Workers <= 0 {
		r.Workers = runtime.GOMAXPROCS(0)
	}
	return r, nil
}

// ShardRows splits rows into shardCount shards with f, keeping input order
// inside each shard.
func ShardRows(rows []Row, f ShardingFunction, shardCount int) ([][]Row, error) {
	if shardCount <= 0 {
		return nil, fmt.Errorf("pir: shard count %d, want at least 1", shardCount)
	}
	out := make([][]Row, shardCount)
	for _, r := range rows {
		s := shardOfHash(KeywordHash(r.Keyword), f, shardCount)
		out[s] = append(out[s], r)
	}
	return out, nil
}

// shardOfHash is [ShardingFunction.ShardIndex] on a keyword hash.
func shardOfHash(h uint64, f ShardingFunction, shardCount int) int {
	if f.OtherShardCount != 0 {
		h %= uint64(f.OtherShardCount)
	}
	return int(h % uint64(shardCount))
}

// ProcessKeywords builds the processed shards of a keyword database: it
// shards the rows, places each shard's rows into cuckoo tables and packs them
// into MulPIR plaintexts. Every row is placed or the call fails; a repeated
// keyword is an error. Shards are processed in parallel (cfg.Workers). See
// [ProcessKeywordsFunc] to write shards as they finish instead of holding
// them all.
func ProcessKeywords(ctx context.Context, rows []Row, cfg ProcessConfig) ([]*Database, error) {
	var mu sync.Mutex
	var dbs []*Database
	err := ProcessKeywordsFunc(ctx, rows, cfg, func(i, n int, db *Database, _ []Row) error {
		db.materialize()
		mu.Lock()
		defer mu.Unlock()
		if dbs == nil {
			dbs = make([]*Database, n)
		}
		dbs[i] = db
		return nil
	})
	if err != nil {
		return nil, err
	}
	return dbs, nil
}

// ProcessKeywordsFunc is [ProcessKeywords] that hands each finished shard i
// of n, with the rows it holds, to emit (called from several goroutines at
// once, at most cfg.Workers) and then forgets it, so memory holds only the
// shards in progress.
func ProcessKeywordsFunc(ctx context.Context, rows []Row, cfg ProcessConfig, emit func(i, n int, db *Database, rows []Row) error) error {
	if cfg.Symmetric != nil {
		var err error
		if rows, err = SymmetricRows(ctx, rows, cfg.Symmetric, cfg.Workers); err != nil {
			return err
		}
	}
	r, err := cfg.resolve(rows)
	if err != nil {
		return err
	}
	// Hash every keyword once; sharding and cuckoo placement reuse it.
	hashes := make([]uint64, len(rows))
	shardOf := make([]int32, len(rows))
	counts := make([]int, r.shards)
	for i, row := range rows {
		h := KeywordHash(row.Keyword)
		hashes[i] = h
		s := shardOfHash(h, r.Sharding, r.shards)
		shardOf[i] = int32(s)
		counts[s]++
	}
	members := make([][]int32, r.shards)
	for s, c := range counts {
		members[s] = make([]int32, 0, c)
	}
	for i, s := range shardOf {
		members[s] = append(members[s], int32(i))
	}
	shardOf = nil
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.Workers)
	var done atomic.Int64
	for i := range members {
		g.Go(func() error {
			srows := make([]Row, len(members[i]))
			shashes := make([]uint64, len(members[i]))
			for j, m := range members[i] {
				srows[j], shashes[j] = rows[m], hashes[m]
			}
			db, err := r.processShard(gctx, srows, shashes, i)
			if err != nil {
				return fmt.Errorf("pir: shard %d: %w", i, err)
			}
			if err := emit(i, len(members), db, srows); err != nil {
				return err
			}
			if r.Progress != nil {
				r.Progress(int(done.Add(1)), len(members))
			}
			return nil
		})
	}
	return g.Wait()
}

// ProcessShard builds one processed shard from rows that already belong to
// it, with the same parameter rules as ProcessKeywords (the bucket-size
// default uses only these rows, so pass cfg.Cuckoo.MaxSerializedBucketSize
// to match a full build). Seeds differ per shard index.
func ProcessShard(ctx context.Context, rows []Row, shardIndex int, cfg ProcessConfig) (*Database, error) {
	r, err := cfg.resolve(rows)
	if err != nil {
		return nil, err
	}
	hashes := make([]uint64, len(rows))
	for i, row := range rows {
		hashes[i] = KeywordHash(row.Keyword)
	}
	return r.processShard(ctx, rows, hashes, shardIndex)
}

// processShard builds one shard; hashes[i] is KeywordHash(rows[i].Keyword).
func (r *resolved) processShard(ctx context.Context, rows []Row, hashes []uint64, shardIndex int) (*Database, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkDistinct(rows, hashes); err != nil {
		return nil, err
	}
	cc := r.Cuckoo
	cc.Seed[0] ^= byte(shardIndex)
	cc.Seed[1] ^= byte(shardIndex >> 8)
	tab, err := buildCuckoo(rows, hashes, cc)
	if err != nil {
		return nil, err
	}
	buckets, maxSize, err := tab.serializeBuckets(rows, hashes)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	entrySize := maxSize
	if r.UseMaxSerializedBucketSize {
		entrySize = cc.MaxSerializedBucketSize
	}
	p := &Params{
		he:                r.he,
		EntryCount:        tab.bucketsPerTable,
		EntrySize:         entrySize,
		HashFunctionCount: cc.HashFunctionCount,
		Sharding:          r.Sharding,
	}
	if r.Symmetric != nil {
		p.SymmetricPublicKey = r.Symmetric.PublicKey()
	}
	l := p.layout()
	p.Dimensions = mulPirDimensions(l.neededPlaintexts(), p.HashFunctionCount, !r.EvenDimensions)
	p.KeyConfig = mulPirKeyConfig(p.expandedCount(), r.he.n, r.KeyCompression)
	if err := p.check(); err != nil {
		return nil, err
	}
	l = p.layout()
	basis, err := ring.NewBasis(r.he.n, r.he.ctModuli())
	if err != nil {
		return nil, fmt.Errorf("pir: internal error: %w", err)
	}
	// The shard stays unpacked (its buckets only) until it is served or
	// written: writing packs one plaintext at a time.
	return &Database{params: p, src: newPackSource(r.he, basis, l, buckets)}, nil
}

// checkDistinct fails on a repeated keyword, or on two keywords with the
// same 64-bit hash (a client could not tell them apart).
func checkDistinct(rows []Row, hashes []uint64) error {
	order := make([]int32, len(rows))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(hashes[a], hashes[b]) })
	for k := 1; k < len(order); k++ {
		i, j := order[k-1], order[k]
		if hashes[i] != hashes[j] {
			continue
		}
		if bytes.Equal(rows[i].Keyword, rows[j].Keyword) {
			return fmt.Errorf("pir: keyword %q appears twice", rows[j].Keyword)
		}
		return fmt.Errorf("pir: keywords %q and %q have the same 64-bit hash", rows[i].Keyword, rows[j].Keyword)
	}
	return nil
}
