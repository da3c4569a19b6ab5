package generation

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/blindlist/blindlist/bloom"
	"github.com/blindlist/blindlist/internal/atomicfile"
	"github.com/blindlist/blindlist/pir"
)

// The layout of an output directory (the root):
//
//	ROOT/generations/000007/   one immutable generation: prefilter, keys,
//	                           shards, manifests and GenerationFile
//	ROOT/current -> generations/000007
//	                           the published generation, a symbolic link
//	                           replaced by one rename (the atomic step)
//	ROOT/.lock                 held by the build that is publishing
//
// A generation directory is complete before it gets its final name, and it
// is never written again; readers resolve current once and read everything
// from that one directory, so they never see two builds mixed.
const (
	// GenerationsDir holds the generations, one directory each.
	GenerationsDir = "generations"
	// CurrentLink names the published generation.
	CurrentLink = "current"
	// GenerationFile is a generation's manifest: what it holds, with the
	// size and SHA-256 of every file, checked before it is served.
	GenerationFile = "generation.json"
	// DefaultKeep is how many generations a build keeps, the new one
	// included.
	DefaultKeep = 5
	// GenerationFormat versions GenerationFile.
	GenerationFormat = 1

	stagingPrefix = ".staging-"
	lockFile      = ".lock"
)

// GenerationManifest is GenerationFile.
type GenerationManifest struct {
	Format int `json:"format"`
	// ID is the generation's directory name: a decimal sequence number,
	// zero-padded to six digits, one more than the newest before it.
	ID string `json:"id"`
	// Created is when the build published it (RFC 3339, UTC).
	Created string `json:"created"`
	// Previous is the generation that was current when this one was built
	// ("" for the first).
	Previous string `json:"previous,omitempty"`
	// Keys is the number of keys; Added and Removed compare them with
	// Previous.
	Keys    int `json:"keys"`
	Added   int `json:"added"`
	Removed int `json:"removed"`
	// Prefilter describes prefilter.bin (its tag is the SHA-256 of the
	// bits).
	Prefilter bloom.Manifest `json:"prefilter"`
	// ShardCount is the number of PIR shards, 0 for a build without PIR;
	// Stem names their files and Settings are the PIR settings.
	ShardCount int          `json:"shard_count"`
	Stem       string       `json:"stem,omitempty"`
	Settings   *PIRSettings `json:"settings,omitempty"`
	// ConfigID is the PIR configuration id devices see in /config.
	ConfigID string `json:"config_id,omitempty"`
	// Files lists every file of the generation but this one, by name.
	Files []FileInfo `json:"files"`
}

// Generation is a verified generation on disk.
type Generation struct {
	// Root is the output directory; Dir the generation's own directory.
	Root, Dir string
	Manifest  GenerationManifest
	// Hashed is how many bytes the open read to check their SHA-256; the
	// files trusted by their verification stamp (see stamp.go) are not.
	Hashed int64
	// hashedFiles counts the files hashed (not trusted by their stamp).
	hashedFiles int
}

// ID returns the generation's id.
func (g *Generation) ID() string { return g.Manifest.ID }

// IsRoot reports whether dir is laid out in generations (it has a current
// link or a generations directory).
func IsRoot(dir string) bool {
	if _, err := os.Lstat(filepath.Join(dir, CurrentLink)); err == nil {
		return true
	}
	fi, err := os.Stat(filepath.Join(dir, GenerationsDir))
	return err == nil && fi.IsDir()
}

// Resolve returns the directory to read a build's files from: the current
// generation of a root laid out in generations, or dir itself for a
// directory in the flat layout of earlier versions (or of other tools).
func Resolve(dir string) (string, error) {
	if !IsRoot(dir) {
		return dir, nil
	}
	id, err := CurrentID(dir)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, GenerationsDir, id), nil
}

// CurrentID returns the id of the published generation of root.
func CurrentID(root string) (string, error) {
	target, err := os.Readlink(filepath.Join(root, CurrentLink))
	if err != nil {
		return "", fmt.Errorf("generation: %s has no published generation: %w", root, err)
	}
	dir, id := filepath.Split(filepath.Clean(target))
	if filepath.Clean(dir) != GenerationsDir || !validID(id) {
		return "", fmt.Errorf("generation: %s: %s points to %q, not %s/<id>", root, CurrentLink, target, GenerationsDir)
	}
	return id, nil
}

