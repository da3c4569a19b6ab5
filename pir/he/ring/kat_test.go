package ring

import (
	"encoding/hex"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/drbg"
	"github.com/blindlist/blindlist/pir/he/modq"
)

func polyFrom(n int, rows ...[]uint64) *Poly {
	p := NewPoly(n, len(rows))
	for i, r := range rows {
		copy(p.Row(i), r)
	}
	return p
}

// Apple's Galois KATs (T/HE/PolyRqTests/GaloisTests.swift, he-spec §5.3),
// plus Coeff/Eval consistency for every element.
func TestGaloisKATs(t *testing.T) {
	cases := []struct {
		n      int
		moduli []uint64
		in     [][]uint64
		want   [][]uint64
	}{
		{4, []uint64{17}, [][]uint64{{0, 1, 2, 3}}, [][]uint64{{0, 3, 15, 1}}},
		{8, []uint64{17}, [][]uint64{{0, 1, 2, 3, 4, 5, 6, 7}}, [][]uint64{{0, 14, 6, 1, 13, 7, 2, 12}}},
		{8, []uint64{17, 97}, [][]uint64{{0, 1, 2, 3, 4, 5, 6, 7}, {7, 6, 5, 4, 3, 2, 1, 0}},
			[][]uint64{{0, 14, 6, 1, 13, 7, 2, 12}, {7, 93, 1, 6, 94, 0, 5, 95}}},
	}
	for _, c := range cases {
		b, err := NewBasis(c.n, c.moduli)
		if err != nil {
			t.Fatal(err)
		}
		in := polyFrom(c.n, c.in...)
		out := NewPoly(c.n, len(c.moduli))
		b.GaloisCoeff(out, in, 3)
		if !slices.Equal(out.Coeffs, polyFrom(c.n, c.want...).Coeffs) {
			t.Errorf("N=%d moduli %v: σ_3 = %v", c.n, c.moduli, out.Coeffs)
		}
		for g := uint64(3); g < uint64(2*c.n); g += 2 {
			coeff := NewPoly(c.n, len(c.moduli))
			b.GaloisCoeff(coeff, in, g)
			b.NTT(coeff)
			ev := in.Clone()
			b.NTT(ev)
			ev2 := NewPoly(c.n, len(c.moduli))
			b.GaloisEval(ev2, ev, GaloisEvalPermutation(g, c.n))
			if !slices.Equal(coeff.Coeffs, ev2.Coeffs) {
				t.Errorf("N=%d g=%d: Eval permutation disagrees with Coeff automorphism", c.n, g)
			}
			tab := make([]uint32, c.n)
			GaloisEvalTable(tab, g, c.n)
			ev3 := NewPoly(c.n, len(c.moduli))
			b.GaloisEvalTab(ev3, ev, tab)
			if !slices.Equal(coeff.Coeffs, ev3.Coeffs) {
				t.Errorf("N=%d g=%d: Eval gather table disagrees with Coeff automorphism", c.n, g)
			}
		}
	}
}

func TestMulPowerOfX(t *testing.T) {
	b, err := NewBasis(8, []uint64{17, 97})
	if err != nil {
		t.Fatal(err)
	}
	in := polyFrom(8, []uint64{1, 2, 3, 4, 5, 6, 7, 8}, []uint64{1, 2, 3, 4, 5, 6, 7, 8})
	out := NewPoly(8, 2)
	b.MulPowerOfX(out, in, 2)
	if want := []uint64{17 - 7, 17 - 8, 1, 2, 3, 4, 5, 6}; !slices.Equal(out.Row(0), want) {
		t.Errorf("X^2 = %v, want %v", out.Row(0), want)
	}
	b.MulPowerOfX(out, in, -3)
	if want := []uint64{4, 5, 6, 7, 8, 96, 95, 94}; !slices.Equal(out.Row(1), want) {
		t.Errorf("X^-3 = %v, want %v", out.Row(1), want)
	}
	back := NewPoly(8, 2)
	b.MulPowerOfX(back, out, 3+16)
	if !slices.Equal(back.Coeffs, in.Coeffs) {
		t.Error("X^3·X^16·X^-3 is not the identity")
	}
}

