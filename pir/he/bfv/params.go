package bfv

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// SecurityLevel is Apple's security level: Unchecked (protobuf
// SECURITY_LEVEL_UNSPECIFIED) skips the modulus-size bound, Quantum128
// enforces it (he-spec §1.1, §1.3).
type SecurityLevel int

// Security levels.
const (
	Unchecked SecurityLevel = iota
	Quantum128
)

// ErrParams reports parameters that fail Apple's validation.
var ErrParams = errors.New("bfv: invalid encryption parameters")

// Apple's internal RNS constants no modulus may equal (he-spec §1.1).
const (
	rnsCorrection64 = 1<<62 - 40797 // γ for UInt64 words
	rnsCorrection32 = 1<<30 - 20405 // γ for UInt32 words
	maxModuli       = 32
	maxModulus32    = 1<<30 - 1
)

// ParamsLiteral is the unchecked description of a parameter set; [NewParams]
// validates it into an immutable [Params]. A literal equal to one of Apple's
// presets (with WordBits 0) yields that preset, name and word size included.
type ParamsLiteral struct {
	// N is the ring degree (power of two).
	N int
	// T is the plaintext modulus.
	T uint64
	// Moduli are q_0..q_{L-1}; the last one is the special key-switching
	// modulus P when L > 1.
	Moduli []uint64
	// Security is the security level to check against.
	Security SecurityLevel
	// WordBits is the word size Apple runs these parameters with (32 or
	// 64). It shows on the wire only in ciphertext products (m̃, he-spec
	// §4.5). 0 selects 32 when every modulus and t fit Apple's 32-bit
	// Modulus (< 2^30), else 64.
	WordBits int
}

// Params is a validated, immutable BFV parameter set with its precomputed
// tables. It is safe for concurrent use.
type Params struct {
	name     string
	n        int
	t        uint64
	moduli   []uint64
	security SecurityLevel
	wordBits int

	tMod     modq.Modulus
	keyB     ring.Basis                // all L moduli (secret-key / key-switching context)
	bits     []int                     // ceilLog2 of each modulus
	levels   []*level                  // levels[l] for l = 1..ctModuli (index 0 unused)
	mulOnces [][mulPairClasses]mulOnce // ct×ct tables per level and pair class, built on first use
	// monoOnces are the Eval monomials X^(±2^a), a = 0..log2(N), per level
	// ([l][sign][a]), built on first use and shared by all evaluators
	// (Evaluator.monomial): query expansion multiplies by X^(−2^(ℓ−1)).
	monoOnces [][2][]monoOnce
}

type preset struct {
	name     string
	n        int
	t        uint64
	moduli   []uint64
	security SecurityLevel
	word32   bool
}

var (
	moduli5x18     = []uint64{131249, 131297, 131441, 131489, 131617}
	moduli4x60     = []uint64{576460752303436801, 576460752303439873, 576460752303447041, 576460752303471617}
	moduli27_28_28 = []uint64{134176769, 268369921, 268361729}
	moduli16_33_33 = []uint64{40961, 8589852673, 8589844481}
	moduli3x55     = []uint64{36028797018652673, 36028797017571329, 36028797017456641}
	moduli28_60_60 = []uint64{268369921, 1152921504606830593, 1152921504606748673}
	moduli29_60_60 = []uint64{536690689, 1152921504606830593, 1152921504606748673}
	moduli40_60_60 = []uint64{1099511480321, 1152921504606830593, 1152921504606748673}
)

// presets is Apple's PredefinedRlweParameters (he-spec §1.2), by Apple's
// exact names; word32 is Apple's supportsScalar32.
var presets = []preset{
	{"insecure_n_16_logq_60_logt_15", 16, 16417, []uint64{1152921504606830593}, Unchecked, false},
	{"insecure_n_512_logq_4x60_logt_20", 512, 525313, moduli4x60, Unchecked, false},
	{"insecure_n_8_logq_5x18_logt_5", 8, 17, moduli5x18, Unchecked, true},
	{"n_4096_logq_16_33_33_logt_4", 4096, 11, moduli16_33_33, Quantum128, false},
	{"n_4096_logq_27_28_28_logt_13", 4096, 4099, moduli27_28_28, Quantum128, true},
	{"n_4096_logq_27_28_28_logt_16", 4096, 40961, moduli27_28_28, Quantum128, true},
	{"n_4096_logq_27_28_28_logt_17", 4096, 65537, moduli27_28_28, Quantum128, true},
	{"n_4096_logq_27_28_28_logt_4", 4096, 11, moduli27_28_28, Quantum128, true},
	{"n_4096_logq_27_28_28_logt_5", 4096, 17, moduli27_28_28, Quantum128, true},
	{"n_4096_logq_27_28_28_logt_6", 4096, 37, moduli27_28_28, Quantum128, true},
	{"n_8192_logq_28_60_60_logt_20", 8192, 557057, moduli28_60_60, Quantum128, false},
	{"n_8192_logq_29_60_60_logt_15", 8192, 16411, moduli29_60_60, Quantum128, false},
	{"n_8192_logq_3x55_logt_24", 8192, 8404993, moduli3x55, Quantum128, false},
	{"n_8192_logq_3x55_logt_29", 8192, 268582913, moduli3x55, Quantum128, false},
	{"n_8192_logq_3x55_logt_30", 8192, 536903681, moduli3x55, Quantum128, false},
	{"n_8192_logq_3x55_logt_42", 8192, 2199023288321, moduli3x55, Quantum128, false},
	{"n_8192_logq_40_60_60_logt_26", 8192, 33832961, moduli40_60_60, Quantum128, false},
}

