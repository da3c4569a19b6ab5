package bfv

import (
	"fmt"
	"math/big"
	"math/bits"

	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// level holds the RNS constants of the ciphertext moduli q_0..q_{l-1}.
type level struct {
	l     int
	basis ring.Basis
	bigQ  *big.Int

	// Plaintext translation Δ̃(m) (he-spec §4.3): floor(Q/t) mod q_i and
	// Q mod t.
	qDivT []uint64
	qModT uint64

	// down drops q_{l-1} with rounding (he-spec §4.6); nil at level 1.
	down *dropper
	// ks is the key-switching extension q_0..q_{l-1}, P and the rounding
	// division by P (he-spec §5.2); nil when L == 1.
	ks *keySwitchLevel
}

// dropper divides by the last modulus of a basis with rounding:
// x_i ← (x_i + h − (r mod q_i))·q_last^{-1}, r = (x_last + h) mod q_last,
// h = floor(q_last/2) (Apple's divideAndRoundQLast, he-spec §4.6).
type dropper struct {
	last    *ring.Table
	half    uint64
	halfMod []uint64 // h mod q_i
	inv     []uint64 // q_last^{-1} mod q_i
	invS    []uint64 // Shoup companions
	// word32: every modulus of the basis is below 2^30 (drop32), with the
	// 32-bit Shoup companions invS32[i] = floor(inv[i]·2^32/q_i).
	word32 bool
	invS32 []uint64
	// word52: every modulus below 2^50 and the IFMA kernels (drop52, eight
	// lanes) or the wide AVX2 ones (wide.go) are selected; it takes
	// precedence over word32. With
	// invS52[i] = floor(inv[i]·2^52/q_i).
	word52 bool
	invS52 []uint64
}

func newDropper(b ring.Basis) *dropper {
	last := b[len(b)-1]
	d := &dropper{last: last, half: last.M.Q / 2}
	for _, t := range b[:len(b)-1] {
		m := &t.M
		inv, err := m.Inv(m.Reduce(last.M.Q))
		if err != nil {
			panic("bfv: internal error: moduli not coprime")
		}
		d.halfMod = append(d.halfMod, m.Reduce(d.half))
		d.inv = append(d.inv, inv)
		d.invS = append(d.invS, m.Shoup(inv))
	}
	d.word32 = true
	for _, t := range b {
		d.word32 = d.word32 && t.M.Q < word32Max
	}
	if d.word32 {
		for i, t := range b[:len(b)-1] {
			d.invS32 = append(d.invS32, (d.inv[i]<<32)/t.M.Q)
		}
	}
	d.word52 = haveIFMA || haveWide
	for _, t := range b {
		d.word52 = d.word52 && t.M.Q < word52Max
	}
	if d.word52 {
		for i, t := range b[:len(b)-1] {
			d.invS52 = append(d.invS52, shoup52(d.inv[i], t.M.Q))
		}
	}
	return d
}

// apply reads the rows of in (len(b) rows, Coeff) and writes the first
// len(b)-1 rows of out (which may alias in).
func (d *dropper) apply(b ring.Basis, out, in *ring.Poly) {
	k := len(b) - 1
	lastRow := in.Row(k)
	qLast := d.last.M.Q
	for i := 0; i < k; i++ {
		m := &b[i].M
		q := m.Q
		src, dst := in.Row(i), out.Row(i)
		hm, inv, invS := d.halfMod[i], d.inv[i], d.invS[i]
		small := qLast <= q
		if d.word52 {
			k := (qLast + q - 1) / q
			drop52(dst, src, lastRow, qLast, d.half, q, hm+k*q, inv, d.invS52[i])
			continue
		}
		if d.word32 {
			k := (qLast + q - 1) / q
			drop32(dst, src, lastRow, qLast, d.half, q, hm+k*q, inv, d.invS32[i])
			continue
		}
		for j, x := range src {
			r := modq.CondSub(lastRow[j]+d.half, qLast)
			if !small {
				r = m.Reduce(r)
			}
			// x + h - r mod q.
			v := m.Sub(m.Add(x, hm), r)
			dst[j] = m.MulShoup(v, inv, invS)
		}
	}
}

// applyEval is apply for in's first len(b)-1 rows in Eval form (its last
// row in Coeff form), writing out's rows in Eval form. The division is
// linear in x_i, so only the rounding term needs a transform: per
// coefficient, h − r with r = (x_last + h) mod q_last, reduced mod q_i and
// moved to Eval form in t (a scratch row of N values). out is then exactly
// the NTT of apply's output.
func (d *dropper) applyEval(b ring.Basis, out, in *ring.Poly, t []uint64) {
	k := len(b) - 1
	lastRow := in.Row(k)
	qLast := d.last.M.Q
	for i := 0; i < k; i++ {
		m := &b[i].M
		if d.word52 {
			d.applyEval52(b[i], out.Row(i), in.Row(i), lastRow, t, i)
			continue
		}
		if d.word32 {
			d.applyEval32(b[i], out.Row(i), in.Row(i), lastRow, t, i)
			continue
		}
		hm := d.halfMod[i]
		for j, x := range lastRow {
			t[j] = m.Sub(hm, m.Reduce(modq.CondSub(x+d.half, qLast)))
		}
		b[i].Forward(t)
		src, dst := in.Row(i), out.Row(i)
		t := t[:len(src)]
		inv, invS := d.inv[i], d.invS[i]
		for j, x := range src {
			dst[j] = m.MulShoup(m.Add(x, t[j]), inv, invS)
		}
	}
}

// applyEval32 is one row i of applyEval for moduli below 2^30, with the
// vector kernels: t = (h − r)·q_last^{-1} (drop32 of a zero row), then
// dst = x·q_last^{-1} + NTT(t).
func (d *dropper) applyEval32(tab *ring.Table, dst, src, last, t []uint64, i int) {
	q := tab.M.Q
	t = t[:len(dst)]
	clear(t)
	qLast := d.last.M.Q
	k := (qLast + q - 1) / q
	drop32(t, t, last, qLast, d.half, q, d.halfMod[i]+k*q, d.inv[i], d.invS32[i])
	tab.Forward(t)
	shoupConstRow(t, src, d.inv[i], d.invS32[i], q, shoupAdd)
	copy(dst, t)
	csub2Row(dst, q)
}

// drop32 is one row of dropper.apply for moduli below 2^30. With
// r = (x_last + h) mod q_last < q_last and K = ceil(q_last/q)·q (hmK =
// h mod q + K), v = x + hmK − r ≡ x + h − r (mod q) is positive and below
// 3q + q_last < 2^32, so dst = v·q_last^{-1} is a 32-bit Shoup product
// (invS32 = floor(inv·2^32/q), result in [0, 2q)) and one conditional
// subtraction.
func drop32(dst, src, last []uint64, qLast, half, q, hmK, inv, invS32 uint64) {
	src, last = src[:len(dst)], last[:len(dst)]
	if v := len(dst) &^ 3; v > 0 && haveSIMD {
		drop32AVX2(dst[:v], src[:v], last[:v], qLast, half, q, hmK, inv, invS32)
		dst, src, last = dst[v:], src[v:], last[v:]
	}
	drop32Go(dst, src, last, qLast, half, q, hmK, inv, invS32)
}

// drop32Go is drop32 in portable Go.
func drop32Go(dst, src, last []uint64, qLast, half, q, hmK, inv, invS32 uint64) {
	src, last = src[:len(dst)], last[:len(dst)]
	for j, x := range src {
		r := last[j] + half
		r = min(r, r-qLast)
		v := x + hmK - r
		v = v*inv - (v*invS32>>32)*q
		dst[j] = min(v, v-q)
	}
}

// addMulConst32 sets dst = (x + t)·w mod q slot-wise for x, t < q <
// 2^30 and ws = floor(w·2^32/q): x + t < 2q, and the Shoup product of a
// value below 2^32 is in [0, 2q). dst may alias x or t.
func addMulConst32(dst, x, t []uint64, w, ws, q uint64) {
	x, t = x[:len(dst)], t[:len(dst)]
	if v := len(dst) &^ 3; v > 0 && haveSIMD {
		addMulConst32AVX2(dst[:v], x[:v], t[:v], w, ws, q)
		dst, x, t = dst[v:], x[v:], t[v:]
	}
	addMulConst32Go(dst, x, t, w, ws, q)
}

// addMulConst32Go is addMulConst32 in portable Go.
func addMulConst32Go(dst, x, t []uint64, w, ws, q uint64) {
	x, t = x[:len(dst)], t[:len(dst)]
	for j, v := range x {
		v += t[j]
		p := v*w - (v*ws>>32)*q
		dst[j] = min(p, p-q)
	}
}

type keySwitchLevel struct {
	ext  ring.Basis // q_0..q_{l-1}, P
	drop *dropper
	// word32: every modulus of ext is below 2^30 and the l digit products
	// of a slot (each below 2^60) sum below 2^64 (see keySwitch32).
	word32 bool
	// word52: every modulus of ext is below 2^50, l < keySwitch52Max,
	// and the CPU has AVX-512 IFMA (see keySwitch52); it takes precedence
	// over word32 (eight lanes against AVX2's four).
	word52 bool
	// wide: every modulus of ext is below 2^50, l·q < 2^52 and the wide
	// AVX2 kernels are selected (keySwitchWide, wide.go).
	wide bool
}

// word32Max bounds the moduli of the 32-bit fast paths: below 2^30, so
// that 4q < 2^32 and a product of two residues is below 2^60.
const word32Max = 1 << 30

// precompute fills the per-level tables.
func (p *Params) precompute() error {
	L := len(p.moduli)
	maxL := p.MaxLevel()
	p.levels = make([]*level, maxL+1)
	p.mulOnces = make([][mulPairClasses]mulOnce, maxL+1)
	p.monoOnces = make([][2][]monoOnce, maxL+1)
	for l := range p.monoOnces {
		for sign := range 2 {
			p.monoOnces[l][sign] = make([]monoOnce, bits.Len(uint(p.n)))
		}
	}
	bt := new(big.Int).SetUint64(p.t)
	for l := 1; l <= maxL; l++ {
		lv := &level{l: l, basis: p.keyB[:l], bigQ: big.NewInt(1)}
		for _, q := range p.moduli[:l] {
			lv.bigQ.Mul(lv.bigQ, new(big.Int).SetUint64(q))
		}
		qDivT, qModT := new(big.Int).QuoRem(lv.bigQ, bt, new(big.Int))
		lv.qModT = qModT.Uint64()
		for _, q := range p.moduli[:l] {
			lv.qDivT = append(lv.qDivT, new(big.Int).Mod(qDivT, new(big.Int).SetUint64(q)).Uint64())
		}
		if l >= 2 {
			lv.down = newDropper(lv.basis)
		}
		if L > 1 {
			ext := append(append(ring.Basis{}, p.keyB[:l]...), p.keyB[L-1])
			lv.ks = &keySwitchLevel{ext: ext, drop: newDropper(ext), word32: l < 16}
			lv.ks.word52 = haveIFMA && l < keySwitch52Max
			for _, t := range ext {
				lv.ks.word32 = lv.ks.word32 && t.M.Q < word32Max
				lv.ks.word52 = lv.ks.word52 && t.M.Q < word52Max
			}
			lv.ks.wide = haveWide && wideKeySwitchFits(ext, l, p.n)
		}
		p.levels[l] = lv
	}
	return nil
}

// levelOf returns the tables of level l or an error.
func (p *Params) levelOf(l int) (*level, error) {
	if l < 1 || l > p.MaxLevel() {
		return nil, fmt.Errorf("bfv: level %d out of range 1..%d", l, p.MaxLevel())
	}
	return p.levels[l], nil
}
