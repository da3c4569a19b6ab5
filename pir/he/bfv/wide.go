package bfv

import (
	"math/bits"

	"github.com/blindlist/blindlist/pir/he/ring"
)

// The wide kernels (wide_amd64.s): AVX2 rows for moduli below 2^50 on CPUs
// without AVX-512 IFMA, in float64. Every residue is an exact integer held
// as a double (|x| < 2^53), possibly negative, and products are exact by
// FMA. With u = 2^-53 the unit roundoff and q < 2^50 (derivation of the
// constant-multiplier case in ring's ntt_wide.go):
//
//   - MULMOD(y, w) for a constant w < q with wq = fl(w/q): c =
//     round(fl(y·wq)), H = fl(y·w), L = fma(y, w, −H) = y·w − H exactly,
//     r = fma(−c, q, H) + L = y·w − c·q exactly (an integer below 2^53);
//     |r| < q·(1/2 + |y|·2^-52·(1+u)), so |r| < q for |y| <= 2q.
//   - VARMUL(a, b) for |a|, |b| < q, both varying: c =
//     round(fl(fl(a·b)·fl(1/q))) is within |t|·(3u + 3u² + u³) < 2^50 ·
//     3.0001 · 2^-53 < 0.376 of t = a·b/q before rounding, so |c − t| <
//     0.876 and |r| = |a·b − c·q| < 0.876q; H, L and r as above (|H − c·q|
//     <= |r| + |L| < 2^50 + 2^48 is exact).
//   - REDUCE(x) = x − round(fl(x·fl(1/q)))·q: |·| < q/2 + |x|·2^-52·(1+u),
//     below q/2 + 2 for |x| < 2^52 + 2^50, and ≡ x (mod q).
//   - Conversions: a uint64 x < 2^52 becomes a double as (x | bits(2^52))
//     − 2^52; a double integer 0 <= r < 2^52 returns as bits(r + 2^52) XOR
//     bits(2^52). OUT adds q to negative values first (|r| < q in, [0, q)
//     out), comparing with 0 so that −0 stays 0.
//
// Every output row is fully reduced to [0, q) unless a mode says it keeps
// doubles (keyMulRowWide's accumulators). Where the 52-bit rows they
// stand in for (mul52.go, rns52.go) return lazy values in [0, 2q), the wide
// rows return a value ≡ mod q in [0, q), which every caller accepts: the
// reduced results, and so every ciphertext, are identical.

// The modes of keyMulRowWideAVX2.
const (
	wideSet    = 0 // o = x·k (doubles, |·| < 0.88q)
	wideAcc    = 1 // o += x·k (doubles)
	wideAccOut = 2 // o = (o + x·k) mod q, uint64 in [0, q)
	wideSetOut = 3 // o = x·k mod q, uint64 in [0, q)
)

// wideKeySwitchFits reports whether keySwitchWide applies to the
// extension ext of level l: every modulus below 2^50, N >= 16 (rows are
// multiples of 4 slots, and the NTTs take the wide or 32-bit kernels), and
// the l products of a slot (each |·| < 0.88q) sum below 2^52, so the sum
// is exact and REDUCE's bound holds: l·q < 2^52 for every q.
func wideKeySwitchFits(ext ring.Basis, l, n int) bool {
	moduli := make([]uint64, len(ext))
	for i, t := range ext {
		moduli[i] = t.M.Q
	}
	return n >= 16 && wideFits(moduli, l) // the kernels take 16 slots at a time
}

// wideFits reports whether the wide key switch's bounds hold for l digits
// over moduli: each below 2^50 and l·q < 2^52.
func wideFits(moduli []uint64, l int) bool {
	for _, q := range moduli {
		hi, lo := bits.Mul64(uint64(l), q)
		if q >= word52Max || hi != 0 || lo >= 1<<52 {
			return false
		}
	}
	return true
}