// PresetNames returns the names of Apple's predefined parameter sets in
// Apple's declaration order.
func PresetNames() []string {
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.name
	}
	return names
}

// Preset validates and returns the predefined parameter set with Apple's
// exact name (e.g. "n_4096_logq_27_28_28_logt_5").
func Preset(name string) (*Params, error) {
	for _, p := range presets {
		if p.name == name {
			wb := 64
			if p.word32 {
				wb = 32
			}
			par, err := NewParams(ParamsLiteral{N: p.n, T: p.t, Moduli: p.moduli, Security: p.security, WordBits: wb})
			if err != nil {
				return nil, err
			}
			par.name = p.name
			return par, nil
		}
	}
	return nil, fmt.Errorf("bfv: unknown preset %q", name)
}

// maxLog2Q is Apple's maxLog2CoefficientModulus for quantum128 and
// stdDev32 (he-spec §1.3).
func maxLog2Q(n int) (float64, bool) {
	switch n {
	case 1024:
		return 21, true
	case 2048:
		return 41, true
	case 4096:
		return 83, true
	case 8192:
		return 165, true
	case 16384:
		return 330, true
	case 32768:
		return 660, true
	}
	return 0, false
}

// NewParams validates lit with Apple's rules (he-spec §1.1) and precomputes
// the NTT tables and RNS constants.
func NewParams(lit ParamsLiteral) (*Params, error) {
	n, t, qs := lit.N, lit.T, lit.Moduli
	if n < 2 || n&(n-1) != 0 || n > 1<<16 {
		return nil, fmt.Errorf("%w: degree %d is not a power of two in [2, 65536]", ErrParams, n)
	}
	if len(qs) == 0 || len(qs) > maxModuli {
		return nil, fmt.Errorf("%w: %d coefficient moduli, want 1..%d", ErrParams, len(qs), maxModuli)
	}
	name := ""
	if lit.WordBits == 0 {
		for _, ps := range presets {
			if ps.n == n && ps.t == t && slices.Equal(ps.moduli, qs) && ps.security == lit.Security {
				name = ps.name
				lit.WordBits = 64
				if ps.word32 {
					lit.WordBits = 32
				}
			}
		}
	}
	wb := lit.WordBits
	fits32 := t <= maxModulus32
	for _, q := range qs {
		fits32 = fits32 && q <= maxModulus32
	}
	switch wb {
	case 0:
		wb = 64
		if fits32 {
			wb = 32
		}
	case 32:
		if !fits32 {
			return nil, fmt.Errorf("%w: 32-bit words need every modulus below 2^30", ErrParams)
		}
	case 64:
	default:
		return nil, fmt.Errorf("%w: word size %d, want 32 or 64", ErrParams, wb)
	}
	maxQ, gamma, mTilde := uint64(modq.MaxModulus), uint64(rnsCorrection64), uint64(1)<<32
	if wb == 32 {
		maxQ, gamma, mTilde = maxModulus32, rnsCorrection32, 1<<16
	}
	checkPrime := func(what string, q uint64) error {
		if q < 2 || q > maxQ || !modq.IsPrime(q) {
			return fmt.Errorf("%w: %s %d is not a prime below %d", ErrParams, what, q, maxQ+1)
		}
		if q == gamma || q == mTilde {
			return fmt.Errorf("%w: %s %d equals an internal RNS constant", ErrParams, what, q)
		}
		return nil
	}
	if err := checkPrime("plaintext modulus", t); err != nil {
		return nil, err
	}
	log2Sum := 0.0
	for i, q := range qs {
		if err := checkPrime("coefficient modulus", q); err != nil {
			return nil, err
		}
		if q <= t {
			return nil, fmt.Errorf("%w: coefficient modulus %d <= plaintext modulus %d", ErrParams, q, t)
		}
		if q%(2*uint64(n)) != 1 {
			return nil, fmt.Errorf("%w: coefficient modulus %d is not 1 mod 2N", ErrParams, q)
		}
		if slices.Contains(qs[:i], q) {
			return nil, fmt.Errorf("%w: coefficient modulus %d repeated", ErrParams, q)
		}
		log2Sum += math.Log2(float64(q))
	}
	if lit.Security == Quantum128 {
		bound, ok := maxLog2Q(n)
		if !ok {
			return nil, fmt.Errorf("%w: no quantum128 bound for N=%d", ErrParams, n)
		}
		if log2Sum > bound {
			return nil, fmt.Errorf("%w: log2(Q) = %.2f exceeds %v for N=%d", ErrParams, log2Sum, bound, n)
		}
	} else if lit.Security != Unchecked {
		return nil, fmt.Errorf("%w: unknown security level %d", ErrParams, lit.Security)
	}
	p := &Params{name: name, n: n, t: t, moduli: slices.Clone(qs), security: lit.Security, wordBits: wb, tMod: modq.MustNew(t)}
	var err error
	if p.keyB, err = ring.NewBasis(n, qs); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrParams, err)
	}
	for _, q := range qs {
		p.bits = append(p.bits, modq.CeilLog2(q))
	}
	if err := p.precompute(); err != nil {
		return nil, err
	}
	return p, nil
}

