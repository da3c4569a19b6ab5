//go:build !unix

package pir

import (
	"fmt"
	"os"
)

// openServeFile reads a serve-ready file into memory where memory mapping
// is not available.
func openServeFile(path string, p *Params, checkRes bool) (*Database, error) {
	b, err := readServeFile(path)
	if err != nil {
		return nil, err
	}
	if !isPatch(b) {
		return databaseFromServe(b, p, checkRes)
	}
	base, err := readServeFile(ServeBasePath(path))
	if err != nil {
		return nil, err
	}
	return databaseFromPatch(b, base, p, checkRes)
}

// readServeFile reads the serve-ready file (whole, patch or base) at path.
func readServeFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("pir: %w", err)
	}
	if fi.Size() > maxServeFileBytes {
		return nil, fmt.Errorf("pir: serve-ready file %s is %d bytes (corrupt)", path, fi.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pir: %w", err)
	}
	return b, nil
}

// ShardHeapBytes estimates what [OpenDatabase] puts in the Go heap for the
// shard whose `.bin` is binPath: here, without memory mapping, the size of
// the serve-ready file when there is one, else the `.bin`'s.
func ShardHeapBytes(binPath string) (int64, error) {
	if st, err := os.Stat(ServePath(binPath)); err == nil {
		n := st.Size()
		if bst, err := os.Stat(ServeBasePath(ServePath(binPath))); err == nil {
			n += bst.Size() // a patch is read with its base (an over-estimate for a whole file left beside one)
		}
		return n, nil
	}
	st, err := os.Stat(binPath)
	if err != nil {
		return 0, fmt.Errorf("pir: %w", err)
	}
	return st.Size(), nil
}
