package bfv

import (
	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// The 32-bit forms of the ct×ct steps (mulTables.word32: every q_i and
// aux prime below 2^30). They compute the same residues as lift64 and
// scale64, with two changes that only regroup modular arithmetic:
//
//   - every product of a residue and a constant is below 2^60 and at most
//     15 of them (plus one residue) are summed, so a sum is exact in a
//     uint64 and reduced once with single-word Barrett
//     ([modq.Modulus.Reduce]); newMulTables enforces the count;
//   - chains of multiplications by constants are folded into one constant
//     (mul32Consts), so e.g. ((Σ v_i·Q̂_i mod a) ± r·Q) · m̃^{-1} mod a
//     becomes Σ v_i·(Q̂_i·m̃^{-1}) ± r·(Q·m̃^{-1}) mod a.
//
// They work row by row (one constant per pass) so that the loops keep
// everything in registers.

// mul32Consts are the folded constants of lift32 and scale32 (all reduced
// modulo the prime of their row).
type mul32Consts struct {
	liftC [][]uint64 // [i][a] = (Q/q_i)·m̃^{-1} mod a
	liftE []uint64   // [a] = Q·m̃^{-1} mod a
	// scale: y_a = (t·d_a − Σ v_i·(Q/q_i))·Q^{-1} mod a, times (B/b)^{-1}
	// for the primes b of B (Shenoy–Kumaresan's z_b); y_msk stays y.
	scaleG []uint64   // [a] = t·Q^{-1} (·(B/b)^{-1}) mod a
	scaleH [][]uint64 // [i][a] = −(Q/q_i)·Q^{-1} (·(B/b)^{-1}) mod a
}

func (mt *mulTables) precompute32() {
	l, k := len(mt.q), len(mt.aux)-1
	c := &mul32Consts{}
	for a, tab := range mt.aux {
		m := &tab.M
		c.liftE = append(c.liftE, m.Mul(mt.qModAux[a], mt.mtInvAux[a]))
		g := m.Mul(mt.tModAux[a], mt.qInvAux[a])
		if a < k {
			g = m.Mul(g, mt.bHatInv[a])
		}
		c.scaleG = append(c.scaleG, g)
	}
	for i := 0; i < l; i++ {
		lc, sh := make([]uint64, len(mt.aux)), make([]uint64, len(mt.aux))
		for a, tab := range mt.aux {
			m := &tab.M
			lc[a] = m.Mul(mt.qHatAux[i][a], mt.mtInvAux[a])
			h := m.Mul(mt.qHatAux[i][a], mt.qInvAux[a])
			if a < k {
				h = m.Mul(h, mt.bHatInv[a])
			}
			sh[a] = m.Neg(h)
		}
		c.liftC = append(c.liftC, lc)
		c.scaleH = append(c.scaleH, sh)
	}
	mt.c32 = c
}

// scratch32Len is the scratch lift32 and scale32 need: l + k + 5 rows.
func (mt *mulTables) scratch32Len(n int) int { return (len(mt.q) + len(mt.aux) + 4) * n }

// lift32 is lift for word32 tables; sc has scratch32Len(N) values.
func (mt *mulTables) lift32(out, c *ring.Poly, sc []uint64) {
	l := len(mt.q)
	n := c.N
	copy(out.Coeffs[:l*n], c.Coeffs[:l*n])
	row := func(i int) []uint64 { return sc[i*n : (i+1)*n : (i+1)*n] }
	acc, rAbs, neg := row(l), row(l+1), row(l+2)
	// v_i = [c_i·m̃·(Q/q_i)^{-1}]_{q_i}, so [m̃·c]_Q = Σ v_i·(Q/q_i) − α·Q.
	for i, tab := range mt.q {
		mulReduceRow(row(i), c.Row(i), mt.mtQHatInv[i], tab.M)
	}
	// r = [−X·Q^{-1}]_m̃ from X mod 2^64 = Σ v_i·(Q/q_i mod 2^64); the lift
	// subtracts Q when r >= m̃/2 (rAbs = m̃ − r, neg mask set).
	mulRow(acc, row(0), mt.qHatMt[0])
	for i := 1; i < l; i++ {
		macRow(acc, row(i), mt.qHatMt[i])
	}
	liftSign(rAbs, neg, acc, mt.mTilde, mt.negQInvMt)
	// aux row a: (Σ v_i·(Q/q_i) ± rAbs·Q)·m̃^{-1} mod a.
	for a, tab := range mt.aux {
		mulRow(acc, row(0), mt.c32.liftC[0][a])
		for i := 1; i < l; i++ {
			macRow(acc, row(i), mt.c32.liftC[i][a])
		}
		addSignedReduce(out.Row(l+a), acc, rAbs, neg, mt.c32.liftE[a], tab.M)
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
		mulReduceRow(row(i), d.Row(i), mt.tQHatInv[i], tab.M)
	}
	for a, tab := range mt.aux {
		mulRow(acc, d.Row(l+a), mt.c32.scaleG[a])
		for i := 0; i < l; i++ {
			macRow(acc, row(i), mt.c32.scaleH[i][a])
		}
		reduceRow(row(l+a), acc, tab.M)
	}
	// Shenoy–Kumaresan: γ = (Σ z_b·(B/b) − y_msk)·B^{-1} mod m_sk.
	msk := mt.aux[k].M
	mulRow(acc, row(l), mt.bHatMsk[0])
	for b := 1; b < k; b++ {
		macRow(acc, row(l+b), mt.bHatMsk[b])
	}
	skGamma(gAbs, gNeg, acc, row(l+k), mt.bInvMsk, msk)
	// y mod q_i = Σ z_b·(B/b) − γ·B.
	for i, tab := range mt.q {
		mulRow(acc, row(l), mt.bHatQ[0][i])
		for b := 1; b < k; b++ {
			macRow(acc, row(l+b), mt.bHatQ[b][i])
		}
		addSignedReduce(out.Row(i), acc, gAbs, gNeg, tab.M.Q-mt.bModQ[i], tab.M)
	}
}

// mulRow sets dst = x·c (unreduced).
func mulRow(dst, x []uint64, c uint64) {
	x = x[:len(dst)]
	for j, v := range x {
		dst[j] = v * c
	}
}

// macRow adds x·c to dst (unreduced).
func macRow(dst, x []uint64, c uint64) {
	x = x[:len(dst)]
	for j, v := range x {
		dst[j] += v * c
	}
}

// mulReduceRow sets dst = x·c mod q.
func mulReduceRow(dst, x []uint64, c uint64, m modq.Modulus) {
	x = x[:len(dst)]
	for j, v := range x {
		dst[j] = m.Reduce(v * c)
	}
}

// reduceRow sets dst = x mod q.
func reduceRow(dst, x []uint64, m modq.Modulus) {
	x = x[:len(dst)]
	for j, v := range x {
		dst[j] = m.Reduce(v)
	}
}

// addSignedReduce sets dst = (acc ± s·e) mod q, with − where the mask neg
// is all ones: T = s·e mod q, then acc + T or acc + (q − T), both below
// 2^64 (acc < 15·2^60, T <= q).
func addSignedReduce(dst, acc, s, neg []uint64, e uint64, m modq.Modulus) {
	acc, s, neg = acc[:len(dst)], s[:len(dst)], neg[:len(dst)]
	q := m.Q
	for j, a := range acc {
		t := m.Reduce(s[j] * e)
		t ^= (t ^ (q - t)) & neg[j]
		dst[j] = m.Reduce(a + t)
	}
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
// the unreduced sums zsum (acc) and y_msk, as a magnitude and a sign mask:
// γ > m_sk/2 stands for γ − m_sk < 0. In scale32 the correction is
// y = Σ z_b·(B/b) − γ·B, so the mask selects +|γ|·B.
func skGamma(gAbs, gNeg, acc, y []uint64, bInv uint64, msk modq.Modulus) {
	gAbs, gNeg, y = gAbs[:len(acc)], gNeg[:len(acc)], y[:len(acc)]
	q := msk.Q
	for j, x := range acc {
		g := msk.Reduce((msk.Reduce(x) + q - y[j]) * bInv)
		nm := -((q/2 - g) >> 63) // all ones iff g > q/2
		gNeg[j] = nm
		gAbs[j] = g ^ ((g ^ (q - g)) & nm)
	}
}
