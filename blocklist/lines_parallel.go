package blocklist

// Reading a large document on several cores. At 10^8 host lines, reading
// is two thirds parsing (the fast path, [fastLine]) and one third handing
// keys to the set or the spill files; on one goroutine that is some 24 s.
// readLinesParallel splits the work in three: a reader goroutine copies
// runs of trimmed lines (chunks) out of the document, worker goroutines
// run the fast path over each chunk, and the compiler's goroutine takes
// the chunks back in document order and does everything else exactly as
// readLines does line by line (the general path, the set, the spill, the
// report, progress). The keys, report and provenance are the same
// (TestParallelLinesMatchSequential).
//
// The fast path depends on one piece of parser state: whether a FormatAuto
// document has shown itself to be an AdBlock list (docParser.abp, set by
// the general path). A worker runs with the value it sees when it takes a
// chunk; the compiler's goroutine checks it line by line and redoes the
// fast path itself where it differs (only lines read ahead of the line
// that flipped it). RPZ documents, whose fast path follows the zone's
// $ORIGIN, are read sequentially.

import (
	"bufio"
	"bytes"
	"runtime"
	"sync"
	"sync/atomic"
)

// Chunk shape: about 1 MiB of text, at most 16,384 lines; a few chunks per
// worker in flight bound the memory to some tens of megabytes.
const (
	chunkTextBytes = 1 << 20
	chunkMaxLines  = 1 << 14
	chunksInFlight = 4
)

// lineChunk is a run of consecutive lines of one document.
type lineChunk struct {
	text  []byte      // the trimmed, non-empty lines, concatenated
	lines []chunkLine // in document order
	names []span      // the fast path's names, in text, per line a run
	read  int64       // the document's bytes read when the chunk was cut
	abp   bool        // the parser state the fast path ran with
	done  chan struct{}
}

// chunkLine is one line of a chunk: its number, its text (start, end in
// the chunk's text), and its fast-path names (names[first:last]; none
// when first == last) with the lineOrigin of its text. tooLong marks a
// line over maxLineBytes (no text).
type chunkLine struct {
	n           int
	start, end  int32
	first, last int32
	origin      uint32
	tooLong     bool
	redo        bool // the fast path's names are not in text: redo it
}

type span struct{ start, end int32 }

// readLinesParallel is readLinesSequential (same arguments, same effects,
// same result) with the fast path run on worker goroutines.
func (c *compiler) readLinesParallel(name string, lr *bufio.Reader, capped *cappedReader, p *docParser, set *keySet, sr *SourceReport, isBlock bool) (int, error) {
	var abp atomic.Bool // p.abp as the workers see it
	abp.Store(p.abp)
	workers := max(1, runtime.GOMAXPROCS(0))
	ordered := make(chan *lineChunk, chunksInFlight*workers)
	work := make(chan *lineChunk, chunksInFlight*workers)
	free := sync.Pool{New: func() any { return &lineChunk{} }}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var buf [][]byte
			for ch := range work {
				ch.abp = abp.Load()
				f := p.format
				if f == FormatAuto && ch.abp {
					f = FormatABP
				}
				for i := range ch.lines {
					l := &ch.lines[i]
					if l.tooLong {
						continue
					}
					line := ch.text[l.start:l.end]
					l.first = int32(len(ch.names))
					if buf = fastLine(f, line, buf[:0]); len(buf) > 0 {
						for _, nm := range buf {
							off := cap(line) - cap(nm) // nm aliases line: its offset in it
							if off < 0 || off+len(nm) > len(line) || &line[off] != &nm[0] {
								l.redo = true // not an alias after all: the compiler's goroutine redoes it
								break
							}
							ch.names = append(ch.names, span{l.start + int32(off), l.start + int32(off+len(nm))})
						}
						l.origin = lineOrigin(c.originSeed, line)
					}
					l.last = int32(len(ch.names))
				}
				close(ch.done)
			}
		})
	}
	// The reader: chunks go to the workers and, in the same order, to the
	// compiler's goroutine below.
	var readErr error
	lastN := 0 // the number of the last line read (as readLinesSequential counts)
	stop := make(chan struct{})
	go func() {
		defer close(ordered)
		defer close(work)
		ch := newChunk(&free)
		send := func() bool {
			ch.read = capped.read
			select {
			case ordered <- ch:
			case <-stop:
				return false
			}
			work <- ch
			ch = newChunk(&free)
			return true
		}
		ok := true
		readErr = eachLine(lr, func(raw []byte, n int) {
			if !ok {
				return
			}
			lastN = n
			raw = bytes.TrimSpace(raw)
			if len(raw) == 0 {
				return
			}
			start := int32(len(ch.text))
			ch.text = append(ch.text, raw...)
			ch.lines = append(ch.lines, chunkLine{n: n, start: start, end: int32(len(ch.text))})
			if len(ch.text) >= chunkTextBytes || len(ch.lines) >= chunkMaxLines {
				ok = send()
			}
		}, func(n int) {
			if ok {
				ch.lines = append(ch.lines, chunkLine{n: n, tooLong: true})
			}
		})
		if ok && len(ch.lines) > 0 {
			send()
		}
	}()
	defer func() {
		close(stop)
		for range ordered { // let the reader finish
		}
		wg.Wait()
	}()
	var fast [][]byte
	for ch := range ordered {
		<-ch.done
		for i := range ch.lines {
			l := &ch.lines[i]
			if l.tooLong {
				c.lineTooLong(name, l.n, isBlock)
				continue
			}
			raw := ch.text[l.start:l.end]
			if isBlock {
				c.rep.Rules.Lines++
			}
			names, origin := fast[:0], l.origin
			if ch.abp == p.abp && !l.redo {
				for _, s := range ch.names[l.first:l.last] {
					names = append(names, ch.text[s.start:s.end])
				}
			} else if names = p.fast(raw, fast[:0]); len(names) > 0 {
				origin = lineOrigin(c.originSeed, raw)
			}
			fast = names[:0]
			if len(names) > 0 {
				c.addFast(names, origin, raw, l.n, set, sr, isBlock)
			} else {
				c.parseLine(p.parse, string(raw), name, l.n, set, sr, isBlock)
				abp.Store(p.abp)
			}
			if c.opts.Progress != nil && l.n%(1<<18) == 0 {
				c.opts.Progress(name, l.n, ch.read)
			}
		}
		ch.text, ch.lines, ch.names = ch.text[:0], ch.lines[:0], ch.names[:0]
		free.Put(ch)
	}
	wg.Wait() // every worker is done: lastN and readErr are final
	return lastN, readErr
}

// newChunk takes an empty chunk from the pool.
func newChunk(free *sync.Pool) *lineChunk {
	ch := free.Get().(*lineChunk)
	ch.done = make(chan struct{})
	return ch
}
