package pir

import (
	"slices"

	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// First MulPIR dimension: out = Σ_r cts[r] ⊙ P[base + r] for Eval
// ciphertexts and the database's Eval plaintexts, skipping zero plaintexts
// (pir-spec §3.6; Apple's innerProduct). The sum is exact modulo each q_i,
// so any reduction schedule gives Apple's result.

// scanColumns is the most columns of a wide database one task computes
// together (dotColumns): each task reads all d0 leaves of its table once,
// so fewer, larger groups read less; eight keep a 1M-key table's 31
// columns in four tasks per table for the workers to share.
const scanColumns = 8

// dotColumns sets outs[i] (resized to 2 Eval polys at the ciphertexts'
// level) to the inner product of cts with the plaintexts of column col0+i,
// plaintexts base+(col0+i)·d0 .. +d0−1 of a wide (uint64) database, all
// columns in one pass over cts (bfv.InnerProductColumns). Narrow databases
// take the streaming scan (firstDimAcc) instead.
func (db *Database) dotColumns(ev *bfv.Evaluator, bp *bfv.Params, outs []*bfv.Ciphertext, cts []*bfv.Ciphertext, base, col0 int) error {
	d0 := db.params.Dimensions[0]
	pts := make([][]*bfv.Plaintext, len(outs))
	for i := range pts {
		pts[i] = make([]*bfv.Plaintext, len(cts))
		for r := range cts {
			if v := db.pt64[base+(col0+i)*d0+r]; v != nil {
				pts[i][r] = &bfv.Plaintext{Poly: &ring.Poly{N: bp.N(), Coeffs: v}, Format: bfv.Eval}
			}
		}
	}
	return ev.InnerProductColumns(outs, cts, pts)
}

// ctModuliOf returns the reduction constants of the ciphertext moduli.
func ctModuliOf(he heParams) []modq.Modulus {
	ms := make([]modq.Modulus, len(he.ctModuli()))
	for i, q := range he.ctModuli() {
		ms[i] = modq.MustNew(q)
	}
	return ms
}

// firstDimAcc accumulates, for one worker, the first-dimension products of
// the leaves it expanded: acc[k][c·d1+col] += leaf(k, r) ⊙ P_k[c, col·d0+r],
// unreduced, for narrow (uint32) databases. Leaves are consumed as they are
// produced, so an answer never holds all expanded ciphertexts; a worker
// copies up to scanBatch leaves of a table (as uint32 words: residues are
// below 2^32) before accumulating them in one pass (bfv.MulAccScan), so
// that each accumulator, which on large databases lives in the last-level
// cache or memory, is read and written once per batch instead of once per
// leaf. The accumulators are in the scan order of bfv.MulAccScan (slots
// permuted within blocks of 16); sumFirstDim puts them back in slot order.
type firstDimAcc struct {
	db       *Database
	moduli   []modq.Modulus
	n, l     int
	maxTerms uint64
	batch    int          // leaves per pass: min(scanBatch, maxTerms)
	acc      [][][]uint64 // [k][c·d1+col] → 2 polys × l rows × n
	terms    []uint64     // products added to acc[k] since its last reduction
	pending  [][]int      // [k] rows r of the leaves copied but not yet accumulated
	leaves   [][]uint32   // [k] the pending leaves, batch × 2 polys × l rows (leafRow)
	// scratch of flush: one batch's rows and plaintexts
	x0s, x1s, ws [][]uint32
}

// The narrow scan's blocking (BenchmarkScanShape in package bfv measures
// it on a 1M-key table). A flush takes scanBatch leaves, so every
// accumulator word is loaded and stored once per 8 leaves (2 bytes of
// accumulator traffic per 4-byte plaintext word, against 8 with the 4
// leaves of one kernel call), and runs over the slots in tiles of
// scanTile, scanLeavesPerCall leaves per kernel call.
//
// The rows of the pending leaves sit scanRowPad words apart beyond their
// n words (leafRow): with n a multiple of 1024, unpadded rows would start
// at multiples of 4 KiB, so a kernel call's eight leaf rows (and its four
// plaintexts, 32 KiB apart in the shard file) would all map to the same
// L1 sets, and the eight ways of a set cannot hold them: a 4-leaf call over
// whole rows ran at 5.7-8.7 GB/s of plaintext with unpadded rows and
// 11.8-16.3 GB/s with rows 64 bytes (one L1 set) further apart each
// (BenchmarkMulAccScanRows in package bfv, three runs, AVX2-only Zen 3).
// With padded rows, whole-row tiles and batches of 8 scanned a 1M-key table
// at 9.7-10.0 GB/cpu-s against 8.2-8.7 for the former tiles of 1024 slots
// and batches of 16 (which, unpadded, had been the best at 6.7-7.1), and a
// 1M-key shard's answer took 92-97 ms against 95-106 ms (four interleaved
// rounds, same machine).
const (
	scanBatch         = 8
	scanTile          = 4096
	scanLeavesPerCall = 4
	scanRowPad        = 16 // uint32 words: one 64-byte cache line
)

// leafRow returns row i of polynomial pi of pending leaf b of table k
// (n words; rows scanRowPad words apart beyond their length).
func (a *firstDimAcc) leafRow(k, b, pi, i int) []uint32 {
	off := ((b*2+pi)*a.l + i) * (a.n + scanRowPad)
	return a.leaves[k][off : off+a.n]
}

func newFirstDimAcc(db *Database, moduli []modq.Modulus, n, l int) *firstDimAcc {
	p := db.params
	a := &firstDimAcc{db: db, moduli: moduli, n: n, l: l, maxTerms: ^uint64(0)}
	for _, m := range moduli[:l] {
		a.maxTerms = min(a.maxTerms, bfv.MaxNarrowTerms(m.Q))
	}
	a.batch = int(min(scanBatch, a.maxTerms))
	per := p.ChunkCount() * p.Dimensions[1]
	a.acc = make([][][]uint64, p.HashFunctionCount)
	a.terms = make([]uint64, p.HashFunctionCount)
	a.pending = make([][]int, p.HashFunctionCount)
	a.leaves = make([][]uint32, p.HashFunctionCount)
	for k := range a.acc {
		a.acc[k] = make([][]uint64, per)
		for i := range a.acc[k] {
			a.acc[k][i] = make([]uint64, 2*l*n)
		}
	}
	return a
}

// add takes the Eval leaf for row r of table k (copied: the caller may
// reuse it); its products are accumulated by the next flush of table k.
func (a *firstDimAcc) add(k, r int, leaf *bfv.Ciphertext) {
	n, l := a.n, a.l
	if a.leaves[k] == nil {
		a.leaves[k] = make([]uint32, a.batch*2*l*(n+scanRowPad))
	}
	b := len(a.pending[k])
	for pi := range 2 {
		for i := range l {
			bfv.NarrowRow(a.leafRow(k, b, pi, i), leaf.Polys[pi].Row(i)) // residues below q < 2^32
		}
	}
	a.pending[k] = append(a.pending[k], r)
	if len(a.pending[k]) == a.batch {
		a.flush(k)
	}
}

// flush accumulates the pending leaves of table k into every column, one
// slot tile at a time (see scanBatch).
func (a *firstDimAcc) flush(k int) {
	rs := a.pending[k]
	if len(rs) == 0 {
		return
	}
	if a.terms[k]+uint64(len(rs)) > a.maxTerms {
		a.reduce(k)
	}
	a.terms[k] += uint64(len(rs))
	p := a.db.params
	lay := p.layout()
	d0, d1 := p.Dimensions[0], p.Dimensions[1]
	n, l := a.n, a.l
	base := k * lay.plaintextCount()
	// Tiles are multiples of bfv.ScanBlock (n is a power of two), so the
	// scan order of a tile is that of the whole row.
	tile := min(scanTile, n)
	for t0 := 0; t0 < n; t0 += tile {
		t1 := min(t0+tile, n)
		for c := range lay.chunkCount() {
			for col := range d1 {
				buf := a.acc[k][c*d1+col]
				pts := a.db.pt32[base+c*lay.perChunk()+col*d0:]
				for i := range l {
					acc0, acc1 := buf[i*n+t0:i*n+t1], buf[(l+i)*n+t0:(l+i)*n+t1]
					for u0 := 0; u0 < len(rs); u0 += scanLeavesPerCall {
						a.x0s, a.x1s, a.ws = a.x0s[:0], a.x1s[:0], a.ws[:0]
						for b := u0; b < min(u0+scanLeavesPerCall, len(rs)); b++ {
							w := pts[rs[b]]
							if w == nil {
								continue
							}
							a.x0s = append(a.x0s, a.leafRow(k, b, 0, i)[t0:t1])
							a.x1s = append(a.x1s, a.leafRow(k, b, 1, i)[t0:t1])
							a.ws = append(a.ws, w[i*n+t0:i*n+t1])
						}
						if len(a.ws) > 0 {
							bfv.MulAccScan(acc0, acc1, a.x0s, a.x1s, a.ws)
						}
					}
				}
			}
		}
	}
	a.pending[k] = rs[:0]
}

// reduce brings every accumulator of table k below its modulus.
func (a *firstDimAcc) reduce(k int) {
	for _, buf := range a.acc[k] {
		for pi := range 2 {
			for i := range a.l {
				m := &a.moduli[i]
				row := buf[(pi*a.l+i)*a.n : (pi*a.l+i+1)*a.n]
				for j, v := range row {
					row[j] = m.Reduce(v)
				}
			}
		}
	}
	a.terms[k] = 0
}

// takeFirstDimAcc returns a cleared accumulator for db: a pooled one when
// it has db's shape (see spare.go), else a new one. One pool serves every
// shard of the server, so what it keeps is bounded by the answers running
// at once, not by the number of shards.
func (s *Server) takeFirstDimAcc(db *Database, l int) *firstDimAcc {
	if a, ok := s.accs.Get().(*firstDimAcc); ok && a.fits(db, s.moduli, s.he.n, l) {
		a.db = db
		a.reset()
		return a
	}
	return newFirstDimAcc(db, s.moduli, s.he.n, l)
}

// giveFirstDimAcc returns a to the pool; the caller must not use it
// afterwards.
func (s *Server) giveFirstDimAcc(a *firstDimAcc) { s.accs.Put(a) }

// fits reports whether a has the shape an accumulator for db would have.
func (a *firstDimAcc) fits(db *Database, moduli []modq.Modulus, n, l int) bool {
	p := db.params
	return a.n == n && a.l == l && slices.Equal(a.moduli, moduli) &&
		len(a.acc) == p.HashFunctionCount && len(a.acc[0]) == p.ChunkCount()*p.Dimensions[1]
}

// reset clears the sums and forgets pending leaves (their buffers stay).
func (a *firstDimAcc) reset() {
	for k := range a.acc {
		for _, buf := range a.acc[k] {
			clear(buf)
		}
		a.terms[k] = 0
		a.pending[k] = a.pending[k][:0]
	}
}

// sumFirstDim returns R[k][c][col], the Eval ciphertexts Σ over workers of
// their accumulators, reduced and back in slot order (bfv.AddScanRow); their
// storage comes from st when it has spare ciphertexts.
func sumFirstDim(accs []*firstDimAcc, st *ctStock, b, chunks, d1 int) [][][]*bfv.Ciphertext {
	a0 := accs[0]
	n, l := a0.n, a0.l
	for _, a := range accs {
		for k := range b {
			a.flush(k) // reduced below, while summing
		}
	}
	R := make([][][]*bfv.Ciphertext, b)
	for k := range b {
		R[k] = make([][]*bfv.Ciphertext, chunks)
		for c := range chunks {
			R[k][c] = make([]*bfv.Ciphertext, d1)
			for col := range d1 {
				ct := zeroCiphertext(st.pop(), n, l)
				for pi := range 2 {
					for i := range l {
						o := ct.Polys[pi].Row(i)
						for _, a := range accs {
							bfv.AddScanRow(o, a.acc[k][c*d1+col][(pi*l+i)*n:(pi*l+i+1)*n], &a0.moduli[i])
						}
					}
				}
				R[k][c][col] = ct
			}
		}
	}
	return R
}
