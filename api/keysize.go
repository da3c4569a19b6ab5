package api

import (
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// Terms of [ParsedKeyBytes].
const (
	// wordBytes is one residue coefficient in memory (ring.Poly holds
	// uint64 words, whatever the modulus width).
	wordBytes = 8

	// shoup32MaxModulus bounds the moduli for which package bfv takes its
	// 32-bit key-switching path and caches, on a key's first use, a 32-bit
	// Shoup companion of every key residue beside it (pir/he/bfv
	// keyswitch32.go: word32Max = 2^30). Those companions double the
	// memory of a used key.
	shoup32MaxModulus = 1 << 30

	// keySwitchKeyOverhead covers what a key-switching key holds besides
	// its coefficients: the Ciphertext and Poly structs, slice headers and
	// the Galois map entry. Measured at 0.5-0.7 KB; 4 KiB keeps the
	// estimate an upper bound.
	keySwitchKeyOverhead = 4 << 10
)

// ParsedKeyBytes estimates the heap held by one parsed evaluation key of
// configuration kc after it has answered a request, which is what an entry
// of the server's key cache costs. It is an upper bound, within 1 % of the
// measured heap on Apple's vector sets (TestParsedKeyBytesMatchesHeap;
// docs/sizing.md §3), and is 0 when kc names no key-switching key.
//
// Derivation (he-spec §5, hybrid key switching with one special modulus P):
// with N the ring degree and L the number of moduli (ciphertext moduli and
// P), each key-switching key (one per Galois element, one more for
// relinearization) holds L−1 ciphertexts of 2 polynomials over all L
// moduli in NTT form, N 8-byte words per residue:
//
//	16·(L−1)·L·N bytes per key-switching key
//
// and, when every modulus is below 2^30, as many again for the 32-bit Shoup
// companions package bfv caches on the key's first use. For the URL-filter
// preset n_4096_logq_27_28_28_logt_5 (N = 4096, L = 3) that is
// 2 × 393 216 bytes per key-switching key: 6.3 MB for a 100 000-key shard's
// key (7 Galois elements + relinearization), which travels as 681 KB.
func ParsedKeyBytes(kc *hepb.EvaluationKeyConfig) int64 {
	ep := kc.GetEncryptionParameters()
	n := int64(ep.GetPolynomialDegree())
	moduli := ep.GetCoefficientModuli()
	L := int64(len(moduli))
	keys := int64(len(kc.GetGaloisElements()))
	if kc.GetHasRelinKey() {
		keys++
	}
	if keys == 0 || L < 2 || n == 0 {
		return 0
	}
	perKey := 2 * (L - 1) * L * n * wordBytes
	companions := int64(2)
	for _, q := range moduli {
		if q >= shoup32MaxModulus {
			companions = 1
		}
	}
	return keys * (companions*perKey + keySwitchKeyOverhead)
}
