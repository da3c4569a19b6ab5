// Package ctrsa computes the RSA private-key operation s = m^d mod n (RFC 8017
// §5.1.2 RSADP / §5.2.1 RSASP1) in constant time, for the blind signatures of
// RFC 9474 §4.2 (BlindSign).
//
// Neither the standard library nor circl offers this operation in a form we can
// use: crypto/rsa runs its constant-time private operation only behind PKCS #1
// v1.5 or OAEP padding checks, and circl's blindrsa.Signer uses math/big, whose
// exponentiation indexes its window table with exponent bits and branches on
// intermediate values. So the arithmetic here is our own, written for review
// rather than speed:
//
//   - numbers are fixed-length little-endian slices of 64-bit words; the length
//     is public (it is the length of the public modulus), values are secret;
//   - Montgomery multiplication (CIOS, Koç, Acar and Kaliski 1996) ends in a
//     masked, never branched, conditional subtraction;
//   - exponentiation walks every bit of the exponent's full word length in fixed
//     4-bit windows and reads the window table by scanning all 16 entries with
//     masks, so neither the number of operations nor the memory addresses depend
//     on the exponent;
//   - the CRT recombination (Garner) uses the same primitives.
//
// Only key loading ([NewPrivateKey]) converts math/big values, once; the
// signing path never touches math/big with secret data. The fault check
// (s^e mod n == m, which defeats Bellcore-style CRT fault attacks) runs on
// public values only.
package ctrsa

import "math/bits"

// nat is a natural number as little-endian 64-bit words. Its length is fixed
// by the modulus it belongs to and is public; its value may be secret.
type nat []uint64

// ctEq returns all ones when a == b and zero otherwise, without branching.
func ctEq(a, b uint64) uint64 {
	x := a ^ b
	// (x | -x) has its top bit set exactly when x != 0.
	return ((x | -x) >> 63) - 1
}

// ctSelect sets z = a where mask is all ones and z = b where it is zero.
// z may alias a or b.
func ctSelect(z, a, b nat, mask uint64) {
	for i := range z {
		z[i] = (a[i] & mask) | (b[i] &^ mask)
	}
}

// subInto sets z = x - y over len(z) words and returns the final borrow (0 or 1).
func subInto(z, x, y nat) uint64 {
	var b uint64
	for i := range z {
		z[i], b = bits.Sub64(x[i], y[i], b)
	}
	return b
}

// addInto sets z = x + y over len(z) words and returns the final carry (0 or 1).
func addInto(z, x, y nat) uint64 {
	var c uint64
	for i := range z {
		z[i], c = bits.Add64(x[i], y[i], c)
	}
	return c
}

// modulus is an odd modulus m with its Montgomery constants, for R = 2^(64·L)
// where L = len(m). All of it is derived from secret primes, so it is handled
// as secret.
type modulus struct {
	m     nat    // the modulus, odd, m[L-1] != 0
	m0inv uint64 // -m⁻¹ mod 2^64
	rr    nat    // R² mod m
	one   nat    // R mod m, i.e. 1 in Montgomery form
}

// newModulus precomputes the Montgomery constants for the odd modulus m.
// It runs in time that depends only on len(m).
func newModulus(m nat) *modulus {
	mod := &modulus{m: m}
	// Newton iteration for m⁻¹ mod 2^64: inv = m0 is correct to 3 bits for odd
	// m0 (m0·m0 ≡ 1 mod 8); each step doubles the correct bits: 3, 6, 12, 24,
	// 48, 96 ≥ 64.
	inv := m[0]
	for range 5 {
		inv *= 2 - m[0]*inv
	}
	mod.m0inv = -inv

	// R mod m and R² mod m by doubling 1 modulo m, 64·L and then another 64·L
	// times. Each doubling is a shift and a masked conditional subtraction, so
	// this is constant time too (it handles the secret primes).
	L := len(m)
	x := make(nat, L)
	x[0] = 1
	tmp := make(nat, L)
	for i := range 2 * 64 * L {
		var carry uint64
		for j := range x {
			next := x[j] >> 63
			x[j] = x[j]<<1 | carry
			carry = next
		}
		mod.reduceOnce(x, carry, tmp)
		if i == 64*L-1 {
			mod.one = append(nat(nil), x...)
		}
	}
	mod.rr = x
	return mod
}

// reduceOnce sets x = (extra·R + x) mod m for an input below 2m, with extra 0
// or 1, by a masked subtraction. tmp is scratch of length L.
func (mod *modulus) reduceOnce(x nat, extra uint64, tmp nat) {
	borrow := subInto(tmp, x, mod.m)
	// Keep x - m when the value was at least m: either the extra word was set,
	// or the subtraction did not borrow.
	keep := -(extra | (borrow ^ 1))
	ctSelect(x, tmp, x, keep)
}

