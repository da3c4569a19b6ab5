package bfv

import (
	"math/big"
	"math/bits"
	mrand "math/rand"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/kernels"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// closedFormMul is the big-integer oracle of he-spec §4.5: Apple's ct×ct
// output computed directly from its closed form.
func closedFormMul(p *Params, as, bs []*Ciphertext) [3][]*big.Int {
	l := as[0].Level()
	Q := p.levels[l].bigQ
	mt := new(big.Int).SetUint64(1 << 32)
	if p.wordBits == 32 {
		mt.SetUint64(1 << 16)
	}
	halfMt := new(big.Int).Rsh(mt, 1)
	qs := p.moduli[:l]
	// alpha(x) = (Σ [x·Q_i^{-1}]_{q_i}·Q_i − x) / Q.
	alpha := func(x *big.Int) *big.Int {
		s := new(big.Int)
		for _, q := range qs {
			bq := new(big.Int).SetUint64(q)
			hat := new(big.Int).Quo(Q, bq)
			inv := new(big.Int).ModInverse(new(big.Int).Mod(hat, bq), bq)
			v := new(big.Int).Mul(x, inv)
			v.Mod(v, bq).Mul(v, hat)
			s.Add(s, v)
		}
		return s.Sub(s, x).Quo(s, Q)
	}
	lift := func(poly *ring.Poly) []*big.Int {
		out := p.crt(poly, l)
		for _, c := range out {
			mc := new(big.Int).Mul(mt, c)
			f := new(big.Int).Quo(mc, Q)
			x := new(big.Int).Mod(mc, Q)
			if f.Sub(f, alpha(x)).Cmp(halfMt) >= 0 {
				c.Sub(c, Q)
			}
		}
		return out
	}
	n := p.n
	negacyclic := func(acc []*big.Int, x, y []*big.Int) {
		for i := range x {
			for j := range y {
				prod := new(big.Int).Mul(x[i], y[j])
				if k := i + j; k < n {
					acc[k].Add(acc[k], prod)
				} else {
					acc[k-n].Sub(acc[k-n], prod)
				}
			}
		}
	}
	var D [3][]*big.Int
	for k := range D {
		D[k] = make([]*big.Int, n)
		for j := range D[k] {
			D[k][j] = new(big.Int)
		}
	}
	for i := range as {
		a0, a1 := lift(as[i].Polys[0]), lift(as[i].Polys[1])
		b0, b1 := lift(bs[i].Polys[0]), lift(bs[i].Polys[1])
		negacyclic(D[0], a0, b0)
		negacyclic(D[1], a0, b1)
		negacyclic(D[1], a1, b0)
		negacyclic(D[2], a1, b1)
	}
	bt := new(big.Int).SetUint64(p.t)
	for k := range D {
		for _, d := range D[k] {
			td := new(big.Int).Mul(bt, d)
			y := new(big.Int).Div(td, Q) // floor (Euclidean for Q > 0)
			y.Sub(y, alpha(new(big.Int).Mod(td, Q)))
			d.Set(y)
		}
	}
	return D
}

func randomCt(p *Params, rng *rand.Rand, l int) *Ciphertext {
	ct := p.NewCiphertext(2, l, Coeff)
	for _, poly := range ct.Polys {
		for i, q := range p.moduli[:l] {
			row := poly.Row(i)
			for j := range row {
				row[j] = rng.Uint64N(q)
			}
		}
	}
	return ct
}

// setNearHalf overwrites some coefficients with values just above and
// below Q/2, where the closed-form lift departs from the centered one.
func setNearHalf(p *Params, ct *Ciphertext, rng *rand.Rand) {
	l := ct.Level()
	Q := p.levels[l].bigQ
	half := new(big.Int).Rsh(Q, 1)
	for _, poly := range ct.Polys {
		for j := 0; j < p.n; j += 2 {
			c := new(big.Int).Add(half, big.NewInt(rng.Int64N(1<<20)-1<<19))
			if j%4 == 0 {
				// Just above Q/2 by up to Q/m̃.
				step := new(big.Int).Rsh(Q, 16)
				c = new(big.Int).Add(half, new(big.Int).Rand(mrand.New(rngSource{rng}), step))
			}
			for i, q := range p.moduli[:l] {
				poly.Row(i)[j] = new(big.Int).Mod(c, new(big.Int).SetUint64(q)).Uint64()
			}
		}
	}
}

// rngSource adapts math/rand/v2 to math/rand's Source for big.Int.Rand.
type rngSource struct{ r *rand.Rand }

func (s rngSource) Int63() int64 { return s.r.Int64() }
func (s rngSource) Seed(int64)   {}

func TestMulMatchesClosedForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	cases := []struct {
		name  string
		lit   ParamsLiteral
		pairs int
	}{
		{"n8_5x18_w32", ParamsLiteral{N: 8, T: 17, Moduli: moduli5x18}, 1},
		{"n8_5x18_w32_inner3", ParamsLiteral{N: 8, T: 17, Moduli: moduli5x18}, 3},
		{"n16_2x60_w64", ParamsLiteral{N: 16, T: 16417, Moduli: []uint64{1152921504606830593, 1152921504606748673, 576460752303436801}}, 2},
		{"n16_27_28_w32", ParamsLiteral{N: 16, T: 17, Moduli: moduli27_28_28}, 2},
		{"n16_27_28_w64", ParamsLiteral{N: 16, T: 17, Moduli: moduli27_28_28, WordBits: 64}, 2},
		// Products of several pair classes (tables sized per class).
		{"n16_27_28_w32_inner7", ParamsLiteral{N: 16, T: 17, Moduli: moduli27_28_28}, 7},
		{"n16_27_28_w32_inner100", ParamsLiteral{N: 16, T: 17, Moduli: moduli27_28_28}, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := NewParams(c.lit)
			if err != nil {
				t.Fatal(err)
			}
			ev := NewEvaluator(p)
			for l := 1; l <= p.MaxLevel(); l++ {
				var as, bs []*Ciphertext
				for i := 0; i < c.pairs; i++ {
					a, b := randomCt(p, rng, l), randomCt(p, rng, l)
					setNearHalf(p, a, rng)
					setNearHalf(p, b, rng)
					as, bs = append(as, a), append(bs, b)
				}
				out := &Ciphertext{}
				if err := ev.MulInnerProduct(out, as, bs); err != nil {
					t.Fatal(err)
				}
				want := closedFormMul(p, as, bs)
				for k := 0; k < 3; k++ {
					for i, q := range p.moduli[:l] {
						bq := new(big.Int).SetUint64(q)
						for j := 0; j < p.n; j++ {
							w := new(big.Int).Mod(want[k][j], bq).Uint64()
							if got := out.Polys[k].Row(i)[j]; got != w {
								t.Fatalf("level %d poly %d row %d coeff %d: got %d, closed form %d", l, k, i, j, got, w)
							}
						}
					}
				}
				// The same product with the bs in Eval form (as a PIR
				// server's first-dimension sums) is the same, bit for bit,
				// and leaves the bs as they were.
				var evalBs []*Ciphertext
				for _, b := range bs {
					eb := b.Clone()
					if err := ev.ToEval(eb); err != nil {
						t.Fatal(err)
					}
					evalBs = append(evalBs, eb)
				}
				// And with the as in Eval form too (a PIR server's expanded
				// query), on either side alone or both.
				var evalAs []*Ciphertext
				for _, a := range as {
					ea := a.Clone()
					if err := ev.ToEval(ea); err != nil {
						t.Fatal(err)
					}
					evalAs = append(evalAs, ea)
				}
				beforeA, beforeB := evalAs[0].Clone(), evalBs[0].Clone()
				for _, sides := range [][2][]*Ciphertext{{as, evalBs}, {evalAs, bs}, {evalAs, evalBs}} {
					outEval := &Ciphertext{}
					if err := ev.MulInnerProduct(outEval, sides[0], sides[1]); err != nil {
						t.Fatal(err)
					}
					for k := range out.Polys {
						if !slices.Equal(outEval.Polys[k].Coeffs, out.Polys[k].Coeffs) {
							t.Fatalf("level %d poly %d: product with operands in forms %v, %v differs", l, k, sides[0][0].Format, sides[1][0].Format)
						}
					}
				}
				for k := range beforeB.Polys {
					if !slices.Equal(beforeA.Polys[k].Coeffs, evalAs[0].Polys[k].Coeffs) || !slices.Equal(beforeB.Polys[k].Coeffs, evalBs[0].Polys[k].Coeffs) {
						t.Fatalf("level %d: product modified an Eval operand", l)
					}
				}
				if len(bs) > 1 {
					outEval := &Ciphertext{}
					if err := ev.MulInnerProduct(outEval, as, append([]*Ciphertext{evalBs[0]}, bs[1:]...)); err == nil {
						t.Errorf("level %d: mixed Eval and Coeff second operands accepted", l)
					}
					if err := ev.MulInnerProduct(outEval, append([]*Ciphertext{evalAs[0]}, as[1:]...), bs); err == nil {
						t.Errorf("level %d: mixed Eval and Coeff first operands accepted", l)
					}
				}
			}
		})
	}
}

