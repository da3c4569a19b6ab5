package ring

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/modq"
)

// The plain implementations the row kernels replaced, kept as test
// oracles: modq.Modulus arithmetic one coefficient at a time.

func refAdd(b Basis, out, x, y *Poly) {
	for i, t := range b {
		for j := range out.Row(i) {
			out.Row(i)[j] = t.M.Add(x.Row(i)[j], y.Row(i)[j])
		}
	}
}

func refSub(b Basis, out, x, y *Poly) {
	for i, t := range b {
		for j := range out.Row(i) {
			out.Row(i)[j] = t.M.Sub(x.Row(i)[j], y.Row(i)[j])
		}
	}
}

func refNeg(b Basis, out, x *Poly) {
	for i, t := range b {
		for j := range out.Row(i) {
			out.Row(i)[j] = t.M.Neg(x.Row(i)[j])
		}
	}
}

func refMulPowerOfX(b Basis, out, x *Poly, k int) {
	n := x.N
	k = ((k % (2 * n)) + 2*n) % (2 * n)
	for i, t := range b {
		for j := 0; j < n; j++ {
			d, v := (j+k)%(2*n), x.Row(i)[j]
			if d >= n {
				d, v = d-n, t.M.Neg(v)
			}
			out.Row(i)[d] = v
		}
	}
}

func refGaloisCoeff(b Basis, out, x *Poly, g uint64) {
	n := uint64(x.N)
	for r, t := range b {
		for i := uint64(0); i < n; i++ {
			k, v := i*g%(2*n), x.Row(r)[i]
			if k >= n {
				k, v = k-n, t.M.Neg(v)
			}
			out.Row(r)[k] = v
		}
	}
}

// randomPoly returns residues for every row of b, with 0 and q−1 at the
// start of each row.
func randomPoly(b Basis, rng *rand.Rand) *Poly {
	p := NewPoly(b.N(), len(b))
	for i, t := range b {
		row := p.Row(i)
		for j := range row {
			row[j] = rng.Uint64N(t.M.Q)
		}
		row[0], row[1], row[2] = 0, t.M.Q-1, 0
	}
	return p
}

// TestPolyOpsMatchReference compares Add, Sub, Neg, MulPowerOfX and
// GaloisCoeff with the one-coefficient-at-a-time oracles: every shift k in
// (−2N, 2N] and every Galois element at N = 16, a sample at N = 4096, on
// 32-bit and 62-bit moduli.
func TestPolyOpsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, c := range []struct {
		n      int
		moduli []uint64
	}{
		{16, []uint64{97, 268369921, 1152921504606830593}},
		{4096, []uint64{134176769, 268369921, 1152921504606830593}},
	} {
		qs := c.moduli
		b, err := NewBasis(c.n, qs)
		if err != nil {
			t.Fatal(err)
		}
		x, y := randomPoly(b, rng), randomPoly(b, rng)
		got, want := NewPoly(c.n, len(b)), NewPoly(c.n, len(b))
		check := func(name string) {
			t.Helper()
			if !slices.Equal(got.Coeffs, want.Coeffs) {
				t.Fatalf("N=%d moduli %v: %s differs from the reference", c.n, qs, name)
			}
		}
		b.Add(got, x, y)
		refAdd(b, want, x, y)
		check("Add")
		b.Sub(got, x, y)
		refSub(b, want, x, y)
		check("Sub")
		b.Neg(got, x)
		refNeg(b, want, x)
		check("Neg")
		b.MulCoeffs(got, x, y)
		for i, tab := range b {
			for j := range want.Row(i) {
				want.Row(i)[j] = tab.M.Mul(x.Row(i)[j], y.Row(i)[j])
			}
		}
		check("MulCoeffs")
		step := 1
		if c.n > 16 {
			step = 509
		}
		for k := -2*c.n + 1; k <= 2*c.n; k += step {
			b.MulPowerOfX(got, x, k)
			refMulPowerOfX(b, want, x, k)
			check(fmt.Sprint("MulPowerOfX ", k))
		}
		tab := make([]uint32, c.n)
		for g := uint64(3); g < uint64(2*c.n); g += uint64(2 * step) {
			b.GaloisCoeff(got, x, g)
			refGaloisCoeff(b, want, x, g)
			check(fmt.Sprint("GaloisCoeff ", g))
			GaloisCoeffTable(tab, g, c.n)
			clear(got.Coeffs)
			b.GaloisCoeffTab(got, x, tab)
			check(fmt.Sprint("GaloisCoeffTab ", g))
		}
	}
}

// TestRowKernels compares the AVX2 row kernels (add, sub, neg, the
// Galois gather with a random signed permutation), and the AVX-512 64-bit
// ones above 2^31 (and the AVX-512 gather for every modulus), with the
// portable ones on the same inputs, for moduli on both sides of 2^31 up
// to 2^62 and lengths with and without a tail; run at each kernel level
// (BLINDLIST_KERNELS) to reach each kernel.
func TestRowKernels(t *testing.T) {
	if !haveSIMD {
		t.Log("no AVX2 on this CPU: only the portable kernels run")
	}
	rng := rand.New(rand.NewPCG(33, 34))
	for _, q := range []uint64{3, 97, 134176769, 268369921, rows32Max - 1, rows32Max + 11, 8589852673, 1<<50 - 27, modq.MaxModulus} {
		for _, n := range []int{1, 3, 4, 7, 8, 13, 64, 4096} {
			x, y := make([]uint64, n), make([]uint64, n)
			for i := range x {
				x[i], y[i] = rng.Uint64N(q), rng.Uint64N(q)
			}
			x[0], y[n-1] = q-1, q-1
			if n > 2 {
				x[1], y[1], x[2], y[2] = 0, q-1, q-1, 0
			}
			kernels := []struct {
				name           string
				fast, portable func(o []uint64)
			}{
				{"add", func(o []uint64) { addRow(o, x, y, q) }, func(o []uint64) { addRowGo(o, x, y, q) }},
				{"sub", func(o []uint64) { subRow(o, x, y, q) }, func(o []uint64) { subRowGo(o, x, y, q) }},
				{"neg", func(o []uint64) { negRow(o, x, q) }, func(o []uint64) { negRowGo(o, x, q) }},
			}
			tab := make([]uint32, n)
			for i, p := range rng.Perm(n) {
				tab[i] = uint32(p) | uint32(rng.UintN(2))<<31
			}
			kernels = append(kernels, struct {
				name           string
				fast, portable func(o []uint64)
			}{"galois", func(o []uint64) { galoisTabRow(o, x, tab, q) }, func(o []uint64) { galoisTabRowGo(o, x, tab, q) }})
			for _, k := range kernels {
				got, want := make([]uint64, n), make([]uint64, n)
				k.fast(got)
				k.portable(want)
				if !slices.Equal(got, want) {
					t.Fatalf("q=%d n=%d: %s kernel differs from the portable one", q, n, k.name)
				}
			}
		}
	}
}
