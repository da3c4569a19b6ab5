package pir

import (
	"fmt"

	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/heproto"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// Protobuf ⇄ bfv conversion goes through package heproto; this file adds
// the checks PIR wants on client input before anything is expanded.

// ciphertextFromProto parses a query or response ciphertext at level l in
// format f, after checking the sizes a well-formed one has.
func ciphertextFromProto(bp *bfv.Params, m *hepb.SerializedCiphertext, l int, f bfv.Format) (*bfv.Ciphertext, error) {
	switch {
	case m.GetSeeded() != nil:
		s := m.GetSeeded()
		if len(s.GetSeed()) != bfv.SeedSize {
			return nil, fmt.Errorf("pir: ciphertext seed has %d bytes, want %d", len(s.GetSeed()), bfv.SeedSize)
		}
		if want := bp.PolyLen(l, 0); len(s.GetPoly0()) != want {
			return nil, fmt.Errorf("pir: seeded ciphertext has %d bytes, want %d for %d moduli", len(s.GetPoly0()), want, l)
		}
	case m.GetFull() != nil:
		if cf := m.GetFull().GetCorrectionFactor(); cf != 1 {
			return nil, fmt.Errorf("pir: ciphertext correction factor %d, want 1", cf)
		}
	}
	ct, err := heproto.CiphertextFromProto(bp, m, l, f)
	if err != nil {
		return nil, fmt.Errorf("pir: %w", err)
	}
	return ct, nil
}

// evaluationKeyFromProto parses an uploaded evaluation key.
func evaluationKeyFromProto(bp *bfv.Params, m *hepb.SerializedEvaluationKey) (*bfv.EvaluationKey, error) {
	k, err := heproto.EvaluationKeyFromProto(bp, m)
	if err != nil {
		return nil, fmt.Errorf("pir: evaluation key: %w", err)
	}
	return k, nil
}
