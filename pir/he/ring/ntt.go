package ring

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/blindlist/blindlist/pir/he/modq"
)

// Table holds one NTT-friendly modulus q ≡ 1 (mod 2N) with everything the
// negacyclic NTT of degree N needs: ψ (Apple's root), twiddles in
// bit-reversed order with their Shoup companions, and N^{-1}. A Table is
// immutable after [NewTable] and safe for concurrent use.
type Table struct {
	// M is the modulus with its reduction constants.
	M modq.Modulus
	// N is the ring degree, a power of two.
	N int
	// Psi is the numerically smallest primitive 2N-th root of unity mod q
	// (he-spec §2.2).
	Psi uint64

	logN int
	// w[brv(i)] = ψ^i; ws its Shoup companions.
	w, ws []uint64
	// wi[k] = w[k]^{-1}; wis its Shoup companions.
	wi, wis []uint64
	// nInv = N^{-1} mod q, and nInvW = N^{-1}·w[1]^{-1} for the merged last
	// inverse stage.
	nInv, nInvS, nInvW, nInvWS uint64

	// lane32 is set for q < 2^30 (every preset modulus of the 27/28-bit
	// URL-filter presets): then every lazy value (< 4q) fits in 32 bits and
	// the NTT uses 32-bit Shoup companions w' = floor(w·2^32/q) (ws32, wis32,
	// nInvS32, nInvWS32), so a twiddle product needs only 64-bit multiplies
	// (see forward32).
	lane32            bool
	ws32, wis32       []uint64
	nInvS32, nInvWS32 uint64
	// simd selects the vector kernels (lane32 tables on a CPU with AVX2 or
	// NEON and N >= simdMinN); see ntt_amd64.go. The packed kernels (ntt_packed_amd64.s)
	// read the twiddles and their 32-bit companions as uint32: w32, ws32u,
	// wi32, wis32u (the NEON kernel of ntt_arm64.s too).
	simd                     bool
	w32, ws32u, wi32, wis32u []uint32
	// wl32 and wil32 hold the twiddles of the forward's last three stages
	// and of the inverse's first three (h = 4, 2, 1) in the lanes the packed
	// kernels' fused passes use them in (lastStageTwiddles), so those passes
	// read them as whole vectors.
	wl32, wil32 []uint32
	// ifma selects the AVX-512 IFMA kernels (q < ifmaMax on a CPU with
	// AVX512IFMA, N >= 16), with the 52-bit Shoup companions
	// w' = floor(w·2^52/q) in ws52, wis52, nInvS52, nInvWS52. They take
	// precedence over the 32-bit kernels: eight lanes in every stage make
	// them faster for 28-bit moduli too (BenchmarkNTTKernels).
	ifma              bool
	ws52, wis52       []uint64
	nInvS52, nInvWS52 uint64
	// ifmaLazy selects the forward IFMA kernel without per-butterfly
	// reductions, when (4 + 2·log2(N))·q < 2^52 (see ifmaLazyFits), with
	// ifmaC = floor(2^52/q) for its final reduction.
	ifmaLazy bool
	ifmaC    uint64
	// ifmaInvLazy selects the inverse IFMA kernel without reductions
	// between stages, when 2·N·q <= 2^52 (see invLazyFits), with
	// ifmaNQ = N·q.
	ifmaInvLazy bool
	ifmaNQ      uint64
	// wide holds the float64 tables of the wide AVX2 kernels (ntt_wide.go)
	// for 2^30 <= q < 2^50 when they are selected (haveWide), else nil.
	wide *wideTable
}

// lane32Max bounds the moduli of the 32-bit NTT path: q < 2^30 so that
// 4q < 2^32.
const lane32Max = 1 << 30

// ifmaLazyFits reports whether the forward IFMA NTT of degree 2^logN may
// skip the reduction of x in every butterfly (forward52LazyIFMA): inputs
// are below 4q, and a butterfly without it maps x, y < B to x + v and
// x − v + 2q, both below B + 2q (v ∈ [0, 2q)), so after the logN stages
// every value, and every input of a Shoup product, is below
// (4 + 2·logN)·q, which must stay below β = 2^52 (for N <= 8192: q <
// 2^52/30, about 2^47.1, which every 27- to 41-bit preset modulus meets).
// The last stage then reduces with one Shoup product by 1 and one
// conditional subtraction.
func ifmaLazyFits(q uint64, logN int) bool {
	hi, lo := bits.Mul64(uint64(4+2*logN), q)
	return hi == 0 && lo < 1<<52
}

