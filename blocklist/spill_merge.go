package blocklist

// The k-way merge of a spilled compile's sorted runs (see spill.go).

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/blindlist/blindlist/internal/pipewriter"
)

// SpilledKeys are the keys of a [Compile] that spilled: sorted runs in a
// temporary directory, one per partition, merged when written. Write them
// once with [SpilledKeys.Write]; Remove deletes the directory.
type SpilledKeys struct {
	dir    string
	runs   []string
	count  int
	docs   []string
	pairs  [][2]string
	stagef func(format string, args ...any)
}

// Len returns the number of keys.
func (s *SpilledKeys) Len() int { return s.count }

// Remove deletes the spill directory.
func (s *SpilledKeys) Remove() error {
	return os.RemoveAll(s.dir)
}

// Write merges the runs: it writes the keys in byte order, each followed
// by a newline, to keys, and the provenance file ([Provenance.WriteTo]'s
// format and bytes) to prov. It holds one record and a 64 KiB buffer per
// run.
func (s *SpilledKeys) Write(ctx context.Context, keys, prov io.Writer) error {
	h := make(runHeap, 0, len(s.runs))
	defer func() {
		for _, r := range h {
			r.f.Close()
		}
	}()
	for _, path := range s.runs {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("blocklist: spill run: %w", err)
		}
		r := &runReader{f: f, r: bufio.NewReaderSize(f, 1<<16)}
		ok, err := r.next()
		if err != nil {
			f.Close()
			return err
		}
		if ok {
			h = append(h, r)
		} else {
			f.Close()
		}
	}
	heap.Init(&h)
	// The keys' writer (the caller hashes them) and the provenance's gzip
	// each run on a goroutine of their own beside this merge loop.
	kw := pipewriter.New(keys, 1<<20)
	defer kw.Close()
	pw := newProvWriter(prov, s.docs, s.pairs, s.count)
	defer pw.bw.Close()
	start, n := time.Now(), 0
	for len(h) > 0 {
		r := h[0]
		kw.Write(r.key)
		kw.WriteByte('\n')
		switch {
		case r.loc == builtIn:
			pw.builtIn()
		case r.mode == spillTextKey:
			pw.key(r.loc)
		case r.mode == spillTextInline:
			pw.inline(r.loc, r.text, r.key)
		default:
			pw.affix(r.loc, uint32(r.mode-spillTextAffix))
		}
		if n++; n&(1<<22-1) == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("blocklist: %w", err)
			}
			if s.stagef != nil {
				left := time.Duration(float64(time.Since(start)) / float64(n) * float64(s.count-n))
				s.stagef("compile: %d of %d keys merged from %d runs, ETA %s", n, s.count, len(s.runs), left.Round(time.Second))
			}
		}
		ok, err := r.next()
		if err != nil {
			return err
		}
		if ok {
			h.siftTop()
		} else {
			r.f.Close()
			heap.Pop(&h)
		}
	}
	if n != s.count {
		return fmt.Errorf("blocklist: the spill runs hold %d keys, %d were resolved", n, s.count)
	}
	if err := kw.Close(); err != nil {
		return fmt.Errorf("blocklist: writing keys: %w", err)
	}
	_, err := pw.close()
	return err
}

// runReader reads one sorted run.
type runReader struct {
	f         *os.File
	r         *bufio.Reader
	key, text []byte
	loc, mode uint64
}

// next reads the next record; false at the end of the run.
func (r *runReader) next() (bool, error) {
	klen, err := binary.ReadUvarint(r.r)
	if err == io.EOF {
		return false, nil
	}
	if err == nil {
		r.key, err = readN(r.r, r.key, klen)
	}
	if err == nil {
		r.loc, err = binary.ReadUvarint(r.r)
	}
	if err == nil {
		r.mode, err = binary.ReadUvarint(r.r)
	}
	if err == nil && r.mode == spillTextInline {
		var tlen uint64
		if tlen, err = binary.ReadUvarint(r.r); err == nil {
			r.text, err = readN(r.r, r.text, tlen)
		}
	}
	if err != nil {
		return false, fmt.Errorf("blocklist: spill run %s: %w", r.f.Name(), noEOF(err))
	}
	return true, nil
}

// siftTop restores the heap order after the top run's key grew: what
// heap.Fix(h, 0) does, without an interface call per comparison (the
// merge does it once per key, 10^8 times for a 10^8-key list). The runs'
// keys are distinct (each key is in one partition's run), so there are
// no ties to order.
func (h runHeap) siftTop() {
	i, n := 0, len(h)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if r := c + 1; r < n && bytes.Compare(h[r].key, h[c].key) < 0 {
			c = r
		}
		if bytes.Compare(h[c].key, h[i].key) >= 0 {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// runHeap orders the runs by their current key (container/heap).
type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return bytes.Compare(h[i].key, h[j].key) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}
