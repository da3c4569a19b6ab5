package bfv

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/ring"
)

// TestInnerProduct52MatchesReference runs the 52-bit and the 128-bit
// inner product rows on the same Eval ciphertexts and plaintexts (nil
// plaintexts included), folding after every 1, 2 or maxTerms52 terms, and
// checks the IFMA multiply-accumulate row against the portable one.
func TestInnerProduct52MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(63, 64))
	for _, p := range word52Params(t) {
		l := p.MaxLevel()
		var cts []*Ciphertext
		var pts []*Plaintext
		for i := 0; i < 9; i++ {
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
		for _, maxTerms := range []int{1, 2, maxTerms52} {
			t.Run(fmt.Sprintf("moduli=%v/fold=%d", p.moduli, maxTerms), func(t *testing.T) {
				got := &Ciphertext{}
				ev.shape(got, 2, l, Eval)
				for r := 0; r < l; r++ {
					if p.moduli[r] < word32Max {
						ev.innerProductRow64(got, cts, pts, r, 0, ev.p.n)
						continue
					}
					ev.innerProductRow52(got, cts, pts, r, maxTerms, 0, ev.p.n)
				}
				for k := range got.Polys {
					if !slices.Equal(got.Polys[k].Coeffs, want.Polys[k].Coeffs) {
						t.Fatal("52-bit inner product differs from the 128-bit one")
					}
				}
			})
		}
	}
	for _, n := range []int{8, 13, 4096} {
		x, y, lo, hi := make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]uint64, n)
		for i := range x {
			x[i], y[i], lo[i], hi[i] = rng.Uint64N(1<<52), rng.Uint64N(1<<52), rng.Uint64N(1<<62), rng.Uint64N(1<<62)
		}
		x[0], y[0] = 1<<52-1, 1<<52-1
		gotLo, gotHi, wantLo, wantHi := slices.Clone(lo), slices.Clone(hi), slices.Clone(lo), slices.Clone(hi)
		mulAcc52(gotLo, gotHi, x, y)
		mulAcc52Go(wantLo, wantHi, x, y)
		if !slices.Equal(gotLo, wantLo) || !slices.Equal(gotHi, wantHi) {
			t.Fatalf("n=%d: IFMA multiply-accumulate differs from the portable one", n)
		}
	}
}