// invLazyFits reports whether the inverse IFMA NTT of degree n may skip
// every reduction between stages (inverse52LazyIFMA): its Gentleman–Sande
// butterfly maps x, y < A to x + y < 2A and Shoup((x − y + N·q)·w) < 2q,
// so from inputs below 2q the values entering stage s (s = 0 first) are
// below A_s = 2^(s+1)·q and the last stage's are below N·q; the largest
// multiplier input, x − y + N·q in the last stage (or u + v there), is
// below 2·N·q, which must not exceed β = 2^52 (for N = 4096: q <= 2^39,
// which every 27- to 33-bit preset modulus meets).
func invLazyFits(q uint64, n int) bool {
	hi, lo := bits.Mul64(2*uint64(n), q)
	return hi == 0 && lo <= 1<<52
}

// ifmaMax bounds the moduli of the IFMA NTT path (ntt_ifma_amd64.s): q <
// 2^50 so that every lazy value (< 4q) is below β = 2^52, the width of the
// VPMADD52LUQ/VPMADD52HUQ multiplier (it reads the low 52 bits of each
// factor, so factors must be below β).
//
// Shoup's bound with word size β: for w < q, w' = floor(w·β/q) < β and
// y <= β,
//
//	y·w/q − floor(y·w'/β) = y·(w/q − w'/β) + frac(y·w'/β) < y/β + 1 <= 2,
//
// so r = y·w − floor(y·w'/β)·q is in [0, 2q). VPMADD52HUQ yields
// floor(y·w'/β) exactly (both factors below β), and r is recovered from
// its residue mod β, (y·w mod β) + (floor(y·w'/β)·(β−q) mod β), because
// 2q < β. The lazy butterflies feed the multiplier y < 4q (forward) and
// u − v + 2q < 4q (inverse), which must be below β: q < 2^50 gives
// 4q < 2^52.
const ifmaMax = 1 << 50

// ifmaFromMinN is the smallest N for which the IFMA forward kernels read
// a separate source (ForwardFrom): from N = 64 on, their first pass is a
// radix-8 pass (h = N/2 >= 32), the one that reads src.
const ifmaFromMinN = 64

// ErrNotNTTFriendly reports a modulus that is not prime or not ≡ 1 mod 2N.
var ErrNotNTTFriendly = errors.New("ring: modulus is not NTT-friendly")

// NewTable precomputes the NTT tables of q for degree n (a power of two
// >= 2). q must be a prime ≡ 1 mod 2n, below 2^62.
func NewTable(q uint64, n int) (*Table, error) {
	if n < 2 || n&(n-1) != 0 {
		return nil, fmt.Errorf("ring: degree %d is not a power of two >= 2", n)
	}
	m, err := modq.New(q)
	if err != nil {
		return nil, fmt.Errorf("ring: %w", err)
	}
	if q%(2*uint64(n)) != 1 || !modq.IsPrime(q) {
		return nil, fmt.Errorf("%w: q=%d, N=%d", ErrNotNTTFriendly, q, n)
	}
	psi, err := MinPrimitiveRoot(q, 2*uint64(n))
	if err != nil {
		return nil, err
	}
	logN := bits.Len(uint(n)) - 1
	t := &Table{M: m, N: n, Psi: psi, logN: logN,
		w: make([]uint64, n), ws: make([]uint64, n), wi: make([]uint64, n), wis: make([]uint64, n)}
	p := uint64(1)
	for i := 0; i < n; i++ {
		k := brv(uint64(i), logN)
		t.w[k] = p
		p = m.Mul(p, psi)
	}
	psiInv, err := m.Inv(psi)
	if err != nil {
		return nil, fmt.Errorf("ring: %w", err)
	}
	p = 1
	for i := 0; i < n; i++ {
		k := brv(uint64(i), logN)
		t.wi[k] = p // ψ^{-i} = w[k]^{-1}
		p = m.Mul(p, psiInv)
	}
	for k := 0; k < n; k++ {
		t.ws[k] = m.Shoup(t.w[k])
		t.wis[k] = m.Shoup(t.wi[k])
	}
	t.nInv, _ = m.Inv(uint64(n))
	t.nInvS = m.Shoup(t.nInv)
	t.nInvW = m.Mul(t.nInv, t.wi[1])
	t.nInvWS = m.Shoup(t.nInvW)
	if q < lane32Max {
		t.lane32 = true
		t.ws32, t.wis32 = make([]uint64, n), make([]uint64, n)
		for k := 0; k < n; k++ {
			t.ws32[k] = shoup32(t.w[k], q)
			t.wis32[k] = shoup32(t.wi[k], q)
		}
		t.nInvS32 = shoup32(t.nInv, q)
		t.nInvWS32 = shoup32(t.nInvW, q)
		t.simd = haveSIMD && n >= simdMinN
		if t.simd {
			t.w32, t.ws32u = narrow32(t.w), narrow32(t.ws32)
			t.wi32, t.wis32u = narrow32(t.wi), narrow32(t.wis32)
			if packedLastStages {
				t.wl32 = lastStageTwiddles(t.w32, t.ws32u)
				t.wil32 = lastStageTwiddles(t.wi32, t.wis32u)
			}
		}
	}
	if q < ifmaMax && haveIFMA && n >= 16 {
		t.ifma = true
		t.ws52, t.wis52 = make([]uint64, n), make([]uint64, n)
		for k := 0; k < n; k++ {
			t.ws52[k] = shoup52(t.w[k], q)
			t.wis52[k] = shoup52(t.wi[k], q)
		}
		t.nInvS52 = shoup52(t.nInv, q)
		t.nInvWS52 = shoup52(t.nInvW, q)
		t.ifmaLazy = ifmaLazyFits(q, logN)
		t.ifmaC = (1 << 52) / q
		t.ifmaInvLazy = invLazyFits(q, n)
		t.ifmaNQ = uint64(n) * q
	}
	if haveWide && !t.lane32 && !t.ifma {
		t.wide = newWideTable(t)
	}
	return t, nil
}

