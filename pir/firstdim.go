package pir

import (
	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// First MulPIR dimension: out = Σ_r cts[r] ⊙ P[base + r] for Eval
// ciphertexts and the database's Eval plaintexts, skipping zero plaintexts
// (pir-spec §3.6; Apple's innerProduct). The sum is exact modulo each q_i,
// so any reduction schedule gives Apple's result.

// dotScratch holds the accumulators of one goroutine.
type dotScratch struct {
	acc0, acc1 []uint64
}

// dot sets out (resized to 2 Eval polys at the ciphertexts' level) to the
// inner product of cts with plaintexts base..base+len(cts)-1.
func (db *Database) dot(ev *bfv.Evaluator, bp *bfv.Params, moduli []modq.Modulus, out *bfv.Ciphertext, cts []*bfv.Ciphertext, base int, sc *dotScratch) error {
	if db.pt64 != nil {
		pts := make([]*bfv.Plaintext, len(cts))
		for r := range cts {
			if v := db.pt64[base+r]; v != nil {
				pts[r] = &bfv.Plaintext{Poly: &ring.Poly{N: bp.N(), Coeffs: v}, Format: bfv.Eval}
			}
		}
		return ev.InnerProduct(out, cts, pts)
	}
	n := bp.N()
	l := cts[0].Level()
	if len(out.Polys) != 2 || out.Level() != l {
		*out = *bp.NewCiphertext(2, l, bfv.Eval)
	}
	out.Format, out.Seed, out.CorrectionFactor = bfv.Eval, nil, 1
	if sc.acc0 == nil {
		sc.acc0, sc.acc1 = make([]uint64, n), make([]uint64, n)
	}
	acc0, acc1 := sc.acc0[:n], sc.acc1[:n]
	for i := range l {
		m := &moduli[i]
		q := m.Q
		// Residues are < q < 2^32: a product is ≤ (q−1)², and after a
		// reduction the accumulator is < q, so maxTerms products fit in
		// 64 bits before the next reduction.
		maxTerms := (^uint64(0) - q) / ((q - 1) * (q - 1))
		clear(acc0)
		clear(acc1)
		terms := uint64(0)
		for r, ct := range cts {
			w := db.pt32[base+r]
			if w == nil {
				continue
			}
			if terms == maxTerms {
				for j := range acc0 {
					acc0[j] = m.Reduce(acc0[j])
					acc1[j] = m.Reduce(acc1[j])
				}
				terms = 0
			}
			terms++
			y := w[i*n : (i+1)*n]
			x0 := ct.Polys[0].Row(i)[:n]
			x1 := ct.Polys[1].Row(i)[:n]
			a0, a1 := acc0[:n], acc1[:n]
			for j, v := range y {
				a0[j] += x0[j] * uint64(v)
				a1[j] += x1[j] * uint64(v)
			}
		}
		o0, o1 := out.Polys[0].Row(i), out.Polys[1].Row(i)
		for j := range o0 {
			o0[j] = m.Reduce(acc0[j])
			o1[j] = m.Reduce(acc1[j])
		}
	}
	return nil
}

// ctModuliOf returns the reduction constants of the ciphertext moduli.
func ctModuliOf(he heParams) []modq.Modulus {
	ms := make([]modq.Modulus, len(he.ctModuli()))
	for i, q := range he.ctModuli() {
		ms[i] = modq.MustNew(q)
	}
	return ms
}