// TestMulTablesPairClasses checks, for every pair class of the bench100k
// and a 33-bit preset, that the auxiliary base B (without m_sk) exceeds
// twice the bound t·pairs·2N·Q on |y| for the largest product of the class,
// and that a short product (6 pairs, bench100k's second dimension) takes
// fewer auxiliary primes than the largest one where the primes are small.
func TestMulTablesPairClasses(t *testing.T) {
	if mulPairClasses != bits.Len(maxMulPairs) {
		t.Fatalf("mulPairClasses = %d, want bits.Len(maxMulPairs) = %d", mulPairClasses, bits.Len(maxMulPairs))
	}
	for _, name := range []string{"n_4096_logq_27_28_28_logt_5", "n_4096_logq_16_33_33_logt_4"} {
		p, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		l := p.MaxLevel()
		for c := 1; c <= mulPairClasses; c++ {
			mt, err := p.mulTablesAt(l, 1<<(c-1))
			if err != nil {
				t.Fatal(err)
			}
			B := big.NewInt(1)
			for _, a := range mt.aux[:len(mt.aux)-1] {
				B.Mul(B, new(big.Int).SetUint64(a.M.Q))
			}
			bound := new(big.Int).Mul(p.levels[l].bigQ, big.NewInt(int64(p.t)<<c*int64(2*p.n)*2))
			if B.Cmp(bound) <= 0 {
				t.Errorf("%s class %d: B has %d bits, bound %d", name, c, B.BitLen(), bound.BitLen())
			}
		}
		small, err := p.mulTablesAt(l, 6)
		if err != nil {
			t.Fatal(err)
		}
		large, err := p.mulTablesAt(l, maxMulPairs)
		if err != nil {
			t.Fatal(err)
		}
		if small.word32 && len(small.aux) >= len(large.aux) {
			t.Errorf("%s: 6 pairs take %d auxiliary primes, %d pairs %d", name, len(small.aux), maxMulPairs, len(large.aux))
		}
		t.Logf("%s: auxiliary primes for 6 pairs %d, for %d pairs %d", name, len(small.aux), maxMulPairs, len(large.aux))
	}
}

