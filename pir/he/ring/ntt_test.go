package ring

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/blindlist/blindlist/internal/cputime"
	"github.com/blindlist/blindlist/pir/he/kernels"
	"github.com/blindlist/blindlist/pir/he/modq"
)

// Apple's NTT known answers (T/HE/NttTests.swift, he-spec §2.2).
func TestNTTAppleKATs(t *testing.T) {
	seq := func(a, b uint64) []uint64 {
		var s []uint64
		for i := a; i <= b; i++ {
			s = append(s, i)
		}
		return s
	}
	cases := []struct {
		q          uint64
		coeff, ntt []uint64
	}{
		{97, []uint64{0, 0}, []uint64{0, 0}},
		{97, []uint64{1, 0}, []uint64{1, 1}},
		{97, []uint64{1, 2}, []uint64{45, 54}},
		{113, []uint64{3, 4}, []uint64{63, 56}},
		{97, []uint64{1, 0, 0, 0}, []uint64{1, 1, 1, 1}},
		{97, []uint64{1, 2, 3, 4}, []uint64{30, 7, 64, 0}},
		{113, []uint64{5, 6, 7, 8}, []uint64{108, 31, 103, 4}},
		{4194353, seq(1, 8), []uint64{3372683, 765982, 387853, 2657954, 2013665, 1280882, 2457874, 3840527}},
		{536870849,
			[]uint64{477051601, 421524611, 456257859, 247136825, 128775020, 76785070, 49764016, 525812772,
				325605371, 88935943, 255470762, 39507048, 404978219, 379383003, 244420585, 346826612},
			[]uint64{230846094, 480599401, 157364576, 360442736, 531052463, 294311347, 432899854, 219721533,
				286807067, 260650843, 362842688, 315862017, 493042020, 520739674, 167758416, 370401491}},
		{769,
			[]uint64{401, 203, 221, 352, 487, 151, 405, 356, 343, 424, 635, 757, 457, 280, 624, 353, 496, 353,
				624, 280, 457, 757, 635, 424, 343, 356, 405, 151, 487, 352, 221, 203},
			seq(1, 32)},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("q=%d/n=%d", c.q, len(c.coeff)), func(t *testing.T) {
			tab, err := NewTable(c.q, len(c.coeff))
			if err != nil {
				t.Fatal(err)
			}
			a := slices.Clone(c.coeff)
			tab.Forward(a)
			if !slices.Equal(a, c.ntt) {
				t.Fatalf("Forward = %v, want %v", a, c.ntt)
			}
			tab.Inverse(a)
			if !slices.Equal(a, c.coeff) {
				t.Fatalf("Inverse = %v, want %v", a, c.coeff)
			}
		})
	}
	// One-hot at N = 4096 mod 557057 maps to all ones.
	tab, err := NewTable(557057, 4096)
	if err != nil {
		t.Fatal(err)
	}
	a := make([]uint64, 4096)
	a[0] = 1
	tab.Forward(a)
	for j, v := range a {
		if v != 1 {
			t.Fatalf("slot %d = %d, want 1", j, v)
		}
	}
}

func TestMinPrimitiveRoot(t *testing.T) {
	cases := []struct{ q, deg, want uint64 }{
		{11, 2, 10}, {29, 2, 28}, {29, 4, 12}, {1234565441, 2, 1234565440}, {1234565441, 8, 249725733},
		// he-spec §2.2 table.
		{1152921504606830593, 32, 63018411528440961}, {131249, 16, 17580}, {40961, 8192, 12},
		{8589852673, 8192, 652337}, {8589844481, 8192, 4268790},
		{134176769, 8192, 24149}, {268369921, 8192, 62736}, {268361729, 8192, 58939},
		{36028797018652673, 16384, 15372713853695}, {36028797017571329, 16384, 3055459936772},
		{36028797017456641, 16384, 4991203289951}, {1152921504606748673, 16384, 100406242475323},
	}
	for _, c := range cases {
		got, err := MinPrimitiveRoot(c.q, c.deg)
		if err != nil || got != c.want {
			t.Errorf("MinPrimitiveRoot(%d, %d) = %d, %v; want %d", c.q, c.deg, got, err, c.want)
		}
	}
}

