package bfv

import (
	"fmt"
	"math/big"
	"math/bits"
	"slices"
	"sync"

	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// Ciphertext × ciphertext, byte-identical to Apple (he-spec §4.5).
//
// Apple computes the product with BEHZ (eprint 2016/510). Its output has a
// closed form that does not depend on the auxiliary primes:
//
//  1. lift each input coefficient c ∈ [0, Q) to c or c − Q: with
//     x = m̃·c mod Q and α(x) the overflow of the fast base conversion of x,
//     use c − Q iff floor(m̃·c/Q) − α(x) ≥ m̃/2;
//  2. D = exact tensor (a0·b0, a0·b1 + a1·b0, a1·b1), summed over all pairs
//     of an inner product;
//  3. y = floor(t·D/Q) − α(t·D mod Q), reduced mod each q_i.
//
// We compute exactly that with our own auxiliary base B_sk = B ∪ {m_sk} of
// NTT-friendly primes: step 1 is Apple's SmMRq Montgomery step (it yields
// the closed-form lift exactly), step 2 is done by NTT over Q ∪ B_sk, and
// step 3 computes y mod each prime of B_sk as
// (t·D − FastBconv_Q(t·D mod Q))·Q^{-1}, then converts y back to Q exactly
// with Shenoy–Kumaresan (|y| < B is guaranteed by the size of B).

// maxMulPairs bounds the number of ciphertext pairs in one
// [Evaluator.MulInnerProduct].
const maxMulPairs = 1 << 16

// B is sized for the number of pairs of the product: the tables of a level
// come in classes by c = bits.Len(pairs), each sized for every product of
// fewer than 2^c pairs, so a short inner product (a PIR second dimension
// has a few dozen pairs at most) may take one auxiliary prime fewer than
// the largest one: one NTT fewer per operand polynomial and per tensor
// polynomial, and one row fewer in the lift, tensor and scale. The
// product does not depend on the auxiliary primes.
const mulPairClasses = 17 // bits.Len(maxMulPairs)

// mulTables are the constants of ct×ct at one level.
type mulTables struct {
	q      ring.Basis // q_0..q_{l-1}
	aux    ring.Basis // b_0..b_{k-1}, m_sk
	all    ring.Basis // q ∪ aux
	mTilde uint64     // 2^16 or 2^32
	// word32: every prime of all is below 2^30, so residue products are
	// below 2^60 and sums of a few of them fit a uint64 (see mul32.go).
	word32 bool
	c32    *mulConsts
	// word52: not word32, every prime of all is below 2^50 and the IFMA
	// or the wide AVX2 kernels are selected (see mul52.go, wide.go).
	word52 bool
	c52    *mulConsts

	qHatInv, qHatInvS []uint64   // (Q/q_i)^{-1} mod q_i
	mtQHatInv         []uint64   // m̃·(Q/q_i)^{-1} mod q_i
	tQHatInv          []uint64   // t·(Q/q_i)^{-1} mod q_i
	qHatAux           [][]uint64 // [i][m] = (Q/q_i) mod aux_m
	qHatMt            []uint64   // (Q/q_i) mod 2^64 (reduce mod m̃ by masking)
	negQInvMt         uint64     // -Q^{-1} mod m̃
	mtModQ            []uint64   // m̃ mod q_i
	qModAux           []uint64   // Q mod aux_m
	mtInvAux          []uint64   // m̃^{-1} mod aux_m
	tModQ             []uint64   // t mod q_i
	tModAux           []uint64   // t mod aux_m
	qInvAux           []uint64   // Q^{-1} mod aux_m
	// Shenoy–Kumaresan from B = aux[:k] to q and m_sk.
	bHatInv []uint64   // (B/b_k)^{-1} mod b_k
	bHatQ   [][]uint64 // [k][i] = (B/b_k) mod q_i
	bHatMsk []uint64   // (B/b_k) mod m_sk
	bInvMsk uint64     // B^{-1} mod m_sk
	bModQ   []uint64   // B mod q_i
}

// mulOnce guards the lazily built ct×ct tables of each level.
type mulOnce struct {
	once sync.Once
	tab  *mulTables
	err  error
}

// auxPrimes returns count primes ≡ 1 mod 2^17 (NTT-friendly for every
// N <= 65536) just below bound (2^61, or 2^30 for the 32-bit path),
// skipping the given moduli. Each is at least bound/2: there are about
// 2^(b−17)/(b·ln 2)·2 primes ≡ 1 mod 2^17 in [2^(b−1), 2^b), far more than
// the few needed.
func auxPrimes(count int, avoid []uint64, bound uint64) []uint64 {
	const step = 1 << 17
	var out []uint64
	for c := bound / step; len(out) < count; c-- {
		q := c*step + 1
		if q < bound && modq.IsPrime(q) && !slices.Contains(avoid, q) {
			out = append(out, q)
		}
	}
	return out
}

func bigMod(x *big.Int, m uint64) uint64 {
	return new(big.Int).Mod(x, new(big.Int).SetUint64(m)).Uint64()
}

func newMulTables(p *Params, l, pairClass int) (*mulTables, error) {
	return buildMulTables(p, l, pairClass, haveIFMA || haveWide)
}

// buildMulTables is newMulTables with the IFMA choice made by the caller
// (tests build word52 tables on any CPU: the portable rows then run). The
// tables serve products of fewer than 2^pairClass pairs.
func buildMulTables(p *Params, l, pairClass int, ifma bool) (*mulTables, error) {
	lv := p.levels[l]
	qB := lv.basis
	bigQ := lv.bigQ
	// |y| <= t·pairs·2N·Q + l; B must exceed it (pairs < 2^pairClass).
	// Aux primes are below 2^61 (each >= 2^60), or below 2^30 (each >=
	// 2^29) when every q_i is below 2^30 too: then every product in lift,
	// tensor and scale is below 2^60 and the NTTs of all rows take the
	// 32-bit kernels.
	need := bits.Len64(p.t) + pairClass + bits.Len64(uint64(2*p.n)) + bigQ.BitLen() + 2
	// The 32-bit path also sums up to max(l+1, k+1) products below 2^60
	// and one residue in a uint64, so it needs at most 15 products
	// (15·2^60 + 2^30 < 2^64).
	word32 := l+1 <= 15 && (need+28)/29+1 <= 15
	for _, q := range p.moduli {
		word32 = word32 && q < word32Max
	}
	// With AVX-512 IFMA or the wide AVX2 kernels and every q_i below 2^50
	// (the 33-bit presets), the auxiliary primes are below 2^50 too (each
	// >= 2^49), so that their NTTs and the base conversions take the
	// 52-bit or wide kernels (word52); the product does not depend on the
	// auxiliary primes.
	word52 := !word32 && ifma
	for _, q := range p.moduli {
		word52 = word52 && q < word52Max
	}
	bound, minBits := uint64(1<<61), 60
	switch {
	case word32:
		bound, minBits = word32Max, 29
	case word52:
		bound, minBits = word52Max, 49
	}
	k := (need + minBits - 1) / minBits
	primes := auxPrimes(k+1, p.moduli, bound)
	aux, err := ring.NewBasis(p.n, primes)
	if err != nil {
		return nil, fmt.Errorf("bfv: building auxiliary base: %w", err)
	}
	mt := &mulTables{q: qB, aux: aux, all: append(append(ring.Basis{}, qB...), aux...), word32: word32, word52: word52}
	mt.mTilde = 1 << 32
	if p.wordBits == 32 {
		mt.mTilde = 1 << 16
	}
	bt := new(big.Int).SetUint64(p.t)
	for i, tab := range qB {
		qi := new(big.Int).SetUint64(tab.M.Q)
		qHat := new(big.Int).Quo(bigQ, qi)
		inv := new(big.Int).ModInverse(new(big.Int).Mod(qHat, qi), qi).Uint64()
		mt.qHatInv = append(mt.qHatInv, inv)
		mt.qHatInvS = append(mt.qHatInvS, tab.M.Shoup(inv))
		row := make([]uint64, len(aux))
		for m, a := range aux {
			row[m] = bigMod(qHat, a.M.Q)
		}
		mt.qHatAux = append(mt.qHatAux, row)
		mt.qHatMt = append(mt.qHatMt, new(big.Int).And(qHat, new(big.Int).SetUint64(^uint64(0))).Uint64())
		mt.mtModQ = append(mt.mtModQ, mt.mTilde%tab.M.Q)
		mt.tModQ = append(mt.tModQ, p.t%tab.M.Q)
		m := &tab.M
		mt.mtQHatInv = append(mt.mtQHatInv, m.Mul(m.Reduce(mt.mTilde), inv))
		mt.tQHatInv = append(mt.tQHatInv, m.Mul(m.Reduce(p.t), inv))
		_ = i
	}
	mtBig := new(big.Int).SetUint64(mt.mTilde)
	qInvMt := new(big.Int).ModInverse(new(big.Int).Mod(bigQ, mtBig), mtBig)
	mt.negQInvMt = (mt.mTilde - qInvMt.Uint64()) % mt.mTilde
	for _, a := range aux {
		am := new(big.Int).SetUint64(a.M.Q)
		mt.qModAux = append(mt.qModAux, bigMod(bigQ, a.M.Q))
		mt.mtInvAux = append(mt.mtInvAux, new(big.Int).ModInverse(mtBig, am).Uint64())
		mt.tModAux = append(mt.tModAux, bigMod(bt, a.M.Q))
		mt.qInvAux = append(mt.qInvAux, new(big.Int).ModInverse(new(big.Int).Mod(bigQ, am), am).Uint64())
	}
	// Shenoy–Kumaresan tables.
	bPrimes := primes[:k]
	msk := primes[k]
	bigB := big.NewInt(1)
	for _, b := range bPrimes {
		bigB.Mul(bigB, new(big.Int).SetUint64(b))
	}
	for _, b := range bPrimes {
		bi := new(big.Int).SetUint64(b)
		bHat := new(big.Int).Quo(bigB, bi)
		mt.bHatInv = append(mt.bHatInv, new(big.Int).ModInverse(new(big.Int).Mod(bHat, bi), bi).Uint64())
		row := make([]uint64, l)
		for i, tab := range qB {
			row[i] = bigMod(bHat, tab.M.Q)
		}
		mt.bHatQ = append(mt.bHatQ, row)
		mt.bHatMsk = append(mt.bHatMsk, bigMod(bHat, msk))
	}
	mskB := new(big.Int).SetUint64(msk)
	mt.bInvMsk = new(big.Int).ModInverse(new(big.Int).Mod(bigB, mskB), mskB).Uint64()
	for _, tab := range qB {
		mt.bModQ = append(mt.bModQ, bigMod(bigB, tab.M.Q))
	}
	switch {
	case word32:
		mt.c32 = mt.precomputeConsts(32)
	case word52:
		mt.c52 = mt.precomputeConsts(52)
	}
	return mt, nil
}

// mulTablesAt returns the (lazily built, then immutable) ct×ct tables for
// a product of pairs pairs (1 <= pairs <= maxMulPairs) at level l.
func (p *Params) mulTablesAt(l, pairs int) (*mulTables, error) {
	c := bits.Len(uint(pairs))
	o := &p.mulOnces[l][c-1]
	o.once.Do(func() { o.tab, o.err = newMulTables(p, l, c) })
	return o.tab, o.err
}

// mulScratch holds the extended-basis polynomials of a product.
type mulScratch struct {
	lifted [4]*ring.Poly // a0, a1, b0, b1 over q ∪ aux
	d      [3]*ring.Poly
	rows32 []uint64 // scratch rows of lift32 and scale32
}

// lift writes into the aux rows of out (rows q ∪ aux) the closed-form
// lift of the Coeff poly c (rows q), from Apple's SmMRq step; out's q rows
// are not written (the lift of c is c itself there: the caller copies
// them in the form it needs). v is scratch: l values, or
// [mulTables.scratch32Len] for word32 and word52 tables.
func (mt *mulTables) lift(out, c *ring.Poly, v []uint64) {
	switch {
	case mt.word32:
		mt.lift32(out, c, v)
	case mt.word52:
		mt.lift52(out, c, v)
	default:
		mt.lift64(out, c, v)
	}
}

// lift64 is lift for any primes (128-bit sums); the reference for lift32.
func (mt *mulTables) lift64(out, c *ring.Poly, v []uint64) {
	l := len(mt.q)
	mask := mt.mTilde - 1
	half := mt.mTilde / 2
	for j := 0; j < c.N; j++ {
		var xmt uint64
		for i, tab := range mt.q {
			m := &tab.M
			x := m.Mul(c.Coeffs[i*c.N+j], mt.mtModQ[i])
			v[i] = m.MulShoup(x, mt.qHatInv[i], mt.qHatInvS[i])
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
			var hi, lo uint64
			for i := range mt.q {
				h, lw := bits.Mul64(v[i], mt.qHatAux[i][a])
				var cy uint64
				lo, cy = bits.Add64(lo, lw, 0)
				hi += h + cy
			}
			xm := m.Reduce128(hi, lo)
			rq := m.Mul(rAbs, mt.qModAux[a])
			if neg {
				xm = m.Sub(xm, rq)
			} else {
				xm = m.Add(xm, rq)
			}
			out.Coeffs[(l+a)*c.N+j] = m.Mul(xm, mt.mtInvAux[a])
		}
	}
}

// scale turns the exact tensor d (rows q ∪ aux, Coeff) into
// y = floor(t·D/Q) − α(t·D mod Q) mod q_i, written to out (rows q).
func (mt *mulTables) scale(out, d *ring.Poly, v []uint64, y []uint64) {
	switch {
	case mt.word32:
		mt.scale32(out, d, v)
	case mt.word52:
		mt.scale52(out, d, v)
	default:
		mt.scale64(out, d, v, y)
	}
}

// scale64 is scale for any primes (128-bit sums); the reference for
// scale32.
func (mt *mulTables) scale64(out, d *ring.Poly, v []uint64, y []uint64) {
	l := len(mt.q)
	n := d.N
	k := len(mt.aux) - 1
	msk := &mt.aux[k].M
	for j := 0; j < n; j++ {
		for i, tab := range mt.q {
			m := &tab.M
			x := m.Mul(d.Coeffs[i*n+j], mt.tModQ[i])
			v[i] = m.MulShoup(x, mt.qHatInv[i], mt.qHatInvS[i])
		}
		for a, tab := range mt.aux {
			m := &tab.M
			var hi, lo uint64
			for i := range mt.q {
				h, lw := bits.Mul64(v[i], mt.qHatAux[i][a])
				var cy uint64
				lo, cy = bits.Add64(lo, lw, 0)
				hi += h + cy
			}
			fb := m.Reduce128(hi, lo)
			td := m.Mul(d.Coeffs[(l+a)*n+j], mt.tModAux[a])
			y[a] = m.Mul(m.Sub(td, fb), mt.qInvAux[a])
		}
		// Shenoy–Kumaresan: z_b = [y_b·(B/b)^{-1}]_b; γ from m_sk.
		var zsum uint64
		for b := 0; b < k; b++ {
			m := &mt.aux[b].M
			y[b] = m.Mul(y[b], mt.bHatInv[b])
			zsum = msk.Add(zsum, msk.Mul(msk.Reduce(y[b]), mt.bHatMsk[b]))
		}
		gamma := msk.Mul(msk.Sub(zsum, y[k]), mt.bInvMsk)
		gneg := gamma > msk.Q/2
		gAbs := gamma
		if gneg {
			gAbs = msk.Q - gamma
		}
		for i, tab := range mt.q {
			m := &tab.M
			var hi, lo uint64
			for b := 0; b < k; b++ {
				h, lw := bits.Mul64(m.Reduce(y[b]), mt.bHatQ[b][i])
				var cy uint64
				lo, cy = bits.Add64(lo, lw, 0)
				hi += h + cy
			}
			s := m.Reduce128(hi, lo)
			g := m.Mul(m.Reduce(gAbs), mt.bModQ[i])
			if gneg {
				s = m.Add(s, g)
			} else {
				s = m.Sub(s, g)
			}
			out.Coeffs[i*n+j] = s
		}
	}
}

// Mul sets out = a × b, a 3-poly Coeff ciphertext (not relinearized),
// bit-identical to Apple's BEHZ product (he-spec §4.5). a and b must be
// 2-poly ciphertexts at the same level, a in Coeff form, b in Coeff or Eval
// form (see [Evaluator.MulInnerProduct]).
func (e *Evaluator) Mul(out, a, b *Ciphertext) error {
	return e.MulInnerProduct(out, []*Ciphertext{a}, []*Ciphertext{b})
}

// MulInnerProduct sets out = Σ_i as[i] × bs[i] with the exact tensor summed
// over all pairs before the single t/Q scaling, as Apple's ciphertext inner
// product (PIR's later dimensions, he-spec §4.5). The result is a 3-poly
// Coeff ciphertext; relinearize it with [Evaluator.Relinearize].
//
// Each side, the as and the bs, may be Coeff or Eval (all alike within a
// side): an Eval operand still needs an inverse NTT, since the base
// extension to the auxiliary primes works on coefficients, but the
// extended polynomial's q-rows in NTT form are then the operand's own rows
// (the lift copies them), so only the auxiliary rows take a forward NTT:
// the same number of transforms as from Coeff form. A PIR server hands its
// first-dimension sums and its expanded query (both Eval) straight in.
// as and bs are not modified.
func (e *Evaluator) MulInnerProduct(out *Ciphertext, as, bs []*Ciphertext) error {
	if len(as) != len(bs) || len(as) == 0 || len(as) > maxMulPairs {
		return fmt.Errorf("bfv: product of %d and %d ciphertexts", len(as), len(bs))
	}
	l := as[0].Level()
	forms := [2]Format{as[0].Format, bs[0].Format}
	for i := range as {
		for j, c := range []*Ciphertext{as[i], bs[i]} {
			if err := e.checkCt(c, "ciphertext product"); err != nil {
				return err
			}
			if c.Format != forms[j] || len(c.Polys) != 2 || c.Level() != l {
				return fmt.Errorf("bfv: ciphertext product needs 2-poly ciphertexts at one level, all Coeff or all Eval on each side")
			}
		}
	}
	mt, err := e.p.mulTablesAt(l, len(as))
	if err != nil {
		return err
	}
	rows := len(mt.all)
	n := e.p.n
	if e.mulSc == nil || e.mulSc.d[0].Rows() != rows {
		sc := &mulScratch{}
		for i := range sc.lifted {
			sc.lifted[i] = ring.NewPoly(n, rows)
		}
		for i := range sc.d {
			sc.d[i] = ring.NewPoly(n, rows)
		}
		e.mulSc = sc
	}
	sc := e.mulSc
	for _, d := range sc.d {
		clear(d.Coeffs)
	}
	v := make([]uint64, l)
	y := make([]uint64, len(mt.aux))
	if mt.word32 || mt.word52 {
		if need := mt.scratch32Len(n); cap(sc.rows32) < need {
			sc.rows32 = make([]uint64, need)
		}
		v = sc.rows32
	}
	for i := range as {
		for j, ct := range [2]*Ciphertext{as[i], bs[i]} {
			for k, a := range ct.Polys {
				dst := sc.lifted[2*j+k]
				if forms[j] == Coeff {
					copy(dst.Coeffs[:l*n], a.Coeffs[:l*n])
					mt.lift(dst, a, v)
					mt.all.NTT(dst)
					continue
				}
				// Eval operand: its q rows are the Eval rows as they are,
				// the aux rows the NTT of the lift of its coefficients.
				c := e.scratch(0, l)
				copy(c.Coeffs, a.Coeffs[:l*n])
				mt.q.INTT(c)
				mt.lift(dst, c, v)
				for r := l; r < rows; r++ {
					mt.all[r].Forward(dst.Row(r))
				}
				copy(dst.Coeffs[:l*n], a.Coeffs[:l*n])
			}
		}
		a0, a1, b0, b1 := sc.lifted[0], sc.lifted[1], sc.lifted[2], sc.lifted[3]
		for r, tab := range mt.all {
			m := &tab.M
			x0, x1, y0, y1 := a0.Row(r), a1.Row(r), b0.Row(r), b1.Row(r)
			d0, d1, d2 := sc.d[0].Row(r), sc.d[1].Row(r), sc.d[2].Row(r)
			if mt.word32 {
				tensor32(d0, d1, d2, x0, x1, y0, y1, m.Q, mt.c32.montInv[r])
				continue
			}
			if mt.word52 {
				tensor52(d0, d1, d2, x0, x1, y0, y1, m.Q, mt.c52.montInv[r])
				continue
			}
			for j := range d0 {
				d0[j] = m.Add(d0[j], m.Mul(x0[j], y0[j]))
				d1[j] = m.Add(d1[j], m.Add(m.Mul(x0[j], y1[j]), m.Mul(x1[j], y0[j])))
				d2[j] = m.Add(d2[j], m.Mul(x1[j], y1[j]))
			}
		}
	}
	e.shape(out, 3, l, Coeff)
	for k, d := range sc.d {
		mt.all.INTT(d)
		mt.scale(out.Polys[k], d, v, y)
	}
	return nil
}

// tensor32 adds (x0·y0, x0·y1 + x1·y0, x1·y1)·2^{-32} to (d0, d1, d2)
// slot-wise, modulo q < 2^30 with qInv = −q^{-1} mod 2^32 (Montgomery
// products; scale32's constants carry the compensating 2^32). d stays in
// [0, q).
func tensor32(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64) {
	n := len(d0)
	d1, d2, x0, x1, y0, y1 = d1[:n], d2[:n], x0[:n], x1[:n], y0[:n], y1[:n]
	if v := n &^ 7; v > 0 && haveRowsAVX512 {
		tensorMontAVX512(d0[:v], d1[:v], d2[:v], x0[:v], x1[:v], y0[:v], y1[:v], q, qInv)
		d0, d1, d2, x0, x1, y0, y1 = d0[v:], d1[v:], d2[v:], x0[v:], x1[v:], y0[v:], y1[v:]
	}
	if v := len(d0) &^ 3; v > 0 && haveSIMD {
		tensorMontAVX2(d0[:v], d1[:v], d2[:v], x0[:v], x1[:v], y0[:v], y1[:v], q, qInv)
		d0, d1, d2, x0, x1, y0, y1 = d0[v:], d1[v:], d2[v:], x0[v:], x1[v:], y0[v:], y1[v:]
	}
	tensor32Go(d0, d1, d2, x0, x1, y0, y1, q, qInv)
}

// tensor32Go is tensor32 in portable Go.
func tensor32Go(d0, d1, d2, x0, x1, y0, y1 []uint64, q, qInv uint64) {
	n := len(d0)
	d1, d2, x0, x1, y0, y1 = d1[:n], d2[:n], x0[:n], x1[:n], y0[:n], y1[:n]
	q2 := 2 * q
	for j := range d0 {
		a := d0[j] + montMul(x0[j], y0[j], q, qInv) // < 3q
		a = min(a, a-q2)
		d0[j] = min(a, a-q)
		b := montMul(x0[j], y1[j], q, qInv) + montMul(x1[j], y0[j], q, qInv) // < 4q
		b = min(b, b-q2) + d1[j]                                             // < 3q
		b = min(b, b-q2)
		d1[j] = min(b, b-q)
		c := d2[j] + montMul(x1[j], y1[j], q, qInv)
		c = min(c, c-q2)
		d2[j] = min(c, c-q)
	}
}

// montMul returns x·y·2^{-32} mod q in [0, 2q) for x, y < q < 2^30 and
// qInv = −q^{-1} mod 2^32 (Montgomery's REDC: T = x·y < q·2^32, the low
// word of T + m·q is zero for m = T·qInv mod 2^32, and (T + m·q)/2^32 <
// 2q).
func montMul(x, y, q, qInv uint64) uint64 {
	t := x * y
	m := (t * qInv) & (1<<32 - 1)
	return (t + m*q) >> 32
}