// TestLiftSignRows compares the fused lift sign (AVX2 where selected)
// with the row-by-row composition it replaces, for both m̃ and several
// row counts and lengths (with tails).
func TestLiftSignRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	for _, mTilde := range []uint64{1 << 16, 1 << 32} {
		for l := 1; l <= 5; l++ {
			for _, n := range []int{1, 4, 5, 8, 13, 4096} {
				v := make([]uint64, l*n)
				for j := range v {
					v[j] = rng.Uint64N(1 << 32)
				}
				v[0] = 1<<32 - 1
				cs := make([]uint64, l)
				for i := range cs {
					cs[i] = rng.Uint64()
				}
				negQInv := rng.Uint64N(mTilde)
				want, wantNeg, acc := make([]uint64, n), make([]uint64, n), make([]uint64, n)
				mulRow(acc, v[:n], cs[0])
				for i := 1; i < l; i++ {
					macRow(acc, v[i*n:(i+1)*n], cs[i])
				}
				liftSign(want, wantNeg, acc, mTilde, negQInv)
				got, gotNeg := make([]uint64, n), make([]uint64, n)
				liftSignRows(got, gotNeg, make([]uint64, n), v, cs, mTilde, negQInv)
				if !slices.Equal(got, want) || !slices.Equal(gotNeg, wantNeg) {
					t.Fatalf("m̃=%d l=%d n=%d: liftSignRows (%s) differs from the row composition", mTilde, l, n, kernels.Selected())
				}
			}
		}
	}
}
