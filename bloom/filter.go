package bloom

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/bits"
	"runtime"
	"sync"
)

// Params are the three numbers the device needs besides the bits:
// NEURLFilterPrefilter's bitCount, hashCount and murmurSeed.
type Params struct {
	BitCount  uint32 // m, the number of bits (> 0)
	HashCount uint32 // k, the number of probes per key (> 0)
	Seed      uint32 // the MurmurHash3 seed
}

// Filter is an Apple-exact Bloom prefilter: an m-bit array, LSB-first in
// each byte, plus the sizing inputs recorded in the sample's plist. Adding
// keys from several goroutines at once is not safe; use [Filter.AddAll].
type Filter struct {
	params    Params
	div       divisor
	items     int
	tolerance float64
	bits      []byte
}

// New returns an empty filter sized by [Size] for n keys at per-key
// false-positive rate tolerance.
func New(n int, tolerance float64, seed uint32) (*Filter, error) {
	m, k, err := Size(n, tolerance)
	if err != nil {
		return nil, err
	}
	f, err := newFilter(Params{BitCount: m, HashCount: k, Seed: seed}, nil)
	if err != nil {
		return nil, err
	}
	f.items, f.tolerance = n, tolerance
	return f, nil
}

// FromBits returns a filter over an existing bit array, as read from a raw
// prefilter file. bits must hold exactly ⌈m/8⌉ bytes with the unused high
// bits of the last byte clear; the filter keeps bits (no copy). A nil bits
// gives an empty filter.
func FromBits(p Params, bits []byte) (*Filter, error) {
	return newFilter(p, bits)
}

func newFilter(p Params, b []byte) (*Filter, error) {
	if p.BitCount == 0 {
		return nil, fmt.Errorf("bloom: bit count is 0")
	}
	if p.HashCount == 0 {
		return nil, fmt.Errorf("bloom: hash count is 0")
	}
	n := ByteCount(p.BitCount)
	if b == nil {
		b = make([]byte, n)
	}
	if len(b) != n {
		return nil, fmt.Errorf("bloom: bit array has %d bytes, want %d for %d bits", len(b), n, p.BitCount)
	}
	if r := p.BitCount % 8; r != 0 && b[n-1]>>r != 0 {
		return nil, fmt.Errorf("bloom: bits past bit count %d are set", p.BitCount)
	}
	return &Filter{params: p, div: newDivisor(p.BitCount), bits: b}, nil
}

// Params returns the filter's bit count, hash count and seed.
func (f *Filter) Params() Params { return f.params }

// ItemCount returns the key count the filter was sized for (the plist's
// itemCount), or the value read back from an encoding.
func (f *Filter) ItemCount() int { return f.items }

// Tolerance returns the per-key false-positive rate the filter was sized
// for (the plist's falsePositiveTolerance).
func (f *Filter) Tolerance() float64 { return f.tolerance }

// ByteCount returns the length of the bit array, ⌈m/8⌉.
func (f *Filter) ByteCount() int { return len(f.bits) }

// Bits returns the raw bit array the device reads. The caller must not
// modify it.
func (f *Filter) Bits() []byte { return f.bits }

// Tag returns the hex SHA-256 of the bit array, the deterministic
// NEURLFilterPrefilter tag: equal bits give an equal tag on every build.
func (f *Filter) Tag() string {
	sum := sha256.Sum256(f.bits)
	return hex.EncodeToString(sum[:])
}

// set sets the k probes of (h1, h2). The sum h1 + i·h2 is kept as a running
// uint32 that wraps exactly like Swift's &+ and &*.
func (f *Filter) set(h1, h2 uint32) {
	b := f.bits
	for i := uint32(0); i < f.params.HashCount; i++ {
		idx := f.div.mod(h1)
		b[idx>>3] |= 1 << (idx & 7)
		h1 += h2
	}
}

func (f *Filter) test(h1, h2 uint32) bool {
	b := f.bits
	for i := uint32(0); i < f.params.HashCount; i++ {
		idx := f.div.mod(h1)
		if b[idx>>3]&(1<<(idx&7)) == 0 {
			return false
		}
		h1 += h2
	}
	return true
}

// Add sets the bits of key's UTF-8 (or other) bytes, hashed as given.
func (f *Filter) Add(key []byte) {
	f.set(FNV1a32(key), Murmur3(key, f.params.Seed))
}

// AddString is [Filter.Add] for a string, without copying it.
func (f *Filter) AddString(key string) {
	f.set(FNV1a32(key), Murmur3(key, f.params.Seed))
}

// Test reports whether all k bits of key are set: false means the device
// allows key without a PIR lookup, true means "maybe listed".
func (f *Filter) Test(key []byte) bool {
	return f.test(FNV1a32(key), Murmur3(key, f.params.Seed))
}

// TestString is [Filter.Test] for a string, without copying it.
func (f *Filter) TestString(key string) bool {
	return f.test(FNV1a32(key), Murmur3(key, f.params.Seed))
}

// FillRatio returns the fraction of the m bits that are set.
func (f *Filter) FillRatio() float64 {
	var ones int
	for _, b := range f.bits {
		ones += bits.OnesCount8(b)
	}
	return float64(ones) / float64(f.params.BitCount)
}

// Build sizes a filter for len(keys) keys at the given per-key tolerance
// and adds every key, as Apple's BloomFilter(items:falsePositiveTolerance:)
// does (duplicates count in the sizing). workers ≤ 0 means GOMAXPROCS.
func Build(keys []string, tolerance float64, seed uint32, workers int) (*Filter, error) {
	f, err := New(len(keys), tolerance, seed)
	if err != nil {
		return nil, err
	}
	f.AddAll(keys, workers)
	return f, nil
}

// Parallel build limits: below minKeysPerWorker keys a goroutine costs more
// than it saves; private bit arrays together stay under maxPrivateBytes.
const (
	minKeysPerWorker = 1 << 15
	maxPrivateBytes  = 256 << 20
)

// AddAll adds every key using up to workers goroutines (≤ 0 means
// GOMAXPROCS). Each goroutine fills a private copy of the bit array for a
// contiguous run of keys and the copies are ORed together, so the bits are
// the same for any worker count.
func (f *Filter) AddAll(keys []string, workers int) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(keys)/minKeysPerWorker, max(1, maxPrivateBytes/len(f.bits)))
	if workers <= 1 {
		for _, k := range keys {
			f.AddString(k)
		}
		return
	}
	f.addParallel(keys, workers)
}

// addParallel is the parallel half of [Filter.AddAll], for workers ≥ 2.
func (f *Filter) addParallel(keys []string, workers int) {
	parts := make([][]byte, workers)
	chunk := (len(keys) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*chunk, min(len(keys), (w+1)*chunk)
		wg.Go(func() {
			g := *f
			if w > 0 {
				g.bits = make([]byte, len(f.bits))
			}
			for _, k := range keys[lo:hi] {
				g.AddString(k)
			}
			parts[w] = g.bits
		})
	}
	wg.Wait()
	span := (len(f.bits) + workers - 1) / workers
	for w := range workers {
		lo, hi := w*span, min(len(f.bits), (w+1)*span)
		wg.Go(func() {
			dst := f.bits[lo:hi]
			for _, p := range parts[1:] {
				src := p[lo:hi]
				for i := range dst {
					dst[i] |= src[i]
				}
			}
		})
	}
	wg.Wait()
}
