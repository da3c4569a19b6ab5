package ring

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"

	"github.com/blindlist/blindlist/pir/he/modq"
)

// SampleUniform fills the first len(b) rows of p from r exactly as Apple's
// randomizeUniform (he-spec §7.3): row by row, each value is the next 16
// bytes read as a little-endian uint128, reduced mod q_i (no rejection).
// Fed with the seeded DRBG stream, the result is a polynomial in NTT (Eval)
// form. buf is scratch of any length >= 16 (nil allocates).
func (b Basis) SampleUniform(r io.Reader, p *Poly, buf []byte) error {
	b.check(p)
	const chunk = 1024 // Apple reads min(N, 1024) values per call; the stream is sequential either way.
	if len(buf) < 16 {
		buf = make([]byte, 16*chunk)
	}
	buf = buf[:len(buf)/16*16]
	for i, t := range b {
		row := p.Row(i)
		m := &t.M
		for j := 0; j < len(row); {
			k := min(len(row)-j, len(buf)/16)
			if _, err := io.ReadFull(r, buf[:16*k]); err != nil {
				return fmt.Errorf("ring: reading uniform randomness: %w", err)
			}
			for s := 0; s < k; s++ {
				lo := binary.LittleEndian.Uint64(buf[16*s:])
				hi := binary.LittleEndian.Uint64(buf[16*s+8:])
				row[j+s] = m.Reduce128(hi, lo)
			}
			j += k
		}
	}
	return nil
}

// SampleTernary returns N small integers in {-1, 0, 1} drawn as Apple's
// randomizeTernary (he-spec §4.2): per coefficient, U = (u64 << 32) | u32
// from the next 8 + 4 little-endian bytes, value (U mod 3) - 1.
func SampleTernary(r io.Reader, n int) ([]int64, error) {
	out := make([]int64, n)
	var buf [12]byte
	for i := range out {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return nil, fmt.Errorf("ring: reading ternary randomness: %w", err)
		}
		u64 := binary.LittleEndian.Uint64(buf[:8])
		u32 := uint64(binary.LittleEndian.Uint32(buf[8:]))
		// U = u64·2^32 + u32 as a 96-bit value; U mod 3.
		hi := u64 >> 32
		lo := u64<<32 | u32
		_, rem := bits.Div64(hi%3, lo, 3)
		out[i] = int64(rem) - 1
	}
	return out, nil
}

// SampleCBD returns N centered-binomial integers with k = ceil(2σ²) coin
// pairs, drawn as Apple's randomizeCenteredBinomialDistribution
// (he-spec §4.2): per coefficient 2·ceil(k/64) little-endian u64 words, the
// last word of each half masked to k mod 64 bits, value
// popcount(first half) - popcount(second half).
func SampleCBD(r io.Reader, n int, k int) ([]int64, error) {
	words := (k + 63) / 64
	lastMask := ^uint64(0)
	if k%64 != 0 {
		lastMask = 1<<(k%64) - 1
	}
	out := make([]int64, n)
	buf := make([]byte, 16*words)
	for i := range out {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("ring: reading CBD randomness: %w", err)
		}
		var v int
		for h := 0; h < 2; h++ {
			c := 0
			for w := 0; w < words; w++ {
				x := binary.LittleEndian.Uint64(buf[8*(h*words+w):])
				if w == words-1 {
					x &= lastMask
				}
				c += bits.OnesCount64(x)
			}
			if h == 0 {
				v += c
			} else {
				v -= c
			}
		}
		out[i] = int64(v)
	}
	return out, nil
}

// SetSmall sets every row of p to the small signed integers v (len N),
// reduced mod each q_i. The values are secret (secret-key and error
// coefficients), so the reduction is constant time: no branch or memory
// access depends on a value or its sign (see reduceSigned).
func (b Basis) SetSmall(p *Poly, v []int64) {
	b.check(p)
	for i, t := range b {
		m := &t.M
		row := p.Row(i)
		row = row[:len(v)]
		for j, x := range v {
			row[j] = reduceSigned(m, x)
		}
	}
}

// reduceSigned returns x mod q in [0, q) for any int64 x, in constant time:
// |x| is taken with the sign mask (x >> 63), reduced by Barrett
// ([modq.Modulus.Reduce]), negated ([modq.Modulus.Neg]), and the result
// for the sign is selected by masking, so neither the sign nor the
// magnitude of x steers a branch.
//
// It is kept out of line so that TestReduceSignedBranchFree can read its
// machine code and check that it holds no conditional jump; the call costs
// a few nanoseconds per coefficient on the client's key and error sampling.
//
//go:noinline
func reduceSigned(m *modq.Modulus, x int64) uint64 {
	neg := uint64(x >> 63)         // all ones when x < 0, else 0
	abs := (uint64(x) ^ neg) - neg // |x|, also for math.MinInt64 (2^63)
	r := m.Reduce(abs)
	n := m.Neg(r)
	return r ^ ((r ^ n) & neg)
}
