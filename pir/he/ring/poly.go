package ring

import (
	"fmt"
	"math/bits"
)

// Poly is an element of Z_Q[X]/(X^N+1) in RNS form: Rows()·N residues,
// row-major, row i taken modulo the i-th modulus of the [Basis] it is used
// with (he-spec §2.1). Whether the values are coefficients or NTT slots is
// tracked by the caller (package bfv tags ciphertexts and plaintexts).
// Residues are kept in [0, q_i).
type Poly struct {
	// N is the ring degree.
	N int
	// Coeffs holds row i at Coeffs[i·N : (i+1)·N].
	Coeffs []uint64
}

// NewPoly returns a zero polynomial with the given degree and row count.
func NewPoly(n, rows int) *Poly {
	return &Poly{N: n, Coeffs: make([]uint64, n*rows)}
}

// Rows returns the number of RNS rows.
func (p *Poly) Rows() int { return len(p.Coeffs) / p.N }

// Row returns row i (aliasing p).
func (p *Poly) Row(i int) []uint64 { return p.Coeffs[i*p.N : (i+1)*p.N : (i+1)*p.N] }

// Clone returns a deep copy of p.
func (p *Poly) Clone() *Poly {
	return &Poly{N: p.N, Coeffs: append([]uint64(nil), p.Coeffs...)}
}

// Truncate returns p restricted to its first rows rows (aliasing p).
func (p *Poly) Truncate(rows int) *Poly {
	return &Poly{N: p.N, Coeffs: p.Coeffs[:rows*p.N]}
}

// Basis is an ordered list of NTT tables of the same degree: the RNS moduli
// q_0..q_{k-1} a polynomial lives in.
type Basis []*Table

// NewBasis builds the tables of moduli for degree n.
func NewBasis(n int, moduli []uint64) (Basis, error) {
	b := make(Basis, len(moduli))
	for i, q := range moduli {
		t, err := NewTable(q, n)
		if err != nil {
			return nil, err
		}
		b[i] = t
	}
	return b, nil
}

// N returns the ring degree of the basis.
func (b Basis) N() int { return b[0].N }

// Moduli returns the moduli of the basis in order.
func (b Basis) Moduli() []uint64 {
	qs := make([]uint64, len(b))
	for i, t := range b {
		qs[i] = t.M.Q
	}
	return qs
}

// check panics on a shape mismatch: these are programming errors inside the
// HE layer (shapes of outside data are validated at parse time).
func (b Basis) check(ps ...*Poly) {
	for _, p := range ps {
		if p.N != b[0].N || len(p.Coeffs) < len(b)*p.N {
			panic(fmt.Sprintf("ring: internal error: poly with N=%d rows=%d used with basis N=%d rows=%d",
				p.N, p.Rows(), b[0].N, len(b)))
		}
	}
}

// NTT converts the first len(b) rows of p from coefficients to Apple NTT
// slots in place.
func (b Basis) NTT(p *Poly) {
	b.check(p)
	for i, t := range b {
		t.Forward(p.Row(i))
	}
}

// INTT converts the first len(b) rows of p from NTT slots back to
// coefficients in place.
func (b Basis) INTT(p *Poly) {
	b.check(p)
	for i, t := range b {
		t.Inverse(p.Row(i))
	}
}

// Add sets out = x + y row-wise.
func (b Basis) Add(out, x, y *Poly) {
	b.check(out, x, y)
	for i, t := range b {
		addRow(out.Row(i), x.Row(i), y.Row(i), t.M.Q)
	}
}

// Sub sets out = x - y row-wise.
func (b Basis) Sub(out, x, y *Poly) {
	b.check(out, x, y)
	for i, t := range b {
		subRow(out.Row(i), x.Row(i), y.Row(i), t.M.Q)
	}
}

// Neg sets out = -x row-wise.
func (b Basis) Neg(out, x *Poly) {
	b.check(out, x)
	for i, t := range b {
		negRow(out.Row(i), x.Row(i), t.M.Q)
	}
}

// The row kernels below reduce with min(s, s−q), branch-free (CMOV) and
// exact for s < 2q: when s < q, s−q wraps above s. Residues are in [0, q).

// rows32Max bounds the moduli of the AVX2 row kernels: q < 2^31, so that
// values below 2q fit in 32 bits.
const rows32Max = 1 << 31

// addRow sets o = x + y mod q.
func addRow(o, x, y []uint64, q uint64) {
	x, y = x[:len(o)], y[:len(o)]
	if v := len(o) &^ 3; v > 0 && rowsSIMD(q) {
		addRow32AVX2(o[:v], x[:v], y[:v], q)
		o, x, y = o[v:], x[v:], y[v:]
	} else if v := len(o) &^ 7; v > 0 && rows64SIMD(q) {
		addRow64AVX512(o[:v], x[:v], y[:v], q)
		o, x, y = o[v:], x[v:], y[v:]
	} else if v := len(o) &^ 3; v > 0 && rows64AVX2(q) {
		addRow64AVX2(o[:v], x[:v], y[:v], q)
		o, x, y = o[v:], x[v:], y[v:]
	}
	addRowGo(o, x, y, q)
}

