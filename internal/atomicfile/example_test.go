package atomicfile_test

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/blindlist/blindlist/internal/atomicfile"
)

// Stream a key list into place: readers of keys.txt see the old list or the
// whole new one, never a prefix.
func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "atomicfile-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "keys.txt")

	keys := []string{"example.com", "example.org/ads"}
	err = atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		for _, k := range keys {
			if _, err := fmt.Fprintln(w, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}

	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fmt.Println(sc.Text())
	}
	fi, _ := f.Stat()
	fmt.Println(fi.Mode().Perm())
	// Output:
	// example.com
	// example.org/ads
	// -rw-r--r--
}
