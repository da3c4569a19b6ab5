package generation

// The base store: every whole serve-ready shard file of a generations root
// lives once, named by its content, in ROOT/bases/<sha256>.serve, and the
// generation directories refer to it by a relative symbolic link
// (`url-N.serve` for a whole shard, `url-N.base.serve` for the base of a
// patch).
//
// Why not hard links, as for the other shard files: an in-place update
// writes every touched shard as a patch over the previous whole file, so
// at 10^8 keys some 2,000 files (20 GB) are shared by every generation
// since the last full processing. Linking or unlinking a name of an inode
// sets the inode's ctime, and a verification stamp (stamp.go) then no
// longer trusts it: with hard links, each prune of an old generation would
// make the next start and the next update hash all the bases again. A
// symbolic link is an inode of its own; creating and removing links never
// touches the base, so its stamp entries hold for as long as it exists.
// Bases no kept generation refers to are removed after each prune
// (removeUnused) and at the start of a build (those of a build that
// died before publishing).
//
// Where the file system refuses symbolic links, the whole files stay in
// the generation directories (hard-linked across generations), as before.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/blindlist/blindlist/internal/atomicfile"
)

// BasesDir is the base store's directory in a generations root.
const BasesDir = "bases"

// baseSuffix ends every file name in the base store.
const baseSuffix = ".serve"

// baseLinkPrefix is how a link in ROOT/generations/<id>/ reaches the store.
var baseLinkPrefix = filepath.Join("..", "..", BasesDir) + string(filepath.Separator)

// baseStore is the base store of one generations root.
type baseStore struct {
	dir string // ROOT/bases
}

// storeOf returns the base store of the root whose generation (or staging)
// directory is genDir.
func storeOf(genDir string) baseStore {
	return baseStore{dir: filepath.Join(filepath.Dir(filepath.Dir(genDir)), BasesDir)}
}

// place moves the whole serve-ready file at path, whose SHA-256 is sum
// (hex), into the store (or drops it when the store already holds that
// content) and leaves a relative symbolic link to it at path. Where links
// are refused it leaves path a regular file.
func (s baseStore) place(path, sum string) error {
	if len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		return fmt.Errorf("generation: %q is not a SHA-256", sum)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	name := sum + baseSuffix
	dst := filepath.Join(s.dir, name)
	if _, err := os.Stat(dst); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(path, dst); err != nil {
			return nil // the store is elsewhere (another file system): the generation keeps the file
		}
		if err := atomicfile.SyncDir(s.dir); err != nil {
			return fmt.Errorf("generation: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("generation: %w", err)
	} else if err := os.Remove(path); err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	return linkToStore(name, path, dst)
}

// linkToStore puts at path a relative symbolic link to the store's file
// name; where the file system refuses symbolic links, path becomes fallback
// itself (a hard link or a durable copy), as before the store existed.
func linkToStore(name, path, fallback string) error {
	if err := os.Symlink(baseLinkPrefix+name, path); err != nil {
		return linkOrCopy(fallback, path)
	}
	return nil
}

// storeName returns the name of the store's file that path links to, if
// path is a link into the store.
func storeName(path string) (string, bool) {
	t, err := os.Readlink(path)
	if err != nil || !strings.HasPrefix(t, baseLinkPrefix) {
		return "", false
	}
	return strings.TrimPrefix(t, baseLinkPrefix), true
}

// linkTo gives dst the link src has when src is a link into a base store
// (the same relative target: both are in generation directories of one
// root), and reports whether it was one.
func linkTo(src, dst string) (bool, error) {
	name, ok := storeName(src)
	if !ok {
		return false, nil
	}
	if err := os.Symlink(baseLinkPrefix+name, dst); err != nil {
		return false, fmt.Errorf("generation: %w", err)
	}
	return true, nil
}

// linkShardFile puts src (a file of the previous generation) at dst in the
// new one: the same link when src is a link into the base store, else a
// hard link (or a durable copy).
func linkShardFile(src, dst string) error {
	if ok, err := linkTo(src, dst); ok || err != nil {
		return err
	}
	return linkOrCopy(src, dst)
}

// adopt makes dst refer to the whole serve-ready file src of the previous
// generation, whose SHA-256 is sum, through the base store: the same link
// when src is one, else (a generation written before the store existed)
// a hard link of src into the store, made once, and a link to it.
func (s baseStore) adopt(src, dst, sum string) error {
	if ok, err := linkTo(src, dst); ok || err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	name := sum + baseSuffix
	if err := os.Link(src, filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrExist) {
		return linkOrCopy(src, dst) // no links at all here: a copy, as before
	}
	return linkToStore(name, dst, src)
}

// removeUnused removes the files of the store that no generation directory
// of root links to, and returns how many.
func (s baseStore) removeUnused(root string) (int, error) {
	ents, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("generation: %w", err)
	}
	used := map[string]bool{}
	gens, err := os.ReadDir(filepath.Join(root, GenerationsDir))
	if err != nil {
		return 0, fmt.Errorf("generation: %w", err)
	}
	for _, g := range gens {
		if !g.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, GenerationsDir, g.Name()))
		if err != nil {
			return 0, fmt.Errorf("generation: %w", err)
		}
		for _, f := range files {
			if f.Type()&fs.ModeSymlink == 0 {
				continue
			}
			if name, ok := storeName(filepath.Join(root, GenerationsDir, g.Name(), f.Name())); ok {
				used[name] = true
			}
		}
	}
	n := 0
	for _, e := range ents {
		if used[e.Name()] {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, e.Name())); err != nil {
			return n, fmt.Errorf("generation: %w", err)
		}
		n++
	}
	return n, nil
}
