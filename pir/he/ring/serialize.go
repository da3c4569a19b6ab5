package ring

import (
	"errors"
	"fmt"
)

// ErrShortBuffer reports serialized polynomial bytes shorter than the
// layout requires.
var ErrShortBuffer = errors.New("ring: serialized polynomial too short")

// PackedLen returns the byte length of count values packed with bits-skip
// bits each: ceil(count·(bits-skip)/8) (he-spec §3.4).
func PackedLen(count, bits, skip int) int {
	return (count*(bits-skip) + 7) / 8
}

// AppendPacked appends values, each shifted right by skip and written as a
// (bits-skip)-bit big-endian field of one continuous MSB-first bit stream,
// zero-padded to a whole byte (Apple's coefficientsToBytes, he-spec §3.4).
// Values must be < 2^bits; 0 <= skip < bits <= 64.
func AppendPacked(dst []byte, values []uint64, bits, skip int) []byte {
	w := bits - skip
	var acc uint64 // pending bits, right-aligned
	n := 0         // number of pending bits, < 8 between values
	for _, v := range values {
		v >>= skip
		// Emit the field in chunks so acc never overflows.
		for rem := w; rem > 0; {
			take := min(rem, 56-n)
			chunk := (v >> (rem - take)) & (1<<take - 1)
			acc = acc<<take | chunk
			n += take
			rem -= take
			for n >= 8 {
				n -= 8
				dst = append(dst, byte(acc>>n))
			}
			acc &= 1<<n - 1
		}
	}
	if n > 0 {
		dst = append(dst, byte(acc<<(8-n)))
	}
	return dst
}

// UnpackInto reads len(out) fields of bits-skip bits, MSB-first, from src
// and stores each shifted left by skip (Apple's bytesToCoefficients). It
// returns the number of bytes consumed (PackedLen) or ErrShortBuffer. When
// src ends inside the last field, the missing low bits read as zeros only
// if allowPartial is set (Apple's decode: false); otherwise a short src is
// an error.
func UnpackInto(out []uint64, src []byte, bits, skip int, allowPartial bool) (int, error) {
	w := bits - skip
	if w <= 0 || w > 64 || skip < 0 {
		return 0, fmt.Errorf("ring: invalid bit width %d with skip %d", bits, skip)
	}
	need := PackedLen(len(out), bits, skip)
	if len(src) < need && !allowPartial {
		return 0, fmt.Errorf("%w: have %d bytes, want %d", ErrShortBuffer, len(src), need)
	}
	var acc uint64
	n := 0
	pos := 0
	for i := range out {
		var v uint64
		for rem := w; rem > 0; {
			if n == 0 {
				if pos < len(src) {
					acc = uint64(src[pos])
				} else {
					acc = 0
				}
				pos++
				n = 8
			}
			take := min(rem, n)
			v = v<<take | (acc>>(n-take))&(1<<take-1)
			n -= take
			rem -= take
		}
		out[i] = v << skip
	}
	return min(need, len(src)), nil
}

// PolyLen returns the serialized size of a polynomial with degree n over
// moduli of the given bit widths (ceilLog2 q_i) with skip dropped bits
// (he-spec §6.1).
func PolyLen(n int, bits []int, skip int) int {
	s := 0
	for _, b := range bits {
		s += PackedLen(n, b, skip)
	}
	return s
}

// AppendPoly appends the Apple serialization of the first len(bits) rows
// of p: each row packed separately with bits[i] = ceilLog2(q_i) bits per
// residue minus skip, rows concatenated (he-spec §6.1).
func AppendPoly(dst []byte, p *Poly, bits []int, skip int) []byte {
	for i, b := range bits {
		dst = AppendPacked(dst, p.Row(i), b, skip)
	}
	return dst
}

// ReadPoly parses the first len(bits) rows of p from src (layout of
// [AppendPoly]) and returns the number of bytes consumed. Residues are
// checked against moduli (len(moduli) == len(bits)): a value >= q_i is an
// error, as is a src shorter than the layout.
func ReadPoly(p *Poly, src []byte, bits []int, moduli []uint64, skip int) (int, error) {
	if len(moduli) != len(bits) || p.Rows() < len(bits) {
		return 0, fmt.Errorf("ring: internal error: %d moduli, %d widths, %d rows", len(moduli), len(bits), p.Rows())
	}
	if need := PolyLen(p.N, bits, skip); len(src) < need {
		return 0, fmt.Errorf("%w: have %d bytes, want %d", ErrShortBuffer, len(src), need)
	}
	off := 0
	for i, b := range bits {
		if skip >= b {
			return 0, fmt.Errorf("ring: skip %d >= bit width %d", skip, b)
		}
		row := p.Row(i)
		k, err := UnpackInto(row, src[off:], b, skip, false)
		if err != nil {
			return 0, err
		}
		off += k
		q := moduli[i]
		for j, v := range row {
			if v >= q {
				return 0, fmt.Errorf("ring: row %d coefficient %d is %d, not below modulus %d", i, j, v, q)
			}
		}
	}
	return off, nil
}
