package bfv

import (
	"math/bits"

	"github.com/blindlist/blindlist/pir/he/modq"
)

// maxTerms52 is how many products innerProductRow52 sums before folding:
// each adds below 2^52 to the low accumulator (which starts below q <
// 2^50 after a fold), so 4095 of them stay below 2^64; the high
// accumulator grows by less than 2^48 per product.
const maxTerms52 = 1<<12 - 1

// innerProductRow52 is row r, slots [s0, s1), of InnerProduct for 2^30 <= q < 2^50 with
// AVX-512 IFMA: each product x·y < 2^100 of residues is split into its
// low and high 52 bits (VPMADD52LUQ, VPMADD52HUQ) and the halves are
// summed in two 64-bit accumulators, eight lanes at a time; the sum
// hi·2^52 + lo is reduced every maxTerms terms and at the end. It computes
// the same residues as innerProductRow64, the reference.
func (e *Evaluator) innerProductRow52(out *Ciphertext, cts []*Ciphertext, pts []*Plaintext, r int, maxTerms int, s0, s1 int) {
	n := s1 - s0
	if cap(e.acc64) < 2*n {
		e.acc64 = make([]uint64, 2*n)
	}
	lo, hi := e.acc64[:n], e.acc64[n:2*n]
	m := e.p.keyB[r].M
	for k := range out.Polys {
		clear(lo)
		clear(hi)
		cnt := 0
		for i, ct := range cts {
			pt := pts[i]
			if pt == nil {
				continue
			}
			if cnt == maxTerms {
				fold52(lo, lo, hi, m)
				clear(hi)
				cnt = 0
			}
			cnt++
			mulAcc52(lo, hi, ct.Polys[k].Row(r)[s0:s1], pt.Poly.Row(r)[s0:s1])
		}
		fold52(out.Polys[k].Row(r)[s0:s1], lo, hi, m)
	}
}

// fold52 sets dst = (hi·2^52 + lo) mod q slot-wise. dst may alias lo.
func fold52(dst, lo, hi []uint64, m modq.Modulus) {
	lo, hi = lo[:len(dst)], hi[:len(dst)]
	for j, h := range hi {
		l, c := bits.Add64(h<<52, lo[j], 0)
		dst[j] = m.Reduce128(h>>12+c, l)
	}
}

// mulAcc52 adds the low and high 52-bit halves of x·y to lo and hi
// slot-wise, for x, y < 2^52.
func mulAcc52(lo, hi, x, y []uint64) {
	hi, x, y = hi[:len(lo)], x[:len(lo)], y[:len(lo)]
	if v := len(lo) &^ 7; v > 0 && haveIFMA {
		mulAcc52IFMA(lo[:v], hi[:v], x[:v], y[:v])
		lo, hi, x, y = lo[v:], hi[v:], x[v:], y[v:]
	}
	mulAcc52Go(lo, hi, x, y)
}

// mulAcc52Go is mulAcc52 in portable Go.
func mulAcc52Go(lo, hi, x, y []uint64) {
	hi, x, y = hi[:len(lo)], x[:len(lo)], y[:len(lo)]
	for j, v := range x {
		h, l := bits.Mul64(v, y[j])
		lo[j] += l & (1<<52 - 1)
		hi[j] += h<<12 | l>>52
	}
}
