package bfv

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/kernels"

	"github.com/blindlist/blindlist/pir/he/ring"
)

// TestAddSubMulPowerOfX compares the fused split step with Add, Sub and
// MulPowerOfX on random Eval ciphertexts with edge residues, for moduli
// below 2^30 (the fused rows), below 2^50 and above (the three
// operations), at every level, with the sum in a fresh ciphertext and
// aliasing either operand.
func TestAddSubMulPowerOfX(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	ps := fastPathParams(t)
	p64, err := Preset("n_8192_logq_3x55_logt_24")
	if err != nil {
		t.Fatal(err)
	}
	ps = append(append(ps, word52Params(t)...), p64)
	for _, p := range ps {
		ev := NewEvaluator(p)
		for l := 1; l <= p.MaxLevel(); l++ {
			evalCt := func() *Ciphertext {
				ct := &Ciphertext{Polys: []*ring.Poly{randomCoeffPoly(p, l, rng), randomCoeffPoly(p, l, rng)}, Format: Coeff, CorrectionFactor: 1}
				if err := ev.ToEval(ct); err != nil {
					t.Fatal(err)
				}
				return ct
			}
			for _, k := range []int{-1, -(1 << 5), 1 << 3, -p.n} {
				for _, alias := range []string{"none", "a", "b"} {
					t.Run(fmt.Sprintf("N=%d/q0=%d/l=%d/k=%d/sum=%s", p.n, p.moduli[0], l, k, alias), func(t *testing.T) {
						a, b := evalCt(), evalCt()
						wantSum, diff, wantProd := &Ciphertext{}, &Ciphertext{}, &Ciphertext{}
						if err := ev.Add(wantSum, a, b); err != nil {
							t.Fatal(err)
						}
						if err := ev.Sub(diff, a, b); err != nil {
							t.Fatal(err)
						}
						if err := ev.MulPowerOfX(wantProd, diff, k); err != nil {
							t.Fatal(err)
						}
						sum, prod := &Ciphertext{}, &Ciphertext{}
						switch alias {
						case "a":
							sum = a
						case "b":
							sum = b
						}
						if err := ev.AddSubMulPowerOfX(sum, prod, a, b, k); err != nil {
							t.Fatal(err)
						}
						for i := range 2 {
							if !slices.Equal(sum.Polys[i].Coeffs, wantSum.Polys[i].Coeffs) {
								t.Fatalf("poly %d: sum differs", i)
							}
							if !slices.Equal(prod.Polys[i].Coeffs, wantProd.Polys[i].Coeffs) {
								t.Fatalf("poly %d: product differs", i)
							}
						}
						if sum.Format != Eval || prod.Format != Eval {
							t.Fatalf("formats %v, %v", sum.Format, prod.Format)
						}
					})
				}
			}
		}
	}
}

// TestSplitRowKernel runs the split row of the selected level (AVX-512,
// AVX2, with a portable tail) against the portable one on the same random
// rows, edge residues included, for the largest modulus it takes.
func TestSplitRowKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	for _, q := range []uint64{65537, 268369921, 1<<30 - 35} {
		const n = 64 + 7
		a, b, m, ms := make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]uint64, n)
		for j := range n {
			a[j], b[j], m[j] = rng.Uint64N(q), rng.Uint64N(q), rng.Uint64N(q)
		}
		a[0], b[0], a[1], b[1], m[2] = q-1, q-1, 0, q-1, q-1
		for j := range m {
			ms[j] = (m[j] << 32) / q
		}
		s1, p1, s2, p2 := make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]uint64, n)
		splitRow(s1, p1, a, b, m, ms, q)
		splitRowGo(s2, p2, a, b, m, ms, q)
		if !slices.Equal(s1, s2) || !slices.Equal(p1, p2) {
			t.Fatalf("q=%d: the %s and portable rows differ", q, kernels.Selected())
		}
		for j := range n {
			if want := (a[j] + q - b[j]) % q * m[j] % q; p2[j] != want || s2[j] != (a[j]+b[j])%q {
				t.Fatalf("q=%d slot %d: (%d, %d), want (%d, %d)", q, j, s2[j], p2[j], (a[j]+b[j])%q, want)
			}
		}
	}
}