// naiveForward evaluates out[j] = Σ a_i ψ^((2·brv(j)+1)·i) with math/big.
func naiveForward(a []uint64, q, psi uint64) []uint64 {
	n := len(a)
	logN := 0
	for 1<<logN < n {
		logN++
	}
	bq := new(big.Int).SetUint64(q)
	out := make([]uint64, n)
	for j := range out {
		e := new(big.Int).SetUint64(2*brv(uint64(j), logN) + 1)
		x := new(big.Int).Exp(new(big.Int).SetUint64(psi), e, bq)
		acc := new(big.Int)
		pw := big.NewInt(1)
		for i := range a {
			acc.Add(acc, new(big.Int).Mul(pw, new(big.Int).SetUint64(a[i])))
			pw.Mul(pw, x).Mod(pw, bq)
		}
		out[j] = acc.Mod(acc, bq).Uint64()
	}
	return out
}

// naiveNegacyclic returns x·y mod (X^N+1, q) by schoolbook multiplication.
func naiveNegacyclic(x, y []uint64, q uint64) []uint64 {
	m := modq.MustNew(q)
	n := len(x)
	out := make([]uint64, n)
	for i := range x {
		for j := range y {
			p := m.Mul(x[i], y[j])
			if k := i + j; k < n {
				out[k] = m.Add(out[k], p)
			} else {
				out[k-n] = m.Sub(out[k-n], p)
			}
		}
	}
	return out
}

func TestNTTAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	moduli := []uint64{134176769, 268369921, 8589852673, 36028797018652673, 1152921504606830593, 4611686018427382913}
	for _, q := range moduli {
		for _, n := range []int{2, 4, 8, 32, 64} {
			if q%(2*uint64(n)) != 1 {
				continue
			}
			tab, err := NewTable(q, n)
			if err != nil {
				t.Fatal(err)
			}
			x, y := make([]uint64, n), make([]uint64, n)
			for i := range x {
				x[i], y[i] = rng.Uint64N(q), rng.Uint64N(q)
			}
			if n <= 32 {
				want := naiveForward(x, q, tab.Psi)
				got := slices.Clone(x)
				tab.Forward(got)
				if !slices.Equal(got, want) {
					t.Fatalf("q=%d n=%d Forward mismatch", q, n)
				}
			}
			want := naiveNegacyclic(x, y, q)
			xe, ye := slices.Clone(x), slices.Clone(y)
			tab.Forward(xe)
			tab.Forward(ye)
			for i := range xe {
				xe[i] = tab.M.Mul(xe[i], ye[i])
			}
			tab.Inverse(xe)
			if !slices.Equal(xe, want) {
				t.Fatalf("q=%d n=%d NTT product differs from schoolbook", q, n)
			}
		}
	}
}

func TestNTTRoundTripLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		q uint64
		n int
	}{{134176769, 4096}, {268369921, 4096}, {8589844481, 4096}, {36028797017456641, 8192}, {4611686018427382913, 64}} {
		tab, err := NewTable(c.q, c.n)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]uint64, c.n)
		for i := range x {
			x[i] = rng.Uint64N(c.q)
		}
		// Worst-case inputs too.
		x[0], x[1] = c.q-1, c.q-1
		y := slices.Clone(x)
		tab.Forward(y)
		for i, v := range y {
			if v >= c.q {
				t.Fatalf("slot %d not reduced", i)
			}
		}
		tab.Inverse(y)
		if !slices.Equal(x, y) {
			t.Fatalf("q=%d: inverse(forward(x)) != x", c.q)
		}
	}
}

