package bfv

import (
	"math/bits"

	"github.com/blindlist/blindlist/pir/he/ring"
)

// The 52-bit forms of the ct×ct steps (mulTables.word52: every q_i and
// auxiliary prime below 2^50, on a CPU with AVX-512 IFMA). They are the
// 32-bit forms of mul32.go with word size β = 2^52: the same folded
// constants (mulConsts of width 52), Shoup products x·w − floor(x·w'/β)·a
// ∈ [0, 2a) for x < β (see word52Max), sums kept below 2a by one
// conditional subtraction per term, and a Montgomery tensor with R = 2^52
// (montMul52). The row kernels run eight lanes at a time with IFMA
// (ifma_amd64.s); lift64 and scale64 are the references.

// lift52 is lift for word52 tables; sc has scratch32Len(N) values.
func (mt *mulTables) lift52(out, c *ring.Poly, sc []uint64) {
	l := len(mt.q)
	n := c.N
	row := func(i int) []uint64 { return sc[i*n : (i+1)*n : (i+1)*n] }
	acc, rAbs, neg := row(l), row(l+1), row(l+2)
	// v_i = [c_i·m̃·(Q/q_i)^{-1}]_{q_i}, so [m̃·c]_Q = Σ v_i·(Q/q_i) − α·Q.
	for i, tab := range mt.q {
		k := mt.c52.mtQHatInv[i]
		shoupConstRow52(row(i), c.Row(i), k.w, k.s, tab.M.Q, shoupReduce)
	}
	// r = [−X·Q^{-1}]_m̃ and the lift's sign, as in lift32.
	liftSignRows(rAbs, neg, acc, sc[:l*n], mt.qHatMt, mt.mTilde, mt.negQInvMt)
	// aux row a: (Σ v_i·(Q/q_i) ± rAbs·Q)·m̃^{-1} mod a.
	for a, tab := range mt.aux {
		q := tab.M.Q
		for i := 0; i < l; i++ {
			k := mt.c52.liftC[i][a]
			shoupConstRow52(acc, row(i), k.w, k.s, q, shoupAcc(i))
		}
		e := mt.c52.liftE[a]
		signedAddRow52(out.Row(l+a), acc, rAbs, neg, e.w, e.s, q)
	}
}

// scale52 is scale for word52 tables; d holds the tensor in Montgomery
// form (D·2^{-52}, tensor52); sc has scratch32Len(N) values.
func (mt *mulTables) scale52(out, d *ring.Poly, sc []uint64) {
	l := len(mt.q)
	n := d.N
	k := len(mt.aux) - 1
	row := func(i int) []uint64 { return sc[i*n : (i+1)*n : (i+1)*n] }
	// rows 0..l-1: v_i; rows l..l+k: z_b (b < k) and y_msk; then acc,
	// gAbs, gneg.
	acc, gAbs, gNeg := row(l+k+1), row(l+k+2), row(l+k+3)
	for i, tab := range mt.q {
		c := mt.c52.tQHatInv[i]
		shoupConstRow52(row(i), d.Row(i), c.w, c.s, tab.M.Q, shoupReduce)
	}
	for a, tab := range mt.aux {
		q := tab.M.Q
		z := row(l + a)
		g := mt.c52.scaleG[a]
		shoupConstRow52(z, d.Row(l+a), g.w, g.s, q, shoupSet)
		for i := 0; i < l; i++ {
			h := mt.c52.scaleH[i][a]
			shoupConstRow52(z, row(i), h.w, h.s, q, lastAcc(i, l))
		}
	}
	// Shenoy–Kumaresan: γ = (Σ z_b·(B/b) − y_msk)·B^{-1} mod m_sk.
	msk := mt.aux[k].M.Q
	for b := 0; b < k; b++ {
		c := mt.c52.bHatMsk[b]
		shoupConstRow52(acc, row(l+b), c.w, c.s, msk, sumAcc(b, k))
	}
	skGamma52(gAbs, gNeg, acc, row(l+k), mt.c52.bInvMsk, msk)
	// y mod q_i = Σ z_b·(B/b) − γ·B.
	for i, tab := range mt.q {
		q := tab.M.Q
		for b := 0; b < k; b++ {
			c := mt.c52.bHatQ[b][i]
			shoupConstRow52(acc, row(l+b), c.w, c.s, q, shoupAcc(b))
		}
		e := mt.c52.negBQ[i]
		signedAddRow52(out.Row(i), acc, gAbs, gNeg, e.w, e.s, q)
	}
}

