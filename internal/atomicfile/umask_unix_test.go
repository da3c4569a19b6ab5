//go:build unix

package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteFileIgnoresUmask checks that perm is applied as given whatever the
// process umask: a 0644 file under umask 077 is still world-readable, and a
// 0600 file under umask 0 is still private.
func TestWriteFileIgnoresUmask(t *testing.T) {
	for _, tt := range []struct {
		umask int
		perm  os.FileMode
	}{
		{0o077, 0o644},
		{0o000, 0o600},
		{0o022, 0o664},
	} {
		old := syscall.Umask(tt.umask)
		path := filepath.Join(t.TempDir(), "f")
		err := WriteBytes(path, tt.perm, []byte("x"))
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != tt.perm {
			t.Errorf("umask %03o: mode %v, want %v", tt.umask, fi.Mode().Perm(), tt.perm)
		}
	}
}
