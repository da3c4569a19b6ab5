package generation

// The PIR stage of a build: process the normalised keys into
// Apple-layout keyword-PIR shards (<stem>-<i>.bin + .params.txtpb, pir-spec
// §7) in the output directory, next to the prefilter, and on later builds
// reprocess only the shards whose keys changed.
//
// Incremental rule (pir-spec §4.5, §8.5): a shard is a pure function of its
// key set, so pir-manifest.json records per shard a SHA-256 over its sorted
// keyword-value pairs and the SHA-256 of its two files. A new build with the
// same settings and shard count routes the keys with the config's sharding
// function and reprocesses a shard only when its key digest changed or its
// files no longer match the manifest. A reprocessed shard keeps its previous
// cuckoo size and entry size when the new keys fit ("fixed cuckoo sizes to
// keep configs stable"), so its params file, and the config_id devices
// cache, stay the same. An incremental result therefore depends on the
// build history: replicas must share one build's files (as deploy/ does),
// and PIRConfig.Rebuild gives the history-free result, the same files as a
// build into an empty directory. A changed shard whose change is small (at
// most a tenth of its keys) is not even reprocessed: it is updated in place
// from the previous generation's shard (pir_update.go), its bytes then a
// function of that shard and the change.
//
// Generations: the builder writes every shard of the new generation into
// its (not yet published) directory: processed shards are written and
// fsynced there, unchanged ones are hard-linked from the previous
// generation (copied where links are not possible), so an incremental build
// costs only what changed and the previous generation is never touched.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/oprf"
	"github.com/blindlist/blindlist/pir/pb"
)

// Files and defaults of the PIR stage.
const (
	// PIRManifestFile records the PIR settings, config_id and, per shard,
	// its key digest and file digests.
	PIRManifestFile = "pir-manifest.json"
	// KeyConfigFile is the evaluation-key config devices generate keys for.
	KeyConfigFile = "evaluation_key_config.txtpb"
	// DefaultPreset is the rlwe preset of Apple's SimpleURLFilter sample.
	DefaultPreset = "n_4096_logq_27_28_28_logt_5"
	// DefaultEntriesPerShard sizes the shard count: Apple's SimpleURLFilter
	// sample (pir-spec §9).
	DefaultEntriesPerShard = 50000
	// PIRValue is the value of every key, as in Apple's sample database.
	PIRValue = "1"
	// PIRManifestFormat versions pir-manifest.json and the digest rule; a
	// build never reuses shards recorded under another format.
	PIRManifestFormat = 1
)

// PIRConfig are the PIR settings of a build. The zero value, after
// defaults (see withDefaults), is Apple's SimpleURLFilter layout.
type PIRConfig struct {
	// Disabled writes the prefilter and key list only (--no-pir).
	Disabled bool
	// Rebuild reprocesses every shard, ignoring the previous build: the
	// same files as a build into an empty directory (--pir-rebuild).
	Rebuild bool
	// Shards is the number of PIR shards; 0: max(keys/EntriesPerShard, 1).
	Shards int
	// EntriesPerShard sizes the shard count when Shards is 0. Zero:
	// DefaultEntriesPerShard.
	EntriesPerShard int
	// Preset is the rlwe preset. Empty: DefaultPreset.
	Preset string
	// HashFunctions is the number of cuckoo hash functions. Zero: 2.
	HashFunctions int
	// Stem is the shard file stem. Empty: "url".
	Stem string
	// SymmetricKeyFile, if set, builds symmetric PIR (Apple's
	// OPRF_P384_AES_GCM_192_NONCE_96_TAG_128) with the key in this file,
	// created with mode 0600 if missing. Keep it secret and outside the
	// output directory.
	SymmetricKeyFile string
}

// withDefaults fills the zero fields.
func (c PIRConfig) withDefaults() PIRConfig {
	if c.EntriesPerShard == 0 {
		c.EntriesPerShard = DefaultEntriesPerShard
	}
	if c.Preset == "" {
		c.Preset = DefaultPreset
	}
	if c.HashFunctions == 0 {
		c.HashFunctions = 2
	}
	if c.Stem == "" {
		c.Stem = "url"
	}
	return c
}

