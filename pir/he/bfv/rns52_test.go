package bfv

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// TestDrop52MatchesReference compares the 52-bit divide-and-round by the
// last modulus (Coeff and Eval forms) with the generic one, for every
// prefix of the word52 and 32-bit parameter sets' moduli.
func TestDrop52MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(55, 56))
	for _, p := range append(word52Params(t), fastPathParams(t)...) {
		for l := 2; l <= len(p.moduli); l++ {
			b := p.keyB[:l]
			fast := newDropper(b)
			if want := haveIFMA || haveWide; fast.word52 != want {
				t.Fatalf("moduli %v: word52=%v, want %v", p.moduli[:l], fast.word52, want)
			}
			if !fast.word52 {
				// Without IFMA the portable rows still run.
				fast.word52 = true
				for i, tab := range b[:l-1] {
					fast.invS52 = append(fast.invS52, shoup52(fast.inv[i], tab.M.Q))
				}
			}
			ref := *fast
			ref.word52, ref.word32 = false, false
			x := randomCoeffPoly(p, l, rng)
			got, want := ring.NewPoly(p.n, l-1), ring.NewPoly(p.n, l-1)
			fast.apply(b, got, x)
			ref.apply(b, want, x)
			if !slices.Equal(got.Coeffs, want.Coeffs) {
				t.Fatalf("moduli %v: 52-bit drop differs from the reference", p.moduli[:l])
			}
			tmp := make([]uint64, p.n)
			fast.applyEval(b, got, x, tmp)
			ref.applyEval(b, want, x, tmp)
			if !slices.Equal(got.Coeffs, want.Coeffs) {
				t.Fatalf("moduli %v: 52-bit Eval drop differs from the reference", p.moduli[:l])
			}
		}
	}
}

// TestRow52Kernels compares the IFMA divide-and-round and constant
// multiply-add rows with the portable ones (with a tail) and with exact
// arithmetic.
func TestRow52Kernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(57, 58))
	for _, c := range []struct{ q, qLast uint64 }{
		{40961, 8589844481}, {8589852673, 8589844481}, {8589844481, 40961},
		{134176769, 268361729}, {268369921, 268361729}, // 27-28-28: K = 3q and K = q
		{primesBelow(word52Max, 4096, 2)[1], primesBelow(word52Max, 4096, 1)[0]},
	} {
		q, qLast := c.q, c.qLast
		m := modq.MustNew(q)
		inv, err := m.Inv(m.Reduce(qLast))
		if err != nil {
			t.Fatal(err)
		}
		invS, half := shoup52(inv, q), qLast/2
		hmK := m.Reduce(half) + (qLast+q-1)/q*q
		for _, n := range []int{8, 13, 4096} {
			t.Run(fmt.Sprintf("q=%d/qLast=%d/n=%d", q, qLast, n), func(t *testing.T) {
				src, last, tv := make([]uint64, n), make([]uint64, n), make([]uint64, n)
				for j := range src {
					src[j], last[j], tv[j] = rng.Uint64N(q), rng.Uint64N(qLast), rng.Uint64N(q)
				}
				src[0], last[0], tv[0], src[n-1], last[n-1], tv[n-1] = q-1, qLast-1, q-1, 0, 0, 0
				got, want := make([]uint64, n), make([]uint64, n)
				drop52(got, src, last, qLast, half, q, hmK, inv, invS)
				drop52Go(want, src, last, qLast, half, q, hmK, inv, invS)
				if !slices.Equal(got, want) {
					t.Fatal("IFMA drop differs from the portable one")
				}
				for j := range got {
					r := (last[j] + half) % qLast
					e := m.Mul(m.Sub(m.Add(src[j], m.Reduce(half)), m.Reduce(r)), inv)
					if got[j] != e {
						t.Fatalf("drop slot %d = %d, want %d", j, got[j], e)
					}
				}
				if k := (qLast + q - 1) / q; k <= 3 {
					// The fused Eval drop's rounding term: unreduced, in (0, 4q).
					roundDiff(got, last, qLast, half, hmK)
					roundDiffGo(want, last, qLast, half, hmK)
					if !slices.Equal(got, want) {
						t.Fatal("AVX2 rounding term differs from the portable one")
					}
					for j, v := range got {
						r := (last[j] + half) % qLast
						if v == 0 || v >= 4*q || v%q != m.Sub(m.Reduce(half), m.Reduce(r)) {
							t.Fatalf("rounding term slot %d = %d, want ≡ h − r in (0, 4q)", j, v)
						}
					}
				}
				// src (residues) with src + the large values below 2^51: the
				// kernels' whole input range.
				big := make([]uint64, n)
				for j := range big {
					big[j] = rng.Uint64N(1<<51 - q)
				}
				big[0] = 1<<51 - q
				for _, x := range [][]uint64{src, big} {
					addMulConst52(got, x, tv, inv, invS, q)
					addMulConst52Go(want, x, tv, inv, invS, q)
					if !slices.Equal(got, want) {
						t.Fatal("add-multiply differs from the portable one")
					}
					for j := range got {
						if e := m.Mul(m.Add(m.Reduce(x[j]), tv[j]), inv); got[j] != e {
							t.Fatalf("add-multiply slot %d = %d, want %d", j, got[j], e)
						}
					}
				}
				mulAddConst52(got, src, tv, inv, invS, q)
				mulAddConst52Go(want, src, tv, inv, invS, q)
				if !slices.Equal(got, want) {
					t.Fatal("IFMA multiply-add differs from the portable one")
				}
				for j := range got {
					if e := m.Add(m.Mul(src[j], inv), tv[j]); got[j] != e {
						t.Fatalf("multiply-add slot %d = %d, want %d", j, got[j], e)
					}
				}
			})
		}
	}
}
