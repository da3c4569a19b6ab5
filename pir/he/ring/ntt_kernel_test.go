package ring

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/internal/cputime"
	"github.com/blindlist/blindlist/pir/he/modq"
)

// kernel is one NTT implementation of a [Table].
type kernel struct {
	name             string
	forward, inverse func(t *Table, a []uint64)
	ok               func(t *Table) bool
}

// nttKernels lists every NTT kernel; forward64/inverse64 is the reference.
var nttKernels = []kernel{
	{"64", (*Table).forward64, (*Table).inverse64, func(*Table) bool { return true }},
	{"32", (*Table).forward32, (*Table).inverse32, func(t *Table) bool { return t.lane32 }},
	// The vector kernel Table uses for q < 2^30: packed AVX2 on amd64,
	// NEON on arm64.
	{"simd", (*Table).forward32Vec, (*Table).inverse32Vec, func(t *Table) bool { return t.simd }},
	// The packed AVX2 kernel with its wide passes on eight and on sixteen
	// lanes (amd64).
	{"avx2-ymm", func(t *Table, a []uint64) { forward32PackedAVX2(a, a, t.w32, t.ws32u, t.wl32, t.M.Q, 0) },
		func(t *Table, a []uint64) {
			inverse32PackedAVX2(a, t.wi32, t.wis32u, t.wil32, t.M.Q, t.nInv, t.nInvS32, t.nInvW, t.nInvWS32, 0)
		},
		func(t *Table) bool { return t.simd && runtime.GOARCH == "amd64" }},
	{"avx2-zmm", func(t *Table, a []uint64) { forward32PackedAVX2(a, a, t.w32, t.ws32u, t.wl32, t.M.Q, 1) },
		func(t *Table, a []uint64) {
			inverse32PackedAVX2(a, t.wi32, t.wis32u, t.wil32, t.M.Q, t.nInv, t.nInvS32, t.nInvW, t.nInvWS32, 1)
		},
		func(t *Table) bool { return t.simd && haveAVX512 }},
	{"ifma", func(t *Table, a []uint64) { forward52IFMA(a, a, t.w, t.ws52, t.M.Q) },
		func(t *Table, a []uint64) {
			inverse52IFMA(a, t.wi, t.wis52, t.M.Q, t.nInv, t.nInvS52, t.nInvW, t.nInvWS52)
		},
		func(t *Table) bool { return t.ifma }},
	{"ifma-lazy", func(t *Table, a []uint64) { forward52LazyIFMA(a, a, t.w, t.ws52, t.M.Q, t.ifmaC) },
		func(t *Table, a []uint64) {
			inverse52IFMA(a, t.wi, t.wis52, t.M.Q, t.nInv, t.nInvS52, t.nInvW, t.nInvWS52)
		},
		func(t *Table) bool { return t.ifmaLazy }},
	{"ifma-lazy-inverse", func(t *Table, a []uint64) { forward52LazyIFMA(a, a, t.w, t.ws52, t.M.Q, t.ifmaC) },
		func(t *Table, a []uint64) {
			inverse52LazyIFMA(a, t.wi, t.wis52, t.M.Q, t.nInv, t.nInvS52, t.nInvW, t.nInvWS52, t.ifmaNQ)
		},
		func(t *Table) bool { return t.ifmaLazy && t.ifmaInvLazy }},
}

// kernelModuli returns every NTT-friendly modulus of the Apple presets
// (he-spec §1.2, §2.2) for degree n, plus the largest primes ≡ 1 mod 2n
// below 2^30 (the 32-bit kernels' limit), 2^31, 2^52/(4 + 2·log2(n))
// (the lazy forward IFMA kernel's limit), at most 2^52/(2n) (the lazy
// inverse IFMA kernel's limit, invLazyFits), 2^50 (the IFMA kernels'
// limit) and 2^62.
func kernelModuli(n int) []uint64 {
	presets := []uint64{
		40961, 65537, 134176769, 268369921, 268361729, 8589852673, 8589844481, // N = 4096
		536690689, 1099511480321, 1152921504606830593, 1152921504606748673, 36028797018652673,
		36028797017571329, 36028797017456641, 557057, 8404993, 268582913, 536903681, 2199023288321,
		33832961, // N = 8192
	}
	var qs []uint64
	for _, q := range presets {
		if q%(2*uint64(n)) == 1 {
			qs = append(qs, q)
		}
	}
	lazyMax := uint64(1<<52) / uint64(4+2*(bits.Len(uint(n))-1))
	invLazyMax := uint64(1<<52)/(2*uint64(n)) + 1 // q < invLazyMax ⇔ 2nq <= 2^52
	for _, bound := range []uint64{lane32Max, 2 * lane32Max, lazyMax, invLazyMax, ifmaMax, modq.MaxModulus} {
		for q := bound - bound%(2*uint64(n)) + 1; ; q -= 2 * uint64(n) {
			if q < bound && modq.IsPrime(q) {
				qs = append(qs, q)
				break
			}
		}
	}
	return qs
}

