package generation

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/bloom"
	"github.com/blindlist/blindlist/internal/atomicfile"
	"github.com/blindlist/blindlist/pir/pb"
)

// Files of the prefilter stage, besides bloom's own.
const (
	// ManifestFile is the build manifest: what was read, rewritten and
	// dropped, by reason, and how the prefilter was sized.
	ManifestFile = "manifest.json"
	// KeysFile holds the normalised keys, one per line.
	KeysFile = "keys.txt"
	// KeywordDBFile holds the keys as a pir.v1.KeywordDatabase text proto.
	KeywordDBFile = "input.txtpb"
	// ProvenanceFile holds, per key in KeysFile order, the source line
	// that gave it (blocklist.Provenance.WriteTo, blocklist.LookupOrigin).
	ProvenanceFile = "provenance.txt.gz"
)

// StagedFiles are the files the prefilter stage stages, in the order they
// are moved into place: the Bloom bits and plist before the prefilter.json
// that describes them, the build manifest last.
var StagedFiles = []string{
	bloom.BitsFile, bloom.PlistFile, bloom.ManifestFile, KeysFile, KeywordDBFile, ProvenanceFile, ManifestFile,
}

// ErrNoKeys is returned by Build when the sources gave no keys.
var ErrNoKeys = errors.New("generation: the sources gave no keys")

// Config is what one build reads and how it sizes its output.
type Config struct {
	// Block are the block list sources; Allow the allow list sources.
	Block, Allow []blocklist.Source
	// Compile are the normalisation options (blocklist.Compile).
	Compile blocklist.Options
	// ReadTimeout bounds reading the sources; zero: no bound beyond ctx.
	ReadTimeout time.Duration
	// Tolerance is the prefilter's per-key false-positive rate, in (0, 1).
	Tolerance float64
	// VisitRate and SubURLs are recorded in the manifest when the
	// tolerance was derived from a per-visit rate (bloom.ToleranceForVisit).
	VisitRate float64
	SubURLs   int
	// Seed is the Murmur3 seed; nil derives it from the keys (SeedFromKeys),
	// so the same list always gives the same filter.
	Seed *uint32
	// Workers bounds the goroutines of the Bloom build and the PIR shards;
	// zero: all cores.
	Workers int
	// PIR are the PIR settings.
	PIR PIRConfig
	// Logf receives one line per notable event (shards reused or
	// reprocessed, leftovers removed); nil: quiet.
	Logf func(format string, args ...any)
	// Progressf, if set, receives progress lines of the long phases
	// (partitions, keys merged, keys added to the prefilter, the key
	// delta, shards).
	Progressf func(format string, args ...any)

	// Keep is how many generations to keep, the new one included; older
	// ones are removed after the new one is published. Zero: DefaultKeep.
	Keep int

	// MemoryBudget bounds, in bytes, the block key set the compile stage
	// holds in memory; a list that outgrows it is compiled out of memory
	// (blocklist.Options.SpillDir: partition files, sorted runs and a
	// merge), with the same output. Zero: DefaultMemoryBudget(); negative:
	// no bound (everything in memory, whatever the list's size). The
	// process's heap runs to about twice the budget (Go's GC headroom).
	MemoryBudget int64
	// TempDir holds the compile stage's spill files; empty: a temporary
	// directory inside the output directory, removed after the build.
	TempDir string

	// testingOnlyShardDone, if set, runs after each PIR shard is staged;
	// an error fails the build there (crash tests). Nil in production.
	testingOnlyShardDone func(shard int) error
	// testingOnlyCrash, if set, runs at each publish step (named); an
	// error stops the build right there without any clean-up, as a kill
	// would. Nil in production.
	testingOnlyCrash func(step string) error
}

