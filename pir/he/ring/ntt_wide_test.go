package ring

import (
	"math/bits"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/blindlist/blindlist/pir/he/kernels"
	"github.com/blindlist/blindlist/pir/he/modq"
)

// The wide kernels join TestNTTKernels (every preset modulus, the largest
// primes below 2^30, 2^31, the lazy bounds and 2^50, N = 16..8192, random
// and edge inputs, against the 64-bit reference) wherever the CPU runs
// AVX2, at every level: they are built for the test even where IFMA
// kernels serve the moduli.
func init() {
	nttKernels = append(nttKernels, kernel{"wide",
		func(t *Table, a []uint64) { wideFor(t).forward(a) },
		func(t *Table, a []uint64) { wideFor(t).inverse(a) },
		func(t *Table) bool { return kernels.Selected() >= kernels.AVX2 && newWideTable(t) != nil }})
	nttKernels = append(nttKernels, kernel{"wide-full",
		func(t *Table, a []uint64) {
			wt := *wideFor(t)
			wt.lazy = false
			wt.forward(a)
		},
		func(t *Table, a []uint64) {
			wt := *wideFor(t)
			wt.invLazy = false
			wt.inverse(a)
		},
		func(t *Table) bool { return kernels.Selected() >= kernels.AVX2 && newWideTable(t) != nil }})
}

// testWide holds the wide tables built for tests, by *Table.
var testWide sync.Map

// wideFor returns t's wide tables, built once for the test when t does
// not use them.
func wideFor(t *Table) *wideTable {
	if t.wide != nil {
		return t.wide
	}
	if wt, ok := testWide.Load(t); ok {
		return wt.(*wideTable)
	}
	wt, _ := testWide.LoadOrStore(t, newWideTable(t))
	return wt.(*wideTable)
}

// TestWideNTTBounds runs the wide kernels at the edges of their bounds:
// the smallest primes above 2^30, the largest below and the smallest
// above the lazy bound 2^51/(log2(N)+1), the largest below 2^50; inputs
// at the top of their ranges (forward: [0, 4q), inverse: [0, 2q)), zero,
// q−1 and random ones, against the 64-bit reference.
func TestWideNTTBounds(t *testing.T) {
	if kernels.Selected() < kernels.AVX2 {
		t.Skip("the wide kernels need AVX2")
	}
	rng := rand.New(rand.NewPCG(17, 3))
	for _, n := range []int{16, 32, 64, 128, 1024, 4096, 8192} {
		logN := bits.Len(uint(n)) - 1
		step := 2 * uint64(n)
		prime := func(from uint64, up bool) uint64 {
			q := from - from%step + 1
			if up && q < from {
				q += step
			}
			for ; !modq.IsPrime(q) || (!up && q >= from); q = next(q, step, up) {
			}
			return q
		}
		lazyMax := uint64(1<<51) / uint64(logN+1)
		invLazyMax := uint64(1<<50) / uint64(2*n)
		qs := []uint64{prime(1<<30, true), prime(lazyMax, false), prime(lazyMax, true), prime(wideMax, false)}
		if invLazyMax > 1<<30 {
			qs = append(qs, prime(invLazyMax, false), prime(invLazyMax, true))
		}
		for _, q := range qs {
			tab, err := NewTable(q, n)
			if err != nil {
				t.Fatal(err)
			}
			wt := wideFor(tab)
			if wantLazy := (uint64(logN)+1)*q < 1<<51; wt.lazy != wantLazy {
				t.Fatalf("N=%d q=%d: lazy=%v, want %v", n, q, wt.lazy, wantLazy)
			}
			if wantLazy := 2*uint64(n)*q <= 1<<50; wt.invLazy != wantLazy {
				t.Fatalf("N=%d q=%d: invLazy=%v, want %v", n, q, wt.invLazy, wantLazy)
			}
			inputs := map[string][]uint64{"zero": make([]uint64, n)}
			top4, top2, topq, rnd4, rnd2 := make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]uint64, n)
			for i := range n {
				top4[i], top2[i], topq[i] = 4*q-1, 2*q-1, q-1
				rnd4[i], rnd2[i] = rng.Uint64N(4*q), rng.Uint64N(2*q)
			}
			inputs["4q-1"], inputs["2q-1"], inputs["q-1"], inputs["random4q"], inputs["random2q"] = top4, top2, topq, rnd4, rnd2
			for name, x := range inputs {
				want := slices.Clone(x)
				tab.forward64(want)
				got := slices.Clone(x)
				wt.forward(got)
				if !slices.Equal(got, want) {
					t.Fatalf("N=%d q=%d %s: wide forward differs from the reference", n, q, name)
				}
				full := *wt
				full.lazy = false
				got = slices.Clone(x)
				full.forward(got)
				if !slices.Equal(got, want) {
					t.Fatalf("N=%d q=%d %s: wide forward (full) differs from the reference", n, q, name)
				}
				if name == "4q-1" || name == "random4q" {
					continue // the inverse takes [0, 2q)
				}
				// inverse64 takes [0, q): compare on x mod q.
				red := slices.Clone(x)
				for i := range red {
					red[i] %= q
				}
				want = slices.Clone(red)
				tab.inverse64(want)
				got = slices.Clone(x)
				wt.inverse(got)
				if !slices.Equal(got, want) {
					t.Fatalf("N=%d q=%d %s: wide inverse differs from the reference", n, q, name)
				}
				got = slices.Clone(x)
				full.invLazy = false
				full.inverse(got)
				if !slices.Equal(got, want) {
					t.Fatalf("N=%d q=%d %s: wide inverse (full) differs from the reference", n, q, name)
				}
			}
		}
	}
}

