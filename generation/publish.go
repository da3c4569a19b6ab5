package generation

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/blindlist/blindlist/bloom"
	"github.com/blindlist/blindlist/internal/atomicfile"
	"github.com/blindlist/blindlist/pir"
)

// errCrash marks an error returned by the testingOnlyCrash hook: the build
// stops without clean-up, as a killed process would.
type errCrash struct{ err error }

func (e errCrash) Error() string { return e.err.Error() }
func (e errCrash) Unwrap() error { return e.err }

// crash runs the fault-injection hook at a publish step.
func (c *Config) crash(step string) error {
	if c.testingOnlyCrash == nil {
		return nil
	}
	if err := c.testingOnlyCrash(step); err != nil {
		return errCrash{err}
	}
	return nil
}

// publish writes a new generation of root and publishes it (the caller
// holds the lock):
//
//  1. leftovers of interrupted builds are removed;
//  2. write and the PIR stage fill generations/.staging-<id>-*, unchanged
//     shards linked from the previous generation;
//  3. GenerationFile lists every file with its digest; every file and the
//     directory are fsynced;
//  4. the directory is renamed to generations/<id> (invisible to readers,
//     who follow current);
//  5. current is switched by one rename: the atomic step;
//  6. the flat layout of earlier versions is removed, old generations
//     beyond Keep are pruned.
//
// A crash before step 5 leaves the previous generation current and whole;
// after it, the new one. Either way readers see one complete generation.
func (c *Config) publish(ctx context.Context, root string, r *Result, write func(dir string) error) (err error) {
	gens := filepath.Join(root, GenerationsDir)
	if err := os.MkdirAll(gens, 0o755); err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	c.removeLeftovers(root)
	prevID, prevDir, legacy := previousOf(root, c.PIR.withDefaults().Stem)
	id, err := nextID(root)
	if err != nil {
		return err
	}
	staging, err := os.MkdirTemp(gens, stagingPrefix+id+"-")
	if err != nil {
		return fmt.Errorf("generation: creating staging directory: %w", err)
	}
	if err := os.Chmod(staging, 0o755); err != nil { // public data, like its files
		return fmt.Errorf("generation: %w", err)
	}
	defer func() {
		if err != nil && !errors.As(err, new(errCrash)) {
			os.RemoveAll(staging)
		}
	}()
	man := GenerationManifest{
		Format: GenerationFormat, ID: id, Previous: prevID, Keys: r.KeyCount,
	}
	keys := memoryKeys(r.Keys)
	if r.Keys == nil { // a spilled compile: the keys are only in the staged keys file
		keys = keySource{path: filepath.Join(staging, KeysFile), n: r.KeyCount}
	}
	buildPIR := func(ctx context.Context) error {
		if c.PIR.Disabled {
			return nil
		}
		var err error
		r.PIR, err = c.PIR.buildPIR(ctx, keys, staging, prevDir, c.Workers, c.logf, c.Progressf, c.testingOnlyShardDone)
		return err
	}
	if r.keysWritten == nil || c.PIR.Disabled || c.Workers == 1 {
		if err := write(staging); err != nil {
			return err
		}
		if err := c.crash("prefilter-written"); err != nil {
			return err
		}
		if err := buildPIR(ctx); err != nil {
			return err
		}
	} else if err := c.writeBesidePIR(ctx, staging, r, write, buildPIR); err != nil {
		return err
	}
	man.Created, man.Prefilter = time.Now().UTC().Format(time.RFC3339), r.Manifest.Prefilter
	if r.PIR != nil {
		man.ShardCount, man.Stem, man.ConfigID = r.PIR.ShardCount, r.PIR.Settings.Stem, r.PIR.ConfigID
		settings := r.PIR.Settings
		man.Settings = &settings
	}
	if err := c.crash("shards-written"); err != nil {
		return err
	}
	switch {
	case r.PIR != nil && r.PIR.keyDiff != nil: // merged beside the PIR routing
		man.Added, man.Removed = r.PIR.keyDiff[0], r.PIR.keyDiff[1]
	case prevDir != "":
		man.Added, man.Removed = diffKeys(ctx, filepath.Join(prevDir, KeysFile), keys)
	default:
		man.Added = r.KeyCount
	}
	// The key files were flushed on goroutines of their own (writeRecorded):
	// they must be on stable storage before the generation lists them.
	if err := r.written.waitSynced(); err != nil {
		return err
	}
	known := r.written.all()
	if known == nil {
		known = map[string]FileInfo{}
	}
	maps.Copy(known, r.PIR.fileDigests())
	stamp, err := writeGenerationFile(staging, &man, known)
	if err != nil {
		return err
	}
	if err := c.crash("staged"); err != nil {
		return err
	}
	final := filepath.Join(gens, id)
	if err := os.Rename(staging, final); err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	staging = final // a failure from here on leaves an unpublished generation, removed by the next build
	if err := atomicfile.SyncDir(gens); err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	// The files were hashed as they were written: the first serve need
	// not read them again (stamp.go). Renaming the directory changed no
	// file's identity.
	writeStamp(root, id, stamp)
	if err := c.crash("renamed"); err != nil {
		return err
	}
	if err := switchCurrent(root, id, c.crash); err != nil {
		return err
	}
	r.Generation = &Generation{Root: root, Dir: final, Manifest: man}
	c.logf("published generation %s: %d keys (+%d -%d), %d shards", id, man.Keys, man.Added, man.Removed, man.ShardCount)
	if err := c.crash("published"); err != nil {
		return err
	}
	if legacy {
		removeFlatLayout(root, c.PIR.withDefaults().Stem)
		r.Migrated = true
		c.logf("moved %s to the generations layout: its files are now in %s", root, filepath.Join(GenerationsDir, id))
	}
	r.Pruned, err = prune(root, id, c.Keep)
	if err == nil {
		for _, p := range r.Pruned {
			c.logf("removed generation %s (keeping %d)", p, max(c.Keep, 0))
		}
		_, err = storeOf(final).removeUnused(root)
	}
	return err
}

