package privacypass

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// rfc9578Vector is one "Issuance Protocol 2 - Blind RSA, 2048" test vector of
// RFC 9578 Appendix A.2, as hex strings (testdata/README.md).
type rfc9578Vector struct {
	SkS            string `json:"skS"` // PEM (PKCS #8), hex-encoded
	PkS            string `json:"pkS"`
	TokenChallenge string `json:"token_challenge"`
	Nonce          string `json:"nonce"`
	Blind          string `json:"blind"`
	Salt           string `json:"salt"`
	TokenRequest   string `json:"token_request"`
	TokenResponse  string `json:"token_response"`
	Token          string `json:"token"`
}

// TestRFC9578Type2Vectors runs the published type-2 (blind RSA) vectors of
// RFC 9578 Appendix A.2 through every part of ours: the issuer key from the
// PKCS #8 PEM and its SPKI encoding (pkS) and key id, the challenge encoding,
// the client's token request from the vector's nonce, salt and blind, the
// issuer's deterministic token response, the client's finalized token, and
// the verifier's signature check, which must also refuse the token with a
// flipped bit. None of these values were produced by our code.
func TestRFC9578Type2Vectors(t *testing.T) {
	b, err := os.ReadFile("testdata/rfc9578-type2-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []rfc9578Vector
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors) != 5 {
		t.Fatalf("%d vectors, want RFC 9578's 5", len(vectors))
	}
	unhex := func(t *testing.T, s string) []byte {
		t.Helper()
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for i, v := range vectors {
		t.Run(string(rune('1'+i)), func(t *testing.T) {
			sk, err := ParsePrivateKeyPEM(unhex(t, v.SkS))
			if err != nil {
				t.Fatal(err)
			}
			pub := sk.Public()
			pkS := unhex(t, v.PkS)
			if !bytes.Equal(pub.SPKI(), pkS) {
				t.Fatalf("SPKI of skS differs from pkS:\n got %x\nwant %x", pub.SPKI(), pkS)
			}
			parsed, err := ParsePublicKey(pkS)
			if err != nil || !parsed.RSA().Equal(sk.rsa.Public().(*rsa.PublicKey)) {
				t.Fatalf("ParsePublicKey(pkS): %v", err)
			}
			if id := sha256.Sum256(pkS); pub.ID() != id {
				t.Errorf("key id %x, want SHA-256(pkS) %x", pub.ID(), id)
			}

			challenge := unhex(t, v.TokenChallenge)
			tc, err := ParseTokenChallenge(challenge)
			if err != nil {
				t.Fatal(err)
			}
			if again, err := tc.Marshal(); err != nil || !bytes.Equal(again, challenge) {
				t.Errorf("challenge re-encodes as %x, %v", again, err)
			}

			// Client: the nonce, then the blind RSA salt and blind, in the
			// order the client reads its randomness.
			random := bytes.NewReader(slices.Concat(unhex(t, v.Nonce), unhex(t, v.Salt), unhex(t, v.Blind)))
			pending, request, err := NewTokenRequest(random, pub, challenge)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, v.TokenRequest); !bytes.Equal(request, want) {
				t.Fatalf("token request\n got %x\nwant %x", request, want)
			}

			// Issuer.
			req, err := ParseTokenRequest(request)
			if err != nil {
				t.Fatal(err)
			}
			response, err := sk.Issue(req)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, v.TokenResponse); !bytes.Equal(response, want) {
				t.Fatalf("token response\n got %x\nwant %x", response, want)
			}

			// Client finalization and the verifier.
			token, err := pending.Finalize(response)
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(t, v.Token)
			if !bytes.Equal(token, want) {
				t.Fatalf("token\n got %x\nwant %x", token, want)
			}
			tok, err := ParseToken(want)
			if err != nil {
				t.Fatal(err)
			}
			if tok.KeyID != pub.ID() || tok.ChallengeDigest != sha256.Sum256(challenge) {
				t.Error("token names another key or challenge")
			}
			if err := verifyAuthenticator(parsed, tok); err != nil {
				t.Errorf("published token does not verify: %v", err)
			}
			tok.Authenticator[len(tok.Authenticator)-1] ^= 1
			if err := verifyAuthenticator(parsed, tok); err == nil {
				t.Error("token with a flipped authenticator bit verifies")
			}
		})
	}
}
