package ring

import "math/bits"

// The wide kernels: AVX2 NTTs for moduli below wideMax on CPUs without
// AVX-512 IFMA (ntt_wide_amd64.s). They compute in float64: every residue
// is an integer below 2^53 in magnitude, held as a double (signed, so
// that a rounded quotient may overshoot), and a product y·w mod q is
// computed exactly with FMA. The derivation, with u = 2^-53 the unit
// roundoff and q < 2^50:
//
// mulmod(y, w) for an integer |y| <= 2^51 and a twiddle 0 <= w < q with
// wq = fl(w/q) (a correctly rounded division of two exact doubles):
//
//	c = round(fl(y·wq))   the quotient: fl(y·wq) = y·(w/q)·(1+d1)(1+d2),
//	                      |d1|, |d2| <= u, so with t = y·w/q (|t| < |y|),
//	                      |fl(y·wq) − t| <= |t|·(2u+u²) < |y|·2^-52·(1+u),
//	                      and |c − t| < 1/2 + |y|·2^-52·(1+u);
//	H = fl(y·w)           the rounded product, |y·w| < 2^101;
//	L = fma(y, w, −H)     y·w − H exactly (the error of a product is a
//	                      double, FMA rounds once): |L| <= ulp(H)/2 <= 2^48;
//	B = fma(−c, q, H)     H − c·q: an integer (H >= 2^53 is one, below it
//	                      H = y·w), |H − c·q| <= |y·w − c·q| + |L|
//	                      < 2^51 + 2^48 < 2^53, so FMA returns it exactly;
//	r = B + L             = y·w − c·q exactly (|r| < 2^53, integers).
//
// So r ≡ y·w (mod q) and |r| = q·|t − c| < q·(1/2 + |y|·2^-52·(1+u)):
// for |y| <= 2q (q < 2^50, so 2q·2^-52·(1+u) < 1/2) |r| < q, and for
// |y| <= 2^51 |r| <= q (an integer below q·(1 + u/2) < q + 1).
//
// reduce(x) = x − round(fl(x·fl(1/q)))·q for an integer |x| <= 2^52 is
// ≡ x (mod q) and, by the same argument with w = 1, |x − c·q| < q·(1/2 +
// |x/q|·2^-52·(1+u)), which is at most q/2 + 1 for |x| <= 4q < 2^52.
//
// Residues in [0, 2^52) move between uint64 and float64 with the usual
// exponent trick: the bits of x | 0x4330000000000000 are the double 2^52
// + x, so subtracting 2^52 gives x; for a double integer 0 <= r < 2^52,
// r + 2^52 is exact and its low 52 bits are r.
//
// Forward (Cooley–Tukey): the first stage converts its inputs, x in
// [0, 4q), and reduces them to |x| <= q/2 + 1. A butterfly sets
// (x, y) ← (u + v, u − v) with v = mulmod(y, w):
//   - u = reduce(x) ("full" variant): |u| <= q/2 + 1 for |x| <= 2q, and
//     |v| < q for |y| <= 2q, so outputs stay below 3q/2 + 1 <= 2q;
//   - u = x ("lazy" variant, when (log2(N)+1)·q < 2^51, wideLazyFits):
//     after s stages every value is below (s + 1/2)·q + 1, which stays
//     below (log2(N)+1)·q < 2^51 for s < log2(N), so every product has
//     |v| <= q and the bound holds for s+1.
//
// The last stage (h = 1) reduces both outputs, adds q to negative ones
// and converts them back: [0, q).
//
// Inverse (Gentleman–Sande), inputs in [0, 2q): a butterfly sets (x, y)
// ← (reduce(x + y), mulmod(x − y, w)). With |x|, |y| <= q (or inputs
// below 2q) |x + y| < 4q and |x − y| <= 2q, so |x'| <= q/2 + 1 and
// |y'| < q: the invariant holds. The last stage (m = 1) multiplies
// x + y by N^{-1} and x − y by N^{-1}·w[1]^{-1} (both |·| < q by the
// mulmod bound), adds q to negative results and converts them: [0, q).
//
// Lazy inverse (wideInvLazyFits: 2·N·q <= 2^50): the middle stages skip
// the reduction of x + y. A butterfly maps |x|, |y| < A to |x + y| < 2A
// and |mulmod(x − y)| < q <= A, so from inputs below 2q the values after
// s stages are below 2^s·2q, every multiplicand (x − y, and x ± y in the
// last stage) is below 2^logN·2q = 2·N·q <= 2^50, which keeps every
// product below q·(1/2 + 1/4·(1+u)) < q and every value an exact double.
// Reductions that do run (the first two stages always reduce) only lower
// these bounds.

