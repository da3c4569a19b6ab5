package generation

// The prefilter stage of a build whose compile spilled (blocklist
// Result.Spilled): the keys are never all in memory. One merge of the
// compile's sorted runs writes keys.txt and provenance.txt.gz and hashes
// the keys for the seed; one pass over keys.txt then fills the Bloom filter
// and writes input.txtpb. The files are byte for byte those of the
// in-memory path (build_spilled_test.go).

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/bloom"
)

// writeSpilled writes the prefilter stage's files of a spilled compile
// into dir and sets r.Filter and r.Manifest.
// compiled is the compile's duration, for the one summary line.
func (c *Config) writeSpilled(ctx context.Context, dir string, r *Result, sk *blocklist.SpilledKeys, compiled time.Duration) error {
	start := time.Now()
	keysPath := filepath.Join(dir, KeysFile)
	err := writeRecorded(&r.written, keysPath, func(kw io.Writer) error {
		return writeRecorded(&r.written, filepath.Join(dir, ProvenanceFile), func(pw io.Writer) error {
			return sk.Write(ctx, kw, pw)
		})
	})
	if err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	if err := sk.Remove(); err != nil { // the runs are merged: free their disk before the PIR stage
		return fmt.Errorf("generation: removing spill files: %w", err)
	}
	merged := time.Since(start)
	if r.keysWritten != nil {
		close(r.keysWritten) // the PIR stage may read keys.txt now
	}
	seed, derived := uint32(0), c.Seed == nil
	if derived {
		// SeedFromKeys: SHA-256 over the keys, one per line, is the
		// SHA-256 of keys.txt, recorded as it was written.
		sum, err := hex.DecodeString(r.written.all()[KeysFile].SHA256)
		if err != nil || len(sum) != sha256.Size {
			return fmt.Errorf("generation: no digest recorded for %s", KeysFile)
		}
		seed = binary.BigEndian.Uint32(sum)
	} else {
		seed = *c.Seed
	}
	f, err := bloom.New(r.KeyCount, c.Tolerance, seed)
	if err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	src := keySource{path: keysPath, n: r.KeyCount}
	// The Bloom bits through a Loader (probes ordered by region of the
	// 180 MB array at 10^8 keys, not a cache miss each) and the text
	// proto of each batch beside it, on another goroutine.
	loader := f.NewLoader(c.Workers)
	passStart, passed := time.Now(), 0
	err = writeRecorded(&r.written, filepath.Join(dir, KeywordDBFile), func(w io.Writer) error {
		return src.batches(ctx, func(batch []string) error {
			if passed += len(batch); c.Progressf != nil && passed%(1<<22) < len(batch) {
				c.Progressf("prefilter: %d of %d keys added, %s", passed, r.KeyCount, eta(time.Since(passStart), passed, r.KeyCount))
			}
			if c.Workers == 1 {
				loader.AddStrings(batch)
				return WriteKeywordDB(w, batch)
			}
			written := make(chan error, 1)
			go func() { written <- WriteKeywordDB(w, batch) }()
			loader.AddStrings(batch)
			return <-written
		})
	})
	if err != nil {
		return err
	}
	loader.Flush()
	r.Filter = f
	r.Manifest = c.manifest(f, r, derived)
	mj, err := json.MarshalIndent(r.Manifest, "", "  ")
	if err != nil {
		return fmt.Errorf("generation: encoding manifest: %w", err)
	}
	if err := f.WriteDir(dir); err != nil {
		return err
	}
	c.logf("compile: %d keys from %d entries out of memory (budget %d MiB): compiled in %.1f s, merged into %s and %s in %.1f s, prefilter and %s in %.1f s",
		r.KeyCount, r.Report.Entries, c.budget()>>20, compiled.Seconds(), KeysFile, ProvenanceFile, merged.Seconds(),
		KeywordDBFile, (time.Since(start) - merged).Seconds())
	return writeFileAtomic(filepath.Join(dir, ManifestFile), append(mj, '\n'))
}
