package pir

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// heParams are the BFV encryption parameters of a shard: ring degree N,
// plaintext modulus t and the coefficient moduli q_0..q_{L-1}, the last being
// the special key-switching prime P (he-spec §1).
type heParams struct {
	n      int
	t      uint64
	moduli []uint64
}

// preset is one of Apple's predefined parameter sets (he-spec §1.2), by name.
type preset struct {
	name   string
	n      int
	t      uint64
	moduli []uint64
	// unusable, when set, says why keyword PIR refuses the preset.
	unusable string
}

// Reasons a preset is refused.
const (
	// Plaintext moduli ≡ 1 mod 2N (CRT batching): Apple's own keyword PIR
	// fails with them (shared/vectors README, "Known limits").
	crtReason = "has a plaintext modulus ≡ 1 mod 2N (CRT batching); Apple's keyword PIR fails with such presets"
	// t ≈ 2^12 against q0 ≈ 2^27 leaves no noise budget after a 2-D MulPIR
	// answer (measured: budget ≈ 0, decryption fails).
	noiseReason = "leaves no noise budget for a 2-dimensional MulPIR answer (t too large for q0)"
)

var (
	moduli27_28_28 = []uint64{134176769, 268369921, 268361729}
	moduli16_33_33 = []uint64{40961, 8589852673, 8589844481}
	moduli3x55     = []uint64{36028797018652673, 36028797017571329, 36028797017456641}
	moduli28_60_60 = []uint64{268369921, 1152921504606830593, 1152921504606748673}
	moduli29_60_60 = []uint64{536690689, 1152921504606830593, 1152921504606748673}
	moduli40_60_60 = []uint64{1099511480321, 1152921504606830593, 1152921504606748673}
)

// presets lists Apple's PredefinedRlweParameters usable with 128-bit security.
var presets = []preset{
	{"n_4096_logq_16_33_33_logt_4", 4096, 11, moduli16_33_33, ""},
	{"n_4096_logq_27_28_28_logt_4", 4096, 11, moduli27_28_28, ""},
	{"n_4096_logq_27_28_28_logt_5", 4096, 17, moduli27_28_28, ""},
	{"n_4096_logq_27_28_28_logt_6", 4096, 37, moduli27_28_28, ""},
	{"n_4096_logq_27_28_28_logt_13", 4096, 4099, moduli27_28_28, noiseReason},
	{"n_4096_logq_27_28_28_logt_16", 4096, 40961, moduli27_28_28, crtReason},
	{"n_4096_logq_27_28_28_logt_17", 4096, 65537, moduli27_28_28, crtReason},
	{"n_8192_logq_3x55_logt_24", 8192, 8404993, moduli3x55, crtReason},
	{"n_8192_logq_3x55_logt_29", 8192, 268582913, moduli3x55, crtReason},
	{"n_8192_logq_3x55_logt_30", 8192, 536903681, moduli3x55, crtReason},
	{"n_8192_logq_3x55_logt_42", 8192, 2199023288321, moduli3x55, crtReason},
	{"n_8192_logq_28_60_60_logt_20", 8192, 557057, moduli28_60_60, crtReason},
	{"n_8192_logq_29_60_60_logt_15", 8192, 16411, moduli29_60_60, ""},
	{"n_8192_logq_40_60_60_logt_26", 8192, 33832961, moduli40_60_60, crtReason},
}

// Presets returns the names of Apple's parameter presets that keyword PIR
// accepts, in a stable order.
func Presets() []string {
	var out []string
	for _, p := range presets {
		if p.unusable == "" {
			out = append(out, p.name)
		}
	}
	return out
}

// lookupPreset returns the parameters of a preset keyword PIR can use.
func lookupPreset(name string) (heParams, error) {
	for _, p := range presets {
		if p.name != name {
			continue
		}
		if p.unusable != "" {
			return heParams{}, fmt.Errorf("pir: preset %s %s; use one of %v", name, p.unusable, Presets())
		}
		return heParams{n: p.n, t: p.t, moduli: p.moduli}, nil
	}
	return heParams{}, fmt.Errorf("pir: unknown rlwe preset %q, want one of %v", name, Presets())
}

