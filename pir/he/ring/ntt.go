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
}

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

// Forward replaces a (N values in [0, q), coefficient order) by its Apple
// NTT: out[j] = a(ψ^(2·brv(j)+1)), values in [0, q) (he-spec §2.2).
//
// Cooley–Tukey with Harvey's lazy butterflies: between stages values stay
// in [0, 4q); the final pass reduces to [0, q).
func (t *Table) Forward(a []uint64) {
	n := t.N
	a = a[:n]
	q := t.M.Q
	q2 := 2 * q
	w, ws := t.w, t.ws
	for m, h := 1, n/2; m < n; m, h = 2*m, h/2 {
		if h >= 4 {
			for i := 0; i < m; i++ {
				wi, wsi := w[m+i], ws[m+i]
				base := 2 * i * h
				x := a[base : base+h]
				y := a[base+h : base+2*h]
				y = y[:len(x)] // bounds-check hint
				for j := range x {
					u := modq.CondSub(x[j], q2)
					hv, _ := bits.Mul64(y[j], wsi)
					v := y[j]*wi - hv*q
					x[j] = u + v
					y[j] = u - v + q2
				}
			}
			continue
		}
		// Short butterflies (h = 2, 1): iterate over groups directly.
		for i := 0; i < m; i++ {
			wi, wsi := w[m+i], ws[m+i]
			base := 2 * i * h
			for j := base; j < base+h; j++ {
				u := modq.CondSub(a[j], q2)
				hv, _ := bits.Mul64(a[j+h], wsi)
				v := a[j+h]*wi - hv*q
				a[j] = u + v
				a[j+h] = u - v + q2
			}
		}
	}
	for j := range a {
		a[j] = modq.CondSub(modq.CondSub(a[j], q2), q)
	}
}

// Inverse replaces a (N NTT values in [0, q), Apple order) by the
// coefficients it came from, in [0, q): the exact inverse of [Table.Forward].
//
// Gentleman–Sande with lazy butterflies: values stay in [0, 2q) between
// stages; the last stage folds in N^{-1}.
func (t *Table) Inverse(a []uint64) {
	n := t.N
	a = a[:n]
	q := t.M.Q
	q2 := 2 * q
	wi, wis := t.wi, t.wis
	for m, h := n/2, 1; m >= 2; m, h = m/2, 2*h {
		if h >= 4 {
			for i := 0; i < m; i++ {
				w, s := wi[m+i], wis[m+i]
				base := 2 * i * h
				x := a[base : base+h]
				y := a[base+h : base+2*h]
				y = y[:len(x)]
				for j := range x {
					u, v := x[j], y[j]
					x[j] = modq.CondSub(u+v, q2)
					d := u - v + q2
					hv, _ := bits.Mul64(d, s)
					y[j] = d*w - hv*q
				}
			}
			continue
		}
		for i := 0; i < m; i++ {
			w, s := wi[m+i], wis[m+i]
			base := 2 * i * h
			for j := base; j < base+h; j++ {
				u, v := a[j], a[j+h]
				a[j] = modq.CondSub(u+v, q2)
				d := u - v + q2
				hv, _ := bits.Mul64(d, s)
				a[j+h] = d*w - hv*q
			}
		}
	}
	// Last stage (m = 1, twiddle w[1]^{-1}) merged with the N^{-1} factor:
	// x' = (u+v)/N, y' = (u-v)·w^{-1}/N.
	h := n / 2
	x := a[:h]
	y := a[h:n]
	y = y[:len(x)]
	ni, nis, nw, nws := t.nInv, t.nInvS, t.nInvW, t.nInvWS
	for j := range x {
		u, v := x[j], y[j]
		s := u + v // < 4q
		hv, _ := bits.Mul64(s, nis)
		r := s*ni - hv*q
		d := u - v + q2
		hv, _ = bits.Mul64(d, nws)
		r2 := d*nw - hv*q
		x[j] = modq.CondSub(r, q)
		y[j] = modq.CondSub(r2, q)
	}
}
