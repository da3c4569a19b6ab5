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
			bfv.MulAccNarrow(acc0, acc1, ct.Polys[0].Row(i), ct.Polys[1].Row(i), w[i*n:(i+1)*n])
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

// firstDimAcc accumulates, for one worker, the first-dimension products of
// the leaves it expanded: acc[k][c·d1+col] += leaf(k, r) ⊙ P_k[c, col·d0+r],
// unreduced, for narrow (uint32) databases. Leaves are consumed as they are
// produced, so an answer never holds all expanded ciphertexts.
type firstDimAcc struct {
	db       *Database
	moduli   []modq.Modulus
	n, l     int
	maxTerms uint64
	acc      [][][]uint64 // [k][c·d1+col] → 2 polys × l rows × n
	terms    []uint64     // products added to acc[k] since its last reduction
}

func newFirstDimAcc(db *Database, moduli []modq.Modulus, n, l int) *firstDimAcc {
	p := db.params
	a := &firstDimAcc{db: db, moduli: moduli, n: n, l: l, maxTerms: ^uint64(0)}
	for _, m := range moduli[:l] {
		q := m.Q
		a.maxTerms = min(a.maxTerms, (^uint64(0)-(q-1))/((q-1)*(q-1)))
	}
	per := p.ChunkCount() * p.Dimensions[1]
	a.acc = make([][][]uint64, p.HashFunctionCount)
	a.terms = make([]uint64, p.HashFunctionCount)
	for k := range a.acc {
		a.acc[k] = make([][]uint64, per)
		for i := range a.acc[k] {
			a.acc[k][i] = make([]uint64, 2*l*n)
		}
	}
	return a
}

// add accumulates the Eval leaf for row r of table k.
func (a *firstDimAcc) add(k, r int, leaf *bfv.Ciphertext) {
	p := a.db.params
	lay := p.layout()
	d0, d1 := p.Dimensions[0], p.Dimensions[1]
	if a.terms[k] == a.maxTerms {
		a.reduce(k)
	}
	a.terms[k]++
	n, l := a.n, a.l
	base := k * lay.plaintextCount()
	for c := range lay.chunkCount() {
		for col := range d1 {
			w := a.db.pt32[base+c*lay.perChunk()+col*d0+r]
			if w == nil {
				continue
			}
			buf := a.acc[k][c*d1+col]
			for i := range l {
				bfv.MulAccNarrow(buf[i*n:(i+1)*n], buf[(l+i)*n:(l+i+1)*n], leaf.Polys[0].Row(i), leaf.Polys[1].Row(i), w[i*n:(i+1)*n])
			}
		}
	}
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

// sumFirstDim returns R[k][c][col], the Eval ciphertexts Σ over workers of
// their reduced accumulators.
func sumFirstDim(bp *bfv.Params, accs []*firstDimAcc, b, chunks, d1 int) [][][]*bfv.Ciphertext {
	a0 := accs[0]
	n, l := a0.n, a0.l
	for _, a := range accs {
		for k := range b {
			a.reduce(k)
		}
	}
	R := make([][][]*bfv.Ciphertext, b)
	for k := range b {
		R[k] = make([][]*bfv.Ciphertext, chunks)
		for c := range chunks {
			R[k][c] = make([]*bfv.Ciphertext, d1)
			for col := range d1 {
				ct := bp.NewCiphertext(2, l, bfv.Eval)
				for pi := range 2 {
					for i := range l {
						m := &a0.moduli[i]
						o := ct.Polys[pi].Row(i)
						for _, a := range accs {
							row := a.acc[k][c*d1+col][(pi*l+i)*n : (pi*l+i+1)*n]
							for j, v := range row {
								o[j] = m.Add(o[j], v)
							}
						}
					}
				}
				R[k][c][col] = ct
			}
		}
	}
	return R
}