// validID reports whether id is a generation id (decimal digits only).
func validID(id string) bool {
	if id == "" || len(id) > 18 {
		return false
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// IDs returns the ids of the generations in root, oldest first. Staging
// directories and anything else are ignored.
func IDs(root string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(root, GenerationsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("generation: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && validID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	slices.SortFunc(ids, func(a, b string) int {
		x, _ := strconv.ParseUint(a, 10, 64)
		y, _ := strconv.ParseUint(b, 10, 64)
		return cmp.Compare(x, y)
	})
	return ids, nil
}

// Open verifies and returns the published generation of root.
func Open(root string) (*Generation, error) {
	id, err := CurrentID(root)
	if err != nil {
		return nil, err
	}
	return OpenID(root, id)
}

// OpenID verifies and returns generation id of root: its manifest must be
// readable, every file listed must be there with its size and SHA-256, the
// shard files must be exactly ShardCount, and the PIR manifest must agree
// on the shard count and settings. A generation that fails is never served.
//
// A file whose verification stamp still matches its stat (size, device,
// inode, mtime, ctime) is trusted without being read again: the SHA-256
// is paid once per file version (see the package documentation); the
// others are hashed and the stamp is rewritten.
func OpenID(root, id string) (*Generation, error) {
	return openID(root, id, false)
}

// OpenIDFull is OpenID that hashes every file, stamped or not: the check
// for what stamps cannot see (a change that bypassed the file system, such
// as media bit rot). It rewrites the stamp.
func OpenIDFull(root, id string) (*Generation, error) {
	return openID(root, id, true)
}

// ReadManifest returns the manifest of generation id of root without
// verifying the generation (see OpenID).
func ReadManifest(root, id string) (*GenerationManifest, error) {
	if !validID(id) {
		return nil, fmt.Errorf("generation: %q is not a generation id", id)
	}
	var m GenerationManifest
	raw, err := os.ReadFile(filepath.Join(root, GenerationsDir, id, GenerationFile))
	if err != nil {
		return nil, fmt.Errorf("generation %s: %w", id, err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("generation %s: %s is unreadable: %w", id, GenerationFile, err)
	}
	if m.ID != id {
		return nil, fmt.Errorf("generation %s: %s names generation %q", id, GenerationFile, m.ID)
	}
	return &m, nil
}

func openID(root, id string, full bool) (*Generation, error) {
	if !validID(id) {
		return nil, fmt.Errorf("generation: %q is not a generation id", id)
	}
	dir := filepath.Join(root, GenerationsDir, id)
	g := &Generation{Root: root, Dir: dir}
	raw, err := os.ReadFile(filepath.Join(dir, GenerationFile))
	if err != nil {
		return nil, fmt.Errorf("generation %s: %w", id, err)
	}
	if err := json.Unmarshal(raw, &g.Manifest); err != nil {
		return nil, fmt.Errorf("generation %s: %s is unreadable: %w", id, GenerationFile, err)
	}
	var stamps map[string]stampEntry
	if !full {
		stamps = readStamp(root, id)
	}
	entries, err := g.verify(id, stamps)
	if err != nil {
		return nil, fmt.Errorf("generation %s (%s): %w", id, dir, err)
	}
	if g.hashedFiles > 0 || len(entries) != len(stamps) {
		writeStamp(root, id, entries)
	}
	return g, nil
}

// verify checks the generation against its manifest, trusting the files
// whose stamp entry in stamps still holds, and returns the stamp entries
// of the files it can vouch for.
func (g *Generation) verify(id string, stamps map[string]stampEntry) ([]stampEntry, error) {
	m := &g.Manifest
	switch {
	case m.Format != GenerationFormat:
		return nil, fmt.Errorf("%s has format %d, want %d", GenerationFile, m.Format, GenerationFormat)
	case m.ID != id:
		return nil, fmt.Errorf("%s names generation %q", GenerationFile, m.ID)
	case m.ShardCount < 0 || m.ShardCount > 1<<16:
		return nil, fmt.Errorf("%s: shard count %d", GenerationFile, m.ShardCount)
	}
	listed := map[string]bool{GenerationFile: true}
	var entries []stampEntry
	for _, f := range m.Files {
		if f.Name != filepath.Base(f.Name) || f.Name == "." || f.Name == ".." || strings.HasPrefix(f.Name, ".") {
			return nil, fmt.Errorf("%s lists %q, not a plain file name", GenerationFile, f.Name)
		}
		if listed[f.Name] {
			return nil, fmt.Errorf("%s lists %s twice", GenerationFile, f.Name)
		}
		listed[f.Name] = true
		path := filepath.Join(g.Dir, f.Name)
		if e, ok := stamps[f.Name]; ok {
			if now, ok := pathID(path); e.trusts(f, now, ok) {
				entries = append(entries, e)
				continue
			}
		}
		got, e, stampable, err := checkFile(path, f.Name, false)
		if err != nil {
			return nil, fmt.Errorf("missing or unreadable file: %w", err)
		}
		g.Hashed += got.Bytes
		g.hashedFiles++
		if got != f {
			return nil, fmt.Errorf("%s: %d bytes, SHA-256 %.16s…; the manifest says %d bytes, %.16s…", f.Name, got.Bytes, got.SHA256, f.Bytes, f.SHA256)
		}
		if stampable {
			entries = append(entries, e)
		}
	}
	for _, must := range []string{bloom.BitsFile, KeysFile} {
		if !listed[must] {
			return nil, fmt.Errorf("%s does not list %s", GenerationFile, must)
		}
	}
	ents, err := os.ReadDir(g.Dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !listed[e.Name()] {
			return nil, fmt.Errorf("%s is not in %s", e.Name(), GenerationFile)
		}
	}
	if m.ShardCount == 0 {
		return entries, nil
	}
	for i := range m.ShardCount {
		bin, params := pir.ShardPaths("", m.Stem, i)
		// An updated shard has its serve-ready file (whole, or a patch
		// with its base) without a .bin.
		if !listed[params] || (!listed[bin] && !listed[pir.ServePath(bin)]) {
			return nil, fmt.Errorf("shard %d of %d (%s) is not listed", i, m.ShardCount, bin)
		}
	}
	if bin, _ := pir.ShardPaths("", m.Stem, m.ShardCount); listed[bin] {
		return nil, fmt.Errorf("holds more than its %d shards", m.ShardCount)
	}
	var pm PIRManifest
	raw, err := os.ReadFile(filepath.Join(g.Dir, PIRManifestFile))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &pm); err != nil {
		return nil, fmt.Errorf("%s is unreadable: %w", PIRManifestFile, err)
	}
	switch {
	case pm.ShardCount != m.ShardCount || len(pm.Shards) != m.ShardCount:
		return nil, fmt.Errorf("%s has %d shards, %s %d", PIRManifestFile, pm.ShardCount, GenerationFile, m.ShardCount)
	case m.Settings == nil || pm.Settings != *m.Settings:
		return nil, fmt.Errorf("%s and %s disagree on the PIR settings", PIRManifestFile, GenerationFile)
	case pm.ConfigID != m.ConfigID:
		return nil, fmt.Errorf("%s and %s disagree on the config id", PIRManifestFile, GenerationFile)
	}
	return entries, nil
}

// List returns the manifests of the generations in root, oldest first,
// without verifying the files (see OpenID). A generation whose manifest
// cannot be read is listed with only its ID.
func List(root string) ([]GenerationManifest, error) {
	ids, err := IDs(root)
	if err != nil {
		return nil, err
	}
	out := make([]GenerationManifest, 0, len(ids))
	for _, id := range ids {
		m := GenerationManifest{ID: id}
		if raw, err := os.ReadFile(filepath.Join(root, GenerationsDir, id, GenerationFile)); err == nil {
			if json.Unmarshal(raw, &m) != nil || m.ID != id {
				m = GenerationManifest{ID: id}
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// Rollback verifies generation id of root and publishes it as current,
// atomically. The generations newer than it stay on disk until pruned.
func Rollback(root, id string) error {
	unlock, err := lock(root)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := OpenID(root, id); err != nil {
		return fmt.Errorf("generation: not rolling back: %w", err)
	}
	return switchCurrent(root, id, nil)
}

// switchCurrent points root/current at generation id with one rename of a
// new symbolic link over the old one, then makes the rename durable.
func switchCurrent(root, id string, crash func(string) error) error {
	tmp := filepath.Join(root, ".current-"+id)
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Join(GenerationsDir, id), tmp); err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	if err := crashAt(crash, "link-created"); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(root, CurrentLink)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("generation: publishing %s: %w", id, err)
	}
	if err := crashAt(crash, "link-renamed"); err != nil {
		return err
	}
	return atomicfile.SyncDir(root)
}

// crashAt runs the fault-injection hook of a publish step.
func crashAt(crash func(string) error, step string) error {
	if crash == nil {
		return nil
	}
	return crash(step)
}

// linkOrCopy makes dst the same file as src: a hard link, or, where the
// file system refuses (another device, no link support), a durable copy.
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return atomicfile.WriteFile(dst, outputFileMode, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}