// removeLeftovers removes the staging directories and link files of
// interrupted builds, and generations newer than current that an
// interrupted build renamed but never published.
func (c *Config) removeLeftovers(root string) {
	gens := filepath.Join(root, GenerationsDir)
	old, _ := filepath.Glob(filepath.Join(gens, stagingPrefix+"*"))
	for _, d := range old {
		if os.RemoveAll(d) == nil {
			c.logf("removed %s left by an interrupted build", filepath.Join(GenerationsDir, filepath.Base(d)))
		}
	}
	spills, _ := filepath.Glob(filepath.Join(root, spillPrefix+"*"))
	for _, d := range spills {
		if unused(d) && os.RemoveAll(d) == nil {
			c.logf("removed %s left by an interrupted build", filepath.Base(d))
		}
	}
	stamps, _ := filepath.Glob(filepath.Join(gens, "*"+stampSuffix))
	for _, st := range stamps {
		if _, err := os.Stat(strings.TrimSuffix(st, stampSuffix)); errors.Is(err, os.ErrNotExist) {
			os.Remove(st) // its generation is gone
		}
	}
	// Bases of a build that died before publishing (no generation links
	// them). The caller holds the lock: no other build is placing any.
	if n, err := (baseStore{dir: filepath.Join(root, BasesDir)}).removeUnused(root); err == nil && n > 0 {
		c.logf("removed %d unused base files from %s", n, BasesDir)
	}
	links, _ := filepath.Glob(filepath.Join(root, ".current-*"))
	for _, l := range links {
		os.Remove(l)
	}
	cur, err := CurrentID(root)
	if err != nil {
		return
	}
	ids, _ := IDs(root)
	curN, _ := strconv.ParseUint(cur, 10, 64)
	for _, id := range ids {
		if n, _ := strconv.ParseUint(id, 10, 64); n > curN {
			if _, err := os.Stat(filepath.Join(gens, id, GenerationFile)); err == nil {
				continue // complete: a rollback target, kept until pruned
			}
			if os.RemoveAll(filepath.Join(gens, id)) == nil {
				c.logf("removed incomplete generation %s left by an interrupted build", id)
			}
		}
	}
}

// previousOf returns the generation the new one builds on: the current
// one, or root itself when it holds a build in the flat layout of earlier
// versions (legacy).
func previousOf(root, stem string) (id, dir string, legacy bool) {
	if id, err := CurrentID(root); err == nil {
		return id, filepath.Join(root, GenerationsDir, id), false
	}
	for _, name := range []string{PIRManifestFile, bloom.BitsFile, KeysFile} {
		if fileExists(filepath.Join(root, name)) {
			return "", root, true
		}
	}
	if bin, _ := pir.ShardPaths(root, stem, 0); fileExists(bin) {
		return "", root, true
	}
	return "", "", false
}

// removeFlatLayout removes the files a build of an earlier version wrote
// directly into root, once a generation holds their successors.
func removeFlatLayout(root, stem string) {
	for _, name := range append(append([]string{}, StagedFiles...), PIRManifestFile, KeyConfigFile) {
		os.Remove(filepath.Join(root, name))
	}
	for i := 0; ; i++ {
		bin, params := pir.ShardPaths(root, stem, i)
		if !fileExists(bin) && !fileExists(params) {
			break
		}
		os.Remove(params)
		os.Remove(bin)
	}
	old, _ := filepath.Glob(filepath.Join(root, ".build-staging-*"))
	old2, _ := filepath.Glob(filepath.Join(root, ".pir-staging-*"))
	for _, d := range append(old, old2...) {
		os.RemoveAll(d)
	}
	atomicfile.SyncDir(root)
}

