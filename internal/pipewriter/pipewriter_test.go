package pipewriter

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"testing"
)

// TestWriterPassesBytesInOrder writes through Writer with Write,
// WriteString and WriteByte in pieces smaller than, equal to and larger
// than a block, and checks the underlying writer got the same bytes as a
// plain buffer did.
func TestWriterPassesBytesInOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		block  int
		pieces []int
	}{
		{"small pieces", 64, []int{1, 2, 3, 5, 7, 11, 13}},
		{"exact blocks", 64, []int{64, 64, 64}},
		{"larger than blocks", 16, []int{100, 3, 250}},
		{"one-byte blocks", 1, []int{5, 1, 9}},
		{"nothing", 32, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got, want bytes.Buffer
			p := New(&got, tc.block)
			n := 0
			for round := range 20 {
				for i, size := range tc.pieces {
					piece := make([]byte, size)
					for j := range piece {
						piece[j] = byte(n + j)
					}
					n += size
					want.Write(piece)
					var err error
					switch (round + i) % 3 {
					case 0:
						_, err = p.Write(piece)
					case 1:
						_, err = p.WriteString(string(piece))
					default:
						for _, c := range piece {
							if err = p.WriteByte(c); err != nil {
								break
							}
						}
					}
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("got %d bytes, want %d (or they differ)", got.Len(), want.Len())
			}
			if _, err := p.Write([]byte("x")); err == nil {
				t.Fatal("write after Close accepted")
			}
		})
	}
}

// failAfter fails every write once it has accepted n bytes.
type failAfter struct{ n int }

var errDisk = errors.New("disk full")

func (f *failAfter) Write(b []byte) (int, error) {
	if f.n < len(b) {
		return 0, errDisk
	}
	f.n -= len(b)
	return len(b), nil
}

// TestWriterReportsError checks that the underlying writer's error comes
// back from Write and from every Close, and that a failed writer still
// ends its goroutine.
func TestWriterReportsError(t *testing.T) {
	p := New(&failAfter{n: 100}, 10)
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		_, err = p.Write([]byte("0123456"))
	}
	if !errors.Is(err, errDisk) {
		t.Fatalf("Write: got %v, want %v", err, errDisk)
	}
	if err := p.Close(); !errors.Is(err, errDisk) {
		t.Fatalf("Close: got %v, want %v", err, errDisk)
	}
	if err := p.Close(); !errors.Is(err, errDisk) {
		t.Fatalf("second Close: got %v, want %v", err, errDisk)
	}
	q := New(&failAfter{n: 0}, 1<<10)
	q.WriteString("short") // fails only when handed over, at Close
	if err := q.Close(); !errors.Is(err, errDisk) {
		t.Fatalf("Close of a partial block: got %v, want %v", err, errDisk)
	}
}

func ExampleWriter() {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	pw := New(zw, 1<<20) // gzip runs on pw's goroutine
	for i := range 3 {
		fmt.Fprintf(pw, "line %d\n", i)
	}
	if err := pw.Close(); err != nil { // every byte is in zw now
		fmt.Println(err)
		return
	}
	zw.Close()
	zr, _ := gzip.NewReader(&out)
	text, _ := io.ReadAll(zr)
	fmt.Print(string(text))
	// Output:
	// line 0
	// line 1
	// line 2
}
