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
// on the same inputs at every level, Coeff and Eval results, with and
// without the digits' Eval form (keySwitch's dEval), for moduli
// above 2^30 and the 32-bit sets (which take it too on IFMA CPUs).
func TestKeySwitch52MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for _, p := range append(word52Params(t), fastPathParams(t)...) {
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
				if ks := p.levels[l].ks; ks.word52 != haveIFMA {
					t.Fatalf("level %d: word52=%v, want %v", l, ks.word52, haveIFMA)
				}
				d := randomCoeffPoly(p, l, rng)
				dE := d.Clone()
				p.basis(l).NTT(dE)
				for _, eval := range []bool{false, true} {
					want0, want1 := ring.NewPoly(p.n, l), ring.NewPoly(p.n, l)
					ev.keySwitch64(want0, want1, d, nil, evk.Galois[3], l, eval)
					// The diagonal digits from d's Eval form, on both paths.
					for _, de := range []*ring.Poly{nil, dE} {
						got0, got1 := ring.NewPoly(p.n, l), ring.NewPoly(p.n, l)
						ev.keySwitch52(got0, got1, d, de, evk.Galois[3], l, eval)
						if !slices.Equal(got0.Coeffs, want0.Coeffs) || !slices.Equal(got1.Coeffs, want1.Coeffs) {
							t.Fatalf("level %d eval=%v Eval digits=%v: 52-bit key switching differs from the reference", l, eval, de != nil)
						}
						ev.keySwitch64(got0, got1, d, de, evk.Galois[3], l, eval)
						if !slices.Equal(got0.Coeffs, want0.Coeffs) || !slices.Equal(got1.Coeffs, want1.Coeffs) {
							t.Fatalf("level %d eval=%v Eval digits=%v: 64-bit key switching differs from the reference", l, eval, de != nil)
						}
					}
				}
			}
		})
	}
}

// TestKeyMulRow52Kernels checks the Montgomery forms of key residues
// against exact arithmetic, and the IFMA key-product rows (every mode, a
// tail) against the portable ones and exact products.
func TestKeyMulRow52Kernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	for _, q := range []uint64{40961, 2147565569, 8589852673, primesBelow(word52Max, 4096, 1)[0]} {
		m := modq.MustNew(q)
		bq := new(big.Int).SetUint64(q)
		qInv := inv52(q)
		for _, n := range []int{8, 13, 4096} {
			x, k0, k1 := make([]uint64, n), make([]uint64, n), make([]uint64, n)
			for i := range x {
				x[i], k0[i], k1[i] = rng.Uint64N(q), rng.Uint64N(q), rng.Uint64N(q)
			}
			x[0], k0[0], k1[0], x[n-1], k0[n-1], k1[n-1] = q-1, q-1, 0, 0, q-1, q-1
			km0, km1 := make([]uint64, n), make([]uint64, n)
			montgomery52(km0, k0, m)
			montgomery52(km1, k1, m)
			for i := range k0 {
				want := new(big.Int).Lsh(new(big.Int).SetUint64(k0[i]), 52)
				if want.Mod(want, bq); km0[i] != want.Uint64() {
					t.Fatalf("q=%d: Montgomery form of %d = %d, want %d", q, k0[i], km0[i], want)
				}
			}
			for mode := ks52Set; mode <= ks52Reduce; mode++ {
				var in, got, want [2][]uint64
				for h := range 2 {
					in[h] = make([]uint64, n)
					for i := range in[h] {
						in[h][i] = rng.Uint64N(2 * q)
					}
					in[h][0] = 2*q - 1
					got[h], want[h] = slices.Clone(in[h]), slices.Clone(in[h])
				}
				keyMulRow52(got[0], got[1], x, km0, km1, q, qInv, mode)
				keyMulRow52Go(want[0], x, km0, q, qInv, mode)
				keyMulRow52Go(want[1], x, km1, q, qInv, mode)
				for h, k := range [2][]uint64{k0, k1} {
					if !slices.Equal(got[h], want[h]) {
						t.Fatalf("q=%d n=%d mode %d: IFMA key product differs from the portable one", q, n, mode)
					}
					for i := range got[h] {
						p := m.Mul(x[i], k[i])
						lazy := got[h][i]
						if mode == ks52Acc || mode == ks52AccReduce {
							p = m.Add(p, m.Reduce(in[h][i]))
							lazy -= in[h][i]
						}
						reduced := mode == ks52AccReduce || mode == ks52Reduce
						if got[h][i]%q != p || (reduced && got[h][i] >= q) || (mode != ks52AccReduce && lazy >= 2*q) {
							t.Fatalf("q=%d mode %d: slot %d = %d, want %d (mod q)", q, mode, i, got[h][i], p)
						}
					}
				}
			}
		}
	}
}
