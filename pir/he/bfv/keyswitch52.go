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
// so x·k − floor(x·k'/β)·q ∈ [0, 2q). The IFMA kernels read the low 52
// bits of each factor, so they need x < β; the key-switching digits are
// NTT outputs (x < q). The ring package's IFMA NTT has the same bound
// (ring's ifmaMax).
const word52Max = 1 << 50

// keySwitch52Max bounds l for keySwitch52: the l lazy products of a slot
// sum below 2l·q < 2^51·l, which must stay below 2^64.
const keySwitch52Max = 1 << 12

// keySwitch52 is keySwitch when every modulus of the extension is below
// 2^50, some is at least 2^30 (else keySwitch32 applies), and the CPU has
// AVX-512 IFMA (ks.word52). It is keySwitch32 with β = 2^52 instead of
// 2^32: the key residues' 52-bit Shoup companions are computed once per
// key (KeySwitchKey.shoup52), each digit-by-key product is a lazy Shoup
// product in [0, 2q) (shoupRow52, eight lanes at a time), and the l
// products of a slot are summed and reduced once.
func (e *Evaluator) keySwitch52(u0, u1, d *ring.Poly, k *KeySwitchKey, l int, eval bool) {
	p := e.p
	L := len(p.moduli)
	ks := p.levels[l].ks
	ext := ks.ext
	U0 := e.scratch(0, l+1)
	U1 := e.scratch(1, l+1)
	X := e.scratch(2, l)
	sh := k.shoup52(p)
	for r, tab := range ext {
		m := tab.M
		keyRow := r
		if r == l {
			keyRow = L - 1
		}
		for j := 0; j < l; j++ {
			x, src := X.Row(j), d.Row(j)
			if p.moduli[j] <= 4*m.Q {
				copy(x, src) // Forward accepts [0, 4q)
			} else {
				for s, v := range src {
					x[s] = m.Reduce(v)
				}
			}
			tab.Forward(x)
		}
		o0, o1 := U0.Row(r), U1.Row(r)
		for j := 0; j < l; j++ {
			k0, k1 := k.Keys[j].Polys[0].Row(keyRow), k.Keys[j].Polys[1].Row(keyRow)
			s0, s1 := sh.polys[j][0].Row(keyRow), sh.polys[j][1].Row(keyRow)
			mode := ks52Acc
			switch {
			case j == 0 && l == 1:
				mode = ks52Reduce
			case j == 0:
				mode = ks52Set
			case j == 1 && l == 2:
				mode = ks52AccReduce
			}
			shoupRow52(o0, X.Row(j), k0, s0, m.Q, mode)
			shoupRow52(o1, X.Row(j), k1, s1, m.Q, mode)
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

// The modes of shoupRow52 (0 to 2 are also those of shoupRow52IFMA).
const (
	ks52Set       = 0 // o = x·k lazily, in [0, 2q)
	ks52Acc       = 1 // o += x·k lazily
	ks52AccReduce = 2 // o = (o + x·k) mod q, for o < 2q
	ks52Reduce    = 3 // o = x·k mod q
)

// shoupRow52 computes the slot-wise product x·k (k' = ks the 52-bit Shoup
// companions, x < 2^52, k < q < 2^50) into o as mode says.
func shoupRow52(o, x, k, ks []uint64, q uint64, mode int) {
	x, k, ks = x[:len(o)], k[:len(o)], ks[:len(o)]
	if v := len(o) &^ 7; v > 0 && haveIFMA {
		if mode == ks52Reduce {
			// One product below 2q: the kernel's reducing add with o = 0.
			clear(o[:v])
			shoupRow52IFMA(o[:v], x[:v], k[:v], ks[:v], q, ks52AccReduce)
		} else {
			shoupRow52IFMA(o[:v], x[:v], k[:v], ks[:v], q, uint64(mode))
		}
		o, x, k, ks = o[v:], x[v:], k[v:], ks[v:]
	}
	shoupRow52Go(o, x, k, ks, q, mode)
}

// shoupRow52Go is shoupRow52 in portable Go (128-bit products).
func shoupRow52Go(o, x, k, ks []uint64, q uint64, mode int) {
	x, k, ks = x[:len(o)], k[:len(o)], ks[:len(o)]
	for s, v := range x {
		r := mulShoup52Lazy(v, k[s], ks[s], q)
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

// shoup52 returns the 52-bit Shoup companions of k for p's moduli (all
// below 2^50), computing and caching them on first use (as shoup32).
func (k *KeySwitchKey) shoup52(p *Params) *keyShoup {
	return k.companions(p, 52)
}

// shoupCompanions52 sets dst[i] = shoup52(src[i], q) for src[i] < q <
// 2^50.
func shoupCompanions52(dst, src []uint64, m modq.Modulus) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = shoup52(v, m.Q)
	}
}
