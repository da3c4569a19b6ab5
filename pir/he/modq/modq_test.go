package modq

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

var testModuli = []uint64{2, 3, 17, 97, 40961, 134176769, 268369921, 268361729, 8589852673,
	36028797018652673, 1152921504606830593, MaxModulus}

func TestReduce128AgainstBig(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, q := range testModuli {
		m := MustNew(q)
		bq := new(big.Int).SetUint64(q)
		for i := 0; i < 20000; i++ {
			hi, lo := rng.Uint64(), rng.Uint64()
			switch i % 4 {
			case 1:
				hi = 0
			case 2:
				hi, lo = ^uint64(0), ^uint64(0)-uint64(i)
			}
			x := new(big.Int).Lsh(new(big.Int).SetUint64(hi), 64)
			x.Or(x, new(big.Int).SetUint64(lo))
			want := x.Mod(x, bq).Uint64()
			if got := m.Reduce128(hi, lo); got != want {
				t.Fatalf("q=%d Reduce128(%d,%d) = %d, want %d", q, hi, lo, got, want)
			}
		}
	}
}

func TestReduceAgainstBig(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, q := range testModuli {
		m := MustNew(q)
		edges := []uint64{0, 1, q - 1, q, q + 1, 2*q - 1, ^uint64(0), ^uint64(0) - 1,
			^uint64(0) / q * q, ^uint64(0)/q*q - 1, (^uint64(0)/q - 1) * q}
		for i := 0; i < 20000+len(edges); i++ {
			x := rng.Uint64()
			if i < len(edges) {
				x = edges[i]
			} else if i%3 == 0 {
				x >>= rng.UintN(64)
			}
			if got, want := m.Reduce(x), x%q; got != want {
				t.Fatalf("q=%d Reduce(%d) = %d, want %d", q, x, got, want)
			}
			if quo, rem := m.QuoRem(x); quo != x/q || rem != x%q {
				t.Fatalf("q=%d QuoRem(%d) = %d, %d, want %d, %d", q, x, quo, rem, x/q, x%q)
			}
		}
	}
}

func TestArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, q := range testModuli {
		m := MustNew(q)
		for i := 0; i < 20000; i++ {
			a, b := rng.Uint64N(q), rng.Uint64N(q)
			if i < 4 {
				a, b = uint64(i%2)*(q-1), uint64(i/2)*(q-1)
			}
			ba, bb, bq := new(big.Int).SetUint64(a), new(big.Int).SetUint64(b), new(big.Int).SetUint64(q)
			check := func(name string, got uint64, want *big.Int) {
				t.Helper()
				want.Mod(want, bq)
				if got != want.Uint64() {
					t.Fatalf("q=%d %s(%d,%d) = %d, want %d", q, name, a, b, got, want)
				}
			}
			check("Add", m.Add(a, b), new(big.Int).Add(ba, bb))
			check("Sub", m.Sub(a, b), new(big.Int).Sub(ba, bb))
			check("Neg", m.Neg(a), new(big.Int).Neg(ba))
			check("Mul", m.Mul(a, b), new(big.Int).Mul(ba, bb))
			x := rng.Uint64()
			check("MulShoup", m.MulShoup(x, b, m.Shoup(b)), new(big.Int).Mul(new(big.Int).SetUint64(x), bb))
			if l := MulShoupLazy(x, b, m.Shoup(b), q); l >= 2*q {
				t.Fatalf("MulShoupLazy out of [0,2q): %d", l)
			}
		}
	}
}

func TestPowInv(t *testing.T) {
	m := MustNew(134176769)
	for _, a := range []uint64{1, 2, 12345, 134176768} {
		inv, err := m.Inv(a)
		if err != nil || m.Mul(a, inv) != 1 {
			t.Fatalf("Inv(%d) = %d, %v", a, inv, err)
		}
	}
	if _, err := m.Inv(0); err == nil {
		t.Fatal("Inv(0) succeeded")
	}
}

func TestIsPrime(t *testing.T) {
	for _, q := range testModuli[2:11] {
		if !IsPrime(q) {
			t.Errorf("IsPrime(%d) = false", q)
		}
	}
	for _, n := range []uint64{0, 1, 4, 561, 1 << 61, 3215031751, 134176769 * 3} {
		if IsPrime(n) {
			t.Errorf("IsPrime(%d) = true", n)
		}
	}
	// Exhaustive against trial division for small n.
	for n := uint64(0); n < 5000; n++ {
		p := n >= 2
		for d := uint64(2); d*d <= n; d++ {
			if n%d == 0 {
				p = false
				break
			}
		}
		if IsPrime(n) != p {
			t.Fatalf("IsPrime(%d) = %v", n, !p)
		}
	}
}

func TestNewRejects(t *testing.T) {
	for _, q := range []uint64{0, 1, MaxModulus + 1, ^uint64(0)} {
		if _, err := New(q); err == nil {
			t.Errorf("New(%d) succeeded", q)
		}
	}
}

func TestLog2(t *testing.T) {
	cases := []struct {
		x           uint64
		ceil, floor int
	}{
		{1, 0, 0}, {2, 1, 1}, {3, 2, 1}, {17, 5, 4}, {16, 4, 4}, {134176769, 27, 26}, {268369921, 28, 27},
	}
	for _, c := range cases {
		if CeilLog2(c.x) != c.ceil || FloorLog2(c.x) != c.floor {
			t.Errorf("log2(%d) = %d/%d, want %d/%d", c.x, CeilLog2(c.x), FloorLog2(c.x), c.ceil, c.floor)
		}
	}
}

func BenchmarkMul(b *testing.B) {
	m := MustNew(268369921)
	x := uint64(12345)
	b.ReportAllocs()
	for b.Loop() {
		x = m.Mul(x, 268369920)
	}
	_ = x
}
