package bfv

import "github.com/blindlist/blindlist/pir/he/ring"

// The 32-bit forms of the ct×ct steps (mulTables.word32: every q_i and
// aux prime below 2^30). Each product of a residue and a constant is below
// 2^60 and at most 15 of them are summed (checked in newMulTables), so
// every sum is exact in a uint64 and reduced once with single-word Barrett
// ([modq.Modulus.Reduce]). They compute exactly what lift64 and scale64
// compute, step for step; only the arithmetic is narrower.

// lift32 is lift for word32 tables.
func (mt *mulTables) lift32(out, c *ring.Poly, v []uint64) {
	l := len(mt.q)
	n := c.N
	copy(out.Coeffs[:l*n], c.Coeffs[:l*n])
	mask := mt.mTilde - 1
	half := mt.mTilde / 2
	v = v[:l]
	for j := 0; j < n; j++ {
		// v_i = [c_i·m̃·(Q/q_i)^{-1}]_{q_i}, and [m̃·c]_Q = Σ v_i·(Q/q_i) − α·Q.
		var xmt uint64
		for i, tab := range mt.q {
			v[i] = tab.M.Reduce(c.Coeffs[i*n+j] * mt.mtQHatInv[i])
			xmt += v[i] * mt.qHatMt[i]
		}
		r := (xmt & mask) * mt.negQInvMt & mask // [-X·Q^{-1}]_m̃ in [0, m̃)
		neg := r >= half
		rAbs := r
		if neg {
			rAbs = mt.mTilde - r
		}
		for a, tab := range mt.aux {
			m := &tab.M
			var s uint64
			for i := range v {
				s += v[i] * mt.qHatAux[i][a]
			}
			xm := m.Reduce(s)
			rq := m.Reduce(rAbs * mt.qModAux[a]) // rAbs <= 2^31
			if neg {
				xm = m.Sub(xm, rq)
			} else {
				xm = m.Add(xm, rq)
			}
			out.Coeffs[(l+a)*n+j] = m.Reduce(xm * mt.mtInvAux[a])
		}
	}
}

// scale32 is scale for word32 tables.
func (mt *mulTables) scale32(out, d *ring.Poly, v []uint64, y []uint64) {
	l := len(mt.q)
	n := d.N
	k := len(mt.aux) - 1
	msk := &mt.aux[k].M
	v = v[:l]
	y = y[:k+1]
	for j := 0; j < n; j++ {
		for i, tab := range mt.q {
			v[i] = tab.M.Reduce(d.Coeffs[i*n+j] * mt.tQHatInv[i])
		}
		for a, tab := range mt.aux {
			m := &tab.M
			var s uint64
			for i := range v {
				s += v[i] * mt.qHatAux[i][a]
			}
			fb := m.Reduce(s)
			td := m.Reduce(d.Coeffs[(l+a)*n+j] * mt.tModAux[a])
			y[a] = m.Reduce(m.Sub(td, fb) * mt.qInvAux[a])
		}
		// Shenoy–Kumaresan: z_b = [y_b·(B/b)^{-1}]_b; γ from m_sk.
		var zsum uint64
		for b := 0; b < k; b++ {
			y[b] = mt.aux[b].M.Reduce(y[b] * mt.bHatInv[b])
			zsum += y[b] * mt.bHatMsk[b]
		}
		gamma := msk.Reduce(msk.Sub(msk.Reduce(zsum), y[k]) * mt.bInvMsk)
		gneg := gamma > msk.Q/2
		gAbs := gamma
		if gneg {
			gAbs = msk.Q - gamma
		}
		for i, tab := range mt.q {
			m := &tab.M
			var s uint64
			for b := 0; b < k; b++ {
				s += y[b] * mt.bHatQ[b][i]
			}
			s = m.Reduce(s)
			g := m.Reduce(gAbs * mt.bModQ[i])
			if gneg {
				s = m.Add(s, g)
			} else {
				s = m.Sub(s, g)
			}
			out.Coeffs[i*n+j] = s
		}
	}
}
