package heproto

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

const fuzzPreset = "n_4096_logq_27_28_28_logt_5"

func fuzzParams(f *testing.F) *bfv.Params {
	p, err := bfv.Preset(fuzzPreset)
	if err != nil {
		f.Fatal(err)
	}
	return p
}

// FuzzCiphertext: any bytes parsed as a SerializedCiphertext at any level
// and format give a ciphertext or an error, never a panic; a parsed
// ciphertext re-serializes.
func FuzzCiphertext(f *testing.F) {
	p := fuzzParams(f)
	for _, name := range []string{"ct_a_seeded.binpb", "ct_a_for_decryption.binpb", "ct_a_times_b_unrelin.binpb"} {
		f.Add(testvec.Read(f, "he", fuzzPreset, name), uint8(2), false)
	}
	f.Add([]byte{0x12, 0x03, 0x0a, 0x01, 0x02}, uint8(1), true)
	f.Fuzz(func(t *testing.T, b []byte, l uint8, eval bool) {
		var m hepb.SerializedCiphertext
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		fmt := bfv.Coeff
		if eval {
			fmt = bfv.Eval
		}
		ct, err := CiphertextFromProto(p, &m, int(l%4), fmt)
		if err != nil {
			return
		}
		if _, err := CiphertextToProto(p, ct); err != nil {
			t.Fatalf("parsed ciphertext does not serialize: %v", err)
		}
		ev := bfv.NewEvaluator(p)
		if len(ct.Polys) == 3 && ct.Format == bfv.Coeff && ct.CorrectionFactor == 1 {
			_ = ev.ModSwitchDownToSingle(ct)
		}
	})
}

// FuzzEvaluationKey: any bytes parsed as a SerializedEvaluationKey.
func FuzzEvaluationKey(f *testing.F) {
	p := fuzzParams(f)
	f.Add(testvec.Read(f, "he", fuzzPreset, "evaluation_key.binpb"))
	f.Add([]byte{0x0a, 0x00, 0x12, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m hepb.SerializedEvaluationKey
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		evk, err := EvaluationKeyFromProto(p, &m)
		if err != nil {
			return
		}
		if _, err := EvaluationKeyToProto(p, evk); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzSecretKeyAndPlaintext: secret keys and plaintexts in both forms.
func FuzzSecretKeyAndPlaintext(f *testing.F) {
	p := fuzzParams(f)
	f.Add(testvec.Read(f, "he", fuzzPreset, "secret_key.binpb"), uint8(0))
	f.Add(testvec.Read(f, "he", fuzzPreset, "plaintext_b_coeff.binpb"), uint8(1))
	f.Add(testvec.Read(f, "he", fuzzPreset, "plaintext_b_eval.binpb"), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, kind uint8) {
		switch kind % 3 {
		case 0:
			var m hepb.SerializedSecretKey
			if proto.Unmarshal(b, &m) == nil {
				_, _ = SecretKeyFromProto(p, &m)
			}
		case 1:
			var m hepb.SerializedPlaintext
			if proto.Unmarshal(b, &m) == nil {
				_, _ = PlaintextFromProto(p, &m, bfv.Coeff, 0)
			}
		default:
			var m hepb.SerializedPlaintext
			if proto.Unmarshal(b, &m) == nil {
				if pt, err := PlaintextFromProto(p, &m, bfv.Eval, p.MaxLevel()); err == nil {
					_, _ = p.ToCoeff(pt)
				}
			}
		}
	})
}

// FuzzParams: EncryptionParameters from the network.
func FuzzParams(f *testing.F) {
	f.Add([]byte{})
	m := ParamsToProto(fuzzParams(f))
	b, _ := proto.Marshal(m)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var m hepb.EncryptionParameters
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		if len(m.GetCoefficientModuli()) > 4 || m.GetPolynomialDegree() > 1024 {
			return // keep iterations fast; sizes are bounded by NewParams anyway
		}
		_, _ = ParamsFromProto(&m)
	})
}
