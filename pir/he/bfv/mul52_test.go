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

// TestMul52MatchesReference runs the 52-bit lift and scale of ct×ct and
// their 128-bit references on the same inputs (random residues, 0 and q−1
// runs) with the same word52 tables, at every level.
func TestMul52MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(59, 60))
	for _, p := range word52Params(t) {
		for l := 1; l <= p.MaxLevel(); l++ {
			t.Run(fmt.Sprintf("moduli=%v/l=%d", p.moduli, l), func(t *testing.T) {
				mt, err := buildMulTables(p, l, mulPairClasses, true)
				if err != nil {
					t.Fatal(err)
				}
				if !mt.word52 {
					t.Fatal("tables are not word52")
				}
				for _, a := range mt.aux {
					if a.M.Q >= word52Max {
						t.Fatalf("auxiliary prime %d is not below 2^50", a.M.Q)
					}
				}
				rows := len(mt.all)
				v, y := make([]uint64, l), make([]uint64, len(mt.aux))
				c := randomCoeffPoly(p, l, rng)
				got, want := ring.NewPoly(p.n, rows), ring.NewPoly(p.n, rows)
				sc := make([]uint64, mt.scratch32Len(p.n))
				mt.lift52(got, c, sc)
				mt.lift64(want, c, v)
				if !slices.Equal(got.Coeffs, want.Coeffs) {
					t.Fatal("lift52 differs from lift64")
				}
				d := ring.NewPoly(p.n, rows)
				for r, tab := range mt.all {
					row := d.Row(r)
					for j := range row {
						row[j] = rng.Uint64N(tab.M.Q)
					}
					row[0], row[1] = tab.M.Q-1, 0
				}
				// scale52 reads the tensor in Montgomery form, D·2^{-52}.
				dm := ring.NewPoly(p.n, rows)
				for r, tab := range mt.all {
					rInv, err := tab.M.Inv(1 << 52)
					if err != nil {
						t.Fatal(err)
					}
					for j, v := range d.Row(r) {
						dm.Row(r)[j] = tab.M.Mul(v, rInv)
					}
				}
				gotS, wantS := ring.NewPoly(p.n, l), ring.NewPoly(p.n, l)
				mt.scale52(gotS, dm, sc)
				mt.scale64(wantS, d, v, y)
				if !slices.Equal(gotS.Coeffs, wantS.Coeffs) {
					t.Fatal("scale52 differs from scale64")
				}
			})
		}
	}
}

// TestMul52Kernels compares the IFMA constant-product, signed-add and
// Montgomery tensor rows with the portable ones (every mode, both signs, a
// tail) and with exact arithmetic.
func TestMul52Kernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	for _, q := range []uint64{40961, 2147565569, 8589852673, primesBelow(word52Max, 4096, 1)[0]} {
		m := modq.MustNew(q)
		qInv := inv52(q)
		if q*qInv&(1<<52-1) != 1 {
			t.Fatalf("inv52(%d) = %d is not q^{-1} mod 2^52", q, qInv)
		}
		rInv, _ := m.Inv(m.Reduce(1 << 52))
		for _, n := range []int{8, 13, 4096} {
			x, s, neg, acc := make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]uint64, n)
			for i := range x {
				x[i], s[i], acc[i] = rng.Uint64N(1<<52), rng.Uint64N(1<<52), rng.Uint64N(2*q)
				neg[i] = -(rng.Uint64() & 1)
			}
			x[0], x[n-1], s[0], acc[0], neg[0] = 1<<52-1, 0, 1<<52-1, 2*q-1, ^uint64(0)
			c := newMulConstW(rng.Uint64N(q), &m, 52)
			if want := new(big.Int).Lsh(new(big.Int).SetUint64(c.w), 52); c.s != want.Quo(want, new(big.Int).SetUint64(q)).Uint64() {
				t.Fatalf("q=%d: 52-bit companion of %d = %d, want %d", q, c.w, c.s, want)
			}
			for mode := uint64(shoupSet); mode <= shoupAddReduce; mode++ {
				got, want := slices.Clone(acc), slices.Clone(acc)
				shoupConstRow52(got, x, c.w, c.s, q, mode)
				shoupConstRow52Go(want, x, c.w, c.s, q, mode)
				// The wide rows return the lazy modes' values reduced (wide.go).
				lazy := haveWide && (mode == shoupSet || mode == shoupAdd)
				if !slices.Equal(got, want) && !(lazy && sameResidues(got, want, q)) {
					t.Fatalf("q=%d n=%d mode %d: IFMA constant product differs from the portable one", q, n, mode)
				}
				for i := range got {
					p := m.Mul(m.Reduce(x[i]), c.w)
					if mode == shoupAdd || mode == shoupAddReduce {
						p = m.Add(p, m.Reduce(acc[i]))
					}
					reduced := mode == shoupReduce || mode == shoupAddReduce
					if got[i]%q != p || got[i] >= 2*q || (reduced && got[i] >= q) {
						t.Fatalf("q=%d mode %d: slot %d = %d, want %d (mod q)", q, mode, i, got[i], p)
					}
				}
			}
			got, want := make([]uint64, n), make([]uint64, n)
			signedAddRow52(got, acc, s, neg, c.w, c.s, q)
			signedAddRow52Go(want, acc, s, neg, c.w, c.s, q)
			if !slices.Equal(got, want) {
				t.Fatalf("q=%d n=%d: IFMA signed add differs from the portable one", q, n)
			}
			for i := range got {
				tv := m.Mul(m.Reduce(s[i]), c.w)
				if neg[i] != 0 {
					tv = m.Neg(tv)
				}
				if w := m.Add(m.Reduce(acc[i]), tv); got[i] != w {
					t.Fatalf("q=%d: signed add slot %d = %d, want %d", q, i, got[i], w)
				}
			}
			in := make([][]uint64, 7) // d0, d1, d2, x0, x1, y0, y1
			for i := range in {
				in[i] = make([]uint64, n)
				for j := range in[i] {
					in[i][j] = rng.Uint64N(q)
				}
				in[i][0], in[i][n-1] = q-1, 0
			}
			gt := [3][]uint64{slices.Clone(in[0]), slices.Clone(in[1]), slices.Clone(in[2])}
			wt := [3][]uint64{slices.Clone(in[0]), slices.Clone(in[1]), slices.Clone(in[2])}
			tensor52(gt[0], gt[1], gt[2], in[3], in[4], in[5], in[6], q, qInv)
			tensor52Go(wt[0], wt[1], wt[2], in[3], in[4], in[5], in[6], q, qInv)
			if !(slices.Equal(gt[0], wt[0]) && slices.Equal(gt[1], wt[1]) && slices.Equal(gt[2], wt[2])) {
				t.Fatalf("q=%d n=%d: IFMA tensor differs from the portable one", q, n)
			}
			for j := 0; j < n; j++ {
				x0, x1, y0, y1 := in[3][j], in[4][j], in[5][j], in[6][j]
				e := [3]uint64{
					m.Add(in[0][j], m.Mul(m.Mul(x0, y0), rInv)),
					m.Add(in[1][j], m.Mul(m.Add(m.Mul(x0, y1), m.Mul(x1, y0)), rInv)),
					m.Add(in[2][j], m.Mul(m.Mul(x1, y1), rInv)),
				}
				for k := range 3 {
					if gt[k][j] != e[k] {
						t.Fatalf("q=%d: d%d[%d] = %d, want %d", q, k, j, gt[k][j], e[k])
					}
				}
			}
		}
	}
}