// montMul sets z = x·y·R⁻¹ mod m for x, y < m, using scratch t of length L+1.
// z may alias x or y. This is CIOS Montgomery multiplication with the product
// and reduction loops fused; the intermediate value stays below 2m, so one
// masked subtraction finishes it.
func (mod *modulus) montMul(z, x, y, t nat) {
	m := mod.m
	L := len(m)
	// Re-slicing to the modulus length lets the compiler drop the bounds
	// checks in the inner loop (it proves j < L for all four slices).
	x, y, t = x[:L], y[:L], t[:L+1]
	clear(t)
	for i := range L {
		yi := y[i]
		// j = 0: the product word decides u, which makes the low word vanish.
		hi1, lo1 := bits.Mul64(x[0], yi)
		lo1, cc := bits.Add64(lo1, t[0], 0)
		c1 := hi1 + cc
		u := lo1 * mod.m0inv
		hi2, lo2 := bits.Mul64(u, m[0])
		_, cc = bits.Add64(lo2, lo1, 0)
		c2 := hi2 + cc
		for j := 1; j < len(m); j++ {
			// x·y + a + b < 2^128 for 64-bit words, so the high words never overflow.
			hi1, lo1 = bits.Mul64(x[j], yi)
			lo1, cc = bits.Add64(lo1, t[j], 0)
			hi1 += cc
			lo1, cc = bits.Add64(lo1, c1, 0)
			c1 = hi1 + cc
			hi2, lo2 = bits.Mul64(u, m[j])
			lo2, cc = bits.Add64(lo2, lo1, 0)
			hi2 += cc
			lo2, cc = bits.Add64(lo2, c2, 0)
			c2 = hi2 + cc
			t[j-1] = lo2
		}
		s, cc1 := bits.Add64(t[L], c1, 0)
		s, cc2 := bits.Add64(s, c2, 0)
		t[L-1] = s
		t[L] = cc1 + cc2
	}
	copy(z, t[:L])
	mod.reduceOnce(z, t[L], t[:L])
}

// redcWide sets z = t·R⁻¹ mod m for a 2L-word t < m·R (Montgomery reduction
// of a double-length value, the SOS method of Koç, Acar and Kaliski). It is
// how a value of the modulus n is brought into the range of one prime. w is
// scratch of length 2L; t is not modified unless it is w.
func (mod *modulus) redcWide(z, t, w nat) {
	m := mod.m
	L := len(m)
	w = w[:2*L]
	copy(w, t[:2*L])
	// top is the carry out of word i+L, deferred to word i+L+1: the next row
	// writes words i+1 … i+L only, so adding it with that row's final carry is
	// exact. After the last row it is the bit at 2L.
	var top uint64
	for i := range L {
		u := w[i] * mod.m0inv
		row := w[i : i+L+1]
		var c uint64
		for j := range len(m) {
			hi, lo := bits.Mul64(u, m[j])
			lo, cc := bits.Add64(lo, row[j], 0)
			hi += cc
			lo, cc = bits.Add64(lo, c, 0)
			c = hi + cc
			row[j] = lo
		}
		row[L], top = bits.Add64(row[L], c, top)
	}
	copy(z, w[L:2*L])
	mod.reduceOnce(z, top, w[:L])
}

// windowBits is the fixed window width of [modulus.exp].
const windowBits = 4

// exp sets z = x^e mod m for x < m in normal (not Montgomery) form. Every bit
// of e's len(e)·64 bits is processed: 4 squarings and one multiplication per
// window, the multiplicand read by a full masked scan of the table.
func (mod *modulus) exp(z, x, e nat) {
	L := len(mod.m)
	t := make(nat, L+1)
	var table [1 << windowBits]nat
	table[0] = append(nat(nil), mod.one...)
	table[1] = make(nat, L)
	mod.montMul(table[1], x, mod.rr, t) // x·R mod m
	for k := 2; k < len(table); k++ {
		table[k] = make(nat, L)
		mod.montMul(table[k], table[k-1], table[1], t)
	}
	acc := append(nat(nil), mod.one...)
	sel := make(nat, L)
	for i := len(e) - 1; i >= 0; i-- {
		for shift := 64 - windowBits; shift >= 0; shift -= windowBits {
			for range windowBits {
				mod.montMul(acc, acc, acc, t)
			}
			w := (e[i] >> uint(shift)) & (1<<windowBits - 1)
			clear(sel)
			for k := range table {
				mask := ctEq(uint64(k), w)
				for j := range sel {
					sel[j] |= table[k][j] & mask
				}
			}
			mod.montMul(acc, acc, sel, t)
		}
	}
	// Leave Montgomery form: acc·1·R⁻¹.
	oneNormal := make(nat, L)
	oneNormal[0] = 1
	mod.montMul(z, acc, oneNormal, t)
}
