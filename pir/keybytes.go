package pir

import (
	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// Terms of [EvaluationKeyHeapBytes].
const (
	// keyWordBytes is one residue coefficient in memory (ring.Poly holds
	// uint64 words, whatever the modulus width).
	keyWordBytes = 8

	// keySwitchKeyOverhead covers what a key-switching key holds besides
	// its coefficients: the Ciphertext and Poly structs, slice headers and
	// the Galois map entry. Measured at 0.5-0.7 KB; 4 KiB keeps the
	// estimate an upper bound.
	keySwitchKeyOverhead = 4 << 10
)

// EvaluationKeyHeapBytes estimates the heap held by one parsed evaluation
// key of configuration kc once it has answered a request, on this CPU. It
// is an upper bound, within a few percent of the measured heap on Apple's
// vector sets (api's TestParsedKeyBytesMatchesHeap), and 0 when kc names no
// key-switching key.
//
// Derivation (he-spec §5, hybrid key switching with one special modulus P):
// with N the ring degree and L the number of moduli (ciphertext moduli and
// P), each key-switching key (one per Galois element, one more for
// relinearization) holds L−1 ciphertexts of 2 polynomials over all L moduli
// in NTT form, N 8-byte words per residue:
//
//	16·(L−1)·L·N bytes per key-switching key
//
// and as many again when package bfv caches a second copy of the residues
// on the key's first use ([bfv.CachesKeyResidues]: 52-bit Montgomery forms
// on AVX-512 IFMA CPUs for moduli below 2^50, else 32-bit Shoup companions
// for moduli below 2^30). For the URL-filter preset
// n_4096_logq_27_28_28_logt_5 (N = 4096, L = 3) that is 2 × 393 216 bytes
// per key-switching key: 6.3 MB for a 100 000-key shard's key (7 Galois
// elements + relinearization), which travels as 681 KB.
func EvaluationKeyHeapBytes(kc *hepb.EvaluationKeyConfig) int64 {
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
	perKey := 2 * (L - 1) * L * n * keyWordBytes
	if bfv.CachesKeyResidues(int(n), moduli) {
		perKey *= 2
	}
	return keys * (perKey + keySwitchKeyOverhead)
}