// shoupAddReduce is the fourth mode of shoupConstRow52: o = (o + x·w) mod
// q, for o < 2q.
const shoupAddReduce = 3

// lastAcc returns shoupAdd for the terms of a sum that already has a first
// term, and shoupAddReduce for the last of count terms.
func lastAcc(term, count int) uint64 {
	if term == count-1 {
		return shoupAddReduce
	}
	return shoupAdd
}

// sumAcc returns the mode of term of a count-term sum that ends reduced:
// shoupSet, shoupAdd..., shoupAddReduce (shoupReduce for a single term).
func sumAcc(term, count int) uint64 {
	switch {
	case count == 1:
		return shoupReduce
	case term == 0:
		return shoupSet
	}
	return lastAcc(term, count)
}

// shoupConstRow52 multiplies the row x (values below 2^52) by the constant
// w < q < 2^50 with companion ws = shoup52(w, q): p = x·w lazily in
// [0, 2q); mode shoupSet: o = p; shoupAdd: o = o + p kept in [0, 2q);
// shoupReduce: o = p mod q; shoupAddReduce: o = (o + p) mod q.
func shoupConstRow52(o, x []uint64, w, ws, q, mode uint64) {
	x = x[:len(o)]
	if v := len(o) &^ 7; v > 0 && haveIFMA {
		shoupConstRow52IFMA(o[:v], x[:v], w, ws, q, mode)
		o, x = o[v:], x[v:]
	}
	if v := len(o) &^ 3; v > 0 && haveWide {
		shoupConstRowWide(o[:v], x[:v], w, q, mode)
		o, x = o[v:], x[v:]
	}
	shoupConstRow52Go(o, x, w, ws, q, mode)
}

// shoupConstRow52Go is shoupConstRow52 in portable Go.
func shoupConstRow52Go(o, x []uint64, w, ws, q, mode uint64) {
	x = x[:len(o)]
	q2 := 2 * q
	for j, v := range x {
		p := mulShoup52Lazy(v, w, ws, q)
		switch mode {
		case shoupSet:
			o[j] = p
		case shoupAdd:
			p += o[j]
			o[j] = min(p, p-q2)
		case shoupReduce:
			o[j] = min(p, p-q)
		default:
			p += o[j]
			p = min(p, p-q2)
			o[j] = min(p, p-q)
		}
	}
}

// signedAddRow52 sets dst = (acc ± s·e) mod q, with − where the mask neg
// is all ones, for acc < 2q, s < 2^52 and q < 2^50 (es = shoup52(e, q)).
func signedAddRow52(dst, acc, s, neg []uint64, e, es, q uint64) {
	acc, s, neg = acc[:len(dst)], s[:len(dst)], neg[:len(dst)]
	if v := len(dst) &^ 7; v > 0 && haveIFMA {
		signedAddRow52IFMA(dst[:v], acc[:v], s[:v], neg[:v], e, es, q)
		dst, acc, s, neg = dst[v:], acc[v:], s[v:], neg[v:]
	}
	if v := len(dst) &^ 3; v > 0 && haveWide {
		signedAddRowWide(dst[:v], acc[:v], s[:v], neg[:v], e, q)
		dst, acc, s, neg = dst[v:], acc[v:], s[v:], neg[v:]
	}
	signedAddRow52Go(dst, acc, s, neg, e, es, q)
}

// signedAddRow52Go is signedAddRow52 in portable Go.
func signedAddRow52Go(dst, acc, s, neg []uint64, e, es, q uint64) {
	acc, s, neg = acc[:len(dst)], s[:len(dst)], neg[:len(dst)]
	q2 := 2 * q
	for j, a := range acc {
		t := mulShoup52Lazy(s[j], e, es, q)
		t = min(t, t-q)
		t ^= (t ^ (q - t)) & neg[j]
		a += t // < 3q
		a = min(a, a-q2)
		dst[j] = min(a, a-q)
	}
}

