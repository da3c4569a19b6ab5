package bfv

import (
	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// The 32-bit forms of the ct×ct steps (mulTables.word32: every q_i and
// aux prime below 2^30). They compute the same residues as lift64 and
// scale64, with two changes that only regroup modular arithmetic:
//
//   - chains of multiplications by constants are folded into one constant
//     (mul32Consts), so e.g. ((Σ v_i·Q̂_i mod a) ± r·Q) · m̃^{-1} mod a
//     becomes Σ v_i·(Q̂_i·m̃^{-1}) ± r·(Q·m̃^{-1}) mod a;
//   - every product is a residue (or r < 2^32) times such a constant w < a,
//     computed with Shoup's method and the 32-bit companion
//     w' = floor(w·2^32/a): x·w − floor(x·w'/2^32)·a ∈ [0, 2a) for
//     x < 2^32, and sums are kept below 2a by one conditional subtraction
//     per term. Every value fits 32 bits, so the row kernels
//     (shoupConstRow, signedAddRow) run four lanes at a time with AVX2.
//
// They work row by row (one constant per pass).

// mulConst is a constant w < q with its 32-bit Shoup companion.
type mulConst struct{ w, s uint64 }

func newMulConst(w uint64, m *modq.Modulus) mulConst {
	w = m.Reduce(w)
	s, _ := m.QuoRem(w << 32)
	return mulConst{w, s}
}

// newMulConstW is newMulConst with a width-bit companion floor(w·2^width/q)
// (width 32, or 52 for the IFMA kernels of mul52.go with q < 2^50).
func newMulConstW(w uint64, m *modq.Modulus, width int) mulConst {
	if width == 52 {
		w = m.Reduce(w)
		return mulConst{w, shoup52(w, m.Q)}
	}
	return newMulConst(w, m)
}

// mulConsts are the folded constants of lift32 and scale32 (width 32), or
// of lift52 and scale52 (width 52), each reduced modulo the prime of the
// row it multiplies into, with width-bit Shoup companions.
//
// The tensor (tensor32, tensor52) uses Montgomery products with R =
// 2^width, so the tensor rows hold D·R^{-1}; the constants that multiply
// them in scale32/scale52 (tQHatInv, scaleG) carry the compensating R.
type mulConsts struct {
	// montInv[r] = −p_r^{-1} mod 2^32 (width 32) or p_r^{-1} mod 2^52
	// (width 52; see montMul52) for each prime p_r of all.
	montInv   []uint64
	mtQHatInv []mulConst   // [i] = m̃·(Q/q_i)^{-1} mod q_i
	tQHatInv  []mulConst   // [i] = 2^32·t·(Q/q_i)^{-1} mod q_i
	liftC     [][]mulConst // [i][a] = (Q/q_i)·m̃^{-1} mod a
	liftE     []mulConst   // [a] = Q·m̃^{-1} mod a
	// scale: y_a = (t·d_a − Σ v_i·(Q/q_i))·Q^{-1} mod a, times (B/b)^{-1}
	// for the primes b of B (Shenoy–Kumaresan's z_b); y_msk stays y.
	scaleG  []mulConst   // [a] = 2^32·t·Q^{-1} (·(B/b)^{-1}) mod a
	scaleH  [][]mulConst // [i][a] = −(Q/q_i)·Q^{-1} (·(B/b)^{-1}) mod a
	bHatMsk []mulConst   // [b] = (B/b) mod m_sk
	bInvMsk mulConst     // B^{-1} mod m_sk
	bHatQ   [][]mulConst // [b][i] = (B/b) mod q_i
	negBQ   []mulConst   // [i] = −B mod q_i
}

// precomputeConsts returns the folded constants with width-bit companions
// and Montgomery factor R = 2^width (width 32 or 52).
func (mt *mulTables) precomputeConsts(width int) *mulConsts {
	l, k := len(mt.q), len(mt.aux)-1
	c := &mulConsts{}
	newMulConst := func(w uint64, m *modq.Modulus) mulConst { return newMulConstW(w, m, width) }
	montR := uint64(1) << width
	for i, tab := range mt.q {
		m := &tab.M
		c.mtQHatInv = append(c.mtQHatInv, newMulConst(mt.mtQHatInv[i], m))
		c.tQHatInv = append(c.tQHatInv, newMulConst(m.Mul(mt.tQHatInv[i], m.Reduce(montR)), m))
		c.negBQ = append(c.negBQ, newMulConst(m.Neg(mt.bModQ[i]), m))
	}
	for a, tab := range mt.aux {
		m := &tab.M
		c.liftE = append(c.liftE, newMulConst(m.Mul(mt.qModAux[a], mt.mtInvAux[a]), m))
		g := m.Mul(mt.tModAux[a], mt.qInvAux[a])
		if a < k {
			g = m.Mul(g, mt.bHatInv[a])
		}
		c.scaleG = append(c.scaleG, newMulConst(m.Mul(g, m.Reduce(montR)), m))
	}
	for _, tab := range mt.all {
		if width == 52 {
			c.montInv = append(c.montInv, inv52(tab.M.Q))
		} else {
			c.montInv = append(c.montInv, montInv32(tab.M.Q))
		}
	}
	for i := 0; i < l; i++ {
		lc, sh := make([]mulConst, len(mt.aux)), make([]mulConst, len(mt.aux))
		for a, tab := range mt.aux {
			m := &tab.M
			lc[a] = newMulConst(m.Mul(mt.qHatAux[i][a], mt.mtInvAux[a]), m)
			h := m.Mul(mt.qHatAux[i][a], mt.qInvAux[a])
			if a < k {
				h = m.Mul(h, mt.bHatInv[a])
			}
			sh[a] = newMulConst(m.Neg(h), m)
		}
		c.liftC = append(c.liftC, lc)
		c.scaleH = append(c.scaleH, sh)
	}
	msk := &mt.aux[k].M
	for b := 0; b < k; b++ {
		c.bHatMsk = append(c.bHatMsk, newMulConst(mt.bHatMsk[b], msk))
		row := make([]mulConst, l)
		for i, tab := range mt.q {
			row[i] = newMulConst(mt.bHatQ[b][i], &tab.M)
		}
		c.bHatQ = append(c.bHatQ, row)
	}
	c.bInvMsk = newMulConst(mt.bInvMsk, msk)
	return c
}

// scratch32Len is the scratch lift32 and scale32 need: l + k + 5 rows.
func (mt *mulTables) scratch32Len(n int) int { return (len(mt.q) + len(mt.aux) + 4) * n }

// lift32 is lift for word32 tables; sc has scratch32Len(N) values.
func (mt *mulTables) lift32(out, c *ring.Poly, sc []uint64) {
	l := len(mt.q)
	n := c.N
	row := func(i int) []uint64 { return sc[i*n : (i+1)*n : (i+1)*n] }
	acc, rAbs, neg := row(l), row(l+1), row(l+2)
	// v_i = [c_i·m̃·(Q/q_i)^{-1}]_{q_i}, so [m̃·c]_Q = Σ v_i·(Q/q_i) − α·Q.
	for i, tab := range mt.q {
		k := mt.c32.mtQHatInv[i]
		shoupConstRow(row(i), c.Row(i), k.w, k.s, tab.M.Q, shoupReduce)
	}
	// r = [−X·Q^{-1}]_m̃ from X mod 2^64 = Σ v_i·(Q/q_i mod 2^64); the lift
	// subtracts Q when r >= m̃/2 (rAbs = m̃ − r, neg mask set).
	liftSignRows(rAbs, neg, acc, sc[:l*n], mt.qHatMt, mt.mTilde, mt.negQInvMt)
	// aux row a: (Σ v_i·(Q/q_i) ± rAbs·Q)·m̃^{-1} mod a.
	for a, tab := range mt.aux {
		q := tab.M.Q
		for i := 0; i < l; i++ {
			k := mt.c32.liftC[i][a]
			shoupConstRow(acc, row(i), k.w, k.s, q, shoupAcc(i))
		}
		e := mt.c32.liftE[a]
		signedAddRow(out.Row(l+a), acc, rAbs, neg, e.w, e.s, q)
	}
}

// scale32 is scale for word32 tables; sc has scratch32Len(N) values.
func (mt *mulTables) scale32(out, d *ring.Poly, sc []uint64) {
	l := len(mt.q)
	n := d.N
	k := len(mt.aux) - 1
	row := func(i int) []uint64 { return sc[i*n : (i+1)*n : (i+1)*n] }
	// rows 0..l-1: v_i; rows l..l+k: z_b (b < k) and y_msk; then acc,
	// gAbs, gneg.
	acc, gAbs, gNeg := row(l+k+1), row(l+k+2), row(l+k+3)
	for i, tab := range mt.q {
		c := mt.c32.tQHatInv[i]
		shoupConstRow(row(i), d.Row(i), c.w, c.s, tab.M.Q, shoupReduce)
	}
	for a, tab := range mt.aux {
		q := tab.M.Q
		z := row(l + a)
		g := mt.c32.scaleG[a]
		shoupConstRow(z, d.Row(l+a), g.w, g.s, q, shoupSet)
		for i := 0; i < l; i++ {
			h := mt.c32.scaleH[i][a]
			shoupConstRow(z, row(i), h.w, h.s, q, shoupAdd)
		}
		csub2Row(z, q)
	}
	// Shenoy–Kumaresan: γ = (Σ z_b·(B/b) − y_msk)·B^{-1} mod m_sk.
	msk := mt.aux[k].M.Q
	for b := 0; b < k; b++ {
		c := mt.c32.bHatMsk[b]
		shoupConstRow(acc, row(l+b), c.w, c.s, msk, shoupAcc(b))
	}
	csub2Row(acc, msk)
	skGamma(gAbs, gNeg, acc, row(l+k), mt.c32.bInvMsk, msk)
	// y mod q_i = Σ z_b·(B/b) − γ·B.
	for i, tab := range mt.q {
		q := tab.M.Q
		for b := 0; b < k; b++ {
			c := mt.c32.bHatQ[b][i]
			shoupConstRow(acc, row(l+b), c.w, c.s, q, shoupAcc(b))
		}
		e := mt.c32.negBQ[i]
		signedAddRow(out.Row(i), acc, gAbs, gNeg, e.w, e.s, q)
	}
}

// Modes of shoupConstRow.
const (
	shoupSet    = 0 // o = x·w lazily, in [0, 2q)
	shoupAdd    = 1 // o = o + x·w, kept in [0, 2q)
	shoupReduce = 2 // o = x·w mod q, in [0, q)
)

// shoupAcc returns shoupSet for the first term of a sum, else shoupAdd.
func shoupAcc(term int) uint64 {
	if term == 0 {
		return shoupSet
	}
	return shoupAdd
}

// shoupConstRow multiplies the row x (values below 2^32) by the constant
// w < q < 2^30 with companion ws = floor(w·2^32/q); see the modes.
func shoupConstRow(o, x []uint64, w, ws, q, mode uint64) {
	x = x[:len(o)]
	if v := len(o) &^ 7; v > 0 && haveRowsAVX512 {
		shoupConstRowAVX512(o[:v], x[:v], w, ws, q, mode)
		o, x = o[v:], x[v:]
	}
	if v := len(o) &^ 3; v > 0 && haveSIMD {
		shoupConstRowAVX2(o[:v], x[:v], w, ws, q, mode)
		o, x = o[v:], x[v:]
	}
	shoupConstRowGo(o, x, w, ws, q, mode)
}

// shoupConstRowGo is shoupConstRow in portable Go.
func shoupConstRowGo(o, x []uint64, w, ws, q, mode uint64) {
	x = x[:len(o)]
	q2 := 2 * q
	for j, v := range x {
		p := v*w - (v*ws>>32)*q
		switch mode {
		case shoupSet:
			o[j] = p
		case shoupAdd:
			p += o[j]
			o[j] = min(p, p-q2)
		default:
			o[j] = min(p, p-q)
		}
	}
}

// signedAddRow sets dst = (acc ± s·e) mod q, with − where the mask neg is
// all ones: T = s·e mod q (Shoup, s < 2^32), then acc + T or acc + (q − T)
// with acc in [0, 2q), reduced to [0, q).
func signedAddRow(dst, acc, s, neg []uint64, e, es, q uint64) {
	acc, s, neg = acc[:len(dst)], s[:len(dst)], neg[:len(dst)]
	if v := len(dst) &^ 7; v > 0 && haveRowsAVX512 {
		signedAddRowAVX512(dst[:v], acc[:v], s[:v], neg[:v], e, es, q)
		dst, acc, s, neg = dst[v:], acc[v:], s[v:], neg[v:]
	}
	if v := len(dst) &^ 3; v > 0 && haveSIMD {
		signedAddRowAVX2(dst[:v], acc[:v], s[:v], neg[:v], e, es, q)
		dst, acc, s, neg = dst[v:], acc[v:], s[v:], neg[v:]
	}
	signedAddRowGo(dst, acc, s, neg, e, es, q)
}

// signedAddRowGo is signedAddRow in portable Go.
func signedAddRowGo(dst, acc, s, neg []uint64, e, es, q uint64) {
	acc, s, neg = acc[:len(dst)], s[:len(dst)], neg[:len(dst)]
	q2 := 2 * q
	for j, a := range acc {
		v := s[j]
		t := v*e - (v*es>>32)*q
		t = min(t, t-q)
		t ^= (t ^ (q - t)) & neg[j]
		a += t // < 3q
		a = min(a, a-q2)
		dst[j] = min(a, a-q)
	}
}

// mulRow sets dst = x·c (unreduced, wrapping).
func mulRow(dst, x []uint64, c uint64) {
	x = x[:len(dst)]
	for j, v := range x {
		dst[j] = v * c
	}
}

// macRow adds x·c to dst (unreduced, wrapping).
func macRow(dst, x []uint64, c uint64) {
	x = x[:len(dst)]
	for j, v := range x {
		dst[j] += v * c
	}
}

// liftSignRows sets rAbs and neg as liftSign does for X = Σ_i v_i·cs[i]
// (mod 2^64), v_i = v[i·n : (i+1)·n] (n = len(rAbs), each value below
// 2^32), using acc (n values) as scratch. m̃ divides 2^32, so only X mod
// 2^32 matters: the AVX2 kernel sums the products of the low 32 bits
// (VPMULUDQ) and finishes the sign in registers, where the portable path
// forms X in acc (mulRow, macRow) and then calls liftSign.
func liftSignRows(rAbs, neg, acc, v, cs []uint64, mTilde, negQInv uint64) {
	n, l := len(rAbs), len(cs)
	neg, acc, v = neg[:n], acc[:n], v[:l*n]
	if w := n &^ 3; w > 0 && haveSIMD && l > 0 {
		liftSignAVX2(rAbs[:w], neg[:w], v, cs, mTilde, negQInv, uint64(n))
		if w == n {
			return
		}
		rAbs, neg, acc, v = rAbs[w:], neg[w:], acc[w:], v[w:]
	}
	// v's rows are n values apart from its (possibly advanced) start.
	row := func(i int) []uint64 { return v[i*n : i*n+len(rAbs)] }
	mulRow(acc, row(0), cs[0])
	for i := 1; i < l; i++ {
		macRow(acc, row(i), cs[i])
	}
	liftSign(rAbs, neg, acc, mTilde, negQInv)
}

// liftSign computes, from X mod 2^64 (acc), r = [−X·Q^{-1}]_m̃ and the
// lift's sign: neg = all ones and rAbs = m̃ − r when r >= m̃/2, else
// neg = 0 and rAbs = r (he-spec §4.5 step 1). m̃ is a power of two.
func liftSign(rAbs, neg, acc []uint64, mTilde, negQInv uint64) {
	rAbs, neg = rAbs[:len(acc)], neg[:len(acc)]
	mask, half := mTilde-1, mTilde/2
	for j, x := range acc {
		r := (x & mask) * negQInv & mask
		nm := -((r-half)>>63 ^ 1) // all ones iff r >= half (r < 2^32)
		neg[j] = nm
		rAbs[j] = r ^ ((r ^ (mTilde - r)) & nm)
	}
}

// skGamma computes Shenoy–Kumaresan's γ = (zsum − y)·B^{-1} mod m_sk from
// zsum and y_msk (both reduced), as a magnitude and a sign mask: γ > m_sk/2
// stands for γ − m_sk < 0. In scale32 the correction is
// y = Σ z_b·(B/b) − γ·B, so the mask selects +|γ|·B.
func skGamma(gAbs, gNeg, zsum, y []uint64, bInv mulConst, q uint64) {
	gAbs, gNeg, y = gAbs[:len(zsum)], gNeg[:len(zsum)], y[:len(zsum)]
	for j, z := range zsum {
		v := z + q - y[j] // < 2q < 2^32
		g := v*bInv.w - (v*bInv.s>>32)*q
		g = min(g, g-q)
		nm := -((q/2 - g) >> 63) // all ones iff g > q/2
		gNeg[j] = nm
		gAbs[j] = g ^ ((g ^ (q - g)) & nm)
	}
}

// montInv32 returns −q^{-1} mod 2^32 for odd q (Newton's iteration: each
// step x ← x·(2 − q·x) doubles the number of correct low bits, from 3
// bits for x = q, since q·q ≡ 1 mod 8).
func montInv32(q uint64) uint64 {
	x := q
	for range 4 {
		x *= 2 - q*x
	}
	return -x & (1<<32 - 1)
}
