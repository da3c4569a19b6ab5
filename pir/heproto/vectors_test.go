package heproto

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/pb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// heSet is one preset folder of shared/vectors/he.
type heSet struct {
	name   string
	p      *bfv.Params
	sk     *bfv.SecretKey
	evk    *bfv.EvaluationKey
	cases  []heCase
	scalar int
}

type heCase struct {
	Name        string   `json:"name"`
	File        string   `json:"file"`
	DecryptsTo  []uint64 `json:"decrypts_to"`
	NoiseBudget float64  `json:"noise_budget"`
}

var hePresets = []string{"n_4096_logq_27_28_28_logt_5", "n_4096_logq_16_33_33_logt_4", "n_8192_logq_3x55_logt_24"}

func loadSet(t *testing.T, name string) *heSet {
	t.Helper()
	var pm hepb.EncryptionParameters
	if err := prototext.Unmarshal(testvec.Read(t, "he", name, "encryption_parameters.txtpb"), &pm); err != nil {
		t.Fatal(err)
	}
	p, err := ParamsFromProto(&pm)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != name {
		t.Fatalf("parameters resolve to preset %q, want %q", p.Name(), name)
	}
	var skm hepb.SerializedSecretKey
	if err := proto.Unmarshal(testvec.Read(t, "he", name, "secret_key.binpb"), &skm); err != nil {
		t.Fatal(err)
	}
	sk, err := SecretKeyFromProto(p, &skm)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases      []heCase `json:"cases"`
		ScalarBits int      `json:"scalar_bits"`
	}
	if err := json.Unmarshal(testvec.Read(t, "he", name, "cases.json"), &doc); err != nil {
		t.Fatal(err)
	}
	return &heSet{name: name, p: p, sk: sk, cases: doc.Cases, scalar: doc.ScalarBits}
}

func (s *heSet) evalKey(t *testing.T) *bfv.EvaluationKey {
	t.Helper()
	if s.evk != nil {
		return s.evk
	}
	var m hepb.SerializedEvaluationKey
	if err := proto.Unmarshal(testvec.Read(t, "he", s.name, "evaluation_key.binpb"), &m); err != nil {
		t.Fatal(err)
	}
	evk, err := EvaluationKeyFromProto(s.p, &m)
	if err != nil {
		t.Fatal(err)
	}
	s.evk = evk
	return evk
}

// caseLevel is the number of moduli Apple's ciphertext of this case has.
func caseLevel(p *bfv.Params, name string) int {
	if strings.Contains(name, "single_modulus") || strings.Contains(name, "for_decryption") {
		return 1
	}
	return p.MaxLevel()
}

func readCt(t *testing.T, s *heSet, file string, l int) (*bfv.Ciphertext, []byte) {
	t.Helper()
	raw := testvec.Read(t, "he", s.name, file)
	var m hepb.SerializedCiphertext
	if err := proto.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	ct, err := CiphertextFromProto(s.p, &m, l, bfv.Coeff)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return ct, raw
}

func TestVectorsDecrypt(t *testing.T) {
	for _, name := range hePresets {
		t.Run(name, func(t *testing.T) {
			s := loadSet(t, name)
			if (s.scalar == 32) != (s.p.WordBits() == 32) {
				t.Errorf("word size %d, vectors say %d", s.p.WordBits(), s.scalar)
			}
			if len(s.cases) < 15 {
				t.Fatalf("only %d cases", len(s.cases))
			}
			for _, c := range s.cases {
				ct, _ := readCt(t, s, c.File, caseLevel(s.p, c.Name))
				pt, err := s.p.Decrypt(s.sk, ct)
				if err != nil {
					t.Fatalf("%s: %v", c.Name, err)
				}
				got, _ := pt.DecodeCoeffs()
				if !slices.Equal(got, c.DecryptsTo) {
					t.Errorf("%s: decryption differs from Apple's", c.Name)
				}
				if strings.HasSuffix(c.Name, "for_decryption") {
					continue // Apple measured the budget before dropping bits
				}
				nb, err := s.p.NoiseBudget(s.sk, ct)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(nb-c.NoiseBudget) > 1e-6 {
					t.Errorf("%s: noise budget %v, Apple %v", c.Name, nb, c.NoiseBudget)
				}
			}
		})
	}
}

// marshal returns our protobuf bytes of ct in Apple's field order.
func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := pb.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVectorsSeedExpansion(t *testing.T) {
	for _, name := range hePresets {
		t.Run(name, func(t *testing.T) {
			s := loadSet(t, name)
			seeded, raw := readCt(t, s, "ct_a_seeded.binpb", s.p.MaxLevel())
			if m, err := CiphertextToProto(s.p, seeded); err != nil || !bytes.Equal(marshal(t, m), raw) {
				t.Fatalf("seeded ciphertext does not re-serialize to Apple's bytes (%v)", err)
			}
			seeded.Seed = nil // serialize in full form now
			m, err := CiphertextToProto(s.p, seeded)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(marshal(t, m), testvec.Read(t, "he", name, "ct_a_full.binpb")) {
				t.Fatal("expanded seeded ciphertext differs from Apple's ct_a_full")
			}
		})
	}
}