// Check validates the settings (after defaults).
func (c PIRConfig) Check() error {
	c = c.withDefaults()
	switch {
	case c.Shards < 0 || c.Shards > 1<<16:
		return fmt.Errorf("generation: %d shards: want 1 to 65536", c.Shards)
	case c.Shards == 0 && c.EntriesPerShard < 1:
		return fmt.Errorf("generation: %d entries per shard: want at least 1", c.EntriesPerShard)
	case c.HashFunctions < 1 || c.HashFunctions > 8:
		return fmt.Errorf("generation: %d cuckoo hash functions: want 1 to 8", c.HashFunctions)
	case strings.ContainsAny(c.Stem, `/\`) || strings.HasPrefix(c.Stem, "."):
		return fmt.Errorf("generation: shard stem %q: want a plain file name prefix", c.Stem)
	case c.Disabled && c.SymmetricKeyFile != "":
		return errors.New("generation: a symmetric key needs the PIR stage")
	case !slices.Contains(pir.Presets(), c.Preset):
		return fmt.Errorf("generation: preset %q: want one of %s", c.Preset, strings.Join(pir.Presets(), ", "))
	}
	return nil
}

// buildPIR is the PIR build stage: it writes the shards of keys into
// outDir, reusing the unchanged shards of the generation in prevDir ("" for
// none), and returns the manifest it wrote.
func (c PIRConfig) buildPIR(ctx context.Context, keys keySource, outDir, prevDir string, workers int, logf, progressf func(string, ...any), testingOnlyShardDone func(int) error) (*PIRManifest, error) {
	c = c.withDefaults()
	b := &pirBuilder{
		dir:   outDir,
		prev:  prevDir,
		bases: storeOf(outDir),
		settings: PIRSettings{
			Preset: c.Preset, HashFunctions: c.HashFunctions, Stem: c.Stem, Value: PIRValue,
			Sharding: pir.ShardingFunction{}.String(), KeyCompression: pir.NoCompression.String(),
		},
		workers:              workers,
		rebuild:              c.Rebuild,
		testingOnlyShardDone: testingOnlyShardDone,
		logf:                 func(format string, args ...any) { logf("pir: "+format, args...) },
	}
	if progressf != nil {
		b.progressf = func(format string, args ...any) { progressf("pir: "+format, args...) }
	}
	shards := c.Shards
	if shards == 0 {
		shards = max(keys.Len()/c.EntriesPerShard, 1)
	}
	if c.SymmetricKeyFile != "" {
		// Symmetric PIR transforms and keeps every key in memory.
		all, err := keys.all(ctx)
		if err != nil {
			return nil, err
		}
		if all, err = b.symmetric(ctx, all, c.SymmetricKeyFile); err != nil {
			return nil, err
		}
		keys = memoryKeys(all)
	}
	return b.run(ctx, keys, shards)
}

// symmetric turns the build into symmetric PIR (pir-spec §5) with the key
// in path, created (mode 0600) if missing: every key becomes its 16-byte
// oblivious keyword with the encrypted value "1", and the returned keys are
// the oblivious keywords, routed and digested like plain keys. The
// transform is deterministic (the AES-GCM nonce comes from the OPRF
// output), so unchanged keys give unchanged shards and incremental rebuilds
// still reuse them; but every key is transformed on every build (about
// 0.45 ms of CPU each, spread over --workers).
func (b *pirBuilder) symmetric(ctx context.Context, keys []string, path string) ([]string, error) {
	key, created, err := oprf.CreateKeyFile(path, rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pir output: symmetric key: %w", err)
	}
	if created {
		b.logf("created symmetric PIR key %s (mode 0600): keep it secret; the service needs it (usecase symmetricPirArguments)", path)
	}
	start := time.Now()
	rows := make([]pir.Row, len(keys))
	value := []byte(PIRValue)
	for i, k := range keys {
		rows[i] = pir.Row{Keyword: []byte(k), Value: value}
	}
	if rows, err = pir.SymmetricRows(ctx, rows, key, b.workers); err != nil {
		return nil, fmt.Errorf("pir output: %w", err)
	}
	out := make([]string, len(rows))
	b.values = make(map[string]string, len(rows))
	for i, r := range rows {
		out[i] = string(r.Keyword)
		b.values[out[i]] = string(r.Value)
	}
	b.symKey = key
	b.settings.SymmetricPublicKey = hex.EncodeToString(key.PublicKey())
	b.logf("symmetric PIR: %d keys transformed in %.1f s", len(keys), time.Since(start).Seconds())
	return out, nil
}

// valueOf returns the value stored for key: the encrypted value in a
// symmetric build, else PIRValue.
func (b *pirBuilder) valueOf(key string) string {
	if b.values != nil {
		return b.values[key]
	}
	return PIRValue
}

// PIRSettings are the build settings a previous output must share for its
// shards to be reused.
type PIRSettings struct {
	Preset         string `json:"preset"`
	HashFunctions  int    `json:"hash_functions"`
	Sharding       string `json:"sharding"`
	KeyCompression string `json:"key_compression"`
	Value          string `json:"value"`
	Stem           string `json:"stem"`
	// SymmetricPublicKey is the hex public key of a symmetric-PIR build
	// (--symmetric-key); a new key reprocesses every shard.
	SymmetricPublicKey string `json:"symmetric_public_key,omitempty"`
}

// PIRManifest is DIR/pir-manifest.json.
type PIRManifest struct {
	Format     int         `json:"format"`
	Tool       string      `json:"tool"`
	Built      string      `json:"built"`
	Settings   PIRSettings `json:"settings"`
	Keys       int         `json:"keys"`
	ShardCount int         `json:"shard_count"`
	// ConfigID and EvaluationKeyConfigHash are what devices see in /config.
	ConfigID                string      `json:"config_id"`
	EvaluationKeyConfigHash string      `json:"evaluation_key_config_hash"`
	EvaluationKeyConfig     FileInfo    `json:"evaluation_key_config"`
	Shards                  []ShardInfo `json:"shards"`

	// keyDiff is the build's key delta against the previous generation's
	// verified key list, when one was merged (not written): the counts
	// generation.json records, so publish need not merge the lists again.
	keyDiff *[2]int
}

// ShardInfo records one shard.
type ShardInfo struct {
	Index int `json:"index"`
	Keys  int `json:"keys"`
	// KeysSHA256 is SHA-256 over the shard's rows in keyword byte order,
	// each as u32be len(keyword) || keyword || u32be len(value) || value.
	// It is empty for a shard updated in place from the key delta, whose
	// full key list the build never read: a later build that has no
	// usable delta processes such a shard whole.
	KeysSHA256 string `json:"keys_sha256"`
	EntryCount int    `json:"entry_count"` // buckets per cuckoo table
	EntrySize  int    `json:"entry_size"`
	Dimensions [2]int `json:"dimensions"`
	// Bin is the shard in Apple's PIRProcessDatabase layout, written when
	// the shard is processed in full; absent for a shard updated in place
	// (servers read Serve).
	Bin    FileInfo `json:"bin,omitzero"`
	Params FileInfo `json:"params"`
	// Serve is the serve-ready file (pir.ServePath of Bin) that servers
	// memory-map instead of unpacking Bin into their heap. Absent in
	// generations built before it existed: such a shard is reprocessed.
	Serve FileInfo `json:"serve,omitzero"`
	// ServeBase, when set, is the base of a Serve in patch form
	// (pir.ServeBasePath): a link to the whole serve-ready file of an
	// earlier generation (in the base store, bases.go), which the patch's
	// changed plaintexts override.
	ServeBase FileInfo `json:"serve_base,omitzero"`
}

// fileDigests returns the recorded digest of every shard file by name; nil
// for no PIR output.
func (m *PIRManifest) fileDigests() map[string]FileInfo {
	if m == nil {
		return nil
	}
	out := make(map[string]FileInfo, 3*len(m.Shards))
	for i := range m.Shards {
		for _, f := range m.Shards[i].files() {
			out[f.Name] = f
		}
	}
	return out
}

// files returns the files the shard records.
func (s *ShardInfo) files() []FileInfo {
	var out []FileInfo
	for _, f := range []FileInfo{s.Bin, s.Params, s.Serve, s.ServeBase} {
		if f.Name != "" {
			out = append(out, f)
		}
	}
	return out
}

// FileInfo names a file in the output directory and its digest.
type FileInfo struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// pirBuilder writes the PIR output of one build into dir.
type pirBuilder struct {
	dir       string    // the new generation's directory
	prev      string    // the previous generation's directory; "" for none
	bases     baseStore // where whole serve-ready files go (bases.go)
	settings  PIRSettings
	workers   int
	rebuild   bool                             // ignore the previous output
	logf      func(format string, args ...any) // always shown
	progressf func(format string, args ...any) // per shard; nil: quiet
	// testingOnlyShardDone, if set, runs after each shard is staged; an
	// error fails the build there (crash tests). Nil in production.
	testingOnlyShardDone func(shard int) error
	// symKey and values are set by symmetric: the key, and the encrypted
	// value of each oblivious keyword. Nil for plain keyword PIR.
	symKey *oprf.PrivateKey
	values map[string]string
	// keys and shardCount are the build's; routeOnce routes them into
	// spill (each shard's keys while the shards are processed) when the
	// first shard needs its keys, routes and routeErr are the result.
	// keysDelta is set when the build works from a key delta.
	keys       keySource
	shardCount int
	keysDelta  bool
	routeOnce  sync.Once
	routes     []shardRoute
	routeErr   error
	spill      *shardSpill
	// prevStamps are the verification stamp entries of the previous
	// generation (stamp.go), read once by prevStamp; prevTrusted and
	// prevHashed count the previous shard files an in-place update took on
	// their stamp, and the bytes of those it hashed instead.
	prevStampOnce sync.Once
	prevStamps    map[string]stampEntry
	prevTrusted   atomic.Int64
	prevHashed    atomic.Int64
}

// pirShardJob is one shard of a build.
type pirShardJob struct {
	count  int        // keys of the shard
	digest string     // KeysSHA256; "" for a shard updated from a key delta
	prev   *ShardInfo // previous record: reuse it, or pin its sizes
	keep   bool
	// delta, when set, is the shard's change since the previous
	// generation, small enough to update the previous shard in place
	// (updateShard) instead of reprocessing it; updated says it was.
	delta   *shardDelta
	updated bool
	// rewritten is the number of plaintexts an update re-encoded.
	rewritten int
	info      ShardInfo
	params    *pir.Params
}

// run writes the shards of keys into b.dir and returns the manifest it
// wrote. keys must be distinct.
func (b *pirBuilder) run(ctx context.Context, keys keySource, shardCount int) (*PIRManifest, error) {
	start := time.Now()
	if shardCount < 1 || shardCount > 1<<16 {
		return nil, fmt.Errorf("pir output: %d shards, want 1 to 65536", shardCount)
	}
	b.keys, b.shardCount = keys, shardCount
	defer func() {
		if b.spill != nil {
			b.spill.remove()
		}
	}()
	prev, reason := b.previous(shardCount)
	if b.rebuild && prev != nil {
		prev, reason = nil, "every shard asked for"
	}
	if reason != "" {
		b.logf("%s: full rebuild", reason)
	}
	// With a previous generation, the key delta first (one merge of the
	// two sorted key files, no hashing but of the changed keys): it says
	// which shards changed and how. Only when it cannot be used, or a
	// shard must be processed whole, are all keys routed to their shards.
	var delta *keyDelta
	if prev != nil && b.symKey == nil {
		d, err := b.mergeDelta(ctx, keys, shardCount, prev.Keys)
		if err != nil {
			return nil, err
		}
		if d.why != "" {
			b.logf("no in-place shard updates: %s", d.why)
		} else {
			delta = d
		}
	}
	var jobs []*pirShardJob
	if delta != nil {
		jobs = b.planFromDelta(prev, delta)
		if b.progressf != nil {
			b.progressf("key delta merged (+%d -%d keys) in %.1f s", delta.added, delta.removed, time.Since(start).Seconds())
		}
	} else {
		routed, err := b.routed(ctx)
		if err != nil {
			return nil, err
		}
		jobs = make([]*pirShardJob, shardCount)
		for i := range jobs {
			jobs[i] = &pirShardJob{count: routed[i].count, digest: routed[i].digest}
		}
		if b.progressf != nil {
			b.progressf("%d keys routed to %d shards and digested in %.1f s", keys.Len(), shardCount, time.Since(start).Seconds())
		}
		for i, j := range jobs {
			if prev == nil {
				continue
			}
			j.prev = &prev.Shards[i]
			if j.prev.KeysSHA256 != j.digest { // never equal when none is recorded
				continue
			}
			if err := b.matches(j.prev); err != nil {
				b.logf("shard %d: %v: reprocessing it", i, err)
				continue
			}
			j.keep = true
		}
	}
	if err := b.processAll(ctx, jobs, b.dir); err != nil {
		return nil, err
	}
	if b.spill != nil { // before the directory's files are listed
		if err := b.spill.remove(); err != nil {
			return nil, fmt.Errorf("pir output: removing spill files: %w", err)
		}
		b.spill = nil
	}
	for i, j := range jobs {
		if j.keep {
			j.info = *j.prev
			if err := b.linkPrevious(j.prev); err != nil {
				return nil, fmt.Errorf("pir output: shard %d: %w", i, err)
			}
			_, params := pir.ShardPaths(b.dir, b.settings.Stem, i)
			var err error
			if j.params, err = pir.ReadParamsFile(params); err != nil {
				return nil, fmt.Errorf("pir output: shard %d: %w", i, err)
			}
		}
	}
	ps := make([]*pir.Params, len(jobs))
	for i, j := range jobs {
		ps[i] = j.params
	}
	cfg, err := pir.BuildConfig(ps)
	if err != nil {
		return nil, fmt.Errorf("pir output: %w", err)
	}
	man := &PIRManifest{
		Format: PIRManifestFormat, Tool: "blindlist build", Built: time.Now().UTC().Format(time.RFC3339),
		Settings: b.settings, Keys: keys.Len(), ShardCount: shardCount,
		ConfigID: hex.EncodeToString(cfg.ID), EvaluationKeyConfigHash: hex.EncodeToString(cfg.KeyConfigHash),
	}
	for _, j := range jobs {
		man.Shards = append(man.Shards, j.info)
	}
	if delta != nil && delta.why == "" {
		man.keyDiff = &[2]int{delta.added, delta.removed}
	}
	if man.EvaluationKeyConfig, err = b.writeKeyConfig(cfg); err != nil {
		return nil, err
	}
	if err := b.writeManifest(man); err != nil {
		return nil, err
	}
	processed, updated, rewritten, patches := 0, 0, 0, 0
	for _, j := range jobs {
		switch {
		case j.updated:
			updated++
			rewritten += j.rewritten
			if j.info.ServeBase.Name != "" {
				patches++
			}
		case !j.keep:
			processed++
		}
	}
	idNote := "new"
	if prev != nil && prev.ConfigID == man.ConfigID {
		idNote = "unchanged"
	}
	upNote := ""
	if updated > 0 {
		upNote = fmt.Sprintf(", %d updated in place (%d plaintexts rewritten; %d as patches over the previous file, %d whole)", updated, rewritten, patches, updated-patches)
	}
	if t, h := b.prevTrusted.Load(), b.prevHashed.Load(); t+h > 0 {
		upNote += fmt.Sprintf("; previous shard files reused: %d trusted by their verification stamp, %d bytes hashed", t, h)
	}
	b.logf("%d shards (%d processed, %d unchanged)%s, config_id %.16s… %s, in %.1f s",
		shardCount, processed, shardCount-processed-updated, upNote, man.ConfigID, idNote, time.Since(start).Seconds())
	return man, nil
}

// shardRoute is what routing found for one shard.
type shardRoute struct {
	count  int
	digest string
}

// routed routes every key to its shard, once per build (route), and
// returns each shard's key count and digest. A build from a key delta
// calls it only when a shard must be processed whole.
func (b *pirBuilder) routed(ctx context.Context) ([]shardRoute, error) {
	b.routeOnce.Do(func() {
		sp, err := newShardSpill(b.dir, b.shardCount)
		if err != nil {
			b.routeErr = err
			return
		}
		b.spill = sp
		start := time.Now()
		b.routes, b.routeErr = b.route(ctx, b.keys, b.shardCount, sp)
		if b.routeErr == nil && b.keysDelta {
			b.logf("%d keys routed to %d shards for the shards processed whole, in %.1f s", b.keys.Len(), b.shardCount, time.Since(start).Seconds())
		}
	})
	return b.routes, b.routeErr
}

// route sends keys to their shards with the sharding function, through
// per-shard spill files (shardSpill), and computes each shard's key digest
// from its file, one shard per core at a time: the routing holds two bytes
// per key besides keys, never a second list of all keys.
func (b *pirBuilder) route(ctx context.Context, keys keySource, shardCount int, sp *shardSpill) ([]shardRoute, error) {
	err := keys.batches(ctx, func(batch []string) error {
		idx, err := shardIndices(batch, shardCount)
		if err != nil {
			return err
		}
		for i, s := range idx {
			if err := sp.add(int(s), batch[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := sp.flushAll(); err != nil {
		return nil, err
	}
	routes := make([]shardRoute, shardCount)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for s := range routes {
		routes[s].count = sp.counts[s]
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			keys, err := sp.load(s)
			if err != nil {
				return err
			}
			routes[s].digest = keysDigest(keys, b.valueOf)
			return nil
		})
	}
	return routes, g.Wait()
}

// shardIndices returns the shard of every key, spreading the hashing over
// all cores.
func shardIndices(keys []string, shardCount int) ([]uint16, error) {
	var sharding pir.ShardingFunction // SHA-256 sharding, Apple's default (pir-spec §4.5)
	idx := make([]uint16, len(keys))  // shard indices are below 1<<16
	parts := runtime.GOMAXPROCS(0)
	var g errgroup.Group
	for p := range parts {
		g.Go(func() error {
			var kb []byte
			for i := p * len(keys) / parts; i < (p+1)*len(keys)/parts; i++ {
				kb = append(kb[:0], keys[i]...)
				s, err := sharding.ShardIndex(kb, shardCount)
				if err != nil {
					return fmt.Errorf("pir output: %w", err)
				}
				idx[i] = uint16(s)
			}
			return nil
		})
	}
	return idx, g.Wait()
}

// keysDigest is the KeysSHA256 of sorted keys with their values.
func keysDigest(sorted []string, valueOf func(string) string) string {
	h := sha256.New()
	buf := make([]byte, 0, 64<<10)
	for _, k := range sorted {
		value := valueOf(k)
		if len(buf)+8+len(k)+len(value) > cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(k)))
		buf = append(buf, k...)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(value)))
		buf = append(buf, value...)
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}

// previous returns the previous manifest when its shards can be reused, or
// nil and why not ("" when the directory holds no previous PIR output).
func (b *pirBuilder) previous(shardCount int) (*PIRManifest, string) {
	if b.prev == "" {
		return nil, ""
	}
	raw, err := os.ReadFile(filepath.Join(b.prev, PIRManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		if bin, _ := pir.ShardPaths(b.prev, b.settings.Stem, 0); fileExists(bin) {
			return nil, fmt.Sprintf("%s holds %s shards but no %s", b.prev, b.settings.Stem, PIRManifestFile)
		}
		return nil, ""
	}
	if err != nil {
		return nil, fmt.Sprintf("cannot read %s (%v)", PIRManifestFile, err)
	}
	var m PIRManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Sprintf("%s is unreadable (%v)", PIRManifestFile, err)
	}
	switch {
	case m.Format != PIRManifestFormat:
		return nil, fmt.Sprintf("%s has format %d, this build writes %d", PIRManifestFile, m.Format, PIRManifestFormat)
	case m.Settings != b.settings:
		return nil, fmt.Sprintf("PIR settings changed (%s)", settingsDiff(m.Settings, b.settings))
	case m.ShardCount != shardCount:
		return nil, fmt.Sprintf("shard count changed (%d -> %d)", m.ShardCount, shardCount)
	case len(m.Shards) != m.ShardCount:
		return nil, fmt.Sprintf("%s lists %d shards, not %d", PIRManifestFile, len(m.Shards), m.ShardCount)
	}
	for i, s := range m.Shards {
		bin, params := b.shardNames(i)
		if s.Index != i || (s.Bin.Name != bin && (s.Bin.Name != "" || s.Serve.Name == "")) || s.Params.Name != params {
			return nil, fmt.Sprintf("%s shard %d names other files", PIRManifestFile, i)
		}
	}
	return &m, ""
}

// settingsDiff lists the settings that differ between a and b.
func settingsDiff(a, b PIRSettings) string {
	var d []string
	add := func(name string, x, y any) {
		if x != y {
			d = append(d, fmt.Sprintf("%s %v -> %v", name, x, y))
		}
	}
	add("preset", a.Preset, b.Preset)
	add("hash functions", a.HashFunctions, b.HashFunctions)
	add("sharding", a.Sharding, b.Sharding)
	add("key compression", a.KeyCompression, b.KeyCompression)
	add("value", fmt.Sprintf("%q", a.Value), fmt.Sprintf("%q", b.Value))
	add("stem", a.Stem, b.Stem)
	add("symmetric public key", a.SymmetricPublicKey, b.SymmetricPublicKey)
	return strings.Join(d, ", ")
}

// shardNames returns the file names (relative to the output directory) of
// shard i.
func (b *pirBuilder) shardNames(i int) (bin, params string) {
	bin, params = pir.ShardPaths("", b.settings.Stem, i)
	return bin, params
}

// matches reports whether the files of a recorded shard are on disk as
// recorded.
func (b *pirBuilder) matches(s *ShardInfo) error {
	if s.Serve.Name == "" {
		return fmt.Errorf("no serve-ready file recorded (built by an earlier version)")
	}
	stamps := b.prevStamp()
	for _, f := range s.files() {
		path := filepath.Join(b.prev, f.Name)
		if e, ok := stamps[f.Name]; ok {
			if now, ok := pathID(path); e.trusts(f, now, ok) {
				b.prevTrusted.Add(1)
				continue
			}
		}
		got, err := describeFile(path, f.Name, false)
		if err != nil {
			return err
		}
		b.prevHashed.Add(got.Bytes)
		if got != f {
			return fmt.Errorf("%s differs from %s", f.Name, PIRManifestFile)
		}
	}
	return nil
}

// prevStamp returns the previous generation's verification stamp entries
// by file name: the files its build hashed as it wrote them, or a start
// verified since, with their identity then (stamp.go). An in-place update
// trusts a previous shard file on them under the same rule as a start
// (OpenID), so a large update does not hash the previous generation again.
// A previous flat directory (an earlier version's layout) has no stamp.
func (b *pirBuilder) prevStamp() map[string]stampEntry {
	b.prevStampOnce.Do(func() {
		if gens := filepath.Dir(b.prev); b.prev != "" && filepath.Base(gens) == GenerationsDir {
			b.prevStamps = readStamp(filepath.Dir(gens), filepath.Base(b.prev))
		}
	})
	return b.prevStamps
}

// processAll processes the shards not kept into staging, in parallel.
func (b *pirBuilder) processAll(ctx context.Context, jobs []*pirShardJob, staging string) error {
	todo := 0
	for _, j := range jobs {
		if !j.keep {
			todo++
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	if b.workers > 0 {
		g.SetLimit(b.workers)
	} else {
		g.SetLimit(max(1, min(todo, runtime.GOMAXPROCS(0))))
	}
	var mu sync.Mutex
	done, start := 0, time.Now()
	for i, j := range jobs {
		if j.keep {
			continue
		}
		g.Go(func() error {
			t0 := time.Now()
			err := b.processShard(gctx, i, j, staging)
			if err == nil && b.testingOnlyShardDone != nil {
				err = b.testingOnlyShardDone(i)
			}
			if err != nil {
				return fmt.Errorf("pir output: shard %d: %w", i, err)
			}
			if b.progressf != nil {
				mu.Lock()
				done++
				how := "processed"
				if j.updated {
					how = fmt.Sprintf("updated in place (+%d -%d keys, %d plaintexts rewritten)", len(j.delta.add), len(j.delta.remove), j.rewritten)
				}
				b.progressf("shard %d %s (%d keys, %.1f s), %d of %d, %s", i, how, j.count, time.Since(t0).Seconds(), done, todo, eta(time.Since(start), done, todo))
				mu.Unlock()
			}
			return nil
		})
	}
	return g.Wait()
}

// eta says how long the remaining of todo steps should take when done took
// elapsed.
func eta(elapsed time.Duration, done, todo int) string {
	if done >= todo {
		return "done"
	}
	if done <= 0 {
		return "ETA unknown"
	}
	left := elapsed * time.Duration(todo-done) / time.Duration(done)
	return "ETA " + left.Round(time.Second).String()
}

// processShard builds shard i into staging, fsyncs its files and records
// them. A shard with a previous record first tries that record's cuckoo
// size and entry size, so its parameters do not change.
func (b *pirBuilder) processShard(ctx context.Context, i int, j *pirShardJob, staging string) error {
	if j.delta != nil {
		err := b.updateShard(ctx, i, j, staging)
		if err == nil {
			j.updated = true
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.logf("shard %d: not updated in place (%v): reprocessing it", i, err)
	}
	routes, err := b.routed(ctx)
	if err != nil {
		return err
	}
	keys, err := b.spill.load(i)
	if err != nil {
		return err
	}
	j.count, j.digest = routes[i].count, routes[i].digest
	rows := make([]pir.Row, len(keys))
	value := []byte(PIRValue)
	for r, k := range keys {
		rows[r] = pir.Row{Keyword: []byte(k), Value: value}
		if b.values != nil {
			rows[r].Value = []byte(b.values[k])
		}
	}
	cfg := pir.ProcessConfig{
		Preset: b.settings.Preset,
		Cuckoo: pir.CuckooConfig{HashFunctionCount: b.settings.HashFunctions},
		// The rows are already transformed: ProcessShard only records the
		// public key.
		Symmetric: b.symKey,
	}
	var db *pir.Database
	if p := j.prev; p != nil && p.EntryCount > 0 && p.EntrySize > 0 {
		pinned := cfg
		pinned.Cuckoo.FixedBucketCount = p.EntryCount * b.settings.HashFunctions
		pinned.Cuckoo.MaxSerializedBucketSize = p.EntrySize
		pinned.UseMaxSerializedBucketSize = true
		db, err = pir.ProcessShard(ctx, rows, i, pinned)
		if err == nil && (db.Params().Dimensions != p.Dimensions || db.Params().EntryCount != p.EntryCount) {
			err = errors.New("other dimensions")
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.logf("shard %d: the new keys do not fit its previous %d×%d buckets of %d bytes (%v); new parameters, so a new config_id",
				i, b.settings.HashFunctions, p.EntryCount, p.EntrySize, err)
			db = nil
		}
	}
	if db == nil {
		if db, err = pir.ProcessShard(ctx, rows, i, cfg); err != nil {
			return err
		}
	}
	rows = nil
	binName, _ := b.shardNames(i)
	serveName := pir.ServePath(binName)
	// The serve-ready file first: it packs the shard's plaintexts once,
	// and the .bin is then written from them.
	if err := pir.WriteServeFile(filepath.Join(staging, serveName), db); err != nil {
		return err
	}
	if err := pir.WriteShard(staging, b.settings.Stem, i, db); err != nil {
		return err
	}
	j.params = db.Params()
	if err := b.recordShard(i, j, staging, FileInfo{}); err != nil {
		return err
	}
	return b.bases.place(filepath.Join(staging, serveName), j.info.Serve.SHA256)
}

// recordShard records the staged files of shard i (processed or updated)
// in j.info, flushing them to stable storage. An updated shard has no .bin
// and, in patch form, the base recorded as base (a link whose digest is
// the previous generation's record).
func (b *pirBuilder) recordShard(i int, j *pirShardJob, staging string, base FileInfo) error {
	binName, paramsName := b.shardNames(i)
	serveName := pir.ServePath(binName)
	j.info = ShardInfo{
		Index: i, Keys: j.count, KeysSHA256: j.digest,
		EntryCount: j.params.EntryCount, EntrySize: j.params.EntrySize, Dimensions: j.params.Dimensions,
		ServeBase: base,
	}
	for _, f := range []struct {
		name     string
		info     *FileInfo
		optional bool
	}{{binName, &j.info.Bin, true}, {paramsName, &j.info.Params, false}, {serveName, &j.info.Serve, false}} {
		path := filepath.Join(staging, f.name)
		if f.optional && !fileExists(path) {
			continue
		}
		// Public files, readable like the prefilter (the temp files are 0600).
		if err := os.Chmod(path, 0o644); err != nil {
			return err
		}
		var err error
		if *f.info, err = describeFile(path, f.name, true); err != nil {
			return err
		}
	}
	return nil
}

// linkPrevious puts the files of an unchanged shard of the previous
// generation into the new one: the same link into the base store for a
// serve-ready file that is one, else a hard link, or a durable copy where
// the file system refuses links.
func (b *pirBuilder) linkPrevious(s *ShardInfo) error {
	for _, f := range s.files() {
		if err := linkShardFile(filepath.Join(b.prev, f.Name), filepath.Join(b.dir, f.Name)); err != nil {
			return err
		}
	}
	return nil
}

// writeKeyConfig writes the evaluation-key config of cfg.
func (b *pirBuilder) writeKeyConfig(cfg *pir.Config) (FileInfo, error) {
	kc, err := pb.MarshalText(cfg.KeyConfig) // stable bytes, unlike prototext
	if err != nil {
		return FileInfo{}, fmt.Errorf("pir output: encoding evaluation key config: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(b.dir, KeyConfigFile), kc); err != nil {
		return FileInfo{}, fmt.Errorf("pir output: %w", err)
	}
	sum := sha256.Sum256(kc)
	return FileInfo{Name: KeyConfigFile, Bytes: int64(len(kc)), SHA256: hex.EncodeToString(sum[:])}, nil
}

func (b *pirBuilder) writeManifest(m *PIRManifest) error {
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("pir output: encoding manifest: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(b.dir, PIRManifestFile), append(mj, '\n')); err != nil {
		return fmt.Errorf("pir output: %w", err)
	}
	return nil
}

// describeFile returns the size and SHA-256 of path, recorded under name.
// With sync it also flushes the file to stable storage.
func describeFile(path, name string, sync bool) (FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileInfo{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err == nil && sync {
		err = f.Sync()
	}
	if err != nil {
		return FileInfo{}, fmt.Errorf("reading %s: %w", path, err)
	}
	return FileInfo{Name: name, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
