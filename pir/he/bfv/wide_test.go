package bfv

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/kernels"
	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// sameResidues reports whether got and want agree slot-wise modulo q.
func sameResidues(got, want []uint64, q uint64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i]%q != want[i]%q {
			return false
		}
	}
	return true
}

// wideModuli are the moduli the wide kernels are tested with: small ones,
// the 16_33_33 preset's, primes right above 2^30 and right below 2^50.
func wideModuli(t *testing.T) []uint64 {
	t.Helper()
	qs := []uint64{40961, 8589852673, 8589844481}
	qs = append(qs, primesAbove(1<<30, 4096, 2)...)
	return append(qs, primesBelow(word52Max, 4096, 2)...)
}

// primesAbove returns count primes ≡ 1 mod 2n from bound up.
func primesAbove(bound uint64, n, count int) []uint64 {
	step := 2 * uint64(n)
	var out []uint64
	for q := bound - bound%step + 1; len(out) < count; q += step {
		if q > bound && modq.IsPrime(q) {
			out = append(out, q)
		}
	}
	return out
}

// wideInputs returns count random values below max with the edges 0,
// max−1 and q−1 in the first slots.
func wideInputs(rng *rand.Rand, n int, max, q uint64) []uint64 {
	x := make([]uint64, n)
	for i := range x {
		x[i] = rng.Uint64N(max)
	}
	x[0], x[1], x[2] = 0, max-1, min(q-1, max-1)
	return x
}

// TestWideKernels runs every wide row kernel wherever the CPU runs AVX2 (at
// every level, also where IFMA rows serve production) against the
// portable 52-bit rows and exact arithmetic: random and edge inputs, all
// modes, moduli from 2^15 to just below 2^50.
func TestWideKernels(t *testing.T) {
	if kernels.Selected() < kernels.AVX2 {
		t.Skip("the wide kernels need AVX2")
	}
	rng := rand.New(rand.NewPCG(17, 33))
	for _, q := range wideModuli(t) {
		for _, n := range []int{4, 16, 4096} {
			t.Run(fmt.Sprintf("q=%d/n=%d", q, n), func(t *testing.T) {
				m := modq.MustNew(q)
				qInv := inv52(q)
				c := newMulConstW(rng.Uint64N(q), &m, 52)
				if q > 2 {
					c = newMulConstW(q-1, &m, 52) // the largest constant, then random ones below
				}
				for _, w := range []mulConst{c, newMulConstW(rng.Uint64N(q), &m, 52)} {
					x := wideInputs(rng, n, 1<<52, q)
					acc := wideInputs(rng, n, 2*q, q)
					for mode := uint64(shoupSet); mode <= shoupAddReduce; mode++ {
						got, want := slices.Clone(acc), slices.Clone(acc)
						shoupConstRowWide(got, x, w.w, q, mode)
						shoupConstRow52Go(want, x, w.w, w.s, q, mode)
						for i := range got {
							if got[i] >= q || got[i] != want[i]%q {
								t.Fatalf("shoupConstRowWide mode %d slot %d: %d, want %d mod q", mode, i, got[i], want[i])
							}
						}
					}
					s := wideInputs(rng, n, 1<<52, q)
					neg := make([]uint64, n)
					for i := range neg {
						neg[i] = -(rng.Uint64() & 1)
					}
					neg[0], neg[1] = ^uint64(0), ^uint64(0)
					got, want := make([]uint64, n), make([]uint64, n)
					signedAddRowWide(got, acc, s, neg, w.w, q)
					signedAddRow52Go(want, acc, s, neg, w.w, w.s, q)
					if !slices.Equal(got, want) {
						t.Fatalf("signedAddRowWide differs from the portable row")
					}
					tv := wideInputs(rng, n, q, q)
					got, want = make([]uint64, n), make([]uint64, n)
					mulAddConstWide(got, x, tv, w.w, q)
					mulAddConst52Go(want, x, tv, w.w, w.s, q)
					if !slices.Equal(got, want) {
						t.Fatalf("mulAddConstWide differs from the portable row")
					}
				}
				// Divide-and-round rows against every last modulus shape.
				for _, qLast := range []uint64{40961, 8589844481, primesBelow(word52Max, 4096, 1)[0]} {
					if qLast == q {
						continue
					}
					ml := modq.MustNew(qLast)
					inv, _ := m.Inv(m.Reduce(qLast))
					half := qLast / 2
					k := (qLast + q - 1) / q
					hmK := m.Reduce(half) + k*q
					src, last := wideInputs(rng, n, q, q), wideInputs(rng, n, qLast, qLast)
					_ = ml
					got, want := make([]uint64, n), make([]uint64, n)
					dropWide(got, src, last, qLast, half, q, hmK, inv)
					drop52Go(want, src, last, qLast, half, q, hmK, inv, shoup52(inv, q))
					if !slices.Equal(got, want) {
						t.Fatalf("qLast=%d: dropWide differs from the portable row", qLast)
					}
				}
				// Tensor against the portable Montgomery row and exact
				// arithmetic (2^-52 mod q from montR52Inv).
				rInv, _ := m.Inv(m.Reduce(1 << 52))
				if r := montR52Inv(q, qInv); r != rInv {
					t.Fatalf("montR52Inv = %d, want %d", r, rInv)
				}
				in := make([][]uint64, 7)
				for i := range in {
					in[i] = wideInputs(rng, n, q, q)
				}
				gt := [3][]uint64{slices.Clone(in[0]), slices.Clone(in[1]), slices.Clone(in[2])}
				wt := [3][]uint64{slices.Clone(in[0]), slices.Clone(in[1]), slices.Clone(in[2])}
				tensorWide(gt[0], gt[1], gt[2], in[3], in[4], in[5], in[6], q, qInv)
				tensor52Go(wt[0], wt[1], wt[2], in[3], in[4], in[5], in[6], q, qInv)
				for k := range 3 {
					if !slices.Equal(gt[k], wt[k]) {
						t.Fatalf("tensorWide d%d differs from the portable row", k)
					}
				}
				// Key products: chains of 1 to 4 digits against math/big.
				for l := 1; l <= 4; l++ {
					xs, k0s, k1s := make([][]uint64, l), make([][]uint64, l), make([][]uint64, l)
					for j := range l {
						xs[j], k0s[j], k1s[j] = wideInputs(rng, n, q, q), wideInputs(rng, n, q, q), wideInputs(rng, n, q, q)
					}
					o0, o1 := make([]uint64, n), make([]uint64, n)
					for j := range l {
						mode := uint64(wideAcc)
						switch {
						case l == 1:
							mode = wideSetOut
						case j == 0:
							mode = wideSet
						case j == l-1:
							mode = wideAccOut
						}
						keyMulRowWideAVX2(o0, o1, xs[j], k0s[j], k1s[j], float64(q), 1/float64(q), mode)
					}
					for i := range n {
						for p, o := range [2][]uint64{o0, o1} {
							ks := [2][][]uint64{k0s, k1s}[p]
							sum := new(big.Int)
							for j := range l {
								sum.Add(sum, new(big.Int).Mul(new(big.Int).SetUint64(xs[j][i]), new(big.Int).SetUint64(ks[j][i])))
							}
							if want := sum.Mod(sum, new(big.Int).SetUint64(q)).Uint64(); o[i] != want {
								t.Fatalf("l=%d: key product %d slot %d = %d, want %d", l, p, i, o[i], want)
							}
						}
					}
				}
			})
		}
	}
}

