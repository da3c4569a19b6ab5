package bfv

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/ring"
)

// TestApplyGaloisEvalMatchesCoeff checks that ApplyGaloisEval's result is
// exactly the NTT of ApplyGalois's, from a Coeff input (which it leaves in
// Eval form) and from an Eval input (which it leaves unchanged),
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
				// From an Eval input (left as it was): the same result.
				in := ctE.Clone()
				gotE := &Ciphertext{}
				if err := ev.ApplyGaloisEval(gotE, in, g, evk); err != nil {
					t.Fatal(err)
				}
				if gotE.Format != Eval || in.Format != Eval || !slices.Equal(in.Polys[0].Coeffs, ct.Polys[0].Coeffs) || !slices.Equal(in.Polys[1].Coeffs, ct.Polys[1].Coeffs) {
					t.Fatalf("level %d: Eval input modified or result not Eval", l)
				}
				for i := range 2 {
					if !slices.Equal(gotE.Polys[i].Coeffs, want.Polys[i].Coeffs) {
						t.Fatalf("level %d: from an Eval input, poly %d differs from the NTT of ApplyGalois", l, i)
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

// TestMulPowerOfXEvalMonomials multiplies Eval ciphertexts (2 or 3
// polynomials; moduli below 2^30, below 2^50 and above) by more distinct
// powers of X than the evaluator keeps (maxMonomials), visiting them in an
// order that brings evicted ones back, and compares each result with the
// NTT of the Coeff rotation.
func TestMulPowerOfXEvalMonomials(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	ps := fastPathParams(t)
	p64, err := Preset("n_8192_logq_3x55_logt_24")
	if err != nil {
		t.Fatal(err)
	}
	ps = append(append(ps, word52Params(t)...), p64)
	for pi, p := range ps {
		ev := NewEvaluator(p)
		l := p.MaxLevel()
		// Two polynomials, or three (an odd one out for the paired
		// 52-bit rows), with edge residues.
		ct := &Ciphertext{Polys: []*ring.Poly{randomCoeffPoly(p, l, rng), randomCoeffPoly(p, l, rng)}, Format: Coeff, CorrectionFactor: 1}
		if pi%2 == 1 {
			ct.Polys = append(ct.Polys, randomCoeffPoly(p, l, rng))
		}
		ctE := ct.Clone()
		if err := ev.ToEval(ctE); err != nil {
			t.Fatal(err)
		}
		var ks []int
		for i := range maxMonomials + 3 {
			ks = append(ks, -(1 << (i % 13)), i*37-p.n, 1<<(i%5))
		}
		for _, k := range ks {
			want, got := &Ciphertext{}, &Ciphertext{}
			if err := ev.MulPowerOfX(want, ct, k); err != nil {
				t.Fatal(err)
			}
			if err := ev.ToEval(want); err != nil {
				t.Fatal(err)
			}
			if err := ev.MulPowerOfX(got, ctE, k); err != nil {
				t.Fatal(err)
			}
			for i := range ct.Polys {
				if !slices.Equal(got.Polys[i].Coeffs, want.Polys[i].Coeffs) {
					t.Fatalf("moduli %v, k=%d: Eval MulPowerOfX poly %d differs from the NTT of the Coeff one", p.moduli, k, i)
				}
			}
		}
		if len(ev.monos) > maxMonomials {
			t.Fatalf("evaluator keeps %d monomials, at most %d", len(ev.monos), maxMonomials)
		}
	}
}

// TestGaloisTablesCache asks an evaluator for the coefficient and slot
// tables of more Galois elements than it keeps (maxGaloisTables), in an
// order that brings evicted ones back, and compares every answer with
// freshly built tables.
func TestGaloisTablesCache(t *testing.T) {
	p := fastPathParams(t)[0]
	n := p.n
	ev := NewEvaluator(p)
	var gs []uint64
	for i := range 3 * maxGaloisTables {
		gs = append(gs, uint64(2*(i*7%(maxGaloisTables+5))+3)%uint64(2*n))
	}
	for i, g := range gs {
		want := make([]uint32, n)
		if i%2 == 0 {
			ring.GaloisCoeffTable(want, g, n)
			if got := ev.galoisTable(g); !slices.Equal(got, want) {
				t.Fatalf("request %d: coefficient table of %d differs", i, g)
			}
		}
		// The slot plan, by what it does to a row.
		b := p.basis(1)
		x := ring.NewPoly(n, len(b))
		for j := range x.Coeffs {
			x.Coeffs[j] = uint64(j)
		}
		got, wantRow := ring.NewPoly(n, len(b)), ring.NewPoly(n, len(b))
		b.GaloisEvalPermute(got, x, ev.galoisPerm(g))
		b.GaloisEval(wantRow, x, ring.GaloisEvalPermutation(g, n))
		if !slices.Equal(got.Coeffs, wantRow.Coeffs) {
			t.Fatalf("request %d: slot permutation of %d differs", i, g)
		}
		if len(ev.gals) > maxGaloisTables {
			t.Fatalf("evaluator keeps %d Galois tables, at most %d", len(ev.gals), maxGaloisTables)
		}
	}
}