// TestNTTKernels runs every kernel on the same inputs (random, all q−1,
// alternating 0 and q−1, one-hot) and compares it with the 64-bit
// reference, for all preset moduli at N = 16 to 128 (every stage layout of
// the radix-4 kernels), 4096 and 8192.
func TestNTTKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	sizes := []int{16, 32, 64, 128, 4096, 8192}
	if testing.Short() {
		sizes = []int{16, 32, 64, 4096}
	}
	for _, n := range sizes {
		for _, q := range kernelModuli(n) {
			tab, err := NewTable(q, n)
			if err != nil {
				t.Fatal(err)
			}
			inputs := map[string][]uint64{}
			for k := range 3 {
				x := make([]uint64, n)
				for i := range x {
					x[i] = rng.Uint64N(q)
				}
				inputs[fmt.Sprint("random", k)] = x
			}
			top, alt, one := make([]uint64, n), make([]uint64, n), make([]uint64, n)
			for i := range top {
				top[i] = q - 1
				alt[i] = (q - 1) * uint64(i&1)
			}
			one[n-1] = q - 1
			inputs["q-1"], inputs["alternating"], inputs["one-hot"] = top, alt, one
			for name, x := range inputs {
				// Forward accepts lazy inputs in [0, 4q): x + k·q, k in 0..3.
				lazy := slices.Clone(x)
				for i := range lazy {
					lazy[i] += uint64(i%4) * q
				}
				wantF := slices.Clone(x)
				tab.forward64(wantF)
				wantI := slices.Clone(x)
				tab.inverse64(wantI)
				for _, k := range nttKernels {
					if !k.ok(tab) {
						continue
					}
					got := slices.Clone(lazy)
					k.forward(tab, got)
					if !slices.Equal(got, wantF) {
						t.Fatalf("N=%d q=%d %s: kernel %s forward of [0, 4q) inputs differs", n, q, name, k.name)
					}
					got = slices.Clone(x)
					k.forward(tab, got)
					if !slices.Equal(got, wantF) {
						t.Fatalf("N=%d q=%d %s: kernel %s forward differs from the reference", n, q, name, k.name)
					}
					k.inverse(tab, got)
					if !slices.Equal(got, x) {
						t.Fatalf("N=%d q=%d %s: kernel %s inverse(forward(x)) != x", n, q, name, k.name)
					}
					got = slices.Clone(x)
					k.inverse(tab, got)
					if !slices.Equal(got, wantI) {
						t.Fatalf("N=%d q=%d %s: kernel %s inverse differs from the reference", n, q, name, k.name)
					}
				}
			}
		}
	}
}

// TestInvLazyFits checks the lazy inverse IFMA kernel's bound at its
// edge: 2·N·q <= 2^52 is accepted, one more is not.
func TestInvLazyFits(t *testing.T) {
	for _, n := range []int{16, 4096, 8192} {
		q := uint64(1<<52) / (2 * uint64(n))
		if !invLazyFits(q, n) || invLazyFits(q+1, n) {
			t.Errorf("N=%d: invLazyFits(%d) = %v, invLazyFits(%d) = %v, want true, false",
				n, q, invLazyFits(q, n), q+1, invLazyFits(q+1, n))
		}
	}
}

// TestNTTKernelSelection checks which kernel each modulus gets.
func TestNTTKernelSelection(t *testing.T) {
	for _, c := range []struct {
		q            uint64
		lane32, ifma bool
	}{
		{134176769, true, true}, {268369921, true, true}, {8589852673, false, true},
		{2199023288321, false, true}, {36028797018652673, false, false}, {1152921504606830593, false, false},
	} {
		n := 4096
		if c.q%8192 != 1 {
			n = 2048
		}
		tab, err := NewTable(c.q, n)
		if err != nil {
			t.Fatal(err)
		}
		simd, ifma := c.lane32 && haveSIMD, c.ifma && haveIFMA
		if tab.lane32 != c.lane32 || tab.simd != simd || tab.ifma != ifma {
			t.Errorf("q=%d: lane32=%v simd=%v ifma=%v, want lane32=%v simd=%v ifma=%v",
				c.q, tab.lane32, tab.simd, tab.ifma, c.lane32, simd, ifma)
		}
	}
}

// BenchmarkNTTKernels times forward+inverse with each kernel that applies
// (64: the scalar reference, 32: portable 32-bit, simd: packed 32-bit
// lanes with AVX2 on amd64, NEON on arm64, ifma: 52-bit lanes, with and
// without reductions between stages).
func BenchmarkNTTKernels(b *testing.B) {
	for _, c := range []struct {
		name string
		q    uint64
		n    int
	}{
		{"n=4096/q=28bit", 268369921, 4096}, {"n=8192/q=29bit", 536690689, 8192},
		{"n=4096/q=33bit", 8589852673, 4096}, {"n=8192/q=50bit", 1125899906826241, 8192},
	} {
		tab, err := NewTable(c.q, c.n)
		if err != nil {
			b.Fatal(err)
		}
		a := make([]uint64, c.n)
		for i := range a {
			a[i] = uint64(i) * 7919 % c.q
		}
		for _, k := range nttKernels {
			if !k.ok(tab) {
				continue
			}
			b.Run(c.name+"/kernel="+k.name, func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := cputime.Process()
				for b.Loop() {
					k.forward(tab, a)
					k.inverse(tab, a)
				}
				reportCPU(b, cpu0)
			})
		}
	}
}

// BenchmarkGaloisGather times one row of [Basis.GaloisCoeffTab] (N = 4096,
// a 28-bit modulus) with each gather kernel that can run.
func BenchmarkGaloisGather(b *testing.B) {
	const n, q = 4096, 268369921
	tab := make([]uint32, n)
	GaloisCoeffTable(tab, 3, n)
	x, o := make([]uint64, n), make([]uint64, n)
	for i := range x {
		x[i] = uint64(i) * 7919 % q
	}
	for _, k := range []struct {
		name string
		ok   bool
		f    func()
	}{
		{"go", true, func() { galoisTabRowGo(o, x, tab, q) }},
		{"avx2", haveSIMD, func() { galoisGatherAVX2(o, x, tab, q) }},
		{"avx512", haveAVX512, func() { galoisGather64AVX512(o, x, tab, q) }},
	} {
		if !k.ok {
			continue
		}
		b.Run("kernel="+k.name, func(b *testing.B) {
			cpu0 := cputime.Process()
			for b.Loop() {
				k.f()
			}
			reportCPU(b, cpu0)
		})
	}
}