// presetName returns the Apple preset name of p, or "" if p is not a preset.
func (p heParams) presetName() string {
	for _, q := range presets {
		if q.n == p.n && q.t == p.t && slices.Equal(q.moduli, p.moduli) {
			return q.name
		}
	}
	return ""
}

// plaintextBits is floorLog2(t), the bits per plaintext coefficient.
func (p heParams) plaintextBits() int { return bits.Len64(p.t) - 1 }

// bytesPerPlaintext is floor(N·floorLog2(t)/8) (he-spec §1.1).
func (p heParams) bytesPerPlaintext() int { return p.n * p.plaintextBits() / 8 }

// ctModuli are the ciphertext moduli q_0..q_{L-2}.
func (p heParams) ctModuli() []uint64 { return p.moduli[:len(p.moduli)-1] }

// narrow reports whether every ciphertext modulus is below 2^32, so
// residues fit in uint32.
func (p heParams) narrow() bool { return slices.Max(p.ctModuli()) < 1<<32 }

// polyBytes is the serialized size of one polynomial over the first count
// moduli without dropped bits (he-spec §6.1).
func (p heParams) polyBytes(count int) int {
	s := 0
	for _, q := range p.moduli[:count] {
		s += (p.n*ceilLog2(q) + 7) / 8
	}
	return s
}

// ceilLog2 is the smallest b with 2^b ≥ x.
func ceilLog2(x uint64) int {
	if x <= 1 {
		return 0
	}
	return bits.Len64(x - 1)
}

func (p heParams) equal(o heParams) bool {
	return p.n == o.n && p.t == o.t && slices.Equal(p.moduli, o.moduli)
}

// proto returns the EncryptionParameters message Apple writes for p.
func (p heParams) proto() *hepb.EncryptionParameters {
	return &hepb.EncryptionParameters{
		PolynomialDegree:  uint64(p.n),
		PlaintextModulus:  p.t,
		CoefficientModuli: slices.Clone(p.moduli),
		SecurityLevel:     hepb.SecurityLevel_SECURITY_LEVEL_QUANTUM128,
		HeScheme:          hepb.HeScheme_HE_SCHEME_BFV,
	}
}

// heParamsFromProto accepts exactly the presets keyword PIR supports, with
// 128-bit security and BFV; anything else is an error.
func heParamsFromProto(m *hepb.EncryptionParameters) (heParams, error) {
	if m == nil {
		return heParams{}, fmt.Errorf("pir: encryption parameters are missing")
	}
	if m.GetHeScheme() != hepb.HeScheme_HE_SCHEME_BFV {
		return heParams{}, fmt.Errorf("pir: he scheme %v, want BFV", m.GetHeScheme())
	}
	if m.GetSecurityLevel() != hepb.SecurityLevel_SECURITY_LEVEL_QUANTUM128 {
		return heParams{}, fmt.Errorf("pir: security level %v, want QUANTUM128", m.GetSecurityLevel())
	}
	if m.GetErrorStdDev() != hepb.ErrorStdDev_ERROR_STD_DEV_STDDEV32 {
		return heParams{}, fmt.Errorf("pir: error std dev %v, want STDDEV32", m.GetErrorStdDev())
	}
	p := heParams{n: int(m.GetPolynomialDegree()), t: m.GetPlaintextModulus(), moduli: m.GetCoefficientModuli()}
	name := ""
	if m.GetPolynomialDegree() <= 1<<20 {
		name = p.presetName()
	}
	if name == "" {
		return heParams{}, fmt.Errorf("pir: encryption parameters N=%d t=%d moduli=%v are not an Apple preset", m.GetPolynomialDegree(), p.t, p.moduli)
	}
	return lookupPreset(name)
}