// addRowGo is addRow in portable Go.
func addRowGo(o, x, y []uint64, q uint64) {
	x, y = x[:len(o)], y[:len(o)]
	for j := range o {
		s := x[j] + y[j]
		o[j] = min(s, s-q)
	}
}

// subRow sets o = x − y mod q.
func subRow(o, x, y []uint64, q uint64) {
	x, y = x[:len(o)], y[:len(o)]
	if v := len(o) &^ 3; v > 0 && rowsSIMD(q) {
		subRow32AVX2(o[:v], x[:v], y[:v], q)
		o, x, y = o[v:], x[v:], y[v:]
	} else if v := len(o) &^ 7; v > 0 && rows64SIMD(q) {
		subRow64AVX512(o[:v], x[:v], y[:v], q)
		o, x, y = o[v:], x[v:], y[v:]
	} else if v := len(o) &^ 3; v > 0 && rows64AVX2(q) {
		subRow64AVX2(o[:v], x[:v], y[:v], q)
		o, x, y = o[v:], x[v:], y[v:]
	}
	subRowGo(o, x, y, q)
}

// subRowGo is subRow in portable Go.
func subRowGo(o, x, y []uint64, q uint64) {
	x, y = x[:len(o)], y[:len(o)]
	for j := range o {
		d := x[j] - y[j] + q
		o[j] = min(d, d-q)
	}
}

// negRow sets o = −x mod q (q − x in (0, q], and q maps to 0).
func negRow(o, x []uint64, q uint64) {
	x = x[:len(o)]
	if v := len(o) &^ 3; v > 0 && rowsSIMD(q) {
		negRow32AVX2(o[:v], x[:v], q)
		o, x = o[v:], x[v:]
	} else if v := len(o) &^ 7; v > 0 && rows64SIMD(q) {
		negRow64AVX512(o[:v], x[:v], q)
		o, x = o[v:], x[v:]
	} else if v := len(o) &^ 3; v > 0 && rows64AVX2(q) {
		negRow64AVX2(o[:v], x[:v], q)
		o, x = o[v:], x[v:]
	}
	negRowGo(o, x, q)
}

// negRowGo is negRow in portable Go.
func negRowGo(o, x []uint64, q uint64) {
	x = x[:len(o)]
	for j, v := range x {
		d := q - v
		o[j] = min(d, d-q)
	}
}

// MulCoeffs sets out = x ⊙ y (pointwise products, the ring product in NTT
// form).
func (b Basis) MulCoeffs(out, x, y *Poly) {
	b.check(out, x, y)
	for i, t := range b {
		m := t.M
		o, xs, ys := out.Row(i), x.Row(i), y.Row(i)
		xs, ys = xs[:len(o)], ys[:len(o)]
		if v := len(o) &^ 3; v > 0 && mulRowsWide(m.Q) {
			mulRowWide(o[:v], xs[:v], ys[:v], m.Q)
			o, xs, ys = o[v:], xs[v:], ys[v:]
		}
		if m.Q < lane32Max {
			// Products of residues below 2^30 fit a word.
			for j := range o {
				o[j] = m.Reduce(xs[j] * ys[j])
			}
			continue
		}
		for j := range o {
			hi, lo := bits.Mul64(xs[j], ys[j])
			o[j] = m.Reduce128(hi, lo)
		}
	}
}

// MulScalarRow multiplies row i of p by c[i] (c[i] in [0, q_i)).
func (b Basis) MulScalarRow(p *Poly, c []uint64) {
	b.check(p)
	for i, t := range b {
		m := &t.M
		cs := m.Shoup(c[i])
		r := p.Row(i)
		for j := range r {
			r[j] = m.MulShoup(r[j], c[i], cs)
		}
	}
}

// MulPowerOfX sets out = X^k · x in coefficient form (negacyclic:
// X^N = -1); k may be negative (Apple's multiplyPowerOfX, he-spec §4.5).
// out must not alias x.
func (b Basis) MulPowerOfX(out, x *Poly, k int) {
	b.check(out, x)
	n := x.N
	k %= 2 * n
	if k < 0 {
		k += 2 * n
	}
	neg := k >= n
	if neg {
		k -= n
	}
	// Coefficients j < N−k move to j+k, the others wrap to j+k−N with the
	// opposite sign.
	for i, t := range b {
		o, xs := out.Row(i), x.Row(i)
		head, tail := xs[:n-k], xs[n-k:]
		if neg {
			negRow(o[k:], head, t.M.Q)
			copy(o[:k], tail)
		} else {
			copy(o[k:], head)
			negRow(o[:k], tail, t.M.Q)
		}
	}
}
