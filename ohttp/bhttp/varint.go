package bhttp

// QUIC variable-length integers, RFC 9000 §16: the two most significant bits
// of the first byte give the encoded length (00 = 1, 01 = 2, 10 = 4, 11 = 8
// bytes), the remaining bits hold the value in network byte order. Encodings
// need not be minimal (RFC 9292 §3), so the decoder accepts any length.

// readVarint decodes one varint from the front of b and returns the value and
// the number of bytes read. ok is false when b is shorter than the encoding.
func readVarint(b []byte) (v uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	n = 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0, false
	}
	v = uint64(b[0] & 0x3f)
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n, true
}

// varintLen is the length of the minimal encoding of v (v < 2^62, the largest a varint holds).
func varintLen(v uint64) int {
	switch {
	case v < 1<<6:
		return 1
	case v < 1<<14:
		return 2
	case v < 1<<30:
		return 4
	default:
		return 8
	}
}

// appendVarint appends the minimal encoding of v, which must be below 2^62.
func appendVarint(b []byte, v uint64) []byte {
	switch varintLen(v) {
	case 1:
		return append(b, byte(v))
	case 2:
		return append(b, 0x40|byte(v>>8), byte(v))
	case 4:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	default:
		return append(b, 0xc0|byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}