// brv reverses the low k bits of x.
func brv(x uint64, k int) uint64 {
	if k == 0 {
		return 0
	}
	return bits.Reverse64(x) >> (64 - k)
}

// MinPrimitiveRoot returns the smallest primitive degree-th root of unity
// modulo the prime q, for a power-of-two degree dividing q-1
// (Apple's minPrimitiveRootOfUnity, he-spec §2.2).
func MinPrimitiveRoot(q, degree uint64) (uint64, error) {
	if degree < 2 || degree&(degree-1) != 0 || (q-1)%degree != 0 {
		return 0, fmt.Errorf("ring: no primitive %d-th root of unity mod %d", degree, q)
	}
	m, err := modq.New(q)
	if err != nil {
		return 0, fmt.Errorf("ring: %w", err)
	}
	// A primitive degree-th root r satisfies r^(degree/2) = -1. Find one
	// from successive candidates, then take the minimum over its odd powers
	// (all primitive roots).
	var r uint64
	for x := uint64(2); x < q; x++ {
		c := m.Pow(x, (q-1)/degree)
		if m.Pow(c, degree/2) == q-1 {
			r = c
			break
		}
	}
	if r == 0 {
		return 0, fmt.Errorf("ring: no primitive %d-th root of unity mod %d", degree, q)
	}
	r2 := m.Mul(r, r)
	best, cur := r, r
	for i := uint64(1); i < degree/2; i++ {
		cur = m.Mul(cur, r2)
		best = min(best, cur)
	}
	return best, nil
}

// shoup52 returns floor(w·2^52/q), the 52-bit Shoup companion of w < q <
// 2^50 (w·2^52 < 2^102: the high word w>>12 is below q, so the division
// cannot overflow).
func shoup52(w, q uint64) uint64 {
	s, _ := bits.Div64(w>>12, w<<52, q)
	return s
}

// lastStageLanes are, per stage h = 4, 2, 1 of a pair of eight-value
// blocks, the twiddle index (from the stage's first twiddle of the pair)
// each of the eight 32-bit lanes takes; the same placement as the packed
// forward kernel's twid4, twid2 and twid1 (ntt_packed_amd64.s).
var lastStageLanes = [3][8]int{
	{0, 0, 0, 0, 1, 1, 1, 1},
	{0, 0, 1, 1, 2, 2, 3, 3},
	{0, 2, 1, 3, 4, 6, 5, 7},
}

// lastStageWords is the number of uint32 per pair in lastStageTwiddles:
// three stages, a twiddle vector and a companion vector of eight lanes each.
const lastStageWords = 3 * 2 * 8

