package generation

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Verification stamps make the SHA-256 of a generation's files a cost paid
// once per file version instead of at every start (a 10^8-key generation
// is some 45 GB). Once a file has been hashed and matched its manifest
// entry (by the build that wrote it, or by a full check in OpenID), its
// identity is recorded in ROOT/generations/<id>.verified, beside the
// generation directory so that the directory still holds exactly the
// files its manifest lists:
//
//	size, device, inode, mtime and ctime (nanoseconds), the SHA-256 it
//	matched, and when that identity was taken.
//
// OpenID trusts a file without reading it only when its stat equals its
// stamp entry in every field, the entry's size and SHA-256 equal the
// manifest's, and the file's ctime is at least stampMargin older than when
// the entry was taken. Anything else (no stamp, an unreadable or foreign
// stamp, any differing field) means a full SHA-256 of that file, as
// without stamps, and a rewritten stamp.
//
// What this detects: truncation or growth (size), replacement by rename or
// copy (inode, device, ctime), and any write, chmod, chown or link through
// the file system (each sets ctime to the current time; ctime cannot be set
// from user space). A hard link made by a later build changes the shared
// inode's ctime: that costs one re-hash, never a wrong trust. What it does
// not detect: a change that bypasses the file system (silent media bit rot,
// writes to the raw block device) or a deliberately forged stamp by someone
// who can write the directory (who could rewrite the files and the
// manifest as well). OpenIDFull (`blindlist generations verify`) hashes
// every file regardless of the stamp.
//
// The margin covers coarse file-system clocks: a write in the same clock
// tick as the stat that recorded an entry would leave ctime unchanged, so
// an entry only counts for a file last changed well before it was taken
// (as git treats "racily clean" index entries). It also absorbs modest
// clock skew between an NFS client and server.
const (
	stampSuffix = ".verified"
	stampFormat = 1
	stampMargin = 2 * time.Second
)

// stampFile is ROOT/generations/<id>.verified.
type stampFile struct {
	Format     int          `json:"format"`
	Generation string       `json:"generation"`
	Files      []stampEntry `json:"files"`
}

// stampEntry is the identity of one verified file.
type stampEntry struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	fileID
	// Checked is when the identity was taken (Unix nanoseconds).
	Checked int64 `json:"checked_ns"`
}

// fileID is what stat says about a file: equal IDs before and after a
// check mean the file was not changed through the file system meanwhile.
type fileID struct {
	Bytes int64  `json:"bytes"`
	Dev   uint64 `json:"dev"`
	Ino   uint64 `json:"ino"`
	Mtime int64  `json:"mtime_ns"`
	Ctime int64  `json:"ctime_ns"`
}

// stampPath returns where the stamp of generation id of root is kept.
func stampPath(root, id string) string {
	return filepath.Join(root, GenerationsDir, id+stampSuffix)
}

// readStamp returns the usable entries of the stamp of generation id, by
// name; a missing, unreadable or foreign stamp gives none.
func readStamp(root, id string) map[string]stampEntry {
	raw, err := os.ReadFile(stampPath(root, id))
	if err != nil {
		return nil
	}
	var s stampFile
	if json.Unmarshal(raw, &s) != nil || s.Format != stampFormat || s.Generation != id {
		return nil
	}
	out := make(map[string]stampEntry, len(s.Files))
	for _, e := range s.Files {
		out[e.Name] = e
	}
	return out
}

// trusts reports whether e lets f be trusted without hashing: same
// manifest entry, same identity now, and the file unchanged for stampMargin
// before the identity was taken.
func (e stampEntry) trusts(f FileInfo, now fileID, ok bool) bool {
	return ok && e.Name == f.Name && e.SHA256 == f.SHA256 && e.Bytes == f.Bytes &&
		e.fileID == now && now.Ctime < e.Checked-int64(stampMargin) && now.Mtime < e.Checked-int64(stampMargin)
}

// writeStamp records entries as the stamp of generation id, atomically.
// It is best effort: a read-only volume only means files are hashed again
// at the next start.
func writeStamp(root, id string, entries []stampEntry) {
	raw, err := json.MarshalIndent(stampFile{Format: stampFormat, Generation: id, Files: entries}, "", " ")
	if err != nil {
		return
	}
	_ = writeFileAtomic(stampPath(root, id), append(raw, '\n'))
}

// checkFile hashes path and returns what it holds under name and, when the
// file's identity was the same before and after (nothing wrote it while it
// was read) and the platform reports one, the stamp entry for it. With
// sync it also flushes the file to stable storage.
func checkFile(path, name string, sync bool) (FileInfo, stampEntry, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileInfo{}, stampEntry{}, false, err
	}
	defer f.Close()
	checked := time.Now().UnixNano()
	before, okBefore := statID(f)
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err == nil && sync {
		err = f.Sync()
	}
	if err != nil {
		return FileInfo{}, stampEntry{}, false, fmt.Errorf("reading %s: %w", path, err)
	}
	info := FileInfo{Name: name, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}
	after, okAfter := statID(f)
	ok := okBefore && okAfter && before == after && before.Bytes == n
	return info, stampEntry{Name: name, SHA256: info.SHA256, fileID: before, Checked: checked}, ok, nil
}

// identify returns the stamp entry for a file already hashed as info (by
// the build that wrote it).
func identify(path string, info FileInfo) (stampEntry, bool) {
	f, err := os.Open(path)
	if err != nil {
		return stampEntry{}, false
	}
	defer f.Close()
	checked := time.Now().UnixNano()
	id, ok := statID(f)
	if !ok || id.Bytes != info.Bytes {
		return stampEntry{}, false
	}
	return stampEntry{Name: info.Name, SHA256: info.SHA256, fileID: id, Checked: checked}, true
}

// pathID stats path (following no link) for comparing with a stamp.
func pathID(path string) (fileID, bool) {
	f, err := os.Open(path)
	if err != nil {
		return fileID{}, false
	}
	defer f.Close()
	return statID(f)
}