// skGamma52 is skGamma for m_sk < 2^50 with a 52-bit companion.
func skGamma52(gAbs, gNeg, zsum, y []uint64, bInv mulConst, q uint64) {
	gAbs, gNeg, y = gAbs[:len(zsum)], gNeg[:len(zsum)], y[:len(zsum)]
	for j, z := range zsum {
		g := mulShoup52Lazy(z+q-y[j], bInv.w, bInv.s, q) // z + q − y < 2q
		g = min(g, g-q)
		nm := -((q/2 - g) >> 63) // all ones iff g > q/2
		gNeg[j] = nm
		gAbs[j] = g ^ ((g ^ (q - g)) & nm)
	}
}

// tensor52 adds (x0·y0, x0·y1 + x1·y0, x1·y1)·2^{-52} to (d0, d1, d2)
// slot-wise, modulo q < 2^50 with qInv = q^{-1} mod 2^52 (montMul52;
// scale52's constants carry the compensating 2^52). d stays in [0, q).
func tensor52(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64) {
	n := len(d0)
	d1, d2, x0, x1, y0, y1 = d1[:n], d2[:n], x0[:n], x1[:n], y0[:n], y1[:n]
	if v := n &^ 7; v > 0 && haveIFMA {
		tensorMont52IFMA(d0[:v], d1[:v], d2[:v], x0[:v], x1[:v], y0[:v], y1[:v], q, qInv)
		d0, d1, d2, x0, x1, y0, y1 = d0[v:], d1[v:], d2[v:], x0[v:], x1[v:], y0[v:], y1[v:]
	}
	if v := n &^ 3; v > 0 && haveWide {
		tensorWide(d0[:v], d1[:v], d2[:v], x0[:v], x1[:v], y0[:v], y1[:v], q, qInv)
		d0, d1, d2, x0, x1, y0, y1 = d0[v:], d1[v:], d2[v:], x0[v:], x1[v:], y0[v:], y1[v:]
	}
	tensor52Go(d0, d1, d2, x0, x1, y0, y1, q, qInv)
}

// tensor52Go is tensor52 in portable Go.
func tensor52Go(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64) {
	n := len(d0)
	d1, d2, x0, x1, y0, y1 = d1[:n], d2[:n], x0[:n], x1[:n], y0[:n], y1[:n]
	q2 := 2 * q
	for j := range d0 {
		a := d0[j] + montMul52(x0[j], y0[j], q, qInv) // < 3q
		a = min(a, a-q2)
		d0[j] = min(a, a-q)
		b := montMul52(x0[j], y1[j], q, qInv) + montMul52(x1[j], y0[j], q, qInv) // < 4q
		b = min(b, b-q2) + d1[j]                                                 // < 3q
		b = min(b, b-q2)
		d1[j] = min(b, b-q)
		c := d2[j] + montMul52(x1[j], y1[j], q, qInv)
		c = min(c, c-q2)
		d2[j] = min(c, c-q)
	}
}

// montMul52 returns x·y·2^{-52} mod q in (0, 2q) for x, y < q < 2^50 and
// qInv = q^{-1} mod 2^52. With T = x·y < 2^100 and m = (T mod 2^52)·qInv
// mod 2^52, T − m·q ≡ 0 (mod 2^52), so (T − m·q)/2^52 is exactly
// floor(T/2^52) − floor(m·q/2^52) (equal low 52 bits, no borrow), which
// lies in (−q, q): adding q gives (0, 2q). These are the IFMA high halves
// (VPMADD52HUQ) of x·y and m·q.
func montMul52(x, y, q, qInv uint64) uint64 {
	const mask = 1<<52 - 1
	hi, lo := bits.Mul64(x, y)
	m := (lo & mask) * qInv & mask
	mh, ml := bits.Mul64(m, q)
	return (hi<<12 | lo>>52) + q - (mh<<12 | ml>>52)
}

// inv52 returns q^{-1} mod 2^52 for odd q (Newton's iteration as
// montInv32: from 3 correct bits, five steps give 96 >= 52).
func inv52(q uint64) uint64 {
	x := q
	for range 5 {
		x *= 2 - q*x
	}
	return x & (1<<52 - 1)
}
