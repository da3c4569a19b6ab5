package pargzip

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// TestRoundTrip writes inputs of sizes around the block size through
// Writer with 1 to 4 goroutines, in pieces of varied sizes, and checks
// that gzip.Reader gives the input back and that the bytes do not depend
// on the number of goroutines.
func TestRoundTrip(t *testing.T) {
	const block = 1000
	r := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, block - 1, block, block + 1, 7*block + 13} {
		in := make([]byte, size)
		for i := range in {
			in[i] = "abcdefgh\n"[r.IntN(9)]
		}
		var first []byte
		for workers := 1; workers <= 4; workers++ {
			t.Run(fmt.Sprintf("size=%d/workers=%d", size, workers), func(t *testing.T) {
				var out bytes.Buffer
				w, err := NewWriter(&out, gzip.BestSpeed, block, workers)
				if err != nil {
					t.Fatal(err)
				}
				for rest, piece := in, 1; len(rest) > 0; piece = piece*3 + 1 {
					n := min(piece, len(rest))
					if _, err := w.Write(rest[:n]); err != nil {
						t.Fatal(err)
					}
					rest = rest[n:]
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				zr, err := gzip.NewReader(bytes.NewReader(out.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, in) {
					t.Fatalf("read back %d bytes, wrote %d (or they differ)", len(got), len(in))
				}
				if first == nil {
					first = out.Bytes()
				} else if !bytes.Equal(out.Bytes(), first) {
					t.Fatal("the output depends on the number of goroutines")
				}
			})
		}
	}
}

type failing struct{}

var errDisk = errors.New("disk full")

func (failing) Write([]byte) (int, error) { return 0, errDisk }

// TestWriterReportsError: the underlying writer's error comes back from
// Close (and from a Write after it has happened), and a bad level is
// refused at once.
func TestWriterReportsError(t *testing.T) {
	w, err := NewWriter(failing{}, gzip.BestSpeed, 16, 2)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if _, err := w.Write([]byte("0123456789")); err != nil {
			break
		}
	}
	if err := w.Close(); !errors.Is(err, errDisk) {
		t.Fatalf("Close: %v, want %v", err, errDisk)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("write after Close accepted")
	}
	if _, err := NewWriter(io.Discard, 42, 16, 1); err == nil {
		t.Fatal("level 42 accepted")
	}
}

func ExampleWriter() {
	var out bytes.Buffer
	w, _ := NewWriter(&out, gzip.BestSpeed, 1<<20, 2)
	fmt.Fprintln(w, "one line, compressed on another goroutine")
	w.Close()
	zr, _ := gzip.NewReader(&out)
	text, _ := io.ReadAll(zr)
	fmt.Print(string(text))
	// Output: one line, compressed on another goroutine
}
