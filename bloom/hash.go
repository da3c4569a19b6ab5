package bloom

import "math/bits"

// text is the set of key types the hashes accept without copying: a Go
// string or a byte slice, hashed as the same bytes.
type text interface{ ~string | ~[]byte }

// FNV-1a 32-bit parameters (draft-eastlake-fnv §5): offset basis and prime
// 2²⁴ + 2⁸ + 0x93.
const (
	fnvOffset32 = 0x811c9dc5
	fnvPrime32  = 0x01000193
)

// FNV1a32 returns the 32-bit FNV-1a hash of key: for each byte, XOR it into
// the state, then multiply by the FNV prime modulo 2³². This is h1 of the
// prefilter (client-spec §2.3). FNV-1, which multiplies first, is a
// different function and does not match Apple's filter.
func FNV1a32[T text](key T) uint32 {
	h := uint32(fnvOffset32)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= fnvPrime32
	}
	return h
}

// MurmurHash3 x86_32 constants (Appleby, MurmurHash3.cpp).
const (
	murmurC1 = 0xcc9e2d51
	murmurC2 = 0x1b873593
)

// Murmur3 returns MurmurHash3 x86_32 of key with the given seed: 4-byte
// blocks read little-endian, the 1–3 byte tail mixed the standard way, then
// h ^= len and the fmix32 finaliser. This is h2 of the prefilter
// (client-spec §2.3).
func Murmur3[T text](key T, seed uint32) uint32 {
	h := seed
	n := len(key)
	i := 0
	for ; i+4 <= n; i += 4 {
		k := uint32(key[i]) | uint32(key[i+1])<<8 | uint32(key[i+2])<<16 | uint32(key[i+3])<<24
		k *= murmurC1
		k = bits.RotateLeft32(k, 15)
		k *= murmurC2
		h ^= k
		h = bits.RotateLeft32(h, 13)
		h = h*5 + 0xe6546b64
	}
	var k uint32
	switch n - i {
	case 3:
		k ^= uint32(key[i+2]) << 16
		fallthrough
	case 2:
		k ^= uint32(key[i+1]) << 8
		fallthrough
	case 1:
		k ^= uint32(key[i])
		k *= murmurC1
		k = bits.RotateLeft32(k, 15)
		k *= murmurC2
		h ^= k
	}
	h ^= uint32(n)
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// divisor computes x mod m for any uint32 x with one 64-bit multiply and
// the high half of a 64×64 product instead of a division (Lemire, Kaser,
// Kurz, "Faster Remainder by Direct Computation", 2019, §3: with
// c = ⌈2⁶⁴/m⌉, x mod m = ((c·x mod 2⁶⁴)·m) >> 64 for all 32-bit x and m).
// For m = 1, c wraps to 0 and the result is 0, which is also correct.
type divisor struct {
	m uint32
	c uint64
}

func newDivisor(m uint32) divisor {
	return divisor{m: m, c: ^uint64(0)/uint64(m) + 1}
}

func (d divisor) mod(x uint32) uint32 {
	hi, _ := bits.Mul64(d.c*uint64(x), uint64(d.m))
	return uint32(hi)
}

// Indices appends to dst the k bit indices that key sets in a filter with m
// bits and the given seed, in probe order i = 0..k-1:
// ((FNV1a32(key) + i·Murmur3(key, seed)) mod 2³²) mod m. It returns nil if
// m is 0.
func Indices[T text](dst []uint32, key T, m, k, seed uint32) []uint32 {
	if m == 0 {
		return nil
	}
	h1, h2 := FNV1a32(key), Murmur3(key, seed)
	for i := uint32(0); i < k; i++ {
		dst = append(dst, (h1+i*h2)%m)
	}
	return dst
}
