package ring

import (
	"math/bits"

	"github.com/blindlist/blindlist/pir/he/modq"
)

// forward64 is [Table.Forward] for any q < 2^62 with 64-bit Shoup twiddles
// (w' = floor(w·2^64/q), one 64×64→128 multiply per butterfly). It is the
// reference the faster kernels are tested against.
//
// Bounds: inputs in [0, q); between stages [0, 4q); output [0, q).
func (t *Table) forward64(a []uint64) {
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

// inverse64 is [Table.Inverse] for any q < 2^62 (64-bit Shoup twiddles);
// the reference for the faster kernels.
//
// Bounds: inputs in [0, q); between stages [0, 2q); output [0, q).
func (t *Table) inverse64(a []uint64) {
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

// The 32-bit kernels (q < 2^30, so every lazy value below 4q < 2^32):
// with the 32-bit Shoup companion w' = floor(w·2^32/q) < 2^32, Shoup's
// bound with word size 2^32 gives, for y < 2^32,
//
//	y·w − floor(y·w'/2^32)·q ∈ [0, 2q),
//
// and every product involved is below 2^64, so a butterfly needs three
// plain 64-bit multiplies instead of a 64×64→128 one. The conditional
// subtraction min(x, x−c) is branch-free (CMOV) and correct for x < 2c
// because x−c wraps above x when x < c.

// forward32 is [Table.Forward] for q < 2^30 in portable Go.
//
// Bounds: inputs in [0, q); between stages [0, 4q); output [0, q).
func (t *Table) forward32(a []uint64) {
	n := t.N
	a = a[:n]
	q := t.M.Q
	q2 := 2 * q
	w, ws := t.w[:n], t.ws32[:n]
	m, h := 1, n/2
	for ; h >= 2; m, h = 2*m, h/2 {
		for i := 0; i < m; i++ {
			base := 2 * i * h
			fwdGroup32(a[base:base+h], a[base+h:base+2*h], w[m+i], ws[m+i], q)
		}
	}
	// Last stage (h = 1, m = N/2) with the final reduction to [0, q).
	w, ws = w[m:2*m], ws[m:2*m]
	ws = ws[:len(w)]
	a = a[:2*len(w)]
	for i, wi := range w {
		p := a[2*i : 2*i+2 : 2*i+2]
		yv := p[1]
		u := min(p[0], p[0]-q2)
		v := yv*wi - (yv*ws[i]>>32)*q
		x, y := u+v, u-v+q2
		x = min(x, x-q2)
		y = min(y, y-q2)
		p[0] = min(x, x-q)
		p[1] = min(y, y-q)
	}
}

// inverse32 is [Table.Inverse] for q < 2^30 in portable Go.
//
// Bounds: inputs in [0, q); between stages [0, 2q); output [0, q).
func (t *Table) inverse32(a []uint64) {
	n := t.N
	a = a[:n]
	q := t.M.Q
	q2 := 2 * q
	wi, wis := t.wi[:n], t.wis32[:n]
	// First stage (h = 1, m = N/2), unless it is already the last one.
	if n >= 4 {
		m := n / 2
		w, s := wi[m:2*m], wis[m:2*m]
		s = s[:len(w)]
		for i, wv := range w {
			p := a[2*i : 2*i+2 : 2*i+2]
			u, v := p[0], p[1]
			x := u + v
			d := u - v + q2
			p[0] = min(x, x-q2)
			p[1] = d*wv - (d*s[i]>>32)*q
		}
	}
	for m, h := n/4, 2; m >= 2; m, h = m/2, 2*h {
		for i := 0; i < m; i++ {
			base := 2 * i * h
			invGroup32(a[base:base+h], a[base+h:base+2*h], wi[m+i], wis[m+i], q)
		}
	}
	// Last stage (m = 1) merged with N^{-1}: x' = (u+v)/N,
	// y' = (u−v)·w[1]^{-1}/N; u+v and u−v+2q are below 4q < 2^32.
	h := n / 2
	x := a[:h]
	y := a[h:n]
	y = y[:len(x)]
	ni, nis, nw, nws := t.nInv, t.nInvS32, t.nInvW, t.nInvWS32
	for j, v := range y {
		u := x[j]
		s := u + v
		d := u - v + q2
		r := s*ni - (s*nis>>32)*q
		r2 := d*nw - (d*nws>>32)*q
		x[j] = min(r, r-q)
		y[j] = min(r2, r2-q)
	}
}

// fwdGroup32 runs the Cooley–Tukey butterflies (x, y) ← (x + w·y, x − w·y)
// of one group: x in [0, 4q) in, both outputs in [0, 4q). It is a separate
// leaf function so that its loop keeps every value in a register.
func fwdGroup32(x, y []uint64, w, s, q uint64) {
	q2 := 2 * q
	y = y[:len(x)] // bounds-check hint
	for j, yv := range y {
		u := min(x[j], x[j]-q2)
		v := yv*w - (yv*s>>32)*q
		x[j] = u + v
		y[j] = u - v + q2
	}
}

// invGroup32 runs the Gentleman–Sande butterflies (x, y) ← (x + y,
// (x − y)·w) of one group: inputs and outputs in [0, 2q).
func invGroup32(x, y []uint64, w, s, q uint64) {
	q2 := 2 * q
	y = y[:len(x)]
	for j, v := range y {
		u := x[j]
		r := u + v
		d := u - v + q2
		x[j] = min(r, r-q2)
		y[j] = d*w - (d*s>>32)*q
	}
}
