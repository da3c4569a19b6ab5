// Package pipewriter runs the work behind an io.Writer (compression,
// hashing, the write system calls) on a goroutine of its own, so that the
// code producing the bytes keeps going meanwhile.
//
// A build at 10^8 keys writes some 10 GB of key files from one merge loop;
// with gzip and SHA-256 in that loop it uses one core of two. Put a
// Writer in front of the slow part and the two run side by side:
//
//	pw := pipewriter.New(gzipWriter, 1<<20)
//	defer pw.Close()
//	... pw.Write(record) ...
//	if err := pw.Close(); err != nil { ... }
//
// The bytes reach the underlying writer in order and unchanged; only the
// sizes of its Write calls differ (whole blocks).
package pipewriter

import (
	"errors"
	"io"
	"sync"
)

// depth is how many full blocks may wait for the goroutine: two, so the
// producer fills a third while one is written and one waits.
const depth = 2

// Writer hands the bytes written to it, in blocks, to a goroutine that
// writes them to the underlying writer. Its methods must be called from
// one goroutine; [Writer.Close] must be called, also on error paths, to
// end the goroutine.
type Writer struct {
	buf    []byte
	blocks chan []byte // full blocks, to the goroutine
	free   chan []byte // written blocks, back for reuse
	done   chan struct{}
	mu     sync.Mutex
	err    error // the underlying writer's first error
	closed bool
}

// New returns a Writer that writes to w in blocks of blockBytes.
func New(w io.Writer, blockBytes int) *Writer {
	p := &Writer{
		buf:    make([]byte, 0, blockBytes),
		blocks: make(chan []byte, depth),
		free:   make(chan []byte, depth+1),
		done:   make(chan struct{}),
	}
	for range depth {
		p.free <- make([]byte, 0, blockBytes)
	}
	go p.run(w)
	return p
}

// run writes blocks until the channel is closed; after an error it only
// returns them.
func (p *Writer) run(w io.Writer) {
	defer close(p.done)
	for b := range p.blocks {
		if p.failed() == nil {
			if _, err := w.Write(b); err != nil {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
			}
		}
		p.free <- b[:0]
	}
}

func (p *Writer) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Write copies b into the current block, handing full blocks over. Once
// the underlying writer has failed, Write returns its error (from the
// next full block on; Close always does).
func (p *Writer) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if err := p.room(); err != nil {
			return n - len(b), err
		}
		c := copy(p.buf[len(p.buf):cap(p.buf)], b)
		p.buf, b = p.buf[:len(p.buf)+c], b[c:]
	}
	return n, nil
}

// WriteString is Write for a string.
func (p *Writer) WriteString(s string) (int, error) {
	n := len(s)
	for len(s) > 0 {
		if err := p.room(); err != nil {
			return n - len(s), err
		}
		c := copy(p.buf[len(p.buf):cap(p.buf)], s)
		p.buf, s = p.buf[:len(p.buf)+c], s[c:]
	}
	return n, nil
}

// WriteByte writes one byte.
func (p *Writer) WriteByte(c byte) error {
	if err := p.room(); err != nil {
		return err
	}
	p.buf = append(p.buf, c)
	return nil
}

// room makes sure the current block has room, handing it over when full.
func (p *Writer) room() error {
	switch {
	case p.closed:
		return errClosed
	case len(p.buf) < cap(p.buf):
		return nil
	}
	p.blocks <- p.buf
	p.buf = <-p.free
	return p.failed()
}

var errClosed = errors.New("pipewriter: write after Close")

// Close hands over the last, partial block, waits until every block is
// written and returns the underlying writer's first error. It does not
// close the underlying writer. Later calls return the same error.
func (p *Writer) Close() error {
	if !p.closed {
		p.closed = true
		if len(p.buf) > 0 {
			p.blocks <- p.buf
			p.buf = nil
		}
		close(p.blocks)
		<-p.done
	}
	return p.failed()
}
