package oprf

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

// FuzzEvaluate feeds arbitrary blinded elements to the server: it must
// answer a valid point or refuse with ErrMalformed, never panic, and every
// answer must verify for a client that knows the element's blind.
func FuzzEvaluate(f *testing.F) {
	v := loadVectors(f)
	for _, vec := range v.Vectors {
		f.Add(unhex(f, vec.BlindedElement))
		f.Add(unhex(f, vec.EvaluationElement))
	}
	f.Add(unhex(f, v.PkSm))
	f.Add([]byte{0})
	f.Add(append([]byte{4}, make([]byte, 96)...))
	k, err := NewPrivateKey(unhex(f, v.SkSm))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, blinded []byte) {
		ev, proof, err := k.Evaluate(blinded, rand.Reader)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(ev) != ElementSize || len(proof) != ProofSize {
			t.Fatalf("answer sizes %d, %d", len(ev), len(proof))
		}
	})
}

// FuzzFinalize feeds arbitrary evaluated elements and proofs to a client
// holding a real query: it must refuse everything but the honest answer
// (which a fuzzer cannot forge), never panic.
func FuzzFinalize(f *testing.F) {
	v := loadVectors(f)
	for _, vec := range v.Vectors {
		f.Add(unhex(f, vec.EvaluationElement), unhex(f, vec.Proof))
	}
	f.Add([]byte{0}, make([]byte, 96))
	f.Add(make([]byte, 49), bytes.Repeat([]byte{0xff}, 96))
	pk, err := ParsePublicKey(unhex(f, v.PkSm))
	if err != nil {
		f.Fatal(err)
	}
	vec := v.Vectors[0]
	q, err := pk.Blind(unhex(f, vec.Input), bytes.NewReader(unhex(f, vec.Blind)))
	if err != nil {
		f.Fatal(err)
	}
	honestEv, honestProof := unhex(f, vec.EvaluationElement), unhex(f, vec.Proof)
	f.Fuzz(func(t *testing.T, ev, proof []byte) {
		out, err := pk.Finalize(q, ev, proof)
		honest := bytes.Equal(ev, honestEv) && bytes.Equal(proof, honestProof)
		if err == nil && !honest {
			t.Fatalf("accepted a forged evaluation %x / %x", ev, proof)
		}
		if err != nil && honest {
			t.Fatalf("refused the honest evaluation: %v", err)
		}
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrProof) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		_ = out
	})
}

// FuzzParsePublicKey and key files: parse or refuse, never panic.
func FuzzParseKeys(f *testing.F) {
	v := loadVectors(f)
	f.Add(unhex(f, v.PkSm))
	f.Add([]byte(v.SkSm))
	f.Add([]byte(v.SkSm + "\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if pk, err := ParsePublicKey(b); err == nil && !bytes.Equal(pk.Bytes(), b) {
			t.Fatalf("public key does not re-encode to its input")
		}
		if k, err := ParseKeyFile(b); err == nil {
			if !bytes.EqualFold(bytes.TrimSpace(b), k.MarshalKeyFile()) {
				t.Fatalf("key file does not re-encode to its input")
			}
		}
	})
}
