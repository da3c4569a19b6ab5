package oprf

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/cloudflare/circl/oprf"
)

type vectorFile struct {
	SkSm    string `json:"skSm"`
	PkSm    string `json:"pkSm"`
	Seed    string `json:"seed"`
	KeyInfo string `json:"keyInfo"`
	Vectors []struct {
		Input             string
		Blind             string
		BlindedElement    string
		EvaluationElement string
		ProofRandomScalar string
		Proof             string
		Output            string
	} `json:"vectors"`
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in test data: %v", err)
	}
	return b
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	data, err := os.ReadFile("testdata/rfc9497-p384-sha384-voprf.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

// TestRFC9497Key checks the key encodings: DeriveKeyPair(seed, info) gives
// skSm, and our public key of skSm is pkSm (compressed, 49 bytes).
func TestRFC9497Key(t *testing.T) {
	v := loadVectors(t)
	derived, err := oprf.DeriveKey(suite, oprf.VerifiableMode, unhex(t, v.Seed), unhex(t, v.KeyInfo))
	if err != nil {
		t.Fatal(err)
	}
	dk, err := derived.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dk, unhex(t, v.SkSm)) {
		t.Errorf("DeriveKeyPair: got %x, want %s", dk, v.SkSm)
	}
	k, err := NewPrivateKey(unhex(t, v.SkSm))
	if err != nil {
		t.Fatal(err)
	}
	if got := k.PublicKey(); !bytes.Equal(got, unhex(t, v.PkSm)) {
		t.Errorf("public key: got %x, want %s", got, v.PkSm)
	}
	if got := k.Bytes(); !bytes.Equal(got, unhex(t, v.SkSm)) {
		t.Errorf("Bytes: got %x, want %s", got, v.SkSm)
	}
}

// TestRFC9497Vectors runs every batch-of-one vector through the public API,
// feeding the vector's blind and proof randomness as the random source:
// blinded element, evaluated element, proof and output must all match
// byte for byte.
func TestRFC9497Vectors(t *testing.T) {
	v := loadVectors(t)
	k, err := NewPrivateKey(unhex(t, v.SkSm))
	if err != nil {
		t.Fatal(err)
	}
	pk, err := ParsePublicKey(unhex(t, v.PkSm))
	if err != nil {
		t.Fatal(err)
	}
	for _, vec := range v.Vectors {
		t.Run(vec.Input, func(t *testing.T) {
			input := unhex(t, vec.Input)
			q, err := pk.Blind(input, bytes.NewReader(unhex(t, vec.Blind)))
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Element(); !bytes.Equal(got, unhex(t, vec.BlindedElement)) {
				t.Fatalf("blinded element: got %x, want %s", got, vec.BlindedElement)
			}
			ev, proof, err := k.Evaluate(q.Element(), bytes.NewReader(unhex(t, vec.ProofRandomScalar)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ev, unhex(t, vec.EvaluationElement)) {
				t.Errorf("evaluated element: got %x, want %s", ev, vec.EvaluationElement)
			}
			if !bytes.Equal(proof, unhex(t, vec.Proof)) {
				t.Errorf("proof: got %x, want %s", proof, vec.Proof)
			}
			out, err := pk.Finalize(q, unhex(t, vec.EvaluationElement), unhex(t, vec.Proof))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.out[:], unhex(t, vec.Output)) {
				t.Errorf("finalized output: got %x, want %s", out.out, vec.Output)
			}
			direct, err := k.Output(input)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(direct.out[:], unhex(t, vec.Output)) {
				t.Errorf("server-side output: got %x, want %s", direct.out, vec.Output)
			}
		})
	}
}
