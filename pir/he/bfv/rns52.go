package bfv

import (
	"math/bits"

	"github.com/blindlist/blindlist/pir/he/ring"
)

// The 52-bit (AVX-512 IFMA) versions of the divide-and-round rows, for
// moduli below word52Max = 2^50; see keyswitch52.go for the Shoup bound
// with word size β = 2^52.

// shoup52 returns floor(w·2^52/q), the 52-bit Shoup companion of w < q <
// 2^50 (the high word w>>12 of w·2^52 is below q: no overflow).
func shoup52(w, q uint64) uint64 {
	s, _ := bits.Div64(w>>12, w<<52, q)
	return s
}

// mulShoup52Lazy returns x·w − floor(x·ws/2^52)·q ∈ [0, 2q) for x < 2^52,
// w < q < 2^50 and ws = shoup52(w, q).
func mulShoup52Lazy(x, w, ws, q uint64) uint64 {
	hi, lo := bits.Mul64(x, ws)
	return x*w - (hi<<12|lo>>52)*q
}

// applyEval52 is one row i of applyEval for moduli below 2^50 with the
// IFMA (or wide AVX2) kernels. The division by q_last is linear, so
// dst = (x + NTT(h − r))·q_last^{-1}: one pass computes the rounding term
// h − r without reducing it, the NTT takes it as it is, and one multiply
// pass finishes. With K = ceil(q_last/q)·q and h − r taken as
// v = (h mod q) + K − r, v lies in (0, q + K), so when K <= 3q (q_last <=
// 3q, as for 27-28-28-bit moduli, whose q_last is about 2q_0) v is below
// 4q, the range [ring.Table.Forward] accepts. Otherwise (a small q under a
// large q_last) the term is reduced and multiplied first: t = (h −
// r)·q_last^{-1} (drop52 of a zero row), dst = x·q_last^{-1} + NTT(t),
// as applyEval32. Both give the same fully reduced rows.
func (d *dropper) applyEval52(tab *ring.Table, dst, src, last, t []uint64, i int) {
	q := tab.M.Q
	t = t[:len(dst)]
	qLast := d.last.M.Q
	k := (qLast + q - 1) / q
	hmK := d.halfMod[i] + k*q
	if k <= 3 {
		roundDiff(t, last, qLast, d.half, hmK)
		tab.Forward(t)
		if d.word32 && !haveIFMA {
			// Moduli below 2^30 without IFMA: 32-bit Shoup products
			// (three VPMULUDQ) instead of the wide kernels' doubles.
			addMulConst32(dst, src, t, d.inv[i], d.invS32[i], q)
			return
		}
		addMulConst52(dst, src, t, d.inv[i], d.invS52[i], q)
		return
	}
	clear(t)
	drop52(t, t, last, qLast, d.half, q, hmK, d.inv[i], d.invS52[i])
	tab.Forward(t)
	mulAddConst52(dst, src, t, d.inv[i], d.invS52[i], q)
}

// roundDiff sets dst = hmK − r slot-wise, r = (last + half) mod q_last,
// unreduced: the rounding term of applyEval52, for last < q_last, half <
// q_last and hmK >= q_last (so the difference is positive).
func roundDiff(dst, last []uint64, qLast, half, hmK uint64) {
	last = last[:len(dst)]
	if v := len(dst) &^ 7; v > 0 && haveRowsAVX512 {
		roundDiffAVX512(dst[:v], last[:v], qLast, half, hmK)
		dst, last = dst[v:], last[v:]
	}
	if v := len(dst) &^ 3; v > 0 && haveSIMD {
		roundDiffAVX2(dst[:v], last[:v], qLast, half, hmK)
		dst, last = dst[v:], last[v:]
	}
	roundDiffGo(dst, last, qLast, half, hmK)
}

// roundDiffGo is roundDiff in portable Go.
func roundDiffGo(dst, last []uint64, qLast, half, hmK uint64) {
	last = last[:len(dst)]
	for j, x := range last {
		r := x + half
		r = min(r, r-qLast)
		dst[j] = hmK - r
	}
}

