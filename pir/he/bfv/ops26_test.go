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

// TestInnerProduct26MatchesReference runs the 26-bit-digit and the
// 128-bit inner product rows on the same Eval ciphertexts and plaintexts
// (nil plaintexts included; every row has runs of q−1 and 0), folding
// after every 1, 2 or maxTermsWide terms, for Apple's 33-bit moduli and
// primes just below 2^50 and 2^40.
func TestInnerProduct26MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(26, 50))
	for _, p := range word52Params(t) {
		l := p.MaxLevel()
		var cts []*Ciphertext
		var pts []*Plaintext
		for i := 0; i < 11; i++ {
			cts = append(cts, &Ciphertext{Polys: []*ring.Poly{randomCoeffPoly(p, l, rng), randomCoeffPoly(p, l, rng)}, Format: Eval, CorrectionFactor: 1})
			var pt *Plaintext
			if i%4 != 2 {
				pt = &Plaintext{Poly: randomCoeffPoly(p, l, rng), Format: Eval}
			}
			pts = append(pts, pt)
		}
		ev := NewEvaluator(p)
		want := &Ciphertext{}
		ev.shape(want, 2, l, Eval)
		for r := 0; r < l; r++ {
			ev.innerProductRow64(want, cts, pts, r, 0, ev.p.n)
		}
		for _, maxTerms := range []int{1, 2, 3, maxTermsWide} {
			t.Run(fmt.Sprintf("moduli=%v/fold=%d", p.moduli, maxTerms), func(t *testing.T) {
				got := &Ciphertext{}
				ev.shape(got, 2, l, Eval)
				for r := 0; r < l; r++ {
					ev.innerProductRow26(got, cts, pts, r, maxTerms, 0, ev.p.n)
				}
				for k := range got.Polys {
					if !slices.Equal(got.Polys[k].Coeffs, want.Polys[k].Coeffs) {
						t.Fatalf("26-bit-digit inner product (simd %v) differs from the 128-bit one", haveSIMD)
					}
				}
			})
		}
	}
}

// TestMulAcc26MatchesPortable compares mulAcc26 (AVX2 when selected) with
// one mulAcc26Go per term on random and edge residues (0, 2^26 − 1, 2^26,
// 2^50 − 1), 1 to 6 terms, lengths around the eight-slot blocks.
func TestMulAcc26MatchesPortable(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 26))
	edges := []uint64{0, 1, 1<<26 - 1, 1 << 26, 1<<50 - 1, 1<<50 - 1<<26}
	for _, n := range []int{1, 8, 9, 16, 4096, 4101} {
		for nt := 1; nt <= 6; nt++ {
			xs, ys := make([][]uint64, nt), make([][]uint64, nt)
			for i := range nt {
				xs[i], ys[i] = make([]uint64, n), make([]uint64, n)
				for j := range n {
					if (i+j)%3 == 0 {
						xs[i][j], ys[i][j] = edges[rng.IntN(len(edges))], edges[rng.IntN(len(edges))]
					} else {
						xs[i][j], ys[i][j] = rng.Uint64N(1<<50), rng.Uint64N(1<<50)
					}
				}
			}
			a, b, c := make([]uint64, n), make([]uint64, n), make([]uint64, n)
			for j := range n {
				a[j], b[j], c[j] = rng.Uint64N(1<<50), rng.Uint64N(1<<40), rng.Uint64N(1<<40)
			}
			ga, gb, gc := slices.Clone(a), slices.Clone(b), slices.Clone(c)
			mulAcc26(ga, gb, gc, xs, ys)
			for i := range nt {
				mulAcc26Go(a, b, c, xs[i], ys[i])
			}
			if !slices.Equal(ga, a) || !slices.Equal(gb, b) || !slices.Equal(gc, c) {
				t.Fatalf("n=%d, %d terms: mulAcc26 (simd %v) differs from the portable loop", n, nt, haveSIMD)
			}
		}
	}
}

// TestMulAcc26Bound checks the bound behind maxTermsWide: maxTermsWide
// products of the largest residues, added to columns starting at q − 1,
// fold to the exact sum modulo q (math/big), for primes just below 2^50.
func TestMulAcc26Bound(t *testing.T) {
	for _, q := range primesBelow(word52Max, 4096, 2) {
		m := modq.MustNew(q)
		const n = 8
		xs, ys := make([][]uint64, maxTermsWide), make([][]uint64, maxTermsWide)
		row := make([]uint64, n)
		for j := range row {
			row[j] = q - 1
		}
		for i := range xs {
			xs[i], ys[i] = row, row
		}
		a, b, c := slices.Clone(row), make([]uint64, n), make([]uint64, n)
		mulAcc26(a, b, c, xs, ys)
		got := make([]uint64, n)
		fold26(got, a, b, c, m)
		bq := new(big.Int).SetUint64(q)
		qm1 := new(big.Int).SetUint64(q - 1)
		want := new(big.Int).Mul(qm1, qm1)
		want.Mul(want, big.NewInt(maxTermsWide))
		want.Add(want, qm1)
		want.Mod(want, bq)
		for j := range got {
			if got[j] != want.Uint64() {
				t.Fatalf("q=%d: %d terms of (q−1)² + (q−1) folds to %d, want %d", q, maxTermsWide, got[j], want.Uint64())
			}
		}
	}
}
