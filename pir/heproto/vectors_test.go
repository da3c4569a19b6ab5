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

func readPlain(t *testing.T, s *heSet, file string, f bfv.Format) *bfv.Plaintext {
	t.Helper()
	var m hepb.SerializedPlaintext
	if err := proto.Unmarshal(testvec.Read(t, "he", s.name, file), &m); err != nil {
		t.Fatal(err)
	}
	pt, err := PlaintextFromProto(s.p, &m, f, s.p.MaxLevel())
	if err != nil {
		t.Fatal(err)
	}
	return pt
}

// TestVectorsServerOps recomputes every server-side case from Apple's
// inputs and compares the serialized bytes with Apple's files.
func TestVectorsServerOps(t *testing.T) {
	for _, name := range hePresets {
		t.Run(name, func(t *testing.T) {
			s := loadSet(t, name)
			p := s.p
			ev := bfv.NewEvaluator(p)
			a, _ := readCt(t, s, "ct_a_full.binpb", p.MaxLevel())
			b, _ := readCt(t, s, "ct_b_full.binpb", p.MaxLevel())
			evk := s.evalKey(t)
			check := func(caseName string, ct *bfv.Ciphertext, forDecryption bool) {
				t.Helper()
				var m *hepb.SerializedCiphertext
				var err error
				if forDecryption {
					m, err = CiphertextForDecryptionToProto(p, ct)
				} else {
					m, err = CiphertextToProto(p, ct)
				}
				if err != nil {
					t.Fatalf("%s: %v", caseName, err)
				}
				if !bytes.Equal(marshal(t, m), testvec.Read(t, "he", name, caseName+".binpb")) {
					t.Errorf("%s: bytes differ from Apple's", caseName)
				}
			}
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}

			// Plaintext lift: Coeff b → Eval over the ciphertext moduli.
			ptCoeff := readPlain(t, s, "plaintext_b_coeff.binpb", bfv.Coeff)
			ptEval, err := p.ToEval(ptCoeff, p.MaxLevel())
			must(err)
			if !bytes.Equal(marshal(t, PlaintextToProto(p, ptEval)), testvec.Read(t, "he", name, "plaintext_b_eval.binpb")) {
				t.Error("lifted plaintext differs from Apple's plaintext_b_eval")
			}

			out := &bfv.Ciphertext{}
			must(ev.Add(out, a, b))
			check("ct_a_plus_b", out, false)
			must(ev.Sub(out, a, b))
			check("ct_a_minus_b", out, false)

			ae := a.Clone()
			must(ev.ToEval(ae))
			must(ev.MulPlain(out, ae, readPlain(t, s, "plaintext_b_eval.binpb", bfv.Eval)))
			must(ev.ToCoeff(out))
			check("ct_a_times_pt_b", out, false)

			must(ev.MulPowerOfX(out, a, 5))
			check("ct_a_times_x5", out, false)
			must(ev.MulPowerOfX(out, a, -3))
			check("ct_a_times_x_minus3", out, false)

			for _, c := range s.cases {
				g, ok := strings.CutPrefix(c.Name, "ct_a_galois_")
				if !ok {
					continue
				}
				var el uint64
				for _, ch := range g {
					el = el*10 + uint64(ch-'0')
				}
				must(ev.ApplyGalois(out, a, el, evk))
				check(c.Name, out, false)
			}

			prod := &bfv.Ciphertext{}
			must(ev.Mul(prod, a, b))
			check("ct_a_times_b_unrelin", prod, false)
			relin := &bfv.Ciphertext{}
			must(ev.Relinearize(relin, prod, evk))
			check("ct_a_times_b_relin", relin, false)
			must(ev.ModSwitchDownToSingle(relin))
			check("ct_a_times_b_single_modulus", relin, false)
			check("ct_a_times_b_for_decryption", relin, true)

			a1 := a.Clone()
			must(ev.ModSwitchDownToSingle(a1))
			check("ct_a_for_decryption", a1, true)
		})
	}
}
