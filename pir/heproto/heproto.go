// Package heproto converts between Apple's HE protobuf messages
// (apple.swift_homomorphic_encryption.v1, package pir/pb/hepb) and the
// types of package bfv, following Apple's ConversionHe.swift and
// SerializedCiphertext.swift (he-spec §1.4, §6.2–6.4).
//
// Every parser takes bytes from the network: it validates lengths before
// allocating, rejects residues that are not reduced, and returns an error
// (never panics) on malformed input. The package also hosts the tests that
// replay Apple's HE vectors (shared/vectors/he), because package bfv must
// not import protobuf.
//
// # Memory
//
// Parsed keys are larger than their bytes on the wire. A seeded evaluation
// key sends one packed polynomial (ceil(log2 q_i) bits per residue) and a
// seed per key-switching ciphertext; parsed, the seed is expanded into the
// second polynomial and every residue takes a 64-bit word. For the
// n_4096_logq_27_28_28 presets a parsed [EvaluationKeyFromProto] result
// takes about 4.7 times its wire size (2 · 64 / ~27.7 bits, plus per-key
// overhead): Apple's 425 KB n_4096_logq_27_28_28_logt_5 vector key parses
// to 1.97 MB of residues. Budget caches of parsed keys accordingly, and
// parse only bounded uploads ([MaxGaloisKeys] bounds the key count).
package heproto