// Apple's CoefficientPacking KATs (T/HE/CoefficientPackingTests.swift,
// he-spec §3.4).
func TestPackingKATs(t *testing.T) {
	c14 := []uint64{0, 3, 1, 8, 5, 15, 8, 13, 11, 3, 2, 2, 7, 1}
	c10 := []uint64{19, 16, 21, 4, 0, 1, 15, 3, 10, 3}
	cases := []struct {
		vals       []uint64
		bits, skip int
		want       []byte
	}{
		{c14, 4, 0, []byte{3, 24, 95, 141, 179, 34, 113}},
		{c14, 4, 1, []byte{4, 69, 230, 164, 150, 0}},
		{c14, 4, 2, []byte{2, 123, 128, 64}},
		{c14, 4, 3, []byte{23, 128}},
		{c14, 5, 0, []byte{0, 194, 130, 189, 13, 88, 196, 35, 132}},
		{c10, 5, 1, []byte{152, 162, 0, 113, 81}},
		{c10, 5, 2, []byte{146, 144, 24, 64}},
	}
	for _, c := range cases {
		got := AppendPacked(nil, c.vals, c.bits, c.skip)
		if !slices.Equal(got, c.want) {
			t.Errorf("pack(b=%d,s=%d) = %v, want %v", c.bits, c.skip, got, c.want)
		}
		back := make([]uint64, len(c.vals))
		if _, err := UnpackInto(back, got, c.bits, c.skip, false); err != nil {
			t.Fatal(err)
		}
		for i, v := range c.vals {
			if back[i] != v>>c.skip<<c.skip {
				t.Errorf("unpack(b=%d,s=%d)[%d] = %d, want %d", c.bits, c.skip, i, back[i], v>>c.skip<<c.skip)
			}
		}
	}
	// [23,128], b=4, s=3, decode: floor(16/1) = 16 coefficients.
	out := make([]uint64, 16)
	if _, err := UnpackInto(out, []byte{23, 128}, 4, 3, false); err != nil {
		t.Fatal(err)
	}
	if want := []uint64{0, 0, 0, 8, 0, 8, 8, 8, 8, 0, 0, 0, 0, 0, 0, 0}; !slices.Equal(out, want) {
		t.Errorf("decode = %v, want %v", out, want)
	}
	// Serialization round trip KAT: moduli [521], s=2.
	p := polyFrom(4, []uint64{1, 21, 302, 417})
	b := AppendPoly(nil, p, []int{10}, 2)
	q := NewPoly(4, 1)
	if _, err := ReadPoly(q, b, []int{10}, []uint64{521}, 2); err != nil {
		t.Fatal(err)
	}
	if want := []uint64{0, 20, 300, 416}; !slices.Equal(q.Row(0), want) {
		t.Errorf("round trip = %v, want %v", q.Row(0), want)
	}
	// A residue >= q is rejected; a short buffer is rejected.
	if _, err := ReadPoly(q, AppendPoly(nil, polyFrom(4, []uint64{1, 2, 3, 530}), []int{10}, 0), []int{10}, []uint64{521}, 0); err == nil {
		t.Error("unreduced residue accepted")
	}
	if _, err := ReadPoly(q, b[:len(b)-1], []int{10}, []uint64{521}, 2); err == nil {
		t.Error("short buffer accepted")
	}
}

// Apple's seeded sampling interop KATs
// (T/HE/PolyRqTests/PolyRq+RandomizeTests.swift, he-spec §7.3, §4.2): one
// DRBG draws a poly, then 1000 polys, then one, then 1000, then one.
func TestSamplingKATs(t *testing.T) {
	const zero = "0000000000000000000000000000000000000000000000000000000000000000"
	const fixed = "0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff"
	smallRows := func(v []int64, moduli []uint64) []uint64 {
		var out []uint64
		for _, q := range moduli {
			for _, x := range v {
				out = append(out, uint64((x%int64(q)+int64(q))%int64(q)))
			}
		}
		return out
	}
	cases := []struct {
		name   string
		seed   string
		moduli []uint64
		want   [3][]uint64
	}{
		{"uniform", zero, []uint64{11, 13}, [3][]uint64{{4, 0, 2, 8, 10, 9, 3, 2}, {5, 6, 0, 5, 1, 3, 6, 11}, {0, 3, 4, 4, 8, 9, 0, 10}}},
		{"uniform", fixed, []uint64{11, 13}, [3][]uint64{{9, 6, 9, 0, 10, 8, 7, 3}, {2, 9, 9, 1, 12, 0, 0, 12}, {5, 1, 0, 10, 8, 2, 8, 1}}},
		{"ternary", fixed, []uint64{11, 13}, [3][]uint64{{0, 10, 10, 1, 0, 12, 12, 1}, {1, 10, 1, 0, 1, 12, 1, 0}, {1, 0, 0, 1, 1, 0, 0, 1}}},
		{"cbd", fixed, []uint64{23, 29}, [3][]uint64{{22, 0, 0, 22, 28, 0, 0, 28}, {2, 4, 22, 1, 2, 4, 28, 1}, {3, 0, 22, 20, 3, 0, 28, 26}}},
	}
	for _, c := range cases {
		seed, _ := hex.DecodeString(c.seed)
		r, err := drbg.New(seed)
		if err != nil {
			t.Fatal(err)
		}
		// The moduli are not NTT-friendly for N=4; build tables by hand.
		b := make(Basis, len(c.moduli))
		for i, q := range c.moduli {
			b[i] = &Table{M: mustModulus(q), N: 4}
		}
		draw := func() []uint64 {
			switch c.name {
			case "uniform":
				p := NewPoly(4, 2)
				if err := b.SampleUniform(r, p, nil); err != nil {
					t.Fatal(err)
				}
				return p.Coeffs
			case "ternary":
				v, err := SampleTernary(r, 4)
				if err != nil {
					t.Fatal(err)
				}
				return smallRows(v, c.moduli)
			default:
				v, err := SampleCBD(r, 4, 21)
				if err != nil {
					t.Fatal(err)
				}
				return smallRows(v, c.moduli)
			}
		}
		for k := 0; k < 3; k++ {
			if k > 0 {
				for i := 0; i < 1000; i++ {
					draw()
				}
			}
			if got := draw(); !slices.Equal(got, c.want[k]) {
				t.Errorf("%s seed %s poly %d = %v, want %v", c.name, c.seed[:8], k, got, c.want[k])
			}
		}
	}
}

func mustModulus(q uint64) modq.Modulus { return modq.MustNew(q) }