func next(q, step uint64, up bool) uint64 {
	if up {
		return q + step
	}
	return q - step
}

// TestWideSelection checks which moduli get the wide kernels: those from
// 2^30 to 2^50 at the AVX2 and AVX-512 levels.
func TestWideSelection(t *testing.T) {
	for _, c := range []struct {
		q    uint64
		n    int
		wide bool
	}{
		{268369921, 4096, false}, {8589852673, 4096, true}, {2199023288321, 8192, true},
		{36028797018652673, 8192, false},
	} {
		tab, err := NewTable(c.q, c.n)
		if err != nil {
			t.Fatal(err)
		}
		want := c.wide && kernels.Selected() >= kernels.AVX2 && kernels.Selected() < kernels.IFMA
		if got := tab.wide != nil; got != want {
			t.Errorf("q=%d: wide=%v, want %v at level %s", c.q, got, want, kernels.Selected())
		}
	}
}

// TestWideRows runs the AVX2 64-bit add/sub/neg rows and the float64
// slot-wise product directly, wherever the CPU runs AVX2 (at every level),
// against the portable rows and 128-bit products: random inputs, 0 and
// q−1 in every pairing, moduli from 2^30 to the kernels' bounds.
func TestWideRows(t *testing.T) {
	if kernels.Selected() < kernels.AVX2 {
		t.Skip("the wide rows need AVX2")
	}
	rng := rand.New(rand.NewPCG(17, 5))
	for _, q := range []uint64{1<<30 + 3, rows32Max + 11, 8589852673, wideMax - 27, 1<<62 - 57} {
		for _, n := range []int{4, 16, 4096} {
			x, y := make([]uint64, n), make([]uint64, n)
			for i := range x {
				x[i], y[i] = rng.Uint64N(q), rng.Uint64N(q)
			}
			x[0], y[0], x[1], y[1], x[2], y[2], x[3], y[3] = q-1, q-1, 0, q-1, q-1, 0, 0, 0
			got, want := make([]uint64, n), make([]uint64, n)
			addRow64AVX2(got, x, y, q)
			addRowGo(want, x, y, q)
			if !slices.Equal(got, want) {
				t.Fatalf("q=%d n=%d: addRow64AVX2 differs from the portable row", q, n)
			}
			subRow64AVX2(got, x, y, q)
			subRowGo(want, x, y, q)
			if !slices.Equal(got, want) {
				t.Fatalf("q=%d n=%d: subRow64AVX2 differs from the portable row", q, n)
			}
			negRow64AVX2(got, x, q)
			negRowGo(want, x, q)
			if !slices.Equal(got, want) {
				t.Fatalf("q=%d n=%d: negRow64AVX2 differs from the portable row", q, n)
			}
			if q >= wideMax {
				continue
			}
			m, err := modq.New(q)
			if err != nil {
				t.Fatal(err)
			}
			mulRowWide(got, x, y, q)
			for i := range got {
				if w := m.Mul(x[i], y[i]); got[i] != w {
					t.Fatalf("q=%d n=%d: mulRowWide slot %d = %d, want %d", q, n, i, got[i], w)
				}
			}
		}
	}
}
