// Package bloom builds and reads the Bloom prefilter that Apple's NEURLFilter
// reads on device, bit for bit as Apple's SimpleURLFilter sample builds it.
//
// For most uses, call [Build] with the final key strings and a target
// false-positive rate, then write the result with [Filter.WriteBits],
// [Filter.MarshalPlist] or [Filter.Manifest]. [Filter.Test] answers the
// device's question for one key; [Indices] prints what a vendor needs to
// validate another implementation.
//
// # Algorithm
//
// The filter follows shared/spec/client-spec.md §2, which pins Apple's
// sample (SwiftBloomFilter) with its own known answers:
//
//   - h1 = 32-bit FNV-1a of the key's bytes (XOR, then multiply),
//     h2 = MurmurHash3 x86_32 of the same bytes with the filter's seed;
//   - probe i (0 ≤ i < k) sets bit ((h1 + i·h2) mod 2³²) mod m, the sum
//     wrapping in uint32 exactly as Swift's &+ and &* do;
//   - bit j lives in byte j/8 at position j%8 counted from the least
//     significant bit; unused high bits of the last byte stay 0;
//   - m = ⌈−n·ln p / (ln 2)²⌉ and k = ⌈(m/n)·ln 2⌉, both stored as uint32, so
//     m must fit in a uint32 ([ErrTooManyBits] otherwise).
//
// The device hashes the bytes it is given: this package neither normalises
// nor de-duplicates keys (package blocklist does that). The device tests
// every sub-URL of a visit, so [ToleranceForVisit] turns a target rate per
// visited URL into the per-key rate the sizing formulas take.
//
// # Encodings
//
// The device consumes only the raw bit array plus (m, k, seed) and an opaque
// tag; this package uses the hex SHA-256 of the bit array as the tag. The
// sample's bloom_filter.plist (keys itemCount, falsePositiveTolerance,
// murmurSeed, bitCount, byteCount, hashCount, data) and a JSON [Manifest]
// carry the same values for apps and servers.
//
// # Performance
//
// Indices use Lemire's direct remainder (one 64-bit multiply instead of a
// division per probe) and hashing reads the key's bytes in place, so adding a
// key does not allocate. [Build] spreads keys over goroutines, each filling a
// private copy of the bit array, and ORs the copies: the result does not
// depend on the number of workers.
package bloom
