package pir

import (
	"sync"

	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// Storage reused across answers. An answer's working set is a few hundred
// KiB per ciphertext (bench100k: about 8 MiB in all: expansion
// intermediates, the first-dimension accumulators and their leaf batches,
// the first-dimension results); allocating it afresh for every answer
// makes a busy server clear and collect that much memory per query. The
// pools below (ciphertexts) and the server's accumulator pool
// (Server.takeFirstDimAcc) hand it from one answer to the next instead.
// Both are shared by all shards, so they keep about what the answers
// running at once use; they are sync.Pools, emptied over two collections
// (Go forces one every two minutes on an idle process: BENCHMARKS.md
// measures the decay). Nothing in them is secret to the server (they hold
// encrypted query material and sums of it), and every user overwrites or
// clears what it takes before reading.

// maxSpare is the most ciphertexts one stock keeps: enough for the free
// list of an expansion worker (a few per tree level) and the
// first-dimension results of a small shard; beyond it the garbage collector
// takes them. At the largest preset (N = 8192, three 64-bit rows) a stock
// holds at most 64 · 2 · 3 · 8192 · 8 B = 24 MiB; at bench100k's, 8 MiB.
const maxSpare = 64

// ctStock is a list of spare ciphertexts, pooled as one object so that
// taking and returning it allocates nothing.
type ctStock struct{ cts []*bfv.Ciphertext }

// spares pools ciphertext stocks across the answers of one server. Its
// zero value is ready to use.
type spares struct{ pool sync.Pool }

// take returns a stock (possibly empty); give it back with give.
func (s *spares) take() *ctStock {
	if st, ok := s.pool.Get().(*ctStock); ok {
		return st
	}
	return &ctStock{}
}

// give returns st to the pool, keeping at most maxSpare of its
// ciphertexts; the caller must not use st or its ciphertexts afterwards.
func (s *spares) give(st *ctStock) {
	if len(st.cts) > maxSpare {
		clear(st.cts[maxSpare:])
		st.cts = st.cts[:maxSpare]
	}
	s.pool.Put(st)
}

// pop removes and returns a spare ciphertext, or a new empty one (its
// storage made by the first operation that shapes it).
func (st *ctStock) pop() *bfv.Ciphertext {
	if n := len(st.cts); n > 0 {
		c := st.cts[n-1]
		st.cts[n-1] = nil
		st.cts = st.cts[:n-1]
		return c
	}
	return &bfv.Ciphertext{}
}

// push adds c to the stock.
func (st *ctStock) push(c *bfv.Ciphertext) { st.cts = append(st.cts, c) }

// zeroCiphertext shapes ct as a two-polynomial Eval ciphertext of l rows of
// n residues, all zero, reusing its storage where it is large enough.
func zeroCiphertext(ct *bfv.Ciphertext, n, l int) *bfv.Ciphertext {
	if len(ct.Polys) != 2 {
		ct.Polys = make([]*ring.Poly, 2)
	}
	for i, p := range ct.Polys {
		if p == nil || p.N != n || cap(p.Coeffs) < l*n {
			ct.Polys[i] = ring.NewPoly(n, l)
			continue
		}
		p.Coeffs = p.Coeffs[:l*n]
		clear(p.Coeffs)
	}
	ct.Format = bfv.Eval
	ct.Seed = nil
	ct.CorrectionFactor = 1
	return ct
}