import (
	"errors"
	"fmt"

	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// ErrUnsupported reports parameters this server does not implement (BGV,
// Apple's NoOp scheme, stdDev64).
var ErrUnsupported = errors.New("heproto: unsupported encryption parameters")

// Bounds on the parameters [ParamsFromProto] builds tables for, so that
// outside bytes cannot make it allocate more than a few MiB.
const (
	// MaxPolyDegree is the largest N Apple's security table knows
	// (quantum128: N ≤ 32768, he-spec §1.3); Apple's presets stop at 8192.
	MaxPolyDegree = 1 << 15
	// MaxModuli is Apple's cap on the number of coefficient moduli
	// (he-spec §1.1); its presets use at most 5.
	MaxModuli = 32
)

// ParamsFromProto validates Apple's EncryptionParameters as Apple's
// conversion does (he-spec §1.4), within [MaxPolyDegree] and [MaxModuli].
// Parameters equal to a preset get that preset (with its name and word
// size); others are validated as custom parameters. Building the tables
// costs a few milliseconds: cache the result per configuration.
func ParamsFromProto(m *hepb.EncryptionParameters) (*bfv.Params, error) {
	if m == nil {
		return nil, errors.New("heproto: missing encryption parameters")
	}
	switch m.GetHeScheme() {
	case hepb.HeScheme_HE_SCHEME_BFV:
	default:
		return nil, fmt.Errorf("%w: scheme %v", ErrUnsupported, m.GetHeScheme())
	}
	if m.GetErrorStdDev() != hepb.ErrorStdDev_ERROR_STD_DEV_STDDEV32 {
		return nil, fmt.Errorf("%w: error std-dev %v", ErrUnsupported, m.GetErrorStdDev())
	}
	var sec bfv.SecurityLevel
	switch m.GetSecurityLevel() {
	case hepb.SecurityLevel_SECURITY_LEVEL_UNSPECIFIED:
		sec = bfv.Unchecked
	case hepb.SecurityLevel_SECURITY_LEVEL_QUANTUM128:
		sec = bfv.Quantum128
	default:
		return nil, fmt.Errorf("%w: security level %v", ErrUnsupported, m.GetSecurityLevel())
	}
	n := m.GetPolynomialDegree()
	if n < 2 || n > MaxPolyDegree || n&(n-1) != 0 {
		return nil, fmt.Errorf("heproto: polynomial degree %d is not a power of two in [2, %d]", n, MaxPolyDegree)
	}
	qs := m.GetCoefficientModuli()
	if len(qs) == 0 || len(qs) > MaxModuli {
		return nil, fmt.Errorf("heproto: %d coefficient moduli, want 1..%d", len(qs), MaxModuli)
	}
	p, err := bfv.NewParams(bfv.ParamsLiteral{N: int(n), T: m.GetPlaintextModulus(), Moduli: qs, Security: sec})
	if err != nil {
		return nil, fmt.Errorf("heproto: %w", err)
	}
	return p, nil
}

// ParamsToProto returns Apple's EncryptionParameters for p (scheme BFV,
// stdDev32).
func ParamsToProto(p *bfv.Params) *hepb.EncryptionParameters {
	sec := hepb.SecurityLevel_SECURITY_LEVEL_UNSPECIFIED
	if p.Security() == bfv.Quantum128 {
		sec = hepb.SecurityLevel_SECURITY_LEVEL_QUANTUM128
	}
	return &hepb.EncryptionParameters{
		PolynomialDegree:  uint64(p.N()),
		PlaintextModulus:  p.T(),
		CoefficientModuli: p.Moduli(),
		ErrorStdDev:       hepb.ErrorStdDev_ERROR_STD_DEV_STDDEV32,
		SecurityLevel:     sec,
		HeScheme:          hepb.HeScheme_HE_SCHEME_BFV,
	}
}

// CiphertextFromProto parses a SerializedCiphertext with l moduli
// (q_0..q_{l-1}) in format f. Queries: l = p.MaxLevel(), Coeff.
func CiphertextFromProto(p *bfv.Params, m *hepb.SerializedCiphertext, l int, f bfv.Format) (*bfv.Ciphertext, error) {
	if m == nil {
		return nil, errors.New("heproto: missing ciphertext")
	}
	switch {
	case m.GetSeeded() != nil:
		s := m.GetSeeded()
		return p.ParseSeededCiphertext(s.GetPoly0(), s.GetSeed(), l, f)
	case m.GetFull() != nil:
		fu := m.GetFull()
		return p.ParseFullCiphertext(fu.GetPolys(), fu.GetSkipLsbs(), fu.GetCorrectionFactor(), l, f)
	}
	return nil, errors.New("heproto: ciphertext has neither seeded nor full form")
}

// CiphertextToProto serializes ct as Apple does: seeded when it has a seed
// and 2 polynomials, else full with one zero skip_lsbs entry per
// polynomial and its correction factor.
func CiphertextToProto(p *bfv.Params, ct *bfv.Ciphertext) (*hepb.SerializedCiphertext, error) {
	if len(ct.Seed) == bfv.SeedSize && len(ct.Polys) == 2 {
		poly0, seed, err := p.SerializeSeeded(ct)
		if err != nil {
			return nil, err
		}
		return &hepb.SerializedCiphertext{SerializedCiphertextType: &hepb.SerializedCiphertext_Seeded{
			Seeded: &hepb.SerializedSeededCiphertext{Poly0: poly0, Seed: seed}}}, nil
	}
	polys, skip, err := p.SerializeFull(ct, nil)
	if err != nil {
		return nil, err
	}
	return fullProto(polys, skip, ct.CorrectionFactor), nil
}

// CiphertextForDecryptionToProto serializes a 2-poly Coeff response
// ciphertext mod q_0 with Apple's skip-LSB trimming and correction factor
// 1 (he-spec §4.7, §4.8).
func CiphertextForDecryptionToProto(p *bfv.Params, ct *bfv.Ciphertext) (*hepb.SerializedCiphertext, error) {
	polys, skip, err := p.SerializeForDecryption(ct)
	if err != nil {
		return nil, err
	}
	return fullProto(polys, skip, ct.CorrectionFactor), nil
}

func fullProto(polys []byte, skip []uint32, cf uint64) *hepb.SerializedCiphertext {
	return &hepb.SerializedCiphertext{SerializedCiphertextType: &hepb.SerializedCiphertext_Full{
		Full: &hepb.SerializedFullCiphertext{Polys: polys, SkipLsbs: skip, CorrectionFactor: cf}}}
}

// SecretKeyFromProto parses Apple's SerializedSecretKey.
func SecretKeyFromProto(p *bfv.Params, m *hepb.SerializedSecretKey) (*bfv.SecretKey, error) {
	if m == nil {
		return nil, errors.New("heproto: missing secret key")
	}
	return p.ParseSecretKey(m.GetPolys())
}

// SecretKeyToProto serializes sk as Apple's SerializedSecretKey.
func SecretKeyToProto(p *bfv.Params, sk *bfv.SecretKey) *hepb.SerializedSecretKey {
	return &hepb.SerializedSecretKey{Polys: p.SerializeSecretKey(sk)}
}

// keySwitchKeyFromProto parses L-1 seeded Eval ciphertexts over all L
// moduli (he-spec §6.3).
func keySwitchKeyFromProto(p *bfv.Params, m *hepb.SerializedKeySwitchKey) (*bfv.KeySwitchKey, error) {
	cts := m.GetKeySwitchKey().GetCiphertexts()
	L := len(p.Moduli())
	if len(cts) != L-1 {
		return nil, fmt.Errorf("key-switching key has %d ciphertexts, want %d", len(cts), L-1)
	}
	k := &bfv.KeySwitchKey{}
	for i, c := range cts {
		ct, err := CiphertextFromProto(p, c, L, bfv.Eval)
		if err != nil {
			return nil, fmt.Errorf("key-switching ciphertext %d: %w", i, err)
		}
		if len(ct.Polys) != 2 {
			return nil, fmt.Errorf("key-switching ciphertext %d has %d polynomials", i, len(ct.Polys))
		}
		k.Keys = append(k.Keys, ct)
	}
	return k, nil
}

func keySwitchKeyToProto(p *bfv.Params, k *bfv.KeySwitchKey) (*hepb.SerializedKeySwitchKey, error) {
	vec := &hepb.SerializedCiphertextVec{}
	for _, ct := range k.Keys {
		m, err := CiphertextToProto(p, ct)
		if err != nil {
			return nil, err
		}
		vec.Ciphertexts = append(vec.Ciphertexts, m)
	}
	return &hepb.SerializedKeySwitchKey{KeySwitchKey: vec}, nil
}

// MaxGaloisKeys bounds the number of Galois keys accepted in one
// evaluation key (log2(2N) elements suffice for PIR; 64 is generous).
const MaxGaloisKeys = 64

// EvaluationKeyFromProto parses Apple's SerializedEvaluationKey: Galois
// keys by element and the optional relinearization key.
func EvaluationKeyFromProto(p *bfv.Params, m *hepb.SerializedEvaluationKey) (*bfv.EvaluationKey, error) {
	if m == nil {
		return nil, errors.New("heproto: missing evaluation key")
	}
	if !p.SupportsEvaluationKeys() {
		return nil, errors.New("heproto: parameters have no evaluation keys")
	}
	evk := &bfv.EvaluationKey{Galois: map[uint64]*bfv.KeySwitchKey{}}
	gk := m.GetGaloisKey().GetKeySwitchKeys()
	if len(gk) > MaxGaloisKeys {
		return nil, fmt.Errorf("heproto: %d Galois keys exceed %d", len(gk), MaxGaloisKeys)
	}
	for g, k := range gk {
		if g&1 == 0 || g <= 1 || g >= 2*uint64(p.N()) {
			return nil, fmt.Errorf("heproto: invalid Galois element %d", g)
		}
		ksk, err := keySwitchKeyFromProto(p, k)
		if err != nil {
			return nil, fmt.Errorf("heproto: Galois element %d: %w", g, err)
		}
		evk.Galois[g] = ksk
	}
	if rk := m.GetRelinKey(); rk != nil {
		ksk, err := keySwitchKeyFromProto(p, rk.GetRelinKey())
		if err != nil {
			return nil, fmt.Errorf("heproto: relinearization key: %w", err)
		}
		evk.Relin = ksk
	}
	return evk, nil
}

// EvaluationKeyToProto serializes evk as Apple's SerializedEvaluationKey
// (every key ciphertext seeded).
func EvaluationKeyToProto(p *bfv.Params, evk *bfv.EvaluationKey) (*hepb.SerializedEvaluationKey, error) {
	out := &hepb.SerializedEvaluationKey{}
	if len(evk.Galois) > 0 {
		out.GaloisKey = &hepb.SerializedGaloisKey{KeySwitchKeys: map[uint64]*hepb.SerializedKeySwitchKey{}}
		for g, k := range evk.Galois {
			m, err := keySwitchKeyToProto(p, k)
			if err != nil {
				return nil, err
			}
			out.GaloisKey.KeySwitchKeys[g] = m
		}
	}
	if evk.Relin != nil {
		m, err := keySwitchKeyToProto(p, evk.Relin)
		if err != nil {
			return nil, err
		}
		out.RelinKey = &hepb.SerializedRelinKey{RelinKey: m}
	}
	return out, nil
}

// PlaintextFromProto parses a SerializedPlaintext: Coeff over [t], or Eval
// over the first l ciphertext moduli.
func PlaintextFromProto(p *bfv.Params, m *hepb.SerializedPlaintext, f bfv.Format, l int) (*bfv.Plaintext, error) {
	if m == nil {
		return nil, errors.New("heproto: missing plaintext")
	}
	return p.ParsePlaintext(m.GetPoly(), f, l)
}

// PlaintextToProto serializes pt as a SerializedPlaintext.
func PlaintextToProto(p *bfv.Params, pt *bfv.Plaintext) *hepb.SerializedPlaintext {
	return &hepb.SerializedPlaintext{Poly: p.SerializePlaintext(pt)}
}
