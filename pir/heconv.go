package pir

import (
	"fmt"

	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// Protobuf ⇄ bfv conversion for what PIR puts on the wire (he-spec §6).
// Every parser checks shapes before allocating.

// maxKeyElements bounds the Galois keys accepted in one evaluation key.
const maxKeyElements = 64

// ciphertextFromProto parses a query ciphertext (seeded or full) at level l
// in format f.
func ciphertextFromProto(bp *bfv.Params, m *hepb.SerializedCiphertext, l int, f bfv.Format) (*bfv.Ciphertext, error) {
	switch c := m.GetSerializedCiphertextType().(type) {
	case *hepb.SerializedCiphertext_Seeded:
		if len(c.Seeded.GetSeed()) != bfv.SeedSize {
			return nil, fmt.Errorf("pir: ciphertext seed has %d bytes, want %d", len(c.Seeded.GetSeed()), bfv.SeedSize)
		}
		if want := bp.PolyLen(l, 0); len(c.Seeded.GetPoly0()) != want {
			return nil, fmt.Errorf("pir: seeded ciphertext has %d bytes, want %d for %d moduli", len(c.Seeded.GetPoly0()), want, l)
		}
		return bp.ParseSeededCiphertext(c.Seeded.GetPoly0(), c.Seeded.GetSeed(), l, f)
	case *hepb.SerializedCiphertext_Full:
		fc := c.Full
		if fc.GetCorrectionFactor() != 1 {
			return nil, fmt.Errorf("pir: ciphertext correction factor %d, want 1", fc.GetCorrectionFactor())
		}
		return bp.ParseFullCiphertext(fc.GetPolys(), fc.GetSkipLsbs(), fc.GetCorrectionFactor(), l, f)
	}
	return nil, fmt.Errorf("pir: ciphertext has no seeded or full form")
}

// fullCiphertextProto serializes a response ciphertext as Apple does
// (forDecryption: skip-LSBs, correction factor 1).
func fullCiphertextProto(bp *bfv.Params, ct *bfv.Ciphertext) (*hepb.SerializedCiphertext, error) {
	polys, skip, err := bp.SerializeForDecryption(ct)
	if err != nil {
		return nil, err
	}
	return &hepb.SerializedCiphertext{SerializedCiphertextType: &hepb.SerializedCiphertext_Full{
		Full: &hepb.SerializedFullCiphertext{Polys: polys, SkipLsbs: skip, CorrectionFactor: 1}}}, nil
}

// seededCiphertextProto serializes a fresh seeded ciphertext.
func seededCiphertextProto(bp *bfv.Params, ct *bfv.Ciphertext) (*hepb.SerializedCiphertext, error) {
	poly0, seed, err := bp.SerializeSeeded(ct)
	if err != nil {
		return nil, err
	}
	return &hepb.SerializedCiphertext{SerializedCiphertextType: &hepb.SerializedCiphertext_Seeded{
		Seeded: &hepb.SerializedSeededCiphertext{Poly0: poly0, Seed: seed}}}, nil
}

// keySwitchKeyFromProto parses one key-switching key: L−1 seeded Eval
// ciphertexts over all L moduli.
func keySwitchKeyFromProto(bp *bfv.Params, m *hepb.SerializedKeySwitchKey) (*bfv.KeySwitchKey, error) {
	cts := m.GetKeySwitchKey().GetCiphertexts()
	L := len(bp.Moduli())
	if len(cts) != L-1 {
		return nil, fmt.Errorf("pir: key-switching key has %d ciphertexts, want %d", len(cts), L-1)
	}
	k := &bfv.KeySwitchKey{}
	for j, c := range cts {
		if c.GetSeeded() == nil {
			if fc := c.GetFull(); fc != nil {
				ct, err := bp.ParseFullCiphertext(fc.GetPolys(), fc.GetSkipLsbs(), 1, L, bfv.Eval)
				if err != nil {
					return nil, fmt.Errorf("pir: key ciphertext %d: %w", j, err)
				}
				k.Keys = append(k.Keys, ct)
				continue
			}
		}
		ct, err := ciphertextFromProto(bp, c, L, bfv.Eval)
		if err != nil {
			return nil, fmt.Errorf("pir: key ciphertext %d: %w", j, err)
		}
		k.Keys = append(k.Keys, ct)
	}
	return k, nil
}

// evaluationKeyFromProto parses an uploaded evaluation key.
func evaluationKeyFromProto(bp *bfv.Params, m *hepb.SerializedEvaluationKey) (*bfv.EvaluationKey, error) {
	if m == nil {
		return nil, fmt.Errorf("pir: evaluation key is missing")
	}
	gk := m.GetGaloisKey().GetKeySwitchKeys()
	if len(gk) > maxKeyElements {
		return nil, fmt.Errorf("pir: evaluation key has %d Galois keys, at most %d", len(gk), maxKeyElements)
	}
	evk := &bfv.EvaluationKey{Galois: make(map[uint64]*bfv.KeySwitchKey, len(gk))}
	for g, k := range gk {
		if g >= 2*uint64(bp.N()) || g%2 == 0 || g < 3 {
			return nil, fmt.Errorf("pir: invalid Galois element %d", g)
		}
		ksk, err := keySwitchKeyFromProto(bp, k)
		if err != nil {
			return nil, fmt.Errorf("pir: Galois key %d: %w", g, err)
		}
		evk.Galois[g] = ksk
	}
	if rk := m.GetRelinKey().GetRelinKey(); rk != nil {
		ksk, err := keySwitchKeyFromProto(bp, rk)
		if err != nil {
			return nil, fmt.Errorf("pir: relinearization key: %w", err)
		}
		evk.Relin = ksk
	}
	return evk, nil
}
