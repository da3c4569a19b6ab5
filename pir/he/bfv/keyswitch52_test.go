package bfv

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// word52Params returns parameter sets whose key switching takes the 52-bit
// path on an IFMA CPU: the 16_33_33 preset (a 16-bit modulus among 33-bit
// ones), four moduli right below 2^50 (l = 3 sums three products), and
// N = 8192 with 40-bit moduli.
func word52Params(t *testing.T) []*Params {
	t.Helper()
	p, err := Preset("n_4096_logq_16_33_33_logt_4")
	if err != nil {
		t.Fatal(err)
	}
	out := []*Params{p}
	for _, lit := range []ParamsLiteral{
		{N: 4096, T: 17, Moduli: primesBelow(word52Max, 4096, 4), Security: Unchecked},
		{N: 8192, T: 17, Moduli: primesBelow(1<<40, 8192, 3), Security: Unchecked},
	} {
		p, err := NewParams(lit)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestKeySwitch52MatchesReference runs the 52-bit key switching (IFMA rows
// when the CPU has them, else the portable rows) and the 64-bit reference
// on the same inputs at every level, Coeff and Eval results.
func TestKeySwitch52MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for _, p := range word52Params(t) {
		t.Run(fmt.Sprintf("N=%d/moduli=%v", p.n, p.moduli), func(t *testing.T) {
			rnd := testRand(t, 5)
			sk, err := p.GenerateSecretKey(rnd)
			if err != nil {
				t.Fatal(err)
			}
			evk, err := p.GenerateEvaluationKey(sk, []uint64{3}, false, rnd)
			if err != nil {
				t.Fatal(err)
			}
			ev := NewEvaluator(p)
			for l := 1; l <= p.MaxLevel(); l++ {
				if ks := p.levels[l].ks; ks.word52 != haveIFMA || ks.word32 {
					t.Fatalf("level %d: word52=%v word32=%v, want word52=%v", l, ks.word52, ks.word32, haveIFMA)
				}
				d := randomCoeffPoly(p, l, rng)
				for _, eval := range []bool{false, true} {
					want0, want1 := ring.NewPoly(p.n, l), ring.NewPoly(p.n, l)
					ev.keySwitch64(want0, want1, d, evk.Galois[3], l, eval)
					got0, got1 := ring.NewPoly(p.n, l), ring.NewPoly(p.n, l)
					ev.keySwitch52(got0, got1, d, evk.Galois[3], l, eval)
					if !slices.Equal(got0.Coeffs, want0.Coeffs) || !slices.Equal(got1.Coeffs, want1.Coeffs) {
						t.Fatalf("level %d eval=%v: 52-bit key switching differs from the reference", l, eval)
					}
				}
			}
		})
	}
}

// TestShoupRow52Kernels checks the 52-bit key companions against exact
// division, and the IFMA key-product rows (every mode, a tail) against the
// portable ones and exact arithmetic.
func TestShoupRow52Kernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	for _, q := range []uint64{40961, 2147565569, 8589852673, primesBelow(word52Max, 4096, 1)[0]} {
		m := modq.MustNew(q)
		bq := new(big.Int).SetUint64(q)
		for _, n := range []int{8, 13, 4096} {
			x, k, ks := make([]uint64, n), make([]uint64, n), make([]uint64, n)
			for i := range x {
				x[i], k[i] = rng.Uint64N(1<<52), rng.Uint64N(q)
			}
			x[0], k[0], x[1], k[1], x[n-1], k[n-1] = 1<<52-1, q-1, 4*q-1, q-1, 0, 0
			shoupCompanions52(ks, k, m)
			for i := range k {
				want := new(big.Int).Lsh(new(big.Int).SetUint64(k[i]), 52)
				if want.Quo(want, bq); ks[i] != want.Uint64() {
					t.Fatalf("q=%d: companion of %d = %d, want %d", q, k[i], ks[i], want)
				}
			}
			for mode := ks52Set; mode <= ks52Reduce; mode++ {
				got := make([]uint64, n)
				for i := range got {
					got[i] = rng.Uint64N(2 * q)
				}
				got[0] = 2*q - 1
				in := slices.Clone(got)
				want := slices.Clone(got)
				shoupRow52(got, x, k, ks, q, mode)
				shoupRow52Go(want, x, k, ks, q, mode)
				if !slices.Equal(got, want) {
					t.Fatalf("q=%d n=%d mode %d: IFMA key product differs from the portable one", q, n, mode)
				}
				for i := range got {
					p := m.Mul(m.Reduce(x[i]), k[i])
					lazy := got[i]
					if mode == ks52Acc || mode == ks52AccReduce {
						p = m.Add(p, m.Reduce(in[i]))
						lazy -= in[i]
					}
					reduced := mode == ks52AccReduce || mode == ks52Reduce
					if got[i]%q != p || (reduced && got[i] >= q) || (mode != ks52AccReduce && lazy >= 2*q) {
						t.Fatalf("q=%d mode %d: slot %d = %d, want %d (mod q)", q, mode, i, got[i], p)
					}
				}
			}
		}
	}
}