// TestKeySwitchWideMatchesReference runs the wide key switching and the
// 64-bit reference on the same inputs at every level, Coeff and Eval
// results, for the 52-bit parameter sets (the 16_33_33 preset, four moduli
// right below 2^50, N = 8192 with 40-bit moduli), wherever the CPU runs
// AVX2; it also checks which levels select it.
func TestKeySwitchWideMatchesReference(t *testing.T) {
	if kernels.Selected() < kernels.AVX2 {
		t.Skip("the wide kernels need AVX2")
	}
	rng := rand.New(rand.NewPCG(71, 72))
	for _, p := range word52Params(t) {
		t.Run(fmt.Sprintf("N=%d/moduli=%v", p.n, p.moduli), func(t *testing.T) {
			rnd := testRand(t, 7)
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
				ks := p.levels[l].ks
				if want := haveWide && wideKeySwitchFits(ks.ext, l, p.n); ks.wide != want || !wideKeySwitchFits(ks.ext, l, p.n) {
					t.Fatalf("level %d: wide=%v, want %v (fits: %v)", l, ks.wide, want, wideKeySwitchFits(ks.ext, l, p.n))
				}
				d := randomCoeffPoly(p, l, rng)
				// Edge digits: all q_j − 1 in slot 0, all zero in slot 1.
				for j := range l {
					d.Row(j)[0], d.Row(j)[1] = p.moduli[j]-1, 0
				}
				dE := d.Clone()
				p.basis(l).NTT(dE)
				for _, eval := range []bool{false, true} {
					want0, want1 := ring.NewPoly(p.n, l), ring.NewPoly(p.n, l)
					ev.keySwitch64(want0, want1, d, nil, evk.Galois[3], l, eval)
					// The diagonal digits from d's Eval form, or transformed.
					for _, de := range []*ring.Poly{nil, dE} {
						got0, got1 := ring.NewPoly(p.n, l), ring.NewPoly(p.n, l)
						ev.keySwitchWide(got0, got1, d, de, evk.Galois[3], l, eval)
						if !slices.Equal(got0.Coeffs, want0.Coeffs) || !slices.Equal(got1.Coeffs, want1.Coeffs) {
							t.Fatalf("level %d eval=%v Eval digits=%v: wide key switching differs from the reference", l, eval, de != nil)
						}
					}
				}
			}
		})
	}
}
