//go:build !unix

package pir

import (
	"fmt"
	"os"
)

// openServeFile reads a serve-ready file into memory where memory mapping
// is not available.
func openServeFile(path string, p *Params, checkRes bool) (*Database, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("pir: %w", err)
	}
	if fi.Size() > maxServeFileBytes {
		return nil, fmt.Errorf("pir: serve-ready file is %d bytes (corrupt)", fi.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pir: %w", err)
	}
	return databaseFromServe(b, p, checkRes)
}

// ShardHeapBytes estimates what [OpenDatabase] puts in the Go heap for the
// shard whose `.bin` is binPath: here, without memory mapping, the size of
// the serve-ready file when there is one, else the `.bin`'s.
func ShardHeapBytes(binPath string) (int64, error) {
	if st, err := os.Stat(ServePath(binPath)); err == nil {
		return st.Size(), nil
	}
	st, err := os.Stat(binPath)
	if err != nil {
		return 0, fmt.Errorf("pir: %w", err)
	}
	return st.Size(), nil
}
