package bfv

import (
	"fmt"
	"sync/atomic"

	"github.com/blindlist/blindlist/pir/he/ring"
)

// Format says whether a polynomial holds coefficients or Apple NTT slots.
// It is not on the wire: the receiver knows it (he-spec §2.3).
type Format uint8

// Polynomial formats.
const (
	Coeff Format = iota // coefficients (BFV's canonical ciphertext format)
	Eval                // NTT slots in Apple's order (he-spec §2.2)
)

func (f Format) String() string {
	switch f {
	case Coeff:
		return "Coeff"
	case Eval:
		return "Eval"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// SeedSize is the length of a ciphertext seed (the DRBG entropy input).
const SeedSize = 32

// Plaintext is a BFV plaintext. A Coeff plaintext has one row modulo t; an
// Eval plaintext is lifted into the first Level ciphertext moduli and held
// in NTT form (he-spec §3.3), ready for [Evaluator.MulPlain] and
// [Evaluator.InnerProduct].
type Plaintext struct {
	// Poly holds the values: 1 row mod t (Coeff) or Level rows (Eval).
	Poly *ring.Poly
	// Format is Coeff or Eval.
	Format Format
}

// Level returns the number of ciphertext moduli of an Eval plaintext (0 for
// Coeff plaintexts).
func (pt *Plaintext) Level() int {
	if pt.Format == Coeff {
		return 0
	}
	return pt.Poly.Rows()
}

// Ciphertext is a BFV ciphertext: 2 polynomials (3 after an
// unrelinearized product) over the first Level() ciphertext moduli, all in
// the same Format (he-spec §4.1).
type Ciphertext struct {
	// Polys are c_0, c_1 (, c_2); decryption computes Σ c_i·s^i.
	Polys []*ring.Poly
	// Format is the format of every polynomial.
	Format Format
	// Seed is the 32-byte seed c_1 was expanded from, or nil. It is kept
	// only while c_1 is unchanged, and makes the ciphertext serialize in
	// seeded form.
	Seed []byte
	// CorrectionFactor is Apple's correction factor (1 for every ciphertext
	// this package produces).
	CorrectionFactor uint64
}

// Level returns the number of RNS rows (ciphertext moduli q_0..q_{l-1}).
func (ct *Ciphertext) Level() int { return ct.Polys[0].Rows() }

// Degree returns the number of polynomials minus one.
func (ct *Ciphertext) Degree() int { return len(ct.Polys) - 1 }

// NewCiphertext returns a zero ciphertext with count polynomials at level
// l in format f (correction factor 1).
func (p *Params) NewCiphertext(count, l int, f Format) *Ciphertext {
	ct := &Ciphertext{Polys: make([]*ring.Poly, count), Format: f, CorrectionFactor: 1}
	for i := range ct.Polys {
		ct.Polys[i] = ring.NewPoly(p.n, l)
	}
	return ct
}

// Clone returns a deep copy of ct.
func (ct *Ciphertext) Clone() *Ciphertext {
	c := &Ciphertext{Polys: make([]*ring.Poly, len(ct.Polys)), Format: ct.Format,
		CorrectionFactor: ct.CorrectionFactor}
	for i, p := range ct.Polys {
		c.Polys[i] = p.Clone()
	}
	if ct.Seed != nil {
		c.Seed = append([]byte(nil), ct.Seed...)
	}
	return c
}

// SecretKey is the ternary secret s in Eval form over all L moduli
// (he-spec §4.2, §6.3).
type SecretKey struct {
	// Poly is s in NTT form, one row per modulus q_0..q_{L-1}.
	Poly *ring.Poly
}

// KeySwitchKey is a key-switching key from some s' to s: L-1 Eval
// ciphertexts over all L moduli, K_j carrying P·s' in row j
// (he-spec §5.1).
//
// An [Evaluator] caches derived tables in the key on first use (see
// keySwitch32), so the residues of Keys must not change once the key has
// been used; build a new KeySwitchKey instead.
type KeySwitchKey struct {
	// Keys are K_0..K_{L-2}, each 2 Eval polys over all L moduli.
	Keys []*Ciphertext

	// shoup caches the 32-bit Shoup companions or the 52-bit Montgomery
	// forms of Keys (KeySwitchKey.companions).
	shoup atomic.Pointer[keyShoup]
}

// EvaluationKey holds the Galois keys (by Galois element) and the optional
// relinearization key a client uploads (he-spec §6.3).
type EvaluationKey struct {
	// Galois maps a Galois element g to the key switching from σ_g(s) to s.
	Galois map[uint64]*KeySwitchKey
	// Relin switches from s² to s; nil when absent.
	Relin *KeySwitchKey
}
