//go:build unix

package pir

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// openServeFile maps a serve-ready file read-only (and, for a patch, its
// base too) and builds the shard over the mapping. The mapping is released when the Database becomes
// unreachable (answers hold their Database while they read it). Pages are
// the page cache's: shared by every process and generation that maps the
// same file, and dropped under memory pressure instead of swapped.
func openServeFile(path string, p *Params, checkRes bool) (*Database, error) {
	b, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	var db *Database
	var base []byte
	if isPatch(b) {
		if base, err = mapFile(ServeBasePath(path)); err != nil {
			unix.Munmap(b)
			return nil, err
		}
		db, err = databaseFromPatch(b, base, p, checkRes)
	} else {
		db, err = databaseFromServe(b, p, checkRes)
	}
	if err != nil {
		unix.Munmap(b)
		if base != nil {
			unix.Munmap(base)
		}
		return nil, err
	}
	db.mapped = true
	runtime.AddCleanup(db, func(b []byte) { unix.Munmap(b) }, b)
	if base != nil {
		runtime.AddCleanup(db, func(b []byte) { unix.Munmap(b) }, base)
	}
	return db, nil
}

// mapFile maps the serve-ready file (whole, patch or base) at path
// read-only, refusing sizes no header can have.
func mapFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pir: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("pir: %w", err)
	}
	size := fi.Size()
	if size < serveHeaderSize || size > maxServeFileBytes {
		return nil, fmt.Errorf("pir: serve-ready file %s is %d bytes (truncated or corrupt)", path, size)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("pir: mapping serve-ready file: %w", err)
	}
	return b, nil
}

// ShardHeapBytes estimates what [OpenDatabase] puts in the Go heap for the
// shard whose `.bin` is binPath: nothing when its serve-ready file is
// there (it is mapped), else the `.bin`'s size.
func ShardHeapBytes(binPath string) (int64, error) {
	if _, err := os.Stat(ServePath(binPath)); err == nil {
		return 0, nil
	}
	st, err := os.Stat(binPath)
	if err != nil {
		return 0, fmt.Errorf("pir: %w", err)
	}
	return st.Size(), nil
}
