// Package testvec locates Apple's interoperability vectors (shared/vectors)
// for tests. The folder is read in place and never copied; a test that needs
// it fails, never skips, when it is missing.
package testvec

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the absolute path of the shared vectors folder, looked up as
// $BLINDLIST_VECTORS, then ../shared/vectors beside the module root. It calls
// t.Fatal when the folder cannot be found.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("BLINDLIST_VECTORS"); d != "" {
		if isDir(d) {
			return d
		}
		t.Fatalf("testvec: BLINDLIST_VECTORS=%s is not a directory", d)
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("testvec: %v", err)
	}
	d := filepath.Join(filepath.Dir(root), "shared", "vectors")
	if !isDir(d) {
		t.Fatalf("testvec: vectors folder %s is missing (it must sit beside the repository)", d)
	}
	return d
}

// Path joins elem onto [Dir] and fails the test when the result does not exist.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{Dir(t)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("testvec: %v", err)
	}
	return p
}

// Read returns the bytes of a file under the vectors folder, failing the test
// when it cannot be read.
func Read(t testing.TB, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(Path(t, elem...))
	if err != nil {
		t.Fatalf("testvec: %v", err)
	}
	return b
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// moduleRoot walks up from the working directory (a package directory under
// go test) to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