// lastStageTwiddles lays out the twiddles w and companions ws of the
// forward transform's last three stages for the packed kernel: for pair p
// of blocks (values 16p..16p+15), lastStageWords words, per stage h = 4, 2,
// 1 the eight lane twiddles then their eight companions; the stage's first
// twiddle of the pair is w[N/8+2p], w[N/4+4p], w[N/2+8p].
func lastStageTwiddles(w, ws []uint32) []uint32 {
	n := len(w)
	out := make([]uint32, 0, n/16*lastStageWords)
	for p := range n / 16 {
		for s, base := range [3]int{n/8 + 2*p, n/4 + 4*p, n/2 + 8*p} {
			for _, k := range lastStageLanes[s] {
				out = append(out, w[base+k])
			}
			for _, k := range lastStageLanes[s] {
				out = append(out, ws[base+k])
			}
		}
	}
	return out
}

// narrow32 returns x as uint32s; every value must be below 2^32 (twiddles
// below q < 2^30, companions floor(w·2^32/q) < 2^32).
func narrow32(x []uint64) []uint32 {
	y := make([]uint32, len(x))
	for i, v := range x {
		y[i] = uint32(v)
	}
	return y
}

// shoup32 returns floor(w·2^32/q), the 32-bit Shoup companion of w < q.
func shoup32(w, q uint64) uint64 { return (w << 32) / q }

// Forward replaces a (N values in [0, q), coefficient order) by its Apple
// NTT: out[j] = a(ψ^(2·brv(j)+1)), values in [0, q) (he-spec §2.2).
// Inputs may in fact be anywhere in [0, 4q) (the first lazy butterfly
// accepts that range); the output is always fully reduced.
//
// Cooley–Tukey with Harvey's lazy butterflies: between stages values stay
// in [0, 4q); the last stage reduces to [0, q). Moduli below 2^50 use the
// AVX-512 IFMA kernel when the CPU has it (see ifmaMax); otherwise moduli
// below 2^30 use the 32-bit kernels (AVX2 when available), others below
// 2^50 the float64 AVX2 kernel (ntt_wide.go) when available, and the rest
// the 64-bit one; all produce the same output.
func (t *Table) Forward(a []uint64) {
	a = a[:t.N]
	switch {
	case t.ifmaLazy:
		forward52LazyIFMA(a, a, t.w, t.ws52, t.M.Q, t.ifmaC)
	case t.ifma:
		forward52IFMA(a, a, t.w, t.ws52, t.M.Q)
	case t.simd:
		t.forward32Vec(a)
	case t.wide != nil:
		t.wide.forward(a)
	case t.lane32:
		t.forward32(a)
	default:
		t.forward64(a)
	}
}

// ForwardFrom sets dst (N values) to the NTT of src: [Table.Forward] of a
// copy of src, src values in [0, 4q). The packed AVX2 kernel reads src
// directly (its first pass packs the values anyway), and so does the IFMA
// kernel's first radix-8 pass for N >= ifmaFromMinN, so the copy costs
// nothing there; other kernels copy and transform in place. dst and src
// are the same slice or do not overlap; src is not modified unless it is
// dst.
func (t *Table) ForwardFrom(dst, src []uint64) {
	dst, src = dst[:t.N], src[:t.N]
	switch {
	case (t.ifmaLazy || t.ifma) && t.N >= ifmaFromMinN:
		if t.ifmaLazy {
			forward52LazyIFMA(dst, src, t.w, t.ws52, t.M.Q, t.ifmaC)
		} else {
			forward52IFMA(dst, src, t.w, t.ws52, t.M.Q)
		}
	case t.simd && !t.ifmaLazy && !t.ifma:
		t.forward32VecFrom(dst, src)
	default:
		copy(dst, src)
		t.Forward(dst)
	}
}

// Inverse replaces a (N NTT values in [0, q), Apple order) by the
// coefficients it came from, in [0, q): the exact inverse of [Table.Forward].
//
// Gentleman–Sande with lazy butterflies: values stay in [0, 2q) between
// stages (the IFMA kernel for 2·N·q <= 2^52 lets them grow instead and
// reduces only in the last stage, see invLazyFits); the last stage folds
// in N^{-1}.
func (t *Table) Inverse(a []uint64) {
	a = a[:t.N]
	switch {
	case t.ifmaInvLazy:
		inverse52LazyIFMA(a, t.wi, t.wis52, t.M.Q, t.nInv, t.nInvS52, t.nInvW, t.nInvWS52, t.ifmaNQ)
	case t.ifma:
		inverse52IFMA(a, t.wi, t.wis52, t.M.Q, t.nInv, t.nInvS52, t.nInvW, t.nInvWS52)
	case t.simd:
		t.inverse32Vec(a)
	case t.wide != nil:
		t.wide.inverse(a)
	case t.lane32:
		t.inverse32(a)
	default:
		t.inverse64(a)
	}
}
