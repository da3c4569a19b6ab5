package bloom

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

func TestSize(t *testing.T) {
	for _, tc := range []struct {
		n    int
		p    float64
		m, k uint32
	}{
		{10, 0.001, 144, 10},     // SwiftBloomFilterTests bitCount100, hashCount100
		{1000, 0.001, 14378, 10}, // client-spec §2.2
		{1_000_000, 0.001, 14377588, 10},
		{10_000_000, 0.001, 143775876, 10},
		{1_000_000, 1e-4, 19170117, 14},
		{5003, 0.001, 71932, 10}, // shared/vectors/bloom/expected.json
		{1, 0.5, 2, 2},
	} {
		m, k, err := Size(tc.n, tc.p)
		if err != nil || m != tc.m || k != tc.k {
			t.Errorf("Size(%d, %v) = %d, %d, %v; want %d, %d", tc.n, tc.p, m, k, err, tc.m, tc.k)
		}
	}
	if got := ByteCount(144); got != 18 {
		t.Errorf("ByteCount(144) = %d, want 18", got)
	}
	if got := ByteCount(math.MaxUint32); got != 1<<29 {
		t.Errorf("ByteCount(2^32-1) = %d, want %d", got, 1<<29)
	}
	// ln2Squared must be float64(Ln2)² rounded once to nearest, as a
	// correctly rounded pow returns it.
	l := new(big.Float).SetPrec(200).SetFloat64(math.Ln2)
	exact, _ := new(big.Float).SetPrec(200).Mul(l, l).Float64()
	if ln2Squared != exact || ln2Squared != 0.4804530139182014 {
		t.Errorf("ln2Squared = %v, want %v", ln2Squared, exact)
	}
}

func TestSizeErrors(t *testing.T) {
	for _, tc := range []struct {
		n int
		p float64
	}{{0, 0.001}, {-1, 0.001}, {10, 0}, {10, 1}, {10, -0.5}, {10, math.NaN()}, {10, math.Inf(1)}} {
		if _, _, err := Size(tc.n, tc.p); err == nil {
			t.Errorf("Size(%d, %v): no error", tc.n, tc.p)
		}
	}
	// 300M keys at 1e-3 need 4.3 Gbit: one more than a uint32 holds.
	if _, _, err := Size(300_000_000, 0.001); !errors.Is(err, ErrTooManyBits) {
		t.Errorf("Size(3e8, 0.001) error = %v, want ErrTooManyBits", err)
	}
	// The largest n that still fits at 1e-3: m = 4 294 967 290; one key
	// more needs 4 294 967 304 bits.
	if m, _, err := Size(298_726_561, 0.001); err != nil || m != 4_294_967_290 {
		t.Errorf("Size(298726561, 0.001) = %d, %v; want 4294967290", m, err)
	}
	if _, _, err := Size(298_726_562, 0.001); !errors.Is(err, ErrTooManyBits) {
		t.Errorf("Size(298726562, 0.001) error = %v, want ErrTooManyBits", err)
	}
}

func TestToleranceForVisit(t *testing.T) {
	p, err := ToleranceForVisit(0.01, 48)
	if err != nil {
		t.Fatal(err)
	}
	// 1 − (1 − p)^48 must give back the per-visit rate.
	if back := -math.Expm1(48 * math.Log1p(-p)); math.Abs(back-0.01) > 1e-15 {
		t.Errorf("per-visit rate from p=%v is %v, want 0.01", p, back)
	}
	if p < 0.01/48 || p > 0.0101/48 {
		t.Errorf("ToleranceForVisit(0.01, 48) = %v, want just above 0.01/48 ≈ %v", p, 0.01/48)
	}
	if p1, _ := ToleranceForVisit(0.02, 1); p1 != 0.02 {
		t.Errorf("ToleranceForVisit(0.02, 1) = %v, want 0.02", p1)
	}
	for _, bad := range []struct {
		r float64
		s int
	}{{0, 10}, {1, 10}, {0.1, 0}, {math.NaN(), 3}} {
		if _, err := ToleranceForVisit(bad.r, bad.s); err == nil {
			t.Errorf("ToleranceForVisit(%v, %d): no error", bad.r, bad.s)
		}
	}
}