// wideMax bounds the moduli of the wide kernels: q < 2^50, so that every
// input below 4q converts exactly (4q < 2^52) and the bounds above hold.
const wideMax = 1 << 50

// wideTable holds the float64 twiddles of the wide kernels: wf[k] = w[k],
// wq[k] = fl(w[k]/q), the same for the inverse twiddles, and N^{-1},
// N^{-1}·w[1]^{-1} with their quotients.
type wideTable struct {
	q, qInv          float64
	lazy, invLazy    bool
	wf, wq, wif, wiq []float64
	nInv, nInvQ      float64
	nInvW, nInvWQ    float64
}

// wideLazyFits reports whether the lazy forward butterflies (no reduction
// of x) keep every value of a degree-2^logN NTT within the mulmod bound:
// (logN + 1)·q < 2^51.
func wideLazyFits(q uint64, logN int) bool {
	hi, lo := bits.Mul64(uint64(logN+1), q)
	return hi == 0 && lo < 1<<51
}

// wideInvLazyFits reports whether the lazy inverse applies to degree n:
// 2·n·q <= 2^50.
func wideInvLazyFits(q uint64, n int) bool {
	hi, lo := bits.Mul64(2*uint64(n), q)
	return hi == 0 && lo <= 1<<50
}

// newWideTable returns the float64 tables of t's modulus for the wide
// kernels, or nil when q >= wideMax or N < 16.
func newWideTable(t *Table) *wideTable {
	q := t.M.Q
	if q >= wideMax || t.N < 16 {
		return nil
	}
	fq := float64(q) // exact: q < 2^53
	wt := &wideTable{q: fq, qInv: 1 / fq, lazy: wideLazyFits(q, t.logN), invLazy: wideInvLazyFits(q, t.N),
		wf: make([]float64, t.N), wq: make([]float64, t.N),
		wif: make([]float64, t.N), wiq: make([]float64, t.N)}
	for k := range t.N {
		wt.wf[k] = float64(t.w[k])
		wt.wq[k] = float64(t.w[k]) / fq
		wt.wif[k] = float64(t.wi[k])
		wt.wiq[k] = float64(t.wi[k]) / fq
	}
	wt.nInv, wt.nInvQ = float64(t.nInv), float64(t.nInv)/fq
	wt.nInvW, wt.nInvWQ = float64(t.nInvW), float64(t.nInvW)/fq
	return wt
}

// forward is [Table.Forward] with the wide kernel; len(a) = N.
func (wt *wideTable) forward(a []uint64) {
	lazy := uint64(0)
	if wt.lazy {
		lazy = 1
	}
	forwardWideAVX2(a, wt.wf, wt.wq, wt.q, wt.qInv, lazy)
}

// inverse is [Table.Inverse] with the wide kernel; len(a) = N.
func (wt *wideTable) inverse(a []uint64) {
	lazy := uint64(0)
	if wt.invLazy {
		lazy = 1
	}
	inverseWideAVX2(a, wt.wif, wt.wiq, wt.q, wt.qInv, wt.nInv, wt.nInvQ, wt.nInvW, wt.nInvWQ, lazy)
}
