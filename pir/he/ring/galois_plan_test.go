package ring

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/kernels"
)

// TestGaloisEvalPermuteMatchesPermutation: the group moves (AVX2, AVX-512)
// and the gather give σ_g's slot permutation for every valid element of
// small degrees and a sample at N = 4096, on values of every width (the
// moves do not look at them).
func TestGaloisEvalPermuteMatchesPermutation(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 6))
	for _, c := range []struct {
		n      int
		moduli []uint64
	}{
		{4, []uint64{17}}, {8, []uint64{17, 97}}, {16, []uint64{97}}, {32, []uint64{193}},
		{64, []uint64{257}}, {4096, []uint64{268369921, 40961}},
	} {
		b, err := NewBasis(c.n, c.moduli)
		if err != nil {
			t.Fatal(err)
		}
		var gs []uint64
		if c.n <= 64 {
			for g := uint64(3); g < uint64(2*c.n); g += 2 {
				gs = append(gs, g)
			}
		} else {
			for m := 1; 1<<m < 2*c.n; m++ {
				gs = append(gs, 1<<m+1)
			}
			gs = append(gs, uint64(2*c.n-1), 3*3*3, 2*uint64(rng.IntN(c.n))+3)
		}
		x := NewPoly(c.n, len(c.moduli))
		for i := range x.Coeffs {
			x.Coeffs[i] = rng.Uint64() >> (i % 3 * 13)
		}
		for _, g := range gs {
			want := NewPoly(c.n, len(c.moduli))
			b.GaloisEval(want, x, GaloisEvalPermutation(g, c.n))
			plan := NewGaloisEvalPlan(g, c.n)
			got := NewPoly(c.n, len(c.moduli))
			b.GaloisEvalPermute(got, x, plan)
			if !slices.Equal(got.Coeffs, want.Coeffs) {
				t.Fatalf("N=%d g=%d: GaloisEvalPermute (%s) differs from the permutation", c.n, g, kernels.Selected())
			}
			// The group form itself, in portable Go, for every size it has.
			if c.n >= 8 && (plan.src4 == nil || plan.src8 == nil) {
				t.Fatalf("N=%d g=%d: no group form (σ_g maps aligned groups to aligned groups)", c.n, g)
			}
			for _, size := range []int{4, 8} {
				src, pat, lanes, ok := groupMoves(plan.tab, size, 1)
				if !ok {
					continue
				}
				for r := range b {
					o := make([]uint64, c.n)
					galoisMoveGo(o, x.Row(r), src, pat, lanes, size)
					if !slices.Equal(o, want.Row(r)) {
						t.Fatalf("N=%d g=%d size %d: group moves differ from the permutation", c.n, g, size)
					}
				}
			}
		}
	}
}

// TestGroupMovesRejects: a gather table whose groups draw from two input
// groups has no group form, and the plan then gathers.
func TestGroupMovesRejects(t *testing.T) {
	tab := make([]uint32, 16)
	for i := range tab {
		tab[i] = uint32(i)
	}
	if _, _, _, ok := groupMoves(tab, 4, 2); !ok {
		t.Fatal("identity table: no group form")
	}
	tab[0], tab[4] = tab[4], tab[0]
	if _, _, _, ok := groupMoves(tab, 4, 2); ok {
		t.Fatal("slots 0 and 4 swapped: group form accepted")
	}
	if _, _, _, ok := groupMoves(tab[:4], 8, 1); ok {
		t.Fatal("table shorter than a group: group form accepted")
	}
}

func BenchmarkGaloisEvalPermute(b *testing.B) {
	const n = 4096
	bs, err := NewBasis(n, []uint64{268369921})
	if err != nil {
		b.Fatal(err)
	}
	x, out := NewPoly(n, 1), NewPoly(n, 1)
	for i := range x.Coeffs {
		x.Coeffs[i] = uint64(i)
	}
	for _, g := range []uint64{1<<12 + 1, 1<<6 + 1} {
		plan := NewGaloisEvalPlan(g, n)
		b.Run(fmt.Sprintf("g=%d/moves", g), func(b *testing.B) {
			for b.Loop() {
				bs.GaloisEvalPermute(out, x, plan)
			}
		})
		b.Run(fmt.Sprintf("g=%d/gather", g), func(b *testing.B) {
			for b.Loop() {
				bs.GaloisEvalTab(out, x, plan.tab)
			}
		})
	}
}

// galoisMoveGo is the group moves of [Basis.GaloisEvalPermute] in portable
// Go for groups of size slots (lanes as from groupMoves with words = 1),
// the reference the kernels are tested against.
func galoisMoveGo(o, xs []uint64, src []uint32, pat []uint8, lanes []uint32, size int) {
	for v, s := range src {
		order := lanes[int(pat[v])*size:][:size]
		for k, l := range order {
			o[v*size+k] = xs[int(s)+int(l)]
		}
	}
}
