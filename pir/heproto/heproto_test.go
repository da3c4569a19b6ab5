package heproto

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// TestParamsFromProtoBounds checks the limits on outside parameters: every
// preset parses, and degrees or moduli counts beyond Apple's validation are
// refused before any table is built.
func TestParamsFromProtoBounds(t *testing.T) {
	preset, err := bfv.Preset(fuzzPreset)
	if err != nil {
		t.Fatal(err)
	}
	good := ParamsToProto(preset)
	tests := []struct {
		name    string
		edit    func(m *hepb.EncryptionParameters)
		wantErr string
	}{
		{"preset", func(*hepb.EncryptionParameters) {}, ""},
		{"degree 2^16", func(m *hepb.EncryptionParameters) { m.PolynomialDegree = 1 << 16 }, "polynomial degree 65536"},
		{"degree 2^40", func(m *hepb.EncryptionParameters) { m.PolynomialDegree = 1 << 40 }, "polynomial degree"},
		{"degree 3000", func(m *hepb.EncryptionParameters) { m.PolynomialDegree = 3000 }, "not a power of two"},
		{"degree 1", func(m *hepb.EncryptionParameters) { m.PolynomialDegree = 1 }, "polynomial degree 1"},
		{"33 moduli", func(m *hepb.EncryptionParameters) {
			m.CoefficientModuli = make([]uint64, MaxModuli+1)
		}, "33 coefficient moduli"},
		{"no moduli", func(m *hepb.EncryptionParameters) { m.CoefficientModuli = nil }, "0 coefficient moduli"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := proto.Clone(good).(*hepb.EncryptionParameters)
			tc.edit(m)
			p, err := ParamsFromProto(m)
			if tc.wantErr == "" {
				if err != nil || p.N() != preset.N() {
					t.Fatalf("got %v, %v", p, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "heproto: ") {
				t.Fatalf("err %v, want heproto: … %q", err, tc.wantErr)
			}
		})
	}
}

// TestEvaluationKeyErrors checks that a bad key-switching key is reported
// with the package prefix and the key it is in.
func TestEvaluationKeyErrors(t *testing.T) {
	p, err := bfv.Preset(fuzzPreset)
	if err != nil {
		t.Fatal(err)
	}
	var good hepb.SerializedEvaluationKey
	if err := proto.Unmarshal(testvec.Read(t, "he", fuzzPreset, "evaluation_key.binpb"), &good); err != nil {
		t.Fatal(err)
	}
	truncated := func(k *hepb.SerializedKeySwitchKey) {
		k.KeySwitchKey.Ciphertexts = k.KeySwitchKey.Ciphertexts[:1]
	}
	m := proto.Clone(&good).(*hepb.SerializedEvaluationKey)
	for g, k := range m.GetGaloisKey().GetKeySwitchKeys() {
		truncated(k)
		_, err := EvaluationKeyFromProto(p, m)
		if err == nil || !strings.HasPrefix(err.Error(), "heproto: Galois element ") {
			t.Errorf("Galois element %d truncated: err %v", g, err)
		}
		break
	}
	m = proto.Clone(&good).(*hepb.SerializedEvaluationKey)
	if m.GetRelinKey() == nil {
		t.Fatal("vector has no relinearization key")
	}
	truncated(m.GetRelinKey().GetRelinKey())
	if _, err := EvaluationKeyFromProto(p, m); err == nil || !strings.HasPrefix(err.Error(), "heproto: relinearization key: ") {
		t.Errorf("relinearization key truncated: err %v", err)
	}
	if _, err := EvaluationKeyFromProto(p, nil); err == nil || !strings.HasPrefix(err.Error(), "heproto: ") {
		t.Errorf("nil key: err %v", err)
	}
}

// TestEvaluationKeyMemory measures what the package doc states: a parsed
// seeded evaluation key takes about 4.7 times its wire size (4.6 times in
// residues alone).
func TestEvaluationKeyMemory(t *testing.T) {
	p, err := bfv.Preset(fuzzPreset)
	if err != nil {
		t.Fatal(err)
	}
	wire := testvec.Read(t, "he", fuzzPreset, "evaluation_key.binpb")
	var m hepb.SerializedEvaluationKey
	if err := proto.Unmarshal(wire, &m); err != nil {
		t.Fatal(err)
	}
	evk, err := EvaluationKeyFromProto(p, &m)
	if err != nil {
		t.Fatal(err)
	}
	words := 0
	keys := []*bfv.KeySwitchKey{evk.Relin}
	for _, k := range evk.Galois {
		keys = append(keys, k)
	}
	for _, k := range keys {
		for _, ct := range k.Keys {
			for _, poly := range ct.Polys {
				words += len(poly.Coeffs)
			}
		}
	}
	ratio := float64(8*words) / float64(len(wire))
	t.Logf("wire %d B, parsed residues %d B: %.2fx", len(wire), 8*words, ratio)
	if ratio < 4.4 || ratio > 5 {
		t.Errorf("parsed/wire = %.2f, package doc says about 4.7", ratio)
	}
}
