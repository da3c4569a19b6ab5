//go:build linux

package generation

import (
	"os"
	"syscall"
)

// statID returns the identity of the open file f (Linux: the ctime is
// Stat_t.Ctim; other systems keep no stamps, see stamp_other.go).
func statID(f *os.File) (fileID, bool) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return fileID{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{
		Bytes: fi.Size(),
		Dev:   uint64(st.Dev),
		Ino:   uint64(st.Ino),
		Mtime: fi.ModTime().UnixNano(),
		Ctime: st.Ctim.Nano(),
	}, true
}
