package pir

// MSB-first bit packing (he-spec §3.4, §6.1; Apple CoefficientPacking.swift):
// values of width bits are written most significant bit first into a
// continuous big-endian bit stream; a final partial byte is zero-padded in
// its low bits.

// packBits appends the width-bit big-endian bit stream of vals to dst.
// Every value must be < 2^width; width is at most 64.
func packBits(dst []byte, vals []uint64, width int) []byte {
	var acc uint64 // pending bits, right-aligned
	nacc := 0
	for _, v := range vals {
		rem := width
		for rem > 0 {
			take := min(rem, 56) // nacc < 8 here, so 56 more bits fit in acc
			part := (v >> (rem - take)) & (1<<take - 1)
			acc = acc<<take | part
			nacc += take
			rem -= take
			for nacc >= 8 {
				dst = append(dst, byte(acc>>(nacc-8)))
				nacc -= 8
			}
			acc &= 1<<nacc - 1
		}
	}
	if nacc > 0 {
		dst = append(dst, byte(acc<<(8-nacc)))
	}
	return dst
}

// unpackBits reads n values of width bits from the big-endian bit stream src
// into dst (len(dst) ≥ n). Bits past the end of src read as zero, so a short
// final value is left-aligned as Apple's bytes-to-coefficients encoding does.
func unpackBits(dst []uint64, src []byte, n, width int) {
	var acc uint64
	nacc := 0
	pos := 0
	for i := range n {
		var v uint64
		rem := width
		for rem > 0 {
			if nacc == 0 {
				acc = 0
				if pos < len(src) {
					acc = uint64(src[pos])
				}
				pos++
				nacc = 8
			}
			take := min(rem, nacc)
			v = v<<take | (acc>>(nacc-take))&(1<<take-1)
			nacc -= take
			rem -= take
		}
		dst[i] = v
	}
}

// packedLen is the number of bytes n width-bit values occupy.
func packedLen(n, width int) int { return (n*width + 7) / 8 }
