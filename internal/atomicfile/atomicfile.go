// Package atomicfile replaces a file so that a crash or a failed write leaves
// either the old file or the complete new one, never an empty or partial one.
//
// WriteFile streams the new contents into a temporary file beside the target
// (".<base>.tmp*", in the same directory so the rename cannot cross a file
// system), sets its permission bits with chmod (so the result does not depend
// on the umask), fsyncs and closes it, renames it over the target and fsyncs
// the directory so that the rename itself is durable. On any error the
// temporary file is removed and the target is left as it was (an error from
// the final directory fsync is the one exception: the new file is then in
// place but its rename may not survive a crash).
//
// Readers that open the target see the old file or the new one. A symbolic
// link at the target is replaced, not followed. Concurrent writers of one
// path each produce a complete file; the last rename wins.
//
// The package imports none of blindlist's packages: it is a leaf that bloom,
// blocklist, pir, api and cmd/blindlist share.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// bufferBytes is the size of the buffer between the caller's writes and the
// temporary file: large enough that line-at-a-time writers make few syscalls.
const bufferBytes = 64 << 10

// WriteFile atomically replaces path with what write produces, with
// permission bits perm. write receives a buffered writer and must not keep
// it after returning; if it returns an error, path is left untouched and the
// error is returned wrapped.
func WriteFile(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	return writeFile(path, perm, write, true)
}

// WriteFileUnsynced is WriteFile without its two fsyncs (file and
// directory): the file replaces path whole, but neither its contents nor
// the rename are durable until the caller fsyncs them. It is for files
// that are made durable together later (a build's staging directory is
// fsynced file by file before it is published), so that flushing several
// gigabytes need not stop the writer.
func WriteFileUnsynced(path string, perm os.FileMode, write func(io.Writer) error) error {
	return writeFile(path, perm, write, false)
}

func writeFile(path string, perm os.FileMode, write func(io.Writer) error, sync bool) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		if err != nil && !renamed {
			f.Close() // an error here (already closed) changes nothing
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, bufferBytes)
	if err := write(bw); err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("atomicfile: writing %s: fsync: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	renamed = true
	if !sync {
		return nil
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	return nil
}

// WriteBytes atomically replaces path with data, with permission bits perm.
func WriteBytes(path string, perm os.FileMode, data []byte) error {
	return WriteFile(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// SyncFile fsyncs the existing file at path: its contents and size become
// durable (the name needs SyncDir of its directory).
func SyncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("atomicfile: fsync: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("atomicfile: fsync %s: %w", path, err)
	}
	return nil
}

// SyncDir fsyncs the directory dir, making the renames, creations and
// removals of its entries durable. Where the platform cannot fsync a
// directory (errors.ErrUnsupported) it returns nil: there is nothing more a
// caller could do.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("atomicfile: syncing directory %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("atomicfile: syncing directory %s: %w", dir, err)
	}
	return nil
}