// Result is what a build wrote.
type Result struct {
	// Keys are the normalised, sorted keys; nil when the compile spilled
	// (they are then only in the generation's KeysFile).
	Keys []string
	// KeyCount is the number of keys.
	KeyCount int
	// Report is blocklist.Compile's report (also in the manifest).
	Report *blocklist.Report
	// Filter is the prefilter of Keys.
	Filter *bloom.Filter
	// Manifest is the build manifest written to ManifestFile.
	Manifest *Manifest
	// PIR is the PIR manifest; nil when PIR.Disabled.
	PIR *PIRManifest
	// Generation is the published generation.
	Generation *Generation
	// Migrated is set when the build replaced the flat layout of an
	// earlier version (files directly in the output directory).
	Migrated bool
	// Pruned lists the generations removed (beyond Config.Keep).
	Pruned []string
	// written are the prefilter stage's files as written (for the
	// generation manifest).
	written fileRecords
	// keysWritten is closed by a spilled build's prefilter stage once
	// keys.txt is complete, so the PIR stage can read it beside the
	// Bloom pass (publish's writeBesidePIR); nil for in-memory builds.
	keysWritten chan struct{}
}

// Manifest is ManifestFile.
type Manifest struct {
	Tool  string `json:"tool"`
	Built string `json:"built"`
	// KeepCovered records blocklist.Options.KeepCovered: keys below a
	// listed parent were kept, for devices that do not walk the domain
	// hierarchy.
	KeepCovered bool   `json:"keep_covered"`
	Keys        int    `json:"keys"`
	KeysFile    string `json:"keys_file"`
	PIRInput    string `json:"pir_input"`
	// ProvenanceFile names the per-key origins (ProvenanceFile).
	ProvenanceFile string            `json:"provenance_file"`
	Sizing         Sizing            `json:"sizing"`
	Prefilter      bloom.Manifest    `json:"prefilter"`
	Report         *blocklist.Report `json:"report"`
}

// Sizing records how the prefilter was sized.
type Sizing struct {
	Tolerance      float64 `json:"per_key_tolerance"`
	VisitRate      float64 `json:"per_visit_rate,omitempty"`
	SubURLs        int     `json:"suburls_per_visit,omitempty"`
	SeedDerived    bool    `json:"seed_derived_from_keys"`
	PlistAndBits   string  `json:"files"`
	ExpectedFPRate float64 `json:"expected_per_key_rate"`
}

func (c *Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// DefaultMemoryBudget returns the compile stage's memory budget when
// Config.MemoryBudget is zero: 1/48 of the machine's RAM, at least 256 MiB
// and at most 2 GiB (512 MiB on a 24 GiB machine, about 5 million keys in
// memory; with GC headroom a peak near 1 GB), so a build of 10^8 keys stays
// within a few GB.
func DefaultMemoryBudget() int64 {
	return int64(min(max(physicalMemory()/48, 256<<20), 2<<30))
}

// spillPrefix starts the temporary directory of a compile's spill files
// inside the output directory; removeLeftovers removes those whose build
// is gone (their .lock is free).
const spillPrefix = ".compile-spill-"

// compile reads the sources and normalises them into keys, spilling to
// disk beyond the memory budget. It returns the function that removes the
// spill directory it made (a no-op when there is none).
func (c *Config) compile(ctx context.Context, out string) (*blocklist.Result, func(), error) {
	block := c.Block
	if len(block) == 0 {
		return nil, nil, errors.New("generation: no block list source")
	}
	if c.ReadTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.ReadTimeout)
		defer cancel()
	}
	opts, done := c.Compile, func() {}
	if c.MemoryBudget >= 0 && opts.SpillDir == "" {
		opts.SpillDir, opts.SpillBudget = c.TempDir, c.budget()
		if opts.SpillDir == "" {
			// Inside the output directory, locked while in use, so a later
			// build removes it if this process dies (removeLeftovers).
			if err := os.MkdirAll(out, 0o755); err != nil {
				return nil, nil, fmt.Errorf("generation: %w", err)
			}
			dir, err := os.MkdirTemp(out, spillPrefix)
			if err != nil {
				return nil, nil, fmt.Errorf("generation: creating spill directory: %w", err)
			}
			unlock, err := lock(dir)
			if err != nil {
				os.RemoveAll(dir)
				return nil, nil, err
			}
			opts.SpillDir, done = dir, func() { os.RemoveAll(dir); unlock() }
		}
		if opts.Stagef == nil {
			opts.Stagef = c.Progressf
		}
	}
	res, err := blocklist.Compile(ctx, block, c.Allow, opts)
	if err != nil {
		done()
		return nil, nil, err
	}
	return res, done, nil
}

