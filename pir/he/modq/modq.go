// Package modq implements arithmetic modulo a word-sized prime with
// precomputed constants: branch-free addition and subtraction, Barrett
// reduction of 64- and 128-bit values, and Shoup multiplication by a fixed
// constant (he-spec §9).
//
// Every residue handed to or returned by a [Modulus] method is in [0, q)
// unless the method name says "Lazy", in which case its doc comment states the
// range. Moduli are limited to q < 2^62 so that 4q fits in a uint64, which
// the lazy NTT butterflies of package ring rely on.
//
// All operations are constant time in their operands (no data-dependent
// branches or table lookups); only [IsPrime] and [Modulus.Pow]'s exponent
// loop may branch, and they are used on public values.
package modq

import (
	"errors"
	"fmt"
	"math/bits"
)

// MaxModulus is the largest modulus accepted by [New]: 2^62 - 1, as Apple's
// Modulus<UInt64>.max (he-spec §1.1).
const MaxModulus = 1<<62 - 1

// ErrModulus reports a modulus outside [2, MaxModulus].
var ErrModulus = errors.New("modq: modulus out of range")

// Modulus is an odd or even modulus q in [2, 2^62) with its reduction
// constants. The zero value is not usable; build one with [New].
type Modulus struct {
	// Q is the modulus.
	Q uint64
	// barrett = floor(2^128 / q) as (hi, lo) words.
	barrettHi, barrettLo uint64
}

// New returns q with its precomputed constants.
func New(q uint64) (Modulus, error) {
	if q < 2 || q > MaxModulus {
		return Modulus{}, fmt.Errorf("%w: %d", ErrModulus, q)
	}
	// floor(2^128/q): divide (1, 0, 0) by q word by word.
	hi, r := bits.Div64(1, 0, q)
	lo, _ := bits.Div64(r, 0, q)
	return Modulus{Q: q, barrettHi: hi, barrettLo: lo}, nil
}

// MustNew is [New] for moduli known to be valid (constants and
// already-validated parameters); it panics otherwise.
func MustNew(q uint64) Modulus {
	m, err := New(q)
	if err != nil {
		panic("modq: internal error: " + err.Error())
	}
	return m
}

// Bits returns ceilLog2(q), the number of bits Apple's serialization uses
// per residue (he-spec §6.1).
func (m *Modulus) Bits() int { return CeilLog2(m.Q) }

// CeilLog2 returns the smallest b with 2^b >= x (0 for x <= 1).
func CeilLog2(x uint64) int {
	if x <= 1 {
		return 0
	}
	return bits.Len64(x - 1)
}

// FloorLog2 returns bitlen(x) - 1, Swift's `.log2` (he-spec §0); -1 for 0.
func FloorLog2(x uint64) int { return bits.Len64(x) - 1 }

// csub returns x - q if x >= q, else x, without branching. x < 2q.
func csub(x, q uint64) uint64 {
	d, borrow := bits.Sub64(x, q, 0)
	return d + (q & -borrow)
}

// Add returns a + b mod q for a, b in [0, q).
func (m *Modulus) Add(a, b uint64) uint64 { return csub(a+b, m.Q) }

// Sub returns a - b mod q for a, b in [0, q).
func (m *Modulus) Sub(a, b uint64) uint64 {
	d, borrow := bits.Sub64(a, b, 0)
	return d + (m.Q & -borrow)
}

// Neg returns -a mod q for a in [0, q).
func (m *Modulus) Neg(a uint64) uint64 {
	// q - a is q when a == 0; mask it to 0.
	nz := (a | -a) >> 63
	return (m.Q - a) & -nz
}

// Reduce returns x mod q for any uint64 x.
//
// Single-word Barrett: barrettHi = floor(2^128/q) >> 64 = floor(2^64/q) =: μ,
// and x·μ/2^64 > x/q − x/2^64 > x/q − 1, so the quotient estimate
// floor(x·μ/2^64) is at most 1 below floor(x/q) and one conditional
// subtraction finishes (x − quot·q < 2q < 2^63).
func (m *Modulus) Reduce(x uint64) uint64 {
	quot, _ := bits.Mul64(x, m.barrettHi)
	return csub(x-quot*m.Q, m.Q)
}

// QuoRem returns floor(x/q) and x mod q for any uint64 x, without a
// division instruction (the single-word Barrett estimate of [Modulus.Reduce]
// plus one correction step).
func (m *Modulus) QuoRem(x uint64) (quo, rem uint64) {
	quo, _ = bits.Mul64(x, m.barrettHi)
	rem = x - quo*m.Q
	// rem < 2q: add 1 to quo and subtract q from rem when rem >= q.
	_, borrow := bits.Sub64(rem, m.Q, 0)
	ge := borrow ^ 1
	return quo + ge, rem - m.Q&-ge
}