// Name returns Apple's preset name, or "" for custom parameters.
func (p *Params) Name() string { return p.name }

// N returns the ring degree.
func (p *Params) N() int { return p.n }

// T returns the plaintext modulus.
func (p *Params) T() uint64 { return p.t }

// Moduli returns a copy of all coefficient moduli q_0..q_{L-1} (the last
// is the special modulus P when L > 1).
func (p *Params) Moduli() []uint64 { return slices.Clone(p.moduli) }

// Security returns the security level the parameters were checked against.
func (p *Params) Security() SecurityLevel { return p.security }

// WordBits returns 32 or 64, the word size Apple runs these parameters with.
func (p *Params) WordBits() int { return p.wordBits }

// MaxLevel returns the number of ciphertext moduli (L-1 when L > 1, else
// 1): the number of RNS rows of a fresh ciphertext.
func (p *Params) MaxLevel() int {
	if len(p.moduli) == 1 {
		return 1
	}
	return len(p.moduli) - 1
}

// SupportsEvaluationKeys reports whether Galois and relinearization keys
// exist for these parameters (L > 1).
func (p *Params) SupportsEvaluationKeys() bool { return len(p.moduli) > 1 }

// SupportsSimd reports whether t ≡ 1 mod 2N.
func (p *Params) SupportsSimd() bool { return p.t%(2*uint64(p.n)) == 1 }

// BitsPerCoeff returns floorLog2(t), the data bits each plaintext
// coefficient carries (he-spec §3.4).
func (p *Params) BitsPerCoeff() int { return modq.FloorLog2(p.t) }

// BytesPerPlaintext returns floor(N·floorLog2(t)/8) (he-spec §1.1).
func (p *Params) BytesPerPlaintext() int { return p.n * p.BitsPerCoeff() / 8 }

// SkipLSBsForDecryption returns the low bits Apple drops from c0 and c1 of
// a single-modulus Coeff ciphertext serialized for decryption
// (skipLSBsForDecryption, he-spec §4.8).
func (p *Params) SkipLSBsForDecryption() [2]int {
	q0, t := p.moduli[0], p.t
	lp := 0
	if q0 >= 2*t {
		lp = modq.FloorLog2(q0/t) - 3
	}
	s0 := max(lp, 0)
	tmp := int(8.0 * math.Sqrt(float64(2*p.n)/9.0))
	s1 := lp
	if tmp != 0 {
		s1 -= modq.CeilLog2(uint64(tmp))
	}
	if s1 <= 1 {
		s0 = max(lp+1, 0)
		s1 = 0
	}
	return [2]int{s0, s1}
}

// basis returns the RNS basis of a ciphertext at level l (moduli
// q_0..q_{l-1}).
func (p *Params) basis(l int) ring.Basis { return p.keyB[:l] }

// Bits returns ceilLog2 of the first l moduli, the per-row bit widths of
// the serialization at level l.
func (p *Params) bitsAt(l int) []int { return p.bits[:l] }