// Build reads the sources, compiles them into keys and writes into out
// (created if needed) the prefilter, the key files, the PIR shards and the
// manifests. A failure anywhere leaves out as it was. When the sources give
// no keys it returns ErrNoKeys with a Result holding the Report.
func Build(ctx context.Context, out string, c Config) (*Result, error) {
	if !(c.Tolerance > 0 && c.Tolerance < 1) {
		return nil, fmt.Errorf("generation: tolerance %v is outside (0, 1)", c.Tolerance)
	}
	if err := c.PIR.Check(); err != nil {
		return nil, err
	}
	start := time.Now()
	res, cleanup, err := c.compile(ctx, out)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	r := &Result{Keys: res.Keys, KeyCount: res.Len(), Report: res.Report}
	if res.Spilled != nil {
		defer res.Spilled.Remove()
	}
	if r.KeyCount == 0 {
		return r, ErrNoKeys
	}
	var write func(dir string) error
	if res.Spilled != nil {
		compiled := time.Since(start)
		r.keysWritten = make(chan struct{})
		write = func(dir string) error { return c.writeSpilled(ctx, dir, r, res.Spilled, compiled) }
	} else {
		if write, err = c.writeInMemory(r, res.Provenance); err != nil {
			return nil, err
		}
	}
	unlock, err := lock(out)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := c.publish(ctx, out, r, write); err != nil {
		return nil, err
	}
	return r, nil
}

// budget is the compile stage's memory budget in effect (negative: none).
func (c *Config) budget() int64 {
	if c.MemoryBudget == 0 {
		return DefaultMemoryBudget()
	}
	return c.MemoryBudget
}

// writeInMemory builds the prefilter of r.Keys and returns the function
// that writes the prefilter stage's files into a directory.
func (c *Config) writeInMemory(r *Result, prov *blocklist.Provenance) (func(dir string) error, error) {
	seed, derived := uint32(0), c.Seed == nil
	if derived {
		seed = SeedFromKeys(r.Keys)
	} else {
		seed = *c.Seed
	}
	f, err := bloom.Build(r.Keys, c.Tolerance, seed, c.Workers)
	if err != nil {
		return nil, fmt.Errorf("generation: %w", err)
	}
	r.Filter = f
	r.Manifest = c.manifest(f, r, derived)
	mj, err := json.MarshalIndent(r.Manifest, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("generation: encoding manifest: %w", err)
	}
	return func(dir string) error {
		if err := f.WriteDir(dir); err != nil {
			return err
		}
		if err := writeKeyFiles(&r.written, dir, r.Keys); err != nil {
			return err
		}
		if err := writeRecorded(&r.written, filepath.Join(dir, ProvenanceFile), func(w io.Writer) error {
			_, err := prov.WriteTo(w)
			return err
		}); err != nil {
			return err
		}
		return writeFileAtomic(filepath.Join(dir, ManifestFile), append(mj, '\n'))
	}, nil
}

// manifest describes a build whose prefilter is f.
func (c *Config) manifest(f *bloom.Filter, r *Result, seedDerived bool) *Manifest {
	m := &Manifest{
		Tool:           "blindlist build",
		Built:          time.Now().UTC().Format(time.RFC3339),
		KeepCovered:    c.Compile.KeepCovered,
		Keys:           r.KeyCount,
		KeysFile:       KeysFile,
		PIRInput:       KeywordDBFile,
		ProvenanceFile: ProvenanceFile,
		Prefilter:      f.Manifest(bloom.BitsFile),
		Report:         r.Report,
		Sizing: Sizing{
			Tolerance: c.Tolerance, VisitRate: c.VisitRate, SeedDerived: seedDerived,
			PlistAndBits:   strings.Join([]string{bloom.BitsFile, bloom.PlistFile, bloom.ManifestFile}, " "),
			ExpectedFPRate: bloom.FalsePositiveRate(f.Params().BitCount, f.Params().HashCount, r.KeyCount),
		},
	}
	if c.VisitRate != 0 {
		m.Sizing.SubURLs = c.SubURLs
	}
	return m
}