// Reduce128 returns (hi·2^64 + lo) mod q for any 128-bit value (Barrett with
// floor(2^128/q); the quotient estimate is at most 2 below the true one, so
// two conditional subtractions finish the job).
func (m *Modulus) Reduce128(hi, lo uint64) uint64 {
	// Estimate floor(x·μ / 2^128) with μ = (μh, μl); x = (hi, lo).
	// x·μ = hi·μh·2^128 + (hi·μl + lo·μh)·2^64 + lo·μl.
	carry, _ := bits.Mul64(lo, m.barrettLo)
	h1, l1 := bits.Mul64(lo, m.barrettHi)
	h2, l2 := bits.Mul64(hi, m.barrettLo)
	mid, c1 := bits.Add64(l1, carry, 0)
	_, c2 := bits.Add64(mid, l2, 0)
	quot := hi*m.barrettHi + h1 + h2 + c1 + c2
	r := lo - quot*m.Q
	r = csub(r, 2*m.Q)
	return csub(r, m.Q)
}

// Mul returns a·b mod q for a, b in [0, q) (any uint64 operands in fact).
func (m *Modulus) Mul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return m.Reduce128(hi, lo)
}

// Shoup returns floor(w·2^64 / q), the Shoup companion of the constant
// w in [0, q).
func (m *Modulus) Shoup(w uint64) uint64 {
	s, _ := bits.Div64(w, 0, m.Q)
	return s
}

// MulShoupLazy returns a value congruent to x·w mod q in [0, 2q), for any
// uint64 x, given ws = [Modulus.Shoup](w) (Shoup's method, he-spec §9).
func MulShoupLazy(x, w, ws, q uint64) uint64 {
	h, _ := bits.Mul64(x, ws)
	return x*w - h*q
}

// MulShoup returns x·w mod q in [0, q) for any uint64 x, given
// ws = [Modulus.Shoup](w).
func (m *Modulus) MulShoup(x, w, ws uint64) uint64 {
	return csub(MulShoupLazy(x, w, ws, m.Q), m.Q)
}

// Pow returns b^e mod q. It branches on the bits of e, which must be public.
func (m *Modulus) Pow(b, e uint64) uint64 {
	r := uint64(1) % m.Q
	b = m.Reduce(b)
	for ; e > 0; e >>= 1 {
		if e&1 == 1 {
			r = m.Mul(r, b)
		}
		b = m.Mul(b, b)
	}
	return r
}

// Inv returns a^{-1} mod q for a prime q (Fermat), or an error when a ≡ 0.
func (m *Modulus) Inv(a uint64) (uint64, error) {
	a = m.Reduce(a)
	if a == 0 {
		return 0, fmt.Errorf("modq: 0 has no inverse mod %d", m.Q)
	}
	return m.Pow(a, m.Q-2), nil
}

// ReduceLazy returns x mod q for x in [0, 2q) without branching.
func (m *Modulus) ReduceLazy(x uint64) uint64 { return csub(x, m.Q) }

// CondSub returns x - q if x >= q else x, for x < 2q (exported for the
// NTT's final reductions with a modulus multiple q' = k·q).
func CondSub(x, q uint64) uint64 { return csub(x, q) }

// IsPrime reports whether n is prime, with the deterministic Miller–Rabin
// bases 2..37 Apple uses (valid for all n < 3.3·10^24, he-spec §1.1).
func IsPrime(n uint64) bool {
	if n < 2 {
		return false
	}
	bases := [...]uint64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}
	for _, p := range bases {
		if n%p == 0 {
			return n == p
		}
	}
	d, s := n-1, 0
	for d%2 == 0 {
		d /= 2
		s++
	}
	// n can exceed MaxModulus here; use plain 128-bit arithmetic.
	mulmod := func(a, b uint64) uint64 {
		hi, lo := bits.Mul64(a, b)
		_, r := bits.Div64(hi, lo, n)
		return r
	}
	powmod := func(b, e uint64) uint64 {
		r := uint64(1)
		for ; e > 0; e >>= 1 {
			if e&1 == 1 {
				r = mulmod(r, b)
			}
			b = mulmod(b, b)
		}
		return r
	}
	for _, a := range bases {
		x := powmod(a, d)
		if x == 1 || x == n-1 {
			continue
		}
		composite := true
		for i := 1; i < s; i++ {
			x = mulmod(x, x)
			if x == n-1 {
				composite = false
				break
			}
		}
		if composite {
			return false
		}
	}
	return true
}
