package bloom

import (
	"errors"
	"fmt"
	"math"
)

// ErrTooManyBits reports that the sizing formula asks for more than
// 2³² − 1 bits. The device reduces uint32 sums modulo m, so m must be a
// uint32 (client-spec §2.4); split the list or raise the tolerance.
var ErrTooManyBits = errors.New("bloom: bit count does not fit in 32 bits")

// Size returns Apple's bit count m and hash count k for n keys and a target
// per-key false-positive rate p (client-spec §2.2, SwiftBloomFilter
// calculateBitCount and calculateHashCount):
//
//	m = ⌈−(n · ln p / (ln 2)²)⌉,   k = ⌈(m / n) · ln 2⌉
//
// evaluated in float64 in the same order as the sample, so m and k match
// Apple's tool. n must be positive and 0 < p < 1.
func Size(n int, p float64) (m, k uint32, err error) {
	if n <= 0 {
		return 0, 0, fmt.Errorf("bloom: item count %d, want at least 1", n)
	}
	if !(p > 0 && p < 1) {
		return 0, 0, fmt.Errorf("bloom: false-positive tolerance %v is outside (0, 1)", p)
	}
	nf := float64(n)
	mf := math.Ceil(-(nf * math.Log(p) / ln2Squared))
	if mf > math.MaxUint32 {
		return 0, 0, fmt.Errorf("%w: %d keys at tolerance %v need %.0f bits", ErrTooManyBits, n, p, mf)
	}
	m = uint32(mf)
	kf := math.Ceil((float64(m) / nf) * math.Ln2)
	return m, uint32(kf), nil
}

// ln2Squared is (ln 2)² as C's pow(M_LN2, 2.0) returns it on Apple's
// platforms and glibc: the float64 square of Ln2 rounded once. Go's
// math.Pow(math.Ln2, 2) is one ulp larger, which moves m by one for some n.
const ln2Squared = float64(math.Ln2) * float64(math.Ln2)

// ByteCount returns the length in bytes of an m-bit array, ⌈m/8⌉.
func ByteCount(m uint32) int {
	return int((uint64(m) + 7) / 8)
}

// ToleranceForVisit returns the per-key false-positive rate p that keeps
// the chance that one visited URL reaches PIR at most perVisit, when the
// device tests subURLs independent keys per visit (client-spec §3.2;
// anchors §7): 1 − (1 − p)^S = perVisit, so p = 1 − (1 − perVisit)^(1/S),
// computed with Log1p and Expm1 to keep precision for small rates.
//
// The 48-string example of client-spec §3.1 is a deep URL; a typical page
// load probes 12 to 48 sub-URLs.
func ToleranceForVisit(perVisit float64, subURLs int) (float64, error) {
	if !(perVisit > 0 && perVisit < 1) {
		return 0, fmt.Errorf("bloom: per-visit rate %v is outside (0, 1)", perVisit)
	}
	if subURLs < 1 {
		return 0, fmt.Errorf("bloom: %d sub-URLs per visit, want at least 1", subURLs)
	}
	p := -math.Expm1(math.Log1p(-perVisit) / float64(subURLs))
	if !(p > 0 && p < 1) {
		return 0, fmt.Errorf("bloom: per-visit rate %v over %d sub-URLs gives no usable per-key rate", perVisit, subURLs)
	}
	return p, nil
}

// FalsePositiveRate returns the expected false-positive rate of a filter
// with m bits and k hashes holding n distinct keys, (1 − e^(−k·n/m))^k.
func FalsePositiveRate(m, k uint32, n int) float64 {
	if m == 0 {
		return 1
	}
	return math.Pow(-math.Expm1(-float64(k)*float64(n)/float64(m)), float64(k))
}
