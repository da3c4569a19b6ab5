package ohttp

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// rfc9180Vector is one entry of testdata/rfc9180-base-x25519-sha256.json
// (see testdata/README.md): hex strings as in the CFRG file.
type rfc9180Vector struct {
	Mode        int    `json:"mode"`
	KEM         uint16 `json:"kem_id"`
	KDF         uint16 `json:"kdf_id"`
	AEAD        uint16 `json:"aead_id"`
	Info        string `json:"info"`
	SkRm        string `json:"skRm"`
	PkRm        string `json:"pkRm"`
	Enc         string `json:"enc"`
	Encryptions []struct {
		AAD   string `json:"aad"`
		CT    string `json:"ct"`
		Nonce string `json:"nonce"`
		PT    string `json:"pt"`
	} `json:"encryptions"`
	Exports []struct {
		Context string `json:"exporter_context"`
		L       int    `json:"L"`
		Value   string `json:"exported_value"`
	} `json:"exports"`
}

// TestRecipientRFC9180Vectors runs the published RFC 9180 test vectors for
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 in base mode with each of the three
// AEADs (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305) through the gateway's
// own HPKE recipient (recipient.go): the public key from skRm, the first
// encryption (sequence number 0, the only one a gateway opens) with its AAD,
// and every export. These are an independent implementation's answers, not
// crypto/hpke's round trip.
func TestRecipientRFC9180Vectors(t *testing.T) {
	b, err := os.ReadFile("testdata/rfc9180-base-x25519-sha256.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []rfc9180Vector
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	seen := map[uint16]bool{}
	for _, v := range vectors {
		if v.Mode != 0 || v.KEM != KEMX25519HKDFSHA256 || v.KDF != KDFHKDFSHA256 {
			t.Fatalf("vector for mode %d KEM 0x%04x KDF 0x%04x in the file", v.Mode, v.KEM, v.KDF)
		}
		seen[v.AEAD] = true
		unhex := func(s string) []byte {
			t.Helper()
			b, err := hex.DecodeString(s)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		t.Run(aeadName(v.AEAD), func(t *testing.T) {
			r, err := newRecipient(0, unhex(v.SkRm))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.pkR, unhex(v.PkRm)) {
				t.Fatalf("pkRm %x, want %s", r.pkR, v.PkRm)
			}
			ksc := keyScheduleContext(v.AEAD, unhex(v.Info))
			e := v.Encryptions[0]
			nk, nn, _ := aeadSizes(v.AEAD)
			var secret, nonce [nh]byte
			pt, err := r.openBase(v.AEAD, ksc[:], unhex(v.Enc), unhex(e.CT), unhex(e.AAD), nil, max(nk, nn), &secret, &nonce)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if !bytes.Equal(pt, unhex(e.PT)) {
				t.Errorf("plaintext %x, want %s", pt, e.PT)
			}
			for _, x := range v.Exports {
				pt, err := r.openBase(v.AEAD, ksc[:], unhex(v.Enc), unhex(e.CT), unhex(e.AAD), unhex(x.Context), x.L, &secret, &nonce)
				if err != nil || len(pt) != len(e.PT)/2 {
					t.Fatalf("open for export: %v", err)
				}
				if got := secret[:x.L]; !bytes.Equal(got, unhex(x.Value)) {
					t.Errorf("export %q: %x, want %s", x.Context, got, x.Value)
				}
			}
			// The AAD is bound: the first encryption does not open without it.
			if _, err := r.openBase(v.AEAD, ksc[:], unhex(v.Enc), unhex(e.CT), nil, nil, nh, &secret, &nonce); err == nil {
				t.Error("ciphertext opened without its AAD")
			}
		})
	}
	for _, aead := range []uint16{AEADAES128GCM, AEADAES256GCM, AEADChaCha20Poly1305} {
		if !seen[aead] {
			t.Errorf("no vector for %s", aeadName(aead))
		}
	}
}

func aeadName(id uint16) string {
	switch id {
	case AEADAES128GCM:
		return "AES-128-GCM"
	case AEADAES256GCM:
		return "AES-256-GCM"
	case AEADChaCha20Poly1305:
		return "ChaCha20-Poly1305"
	}
	return fmt.Sprintf("AEAD-0x%04x", id)
}
