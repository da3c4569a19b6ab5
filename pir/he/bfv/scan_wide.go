package bfv

import "fmt"

// The first-dimension scan of databases kept as uint64 words (a
// ciphertext modulus of 2^32 or more, such as the 33-bit presets): package
// pir holds every expanded leaf of a table and needs, for every column c,
// InnerProduct(leaves, P[c]). Computed column by column, each column
// re-reads all d0 leaves (2·L·N·8 bytes each, 12.7 MB for the 97 leaves of
// a 1M-key table: beyond the core's caches), twice the plaintext traffic.
// InnerProductColumns computes the columns together, one RNS row and one
// tile of scanTile slots at a time: the leaves' tile (d0 × 2 × 256 × 8
// bytes, 388 KiB for 97 leaves) stays in the core's cache while every
// column's plaintext tile streams past it once.

// scanTile is the slots per tile of InnerProductColumns. The accumulators
// of a tile (at most 3 × 256 words) stay in L1, the leaves' tile in L2
// (388 KiB for 97 leaves); each plaintext row is read in 2 KiB pieces.
const scanTile = 256

// scanTerms is the most terms one call of the batched row kernels
// (mulAccRows, mulAcc26) adds while its sums stay in registers; between
// calls the sums of a tile wait in L1. More terms per call read more rows
// at once: with 8, 16 or all 97 terms of a 1M-key table the scan got
// slower (BenchmarkScanShapeWide, avx2: about 5.1, 3.9 and 3.3 GB/cpu-s
// against 5.7-6.4 with 4; ifma 5.1, 4.7, 4.7 against 5.5).
const scanTerms = 4

// InnerProductColumns sets outs[c] = Σ_i cts[i] ⊙ pts[c][i] for every
// column c: exactly InnerProduct(outs[c], cts, pts[c]), computed for all
// columns together so that the ciphertexts are read from memory once
// instead of once per column. outs must not alias an input.
func (e *Evaluator) InnerProductColumns(outs []*Ciphertext, cts []*Ciphertext, pts [][]*Plaintext) error {
	if len(outs) != len(pts) || len(outs) == 0 {
		return fmt.Errorf("bfv: inner product of %d columns into %d outputs", len(pts), len(outs))
	}
	var l, np int
	for c := range pts {
		var err error
		if l, np, err = e.checkInnerProduct(cts, pts[c]); err != nil {
			return fmt.Errorf("%w (column %d)", err, c)
		}
	}
	for _, out := range outs {
		e.shape(out, np, l, Eval)
	}
	n := e.p.n
	for r := range l {
		for s0 := 0; s0 < n; s0 += scanTile {
			s1 := min(s0+scanTile, n)
			for c, out := range outs {
				e.innerProductSlots(out, cts, pts[c], r, s0, s1)
			}
		}
	}
	return nil
}

// mulAccRows adds Σ_t xs[t][j]·ys[t][j] to acc[j] for every j < len(acc),
// without reduction, for inputs below 2^32 (products exact in 64 bits):
// mulAccRow for several terms at once, so each accumulator is loaded and
// stored once per call instead of once per term. The caller bounds the
// number of terms since the last reduction (maxTerms32). Every row of xs
// and ys holds at least len(acc) values.
func mulAccRows(acc []uint64, xs, ys [][]uint64) {
	n, nt := len(acc), len(xs)
	ys = ys[:nt]
	for t := range nt {
		_, _ = xs[t][:n], ys[t][:n] // every row long enough, or panic here
	}
	v := n &^ 15
	if v > 0 && nt > 0 {
		switch {
		case haveScanAVX512:
			mulAccRowsAVX512(acc[:v], xs, ys)
		case haveSIMD:
			mulAccRowsAVX2(acc[:v], xs, ys)
		default:
			v = 0
		}
	}
	for t := range nt {
		mulAccRowGo(acc[v:], xs[t][v:n], ys[t][v:n])
	}
}