// keySwitchWide is keySwitch with the wide AVX2 rows (ks.wide): each digit
// is moved to Eval form and multiplied by both key polynomials in one pass
// (keyMulRowWideAVX2, products exact by FMA), the l products of a slot
// summed in doubles and reduced once. The keys are read as they are: no
// second copy of their residues.
func (e *Evaluator) keySwitchWide(u0, u1, d, dEval *ring.Poly, k *KeySwitchKey, l int, eval bool) {
	p := e.p
	L := len(p.moduli)
	ks := p.levels[l].ks
	U0 := e.scratch(0, l+1)
	U1 := e.scratch(1, l+1)
	x := e.scratch(2, 1).Row(0)
	for r, tab := range ks.ext {
		m := &tab.M
		fq := float64(m.Q)
		keyRow := r
		if r == l {
			keyRow = L - 1
		}
		o0, o1 := U0.Row(r), U1.Row(r)
		for j := 0; j < l; j++ {
			x := e.digitNTT(x, d, dEval, tab, r, j)
			mode := uint64(wideAcc)
			switch {
			case l == 1:
				mode = wideSetOut
			case j == 0:
				mode = wideSet
			case j == l-1:
				mode = wideAccOut
			}
			k0, k1 := k.Keys[j].Polys[0].Row(keyRow), k.Keys[j].Polys[1].Row(keyRow)
			keyMulRowWideAVX2(o0, o1, x, k0[:len(o0)], k1[:len(o0)], fq, 1/fq, mode)
		}
		if !eval || r == l {
			tab.Inverse(o0)
			tab.Inverse(o1)
		}
	}
	e.dropP(ks, u0, u1, U0, U1, eval)
}

// montR52Inv returns 2^-52 mod q from qInv = q^{-1} mod 2^52 (q odd, q <
// 2^52): q·qInv = 1 + k·2^52 with k = floor(q·qInv/2^52) < q, so k·2^52 ≡
// −1 (mod q) and 2^-52 ≡ q − k.
func montR52Inv(q, qInv uint64) uint64 {
	hi, lo := bits.Mul64(q, qInv)
	return q - (hi<<12 | lo>>52)
}

// The row wrappers below run the wide kernel on the first multiple of 4
// slots; the 52-bit rows (mul52.go, rns52.go) call them when haveWide and
// finish any tail in portable Go.

// shoupConstRowWide is shoupConstRow52's wide rows: every mode leaves o in
// [0, q) (≡ the lazy value of shoupConstRow52Go).
func shoupConstRowWide(o, x []uint64, w, q, mode uint64) {
	fq := float64(q)
	shoupConstRowWideAVX2(o, x[:len(o)], fq, 1/fq, float64(w), float64(w)/fq, mode)
}

// signedAddRowWide is signedAddRow52's wide rows (same output).
func signedAddRowWide(dst, acc, s, neg []uint64, e, q uint64) {
	fq := float64(q)
	signedAddRowWideAVX2(dst, acc[:len(dst)], s[:len(dst)], neg[:len(dst)], fq, 1/fq, float64(e), float64(e)/fq)
}

// tensorWide is tensor52's wide rows (same output): the Montgomery factor
// 2^-52 of tensor52's products is one more constant product.
func tensorWide(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64) {
	n := len(d0)
	fq := float64(q)
	r := montR52Inv(q, qInv)
	tensorWideAVX2(d0, d1[:n], d2[:n], x0[:n], x1[:n], y0[:n], y1[:n], fq, 1/fq, float64(r), float64(r)/fq)
}

// dropWide is drop52's wide rows (same output).
func dropWide(dst, src, last []uint64, qLast, half, q, hmK, inv uint64) {
	fq := float64(q)
	dropWideAVX2(dst, src[:len(dst)], last[:len(dst)], qLast, half, hmK, fq, 1/fq, float64(inv), float64(inv)/fq)
}

// addMulConstWide is addMulConst52's wide rows (same output).
func addMulConstWide(dst, x, t []uint64, w, q uint64) {
	fq := float64(q)
	addMulConstWideAVX2(dst, x[:len(dst)], t[:len(dst)], fq, 1/fq, float64(w), float64(w)/fq)
}

// mulAddConstWide is mulAddConst52's wide rows (same output).
func mulAddConstWide(dst, x, t []uint64, w, q uint64) {
	fq := float64(q)
	mulAddConstWideAVX2(dst, x[:len(dst)], t[:len(dst)], fq, 1/fq, float64(w), float64(w)/fq)
}
