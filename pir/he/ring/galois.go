package ring

import (
	"fmt"
	"math/bits"
)

// ValidGaloisElement reports whether g is a valid Galois element for degree
// n: odd and 1 < g < 2n (Apple's isValidGaloisElement, he-spec §5.3).
func ValidGaloisElement(g uint64, n int) bool {
	return g&1 == 1 && g > 1 && g < 2*uint64(n)
}

// GaloisCoeff sets out = σ_g(x): f(X) → f(X^g), on coefficient-form rows
// (he-spec §5.3): coefficient i moves to i·g mod 2N, negated when that
// lands in [N, 2N). out must not alias x.
func (b Basis) GaloisCoeff(out, x *Poly, g uint64) {
	b.check(out, x)
	n := x.N
	if !ValidGaloisElement(g, n) {
		panic(fmt.Sprintf("ring: internal error: invalid Galois element %d for N=%d", g, n))
	}
	// Coefficient i goes to k = i·g mod 2N: slot k mod N, negated when
	// k >= N (bit logN of k), selected without branching.
	logN := uint(bits.TrailingZeros(uint(n)))
	mask := uint64(2*n - 1)
	for r, t := range b {
		q := t.M.Q
		o, xs := out.Row(r), x.Row(r)
		xs = xs[:n]
		k := uint64(0)
		for _, v := range xs {
			nm := -(k >> logN)
			nv := q - v
			nv = min(nv, nv-q)
			o[k&uint64(n-1)] = v ^ ((v ^ nv) & nm)
			k = (k + g) & mask
		}
	}
}

// GaloisEvalPermutation returns the slot permutation of σ_g in Apple's NTT
// order: σ_g(x)[i] = x[perm[i]] (he-spec §5.3).
func GaloisEvalPermutation(g uint64, n int) []int {
	logN := 0
	for 1<<logN < n {
		logN++
	}
	perm := make([]int, n)
	for i := 0; i < n; i++ {
		odd := 2*brv(uint64(i), logN) + 1
		idx := ((g * odd) >> 1) & uint64(n-1)
		perm[i] = int(brv(idx, logN))
	}
	return perm
}

// GaloisEval sets out = σ_g(x) on NTT-form rows using perm from
// [GaloisEvalPermutation]. out must not alias x.
func (b Basis) GaloisEval(out, x *Poly, perm []int) {
	b.check(out, x)
	for r := range b {
		o, xs := out.Row(r), x.Row(r)
		for i, p := range perm {
			o[i] = xs[p]
		}
	}
}
