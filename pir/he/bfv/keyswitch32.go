package bfv

import (
	"slices"

	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// keySwitch32 is keySwitch when every modulus of the extension is below
// 2^30 (ks.word32). Digits below 4·q_r go into the NTT unreduced (Forward
// accepts [0, 4q)). A key residue k is a constant for every key switch
// that uses the key, so its 32-bit Shoup companion k' = floor(k·2^32/q)
// is computed once per key (keyShoup32) and each digit-by-key product is
// x·k − floor(x·k'/2^32)·q ∈ [0, 2q) for x < 2^32: 64-bit multiplies
// only, four lanes at a time with AVX2. The l lazy products of a slot
// sum below 2l·q < 2^35 and are reduced once.
func (e *Evaluator) keySwitch32(u0, u1, d, dEval *ring.Poly, k *KeySwitchKey, l int, eval bool) {
	p := e.p
	L := len(p.moduli)
	ks := p.levels[l].ks
	ext := ks.ext
	U0 := e.scratch(0, l+1)
	U1 := e.scratch(1, l+1)
	X := e.scratch(2, l)
	xs := e.digitRows(l)
	sh := k.shoup32(p)
	for r, tab := range ext {
		m := tab.M
		keyRow := r
		if r == l {
			keyRow = L - 1
		}
		for j := 0; j < l; j++ {
			xs[j] = e.digitNTT(X.Row(j), d, dEval, tab, r, j)
		}
		o0, o1 := U0.Row(r), U1.Row(r)
		for j := 0; j < l; j++ {
			k0, k1 := k.Keys[j].Polys[0].Row(keyRow), k.Keys[j].Polys[1].Row(keyRow)
			s0, s1 := sh.polys[j][0].Row(keyRow), sh.polys[j][1].Row(keyRow)
			shoupRow(o0, xs[j], k0, s0, m.Q, j > 0)
			shoupRow(o1, xs[j], k1, s1, m.Q, j > 0)
		}
		reduceLazyRow(o0, l, m)
		reduceLazyRow(o1, l, m)
		if !eval || r == l {
			tab.Inverse(o0)
			tab.Inverse(o1)
		}
	}
	e.dropP(ks, u0, u1, U0, U1, eval)
}

// keyShoup holds a table derived from each of a key's residues k, shaped
// like KeySwitchKey.Keys ([j][poly], rows per modulus), for moduli: the
// 32-bit Shoup companions floor(k·2^32/q) (width 32, keySwitch32) or the
// Montgomery forms k·2^52 mod q (width 52, keySwitch52).
type keyShoup struct {
	moduli []uint64
	width  int
	polys  [][2]*ring.Poly
}

// shoup32 returns the 32-bit companions of k for p's moduli (all below
// 2^30), computing and caching them on first use.
func (k *KeySwitchKey) shoup32(p *Params) *keyShoup {
	return k.companions(p, 32)
}

// companions returns the width-bit table of k (32 or 52, see keyShoup)
// for p's moduli, computing and caching it on first use. Concurrent first uses
// may compute them twice; one result is kept. A Params takes one width
// (keySwitchLevel.word32 or word52, fixed by its moduli), so the cache
// holds one entry.
func (k *KeySwitchKey) companions(p *Params, width int) *keyShoup {
	if sh := k.shoup.Load(); sh != nil && sh.width == width && slices.Equal(sh.moduli, p.moduli) {
		return sh
	}
	sh := &keyShoup{moduli: p.moduli, width: width}
	for _, c := range k.Keys {
		var pair [2]*ring.Poly
		for i, poly := range c.Polys[:2] {
			out := ring.NewPoly(p.n, len(p.moduli))
			for r, tab := range p.keyB {
				if width == 52 {
					montgomery52(out.Row(r), poly.Row(r), tab.M)
				} else {
					shoupCompanions(out.Row(r), poly.Row(r), tab.M)
				}
			}
			pair[i] = out
		}
		sh.polys = append(sh.polys, pair)
	}
	k.shoup.CompareAndSwap(nil, sh)
	return sh
}

// shoupCompanions sets dst[i] = floor(src[i]·2^32/q) for src[i] < q < 2^30.
func shoupCompanions(dst, src []uint64, m modq.Modulus) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i], _ = m.QuoRem(v << 32)
	}
}

// reduceLazyRow reduces o (sums of l lazy Shoup products, each below 2q)
// to [0, q).
func reduceLazyRow(o []uint64, l int, m modq.Modulus) {
	if l <= 2 {
		csub2Row(o, m.Q)
		return
	}
	for s, v := range o {
		o[s] = m.Reduce(v)
	}
}

// shoupRow sets o = x·k lazily (acc false) or adds it to o (acc true),
// slot-wise: x·k − floor(x·k'/2^32)·q ∈ [0, 2q) with k' = ks, for x < 2^32
// and k < q < 2^30.
func shoupRow(o, x, k, ks []uint64, q uint64, acc bool) {
	x, k, ks = x[:len(o)], k[:len(o)], ks[:len(o)]
	if v := len(o) &^ 3; v > 0 && haveSIMD {
		a := uint64(0)
		if acc {
			a = 1
		}
		shoupRowAVX2(o[:v], x[:v], k[:v], ks[:v], q, a)
		o, x, k, ks = o[v:], x[v:], k[v:], ks[v:]
	}
	shoupRowGo(o, x, k, ks, q, acc)
}

// shoupRowGo is shoupRow in portable Go.
func shoupRowGo(o, x, k, ks []uint64, q uint64, acc bool) {
	x, k, ks = x[:len(o)], k[:len(o)], ks[:len(o)]
	if acc {
		for s, v := range x {
			o[s] += v*k[s] - (v*ks[s]>>32)*q
		}
		return
	}
	for s, v := range x {
		o[s] = v*k[s] - (v*ks[s]>>32)*q
	}
}

// csub2Row reduces o from [0, 4q) to [0, q) (q < 2^30).
func csub2Row(o []uint64, q uint64) {
	if v := len(o) &^ 3; v > 0 && haveSIMD {
		csub2RowAVX2(o[:v], q)
		o = o[v:]
	}
	csub2RowGo(o, q)
}

// csub2RowGo is csub2Row in portable Go.
func csub2RowGo(o []uint64, q uint64) {
	for s, v := range o {
		v = min(v, v-2*q)
		o[s] = min(v, v-q)
	}
}
