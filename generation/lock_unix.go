//go:build unix

package generation

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lock takes an exclusive flock on root/.lock, waiting for it, so two
// builds (or a build and a rollback) never publish into one root at once,
// also from two replicas sharing a volume. It returns the release function.
func lock(root string) (unlock func(), err error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("generation: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(root, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("generation: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("generation: locking %s: %w", root, err)
	}
	return func() { f.Close() }, nil
}

// unused reports whether no process holds the lock of dir (dir/.lock
// exists and an exclusive flock on it succeeds at once): the directory's
// owner is gone. A missing lock file counts as in use (its owner may be
// about to create it).
func unused(dir string) bool {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}
