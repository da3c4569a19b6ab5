//go:build !unix

package generation

import (
	"fmt"
	"os"
)

// lock only creates root where flock is missing: run one build at a time.
func lock(root string) (unlock func(), err error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("generation: %w", err)
	}
	return func() {}, nil
}

// unused reports false: without flock no owner can be told gone.
func unused(dir string) bool { return false }
