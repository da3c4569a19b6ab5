package bfv

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/ring"
)

// TestApplyGaloisEvalMatchesCoeff checks that ApplyGaloisEval's result is
// exactly the NTT of ApplyGalois's, that it leaves the input in Eval form,
// and that MulPowerOfX on an Eval ciphertext is the NTT of the Coeff one,
// for the 32-bit and 64-bit key-switching paths at every level.
func TestApplyGaloisEvalMatchesCoeff(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	ps := fastPathParams(t)
	p64, err := Preset("n_8192_logq_3x55_logt_24")
	if err != nil {
		t.Fatal(err)
	}
	ps = append(ps, p64)
	for _, p := range ps {
		t.Run(fmt.Sprintf("N=%d/moduli=%v", p.n, p.moduli), func(t *testing.T) {
			rnd := testRand(t, 4)
			sk, err := p.GenerateSecretKey(rnd)
			if err != nil {
				t.Fatal(err)
			}
			const g = 5
			evk, err := p.GenerateEvaluationKey(sk, []uint64{g}, false, rnd)
			if err != nil {
				t.Fatal(err)
			}
			ev := NewEvaluator(p)
			for l := 1; l <= p.MaxLevel(); l++ {
				ct := &Ciphertext{Polys: []*ring.Poly{randomCoeffPoly(p, l, rng), randomCoeffPoly(p, l, rng)}, Format: Coeff, CorrectionFactor: 1}
				want := &Ciphertext{}
				if err := ev.ApplyGalois(want, ct, g, evk); err != nil {
					t.Fatal(err)
				}
				ctE := &Ciphertext{Polys: []*ring.Poly{ct.Polys[0].Clone(), ct.Polys[1].Clone()}, Format: Coeff, CorrectionFactor: 1}
				got := &Ciphertext{}
				if err := ev.ApplyGaloisEval(got, ctE, g, evk); err != nil {
					t.Fatal(err)
				}
				wantX := &Ciphertext{}
				if err := ev.MulPowerOfX(wantX, want, -(1 << l)); err != nil {
					t.Fatal(err)
				}
				if err := ev.ToEval(want); err != nil {
					t.Fatal(err)
				}
				if err := ev.ToEval(ct); err != nil {
					t.Fatal(err)
				}
				if got.Format != Eval || ctE.Format != Eval {
					t.Fatalf("level %d: formats %v, %v, want Eval", l, got.Format, ctE.Format)
				}
				if !slices.Equal(ctE.Polys[0].Coeffs, ct.Polys[0].Coeffs) || !slices.Equal(ctE.Polys[1].Coeffs, ct.Polys[1].Coeffs) {
					t.Fatalf("level %d: input not converted to its Eval form", l)
				}
				for i := range 2 {
					if !slices.Equal(got.Polys[i].Coeffs, want.Polys[i].Coeffs) {
						t.Fatalf("level %d: poly %d differs from the NTT of ApplyGalois", l, i)
					}
				}
				gotX := &Ciphertext{}
				if err := ev.MulPowerOfX(gotX, got, -(1 << l)); err != nil {
					t.Fatal(err)
				}
				if err := ev.ToEval(wantX); err != nil {
					t.Fatal(err)
				}
				for i := range 2 {
					if !slices.Equal(gotX.Polys[i].Coeffs, wantX.Polys[i].Coeffs) {
						t.Fatalf("level %d: Eval MulPowerOfX poly %d differs", l, i)
					}
				}
			}
		})
	}
}
