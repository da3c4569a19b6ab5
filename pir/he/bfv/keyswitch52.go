package bfv

import (
	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// word52Max bounds the moduli of the 52-bit (AVX-512 IFMA) key switching:
// below 2^50, so that every lazy value (< 4q) is below β = 2^52, the width
// of the IFMA multiplier.
//
// For a constant k < q and its companion k' = floor(k·β/q) < β, Shoup's
// bound with word size β gives, for x <= β,
//
//	x·k/q − floor(x·k'/β) = x·(k/q − k'/β) + frac(x·k'/β) < x/β + 1 <= 2,
//
// so x·k − floor(x·k'/β)·q ∈ [0, 2q) (the rows of rns52.go and mul52.go;
// the key products are Montgomery products, montMul52). The IFMA kernels
// read the low 52 bits of each factor, so they need x < β. The ring
// package's IFMA NTT has the same bound (ring's ifmaMax).
const word52Max = 1 << 50

// keySwitch52Max bounds l for keySwitch52: the l lazy products of a slot
// sum below 2l·q < 2^51·l, which must stay below 2^64.
const keySwitch52Max = 1 << 12

// keySwitch52 is keySwitch when every modulus of the extension is below
// 2^50 and the CPU has AVX-512 IFMA (ks.word52; with moduli below 2^30 it
// beats keySwitch32's four AVX2 lanes). The key residues are kept in Montgomery form
// k·2^52 mod q (computed once per key, KeySwitchKey.mont52), so that a
// digit-by-key product is one Montgomery product x·k ∈ (0, 2q)
// (montMul52) and the key tables take no more memory than the key: the
// products stream the key from memory, which bounds their speed. Both
// key polynomials of a digit are done in one pass over the digit
// (keyMulRow52, eight lanes at a time), and the l products of a slot are
// summed and reduced once.
func (e *Evaluator) keySwitch52(u0, u1, d, dEval *ring.Poly, k *KeySwitchKey, l int, eval bool) {
	p := e.p
	L := len(p.moduli)
	ks := p.levels[l].ks
	ext := ks.ext
	U0 := e.scratch(0, l+1)
	U1 := e.scratch(1, l+1)
	X := e.scratch(2, l)
	xs := e.digitRows(l)
	km := k.mont52(p)
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
		qInv := inv52(m.Q)
		for j := 0; j < l; j++ {
			k0, k1 := km.polys[j][0].Row(keyRow), km.polys[j][1].Row(keyRow)
			mode := ks52Acc
			switch {
			case j == 0 && l == 1:
				mode = ks52Reduce
			case j == 0:
				mode = ks52Set
			case j == 1 && l == 2:
				mode = ks52AccReduce
			}
			keyMulRow52(o0, o1, xs[j], k0, k1, m.Q, qInv, mode)
		}
		if l > 2 {
			for _, o := range [2][]uint64{o0, o1} {
				for s, v := range o {
					o[s] = m.Reduce(v)
				}
			}
		}
		if !eval || r == l {
			tab.Inverse(o0)
			tab.Inverse(o1)
		}
	}
	e.dropP(ks, u0, u1, U0, U1, eval)
}

// The modes of keyMulRow52 (0 to 2 are also those of keyMulRow52IFMA).
const (
	ks52Set       = 0 // o = x·k lazily, in (0, 2q)
	ks52Acc       = 1 // o += x·k lazily
	ks52AccReduce = 2 // o = (o + x·k) mod q, for o < 2q
	ks52Reduce    = 3 // o = x·k mod q
)

// keyMulRow52 computes the slot-wise products x·k0 into o0 and x·k1 into
// o1 as mode says, for x, k0, k1 < q < 2^50 with the keys in Montgomery
// form (k·2^52 mod q) and qInv = q^{-1} mod 2^52: each product is
// montMul52(x, k·2^52) ≡ x·k, in (0, 2q).
func keyMulRow52(o0, o1, x, k0, k1 []uint64, q, qInv uint64, mode int) {
	o1, x, k0, k1 = o1[:len(o0)], x[:len(o0)], k0[:len(o0)], k1[:len(o0)]
	if v := len(o0) &^ 7; v > 0 && haveIFMA {
		kmode := uint64(mode)
		if mode == ks52Reduce {
			// One product below 2q: the kernel's reducing add with o = 0.
			clear(o0[:v])
			clear(o1[:v])
			kmode = ks52AccReduce
		}
		keyMulRow52IFMA(o0[:v], o1[:v], x[:v], k0[:v], k1[:v], q, qInv, kmode)
		o0, o1, x, k0, k1 = o0[v:], o1[v:], x[v:], k0[v:], k1[v:]
	}
	keyMulRow52Go(o0, x, k0, q, qInv, mode)
	keyMulRow52Go(o1, x, k1, q, qInv, mode)
}

// keyMulRow52Go is one half of keyMulRow52 in portable Go.
func keyMulRow52Go(o, x, k []uint64, q, qInv uint64, mode int) {
	x, k = x[:len(o)], k[:len(o)]
	for s, v := range x {
		r := montMul52(v, k[s], q, qInv)
		switch mode {
		case ks52Set:
			o[s] = r
		case ks52Acc:
			o[s] += r
		case ks52AccReduce:
			r += o[s]
			r = min(r, r-2*q)
			o[s] = min(r, r-q)
		case ks52Reduce:
			o[s] = min(r, r-q)
		}
	}
}

// mont52 returns k's residues in Montgomery form (k·2^52 mod q) for p's
// moduli (all below 2^50), computing and caching them on first use (as
// shoup32).
func (k *KeySwitchKey) mont52(p *Params) *keyShoup {
	return k.companions(p, 52)
}

// montgomery52 sets dst[i] = src[i]·2^52 mod q.
func montgomery52(dst, src []uint64, m modq.Modulus) {
	src = src[:len(dst)]
	r := m.Reduce(1 << 52)
	rs := m.Shoup(r)
	for i, v := range src {
		dst[i] = m.MulShoup(v, r, rs)
	}
}