// nextID returns one more than the newest generation id in root.
func nextID(root string) (string, error) {
	ids, err := IDs(root)
	if err != nil {
		return "", err
	}
	var n uint64
	if len(ids) > 0 {
		n, _ = strconv.ParseUint(ids[len(ids)-1], 10, 64)
	}
	return fmt.Sprintf("%06d", n+1), nil
}

// writeGenerationFile lists every file of dir in m (size and SHA-256,
// fsyncing each), writes GenerationFile and fsyncs the directory. It
// returns the verification stamp entries of the files (stamp.go). Files in
// known (the PIR shards, hashed and flushed as they were staged, or
// verified and hard-linked from the previous generation) are taken from
// it after a size check instead of read again: at 2,000 shards that is
// some 30 GB not hashed a second time.
func writeGenerationFile(dir string, m *GenerationManifest, known map[string]FileInfo) ([]stampEntry, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("generation: %w", err)
	}
	var stamp []stampEntry
	m.Files = m.Files[:0]
	for _, e := range ents {
		if e.Name() == GenerationFile {
			continue
		}
		path := filepath.Join(dir, e.Name())
		fi, ok := known[e.Name()]
		var se stampEntry
		if ok {
			se, ok = identify(path, fi)
		}
		if !ok {
			var err error
			if fi, se, ok, err = checkFile(path, e.Name(), true); err != nil {
				return nil, fmt.Errorf("generation: %w", err)
			}
		}
		m.Files = append(m.Files, fi)
		if ok {
			stamp = append(stamp, se)
		}
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("generation: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, GenerationFile), append(mj, '\n')); err != nil {
		return nil, fmt.Errorf("generation: %w", err)
	}
	return stamp, atomicfile.SyncDir(dir)
}

// prune removes the oldest generations so that keep remain (the current
// one always stays), and returns their ids.
func prune(root, current string, keep int) ([]string, error) {
	if keep <= 0 {
		keep = DefaultKeep
	}
	ids, err := IDs(root)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, id := range ids {
		if len(ids)-len(removed) <= keep {
			break
		}
		if id == current {
			continue
		}
		if err := os.RemoveAll(filepath.Join(root, GenerationsDir, id)); err != nil {
			return removed, fmt.Errorf("generation: pruning %s: %w", id, err)
		}
		os.Remove(stampPath(root, id))
		removed = append(removed, id)
	}
	return removed, nil
}

// writeBesidePIR runs write (a spilled build's prefilter stage) and, once
// it has written keys.txt, the PIR stage beside it: the Bloom filter and
// input.txtpb take one pass over the keys file and the PIR routing
// another, independent one, so on two or more cores they overlap (at
// 10^8 keys some 20 s each). A failed write cancels the PIR stage.
func (c *Config) writeBesidePIR(ctx context.Context, staging string, r *Result, write func(string) error, buildPIR func(context.Context) error) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var writeErr error
	written := make(chan struct{})
	go func() {
		defer close(written)
		if writeErr = write(staging); writeErr != nil {
			cancel()
		}
	}()
	select {
	case <-r.keysWritten:
	case <-written:
		if writeErr != nil {
			return writeErr
		}
	}
	pirErr := buildPIR(pctx)
	<-written
	if writeErr != nil {
		return writeErr
	}
	if err := c.crash("prefilter-written"); err != nil {
		return err
	}
	return pirErr
}

// diffKeys counts the keys of next (sorted, distinct) that the sorted key
// file at prevPath lacks (added) and the keys of the file next lacks
// (removed), by one merge pass. An unreadable file counts every key added.
func diffKeys(ctx context.Context, prevPath string, next keySource) (added, removed int) {
	f, err := os.Open(prevPath)
	if err != nil {
		return next.Len(), 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	prev, more := "", true
	advance := func() {
		for more = sc.Scan(); more; more = sc.Scan() {
			if prev = strings.TrimSpace(sc.Text()); prev != "" {
				return
			}
		}
	}
	advance()
	err = next.batches(ctx, func(batch []string) error {
		for _, k := range batch {
			for more && prev < k {
				removed++
				advance()
			}
			if more && prev == k {
				advance()
				continue
			}
			added++
		}
		return nil
	})
	if err != nil {
		return next.Len(), 0
	}
	for more {
		removed++
		advance()
	}
	return added, removed
}