// SeedFromKeys derives the Murmur3 seed from the sorted keys (the first
// four bytes of SHA-256 over the keys, one per line), so the same list
// always gives the same filter. The seed is public in the prefilter anyway.
func SeedFromKeys(keys []string) uint32 {
	h := sha256.New()
	for _, k := range keys {
		io.WriteString(h, k)
		h.Write([]byte{'\n'})
	}
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// writeKeyFiles writes keys.txt and input.txtpb, both streamed through a
// buffered writer, so neither file is ever held whole in memory (at 1M keys
// keys.txt is about 30 MB, and building it in memory then copying it set the
// build's peak RSS).
func writeKeyFiles(rec *fileRecords, dir string, keys []string) error {
	if err := writeRecorded(rec, filepath.Join(dir, KeysFile), func(w io.Writer) error { return writeKeyList(w, keys) }); err != nil {
		return err
	}
	return writeRecorded(rec, filepath.Join(dir, KeywordDBFile), func(w io.Writer) error { return WriteKeywordDB(w, keys) })
}

// writeKeyList writes keys one per line, each ended by a newline.
func writeKeyList(w io.Writer, keys []string) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	for _, k := range keys {
		bw.WriteString(k)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// WriteKeywordDB writes keys as Apple's pir.v1.KeywordDatabase in protobuf
// text format, one row per key with value "1", in the layout
// PIRProcessDatabase reads (shared/vectors/pir/A/input.txtpb).
func WriteKeywordDB(w io.Writer, keys []string) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var quoted []byte
	for _, k := range keys {
		quoted = pb.AppendTextString(quoted[:0], k)
		bw.WriteString("rows {\n  keyword: ")
		bw.Write(quoted)
		bw.WriteString("\n  value: \"1\"\n}\n")
	}
	return bw.Flush()
}

// outputFileMode is the permission of the files a build writes: public
// data that a server running as another user must be able to read.
const outputFileMode = 0o644

// writeWith streams a file through fn (given a buffered writer) and replaces
// path with it atomically and durably, mode 0644.
func writeWith(path string, fn func(io.Writer) error) error {
	return atomicfile.WriteFile(path, outputFileMode, fn)
}

// fileRecords are the size and SHA-256 of files a build wrote, hashed as
// they were written, so that the generation manifest need not read them
// again (keys.txt, input.txtpb and provenance.txt.gz are some 10 GB at
// 10^8 keys). They are flushed to stable storage on goroutines of their
// own (syncLater) while the build goes on; publish waits for that
// (waitSynced) before it lists the generation.
type fileRecords struct {
	mu      sync.Mutex
	m       map[string]FileInfo
	syncs   sync.WaitGroup
	syncErr error
}

func (fr *fileRecords) add(fi FileInfo) {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if fr.m == nil {
		fr.m = map[string]FileInfo{}
	}
	fr.m[fi.Name] = fi
}

// all returns the records by file name.
func (fr *fileRecords) all() map[string]FileInfo {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return maps.Clone(fr.m)
}

// syncLater fsyncs the file at path on a goroutine of its own.
func (fr *fileRecords) syncLater(path string) {
	fr.syncs.Go(func() {
		err := atomicfile.SyncFile(path)
		fr.mu.Lock()
		defer fr.mu.Unlock()
		if err != nil && fr.syncErr == nil {
			fr.syncErr = err
		}
	})
}

// waitSynced waits for every syncLater and returns the first error.
func (fr *fileRecords) waitSynced() error {
	fr.syncs.Wait()
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return fr.syncErr
}

// writeRecorded writes path whole (tmp file and rename) and records its
// size and SHA-256 in rec under its base name. Its fsync runs later, on
// another goroutine (fileRecords.syncLater): the writer goes on while
// gigabytes are flushed, and publish waits for them.
func writeRecorded(rec *fileRecords, path string, fn func(io.Writer) error) error {
	h := sha256.New()
	var n int64
	err := atomicfile.WriteFileUnsynced(path, outputFileMode, func(w io.Writer) error {
		cw := &countingWriter{w: io.MultiWriter(w, h)}
		err := fn(cw)
		n = cw.n
		return err
	})
	if err != nil {
		return err
	}
	rec.add(FileInfo{Name: filepath.Base(path), Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	rec.syncLater(path)
	return nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeFileAtomic replaces path with data atomically and durably, mode 0644.
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.WriteBytes(path, outputFileMode, data)
}