// addMulConst52 sets dst = (x + t)·w mod q slot-wise, for x < 2^51, t <
// q, w < q < 2^50 and ws = shoup52(w, q). dst may alias x or t.
func addMulConst52(dst, x, t []uint64, w, ws, q uint64) {
	x, t = x[:len(dst)], t[:len(dst)]
	if v := len(dst) &^ 7; v > 0 && haveIFMA {
		addMulConst52IFMA(dst[:v], x[:v], t[:v], w, ws, q)
		dst, x, t = dst[v:], x[v:], t[v:]
	}
	if v := len(dst) &^ 3; v > 0 && haveWide {
		addMulConstWide(dst[:v], x[:v], t[:v], w, q)
		dst, x, t = dst[v:], x[v:], t[v:]
	}
	addMulConst52Go(dst, x, t, w, ws, q)
}

// addMulConst52Go is addMulConst52 in portable Go.
func addMulConst52Go(dst, x, t []uint64, w, ws, q uint64) {
	x, t = x[:len(dst)], t[:len(dst)]
	for j, v := range x {
		s := mulShoup52Lazy(v+t[j], w, ws, q) // < 2q
		dst[j] = min(s, s-q)
	}
}

// drop52 is one row of dropper.apply for moduli below 2^50, as drop32:
// with r = (x_last + h) mod q_last and hmK = h mod q + ceil(q_last/q)·q,
// v = x + hmK − r ≡ x + h − r (mod q) is positive and below
// 3q + q_last < 2^52, so dst = v·q_last^{-1} mod q is a 52-bit Shoup
// product and one conditional subtraction.
func drop52(dst, src, last []uint64, qLast, half, q, hmK, inv, invS52 uint64) {
	src, last = src[:len(dst)], last[:len(dst)]
	if v := len(dst) &^ 7; v > 0 && haveIFMA {
		drop52IFMA(dst[:v], src[:v], last[:v], qLast, half, q, hmK, inv, invS52)
		dst, src, last = dst[v:], src[v:], last[v:]
	}
	if v := len(dst) &^ 3; v > 0 && haveWide {
		dropWide(dst[:v], src[:v], last[:v], qLast, half, q, hmK, inv)
		dst, src, last = dst[v:], src[v:], last[v:]
	}
	drop52Go(dst, src, last, qLast, half, q, hmK, inv, invS52)
}

// drop52Go is drop52 in portable Go.
func drop52Go(dst, src, last []uint64, qLast, half, q, hmK, inv, invS52 uint64) {
	src, last = src[:len(dst)], last[:len(dst)]
	for j, x := range src {
		r := last[j] + half
		r = min(r, r-qLast)
		v := mulShoup52Lazy(x+hmK-r, inv, invS52, q)
		dst[j] = min(v, v-q)
	}
}

// mulAddConst52 sets dst = (x·w + t) mod q slot-wise, for x < 2^52, t < q
// < 2^50 and ws = shoup52(w, q). dst may alias t.
func mulAddConst52(dst, x, t []uint64, w, ws, q uint64) {
	x, t = x[:len(dst)], t[:len(dst)]
	if v := len(dst) &^ 7; v > 0 && haveIFMA {
		mulAddConst52IFMA(dst[:v], x[:v], t[:v], w, ws, q)
		dst, x, t = dst[v:], x[v:], t[v:]
	}
	if v := len(dst) &^ 3; v > 0 && haveWide {
		mulAddConstWide(dst[:v], x[:v], t[:v], w, q)
		dst, x, t = dst[v:], x[v:], t[v:]
	}
	mulAddConst52Go(dst, x, t, w, ws, q)
}

// mulAddConst52Go is mulAddConst52 in portable Go.
func mulAddConst52Go(dst, x, t []uint64, w, ws, q uint64) {
	x, t = x[:len(dst)], t[:len(dst)]
	for j, v := range x {
		s := mulShoup52Lazy(v, w, ws, q) + t[j] // < 3q
		s = min(s, s-2*q)
		dst[j] = min(s, s-q)
	}
}