// he-spec §8.2: NTT of X mod 134176769 at N=4096.
func TestNTTDerivedVectors(t *testing.T) {
	tab, err := NewTable(134176769, 4096)
	if err != nil {
		t.Fatal(err)
	}
	a := make([]uint64, 4096)
	a[1] = 1
	tab.Forward(a)
	if want := []uint64{24149, 134152620, 52964221, 81212548}; !slices.Equal(a[:4], want) {
		t.Errorf("NTT(X)[:4] = %v, want %v", a[:4], want)
	}
	for i := range a {
		a[i] = uint64(i)
	}
	tab.Forward(a)
	if want := []uint64{94443895, 115864473, 78021645, 77365567}; !slices.Equal(a[:4], want) {
		t.Errorf("NTT(0..4095)[:4] = %v, want %v", a[:4], want)
	}
}

func TestNewTableRejects(t *testing.T) {
	for _, c := range []struct {
		q uint64
		n int
	}{{97, 3}, {97, 64}, {91, 2}, {1, 2}, {1 << 63, 2}} {
		if _, err := NewTable(c.q, c.n); err == nil {
			t.Errorf("NewTable(%d, %d) succeeded", c.q, c.n)
		}
	}
}

func BenchmarkNTT(b *testing.B) {
	for _, c := range []struct {
		name string
		q    uint64
		n    int
	}{
		{"n=4096/q=27bit", 134176769, 4096},
		{"n=4096/q=28bit", 268369921, 4096},
		{"n=4096/q=33bit", 8589852673, 4096},
		{"n=8192/q=55bit", 36028797018652673, 8192},
	} {
		tab, err := NewTable(c.q, c.n)
		if err != nil {
			b.Fatal(err)
		}
		a := make([]uint64, c.n)
		for i := range a {
			a[i] = uint64(i) * 7919 % c.q
		}
		b.Run(c.name+"/forward", func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				tab.Forward(a)
			}
			reportCPU(b, cpu0)
		})
		b.Run(c.name+"/inverse", func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				tab.Inverse(a)
			}
			reportCPU(b, cpu0)
		})
		b.Run(c.name+"/forward+inverse", func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				tab.Forward(a)
				tab.Inverse(a)
			}
			reportCPU(b, cpu0)
		})
	}
}

// reportCPU reports the process CPU time per operation since cpu0
// (cpu-ns/op): on a shared machine wall time also counts waiting for a
// core.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N), "cpu-ns/op")
}

// TestForwardFrom: ForwardFrom gives Forward of a copy, for moduli that
// take every kernel (packed 32-bit, IFMA, wide, 64-bit), inputs over the
// whole accepted range [0, 4q), into another slice and in place, and
// leaves a separate source unchanged.
func TestForwardFrom(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	for _, c := range []struct {
		q uint64
		n int
	}{
		{134176769, 4096}, {268369921, 4096}, {268369921, 32}, {8589852673, 4096},
		{1152921504606830593, 4096}, {17, 8}, {40961, 16}, {40961, 64}, {40961, 128}, {8589852673, 64},
	} {
		tab, err := NewTable(c.q, c.n)
		if err != nil {
			t.Fatal(err)
		}
		src := make([]uint64, c.n)
		for j := range src {
			src[j] = rng.Uint64N(4 * c.q)
			if c.q >= 1<<62 {
				src[j] = rng.Uint64N(c.q)
			}
		}
		src[0] = 4*c.q - 1
		if c.q >= 1<<62 {
			src[0] = c.q - 1
		}
		want := slices.Clone(src)
		tab.Forward(want)
		keep := slices.Clone(src)
		got := make([]uint64, c.n)
		tab.ForwardFrom(got, src)
		if !slices.Equal(got, want) {
			t.Fatalf("q=%d N=%d: ForwardFrom (%s) differs from Forward", c.q, c.n, kernels.Selected())
		}
		if !slices.Equal(src, keep) {
			t.Fatalf("q=%d N=%d: ForwardFrom modified its source", c.q, c.n)
		}
		tab.ForwardFrom(src, src)
		if !slices.Equal(src, want) {
			t.Fatalf("q=%d N=%d: ForwardFrom in place differs from Forward", c.q, c.n)
		}
	}
}
