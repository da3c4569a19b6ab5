package bfv

import (
	"math/bits"

	"github.com/blindlist/blindlist/pir/he/modq"
)

// Inner products for 2^30 <= q < 2^50 without IFMA. AVX2 multiplies only
// 32x32 -> 64 bits (VPMULUDQ), so each residue x < 2^50 is split into
// 26-bit digits, x = x0 + x1·2^26 with x0 < 2^26 and x1 < 2^24, and
//
//	x·y = x0·y0 + (x0·y1 + x1·y0)·2^26 + x1·y1·2^52
//
// is summed as three 64-bit columns: a += x0·y0 (< 2^52 per term),
// b += x0·y1 + x1·y0 (< 2^51), c += x1·y1 (< 2^48). Starting from a < q <
// 2^50 and b = c = 0, maxTermsWide = 4095 terms keep a below
// 2^50 + 4095·2^52 < 2^64, b below 2^63 and c below 2^60; then
// a + b·2^26 + c·2^52 < 2^113 is reduced once (fold26).

// maxTermsWide is how many products innerProductRow26 sums before folding
// (derived above: 4095 terms keep each 64-bit column from wrapping).
const maxTermsWide = 1<<12 - 1

// innerProductRow26 is row r, slots [s0, s1), of InnerProduct for 2^30 <= q < 2^50 with the
// 26-bit digit columns; the AVX2 kernel keeps the columns of eight slots in
// registers across every term of a batch, so they are loaded and stored
// once per batch. It computes the same residues as innerProductRow64, the
// reference. maxTerms (<= maxTermsWide) is the batch size.
func (e *Evaluator) innerProductRow26(out *Ciphertext, cts []*Ciphertext, pts []*Plaintext, r int, maxTerms int, s0, s1 int) {
	n := s1 - s0
	if cap(e.acc64) < 3*n {
		e.acc64 = make([]uint64, 3*n)
	}
	a, b, c := e.acc64[:n], e.acc64[n:2*n], e.acc64[2*n:3*n]
	m := e.p.keyB[r].M
	for k := range out.Polys {
		e.xs, e.ys = e.xs[:0], e.ys[:0]
		for i, ct := range cts {
			if pts[i] != nil {
				e.xs = append(e.xs, ct.Polys[k].Row(r)[s0:s1])
				e.ys = append(e.ys, pts[i].Poly.Row(r)[s0:s1])
			}
		}
		clear(a)
		clear(b)
		clear(c)
		for s := 0; s < len(e.xs); s += maxTerms {
			if s > 0 {
				fold26(a, a, b, c, m)
				clear(b)
				clear(c)
			}
			for u := s; u < min(s+maxTerms, len(e.xs)); u += scanTerms {
				t := min(u+scanTerms, s+maxTerms, len(e.xs))
				mulAcc26(a, b, c, e.xs[u:t], e.ys[u:t])
			}
		}
		fold26(out.Polys[k].Row(r)[s0:s1], a, b, c, m)
	}
	clear(e.xs[:cap(e.xs)]) // drop the references to the operands
	clear(e.ys[:cap(e.ys)])
}

// fold26 sets dst = (a + b·2^26 + c·2^52) mod q slot-wise (the sum is
// below 2^128 for any a, b, c < 2^64). dst may alias a.
func fold26(dst, a, b, c []uint64, m modq.Modulus) {
	a, b, c = a[:len(dst)], b[:len(dst)], c[:len(dst)]
	for j := range dst {
		lo, carry := bits.Add64(a[j], b[j]<<26, 0)
		hi := b[j]>>38 + carry
		lo, carry = bits.Add64(lo, c[j]<<52, 0)
		hi += c[j]>>12 + carry
		dst[j] = m.Reduce128(hi, lo)
	}
}

// mulAcc26 adds Σ_t xs[t]·ys[t] to the digit columns a, b, c slot-wise
// (see the top of this file), for residues below 2^50; the caller bounds
// the number of terms since the columns were last folded by maxTermsWide.
// Every row of xs and ys holds at least len(a) values.
func mulAcc26(a, b, c []uint64, xs, ys [][]uint64) {
	n, nt := len(a), len(xs)
	b, c, ys = b[:n], c[:n], ys[:nt]
	for t := range nt {
		_, _ = xs[t][:n], ys[t][:n] // every row long enough, or panic here
	}
	if v := n &^ 7; v > 0 && nt > 0 && haveSIMD {
		mulAcc26AVX2(a[:v], b[:v], c[:v], xs, ys)
		a, b, c = a[v:], b[v:], c[v:]
		for t := range nt {
			mulAcc26Go(a, b, c, xs[t][v:n], ys[t][v:n])
		}
		return
	}
	for t := range nt {
		mulAcc26Go(a, b, c, xs[t][:n], ys[t][:n])
	}
}

// mulAcc26Go adds x·y to the digit columns a, b, c slot-wise in portable
// Go, the reference of mulAcc26AVX2.
func mulAcc26Go(a, b, c, x, y []uint64) {
	const mask = 1<<26 - 1
	b, c, x, y = b[:len(a)], c[:len(a)], x[:len(a)], y[:len(a)]
	for j := range a {
		x0, x1 := x[j]&mask, x[j]>>26
		y0, y1 := y[j]&mask, y[j]>>26
		a[j] += x0 * y0
		b[j] += x0*y1 + x1*y0
		c[j] += x1 * y1
	}
}
