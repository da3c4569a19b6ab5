package privacypass

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/internal/store/redistest"
	"github.com/blindlist/blindlist/internal/testvec"
)

// vectorCases is cases.json of shared/vectors/privacypass.
type vectorCases struct {
	IssuerRequestURI    string `json:"issuer_request_uri"`
	TokenKeyIDHex       string `json:"token_key_id_hex"`
	TokenType           int    `json:"token_type"`
	TruncatedTokenKeyID int    `json:"truncated_token_key_id"`
	Tokens              []struct {
		Authorization           string `json:"authorization"`
		Challenge               string `json:"challenge"`
		Index                   int    `json:"index"`
		IssuerName              string `json:"issuer_name"`
		Token                   string `json:"token"`
		TokenRequest            string `json:"token_request"`
		TokenResponse           string `json:"token_response"`
		Verifies                bool   `json:"verifies"`
		VerifiesAgainAfterSpend bool   `json:"verifies_again_after_spend"`
	} `json:"tokens"`
}

func readCases(t testing.TB) vectorCases {
	t.Helper()
	var c vectorCases
	if err := json.Unmarshal(testvec.Read(t, "privacypass", "cases.json"), &c); err != nil {
		t.Fatalf("cases.json: %v", err)
	}
	if len(c.Tokens) == 0 {
		t.Fatal("cases.json lists no tokens")
	}
	return c
}

func vectorKey(t testing.TB) *PrivateKey {
	t.Helper()
	k, err := ParsePrivateKeyPEM(testvec.Read(t, "privacypass", "issuer_private_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newBoltSpent(t testing.TB, path string) (*store.Bolt, store.SpentSet) {
	t.Helper()
	b, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := b.SpentSet(SpentNamespace, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b, s
}

func TestVectorKey(t *testing.T) {
	c := readCases(t)
	k := vectorKey(t)
	if got, want := k.Public().SPKI(), testvec.Read(t, "privacypass", "token_key_spki.der"); !bytes.Equal(got, want) {
		t.Fatalf("SPKI differs from token_key_spki.der:\n got %x\nwant %x", got, want)
	}
	id := k.Public().ID()
	if got := hex.EncodeToString(id[:]); got != c.TokenKeyIDHex {
		t.Errorf("token key id %s, want %s", got, c.TokenKeyIDHex)
	}
	if got := int(k.Public().TruncatedID()); got != c.TruncatedTokenKeyID {
		t.Errorf("truncated key id %d, want %d", got, c.TruncatedTokenKeyID)
	}
	if c.TokenType != int(TokenType) || c.IssuerRequestURI != IssuerRequestURI {
		t.Errorf("cases.json token type %d, request uri %q; want %d, %q", c.TokenType, c.IssuerRequestURI, TokenType, IssuerRequestURI)
	}
	// The SPKI parses back to the same key.
	pub, err := ParsePublicKey(k.Public().SPKI())
	if err != nil {
		t.Fatal(err)
	}
	if pub.ID() != id || pub.RSA().N.Cmp(k.Public().RSA().N) != 0 {
		t.Error("ParsePublicKey(SPKI) is a different key")
	}
	// PKCS #8 round trip: same key, same id.
	pemBytes, err := k.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	k8, err := ParsePrivateKeyPEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	if k8.Public().ID() != id {
		t.Error("PKCS #8 round trip changed the key id")
	}
}

func TestVectorDirectory(t *testing.T) {
	k := vectorKey(t)
	ring, err := NewKeyring([]KeySpec{{Key: k, Tier: "tier1"}})
	if err != nil {
		t.Fatal(err)
	}
	got := ring.Directory(IssuerRequestURI, time.Now())
	want := testvec.Read(t, "privacypass", "issuer_directory.json")
	if !bytes.Equal(got, want) {
		t.Fatalf("directory differs:\n got %s\nwant %s", got, want)
	}
}

func TestVectorIssuance(t *testing.T) {
	c := readCases(t)
	k := vectorKey(t)
	for _, tc := range c.Tokens {
		t.Run(fmt.Sprint(tc.Index), func(t *testing.T) {
			req, err := ParseTokenRequest(testvec.Read(t, "privacypass", tc.TokenRequest))
			if err != nil {
				t.Fatal(err)
			}
			got, err := k.Issue(req)
			if err != nil {
				t.Fatal(err)
			}
			if want := testvec.Read(t, "privacypass", tc.TokenResponse); !bytes.Equal(got, want) {
				t.Fatalf("response differs from %s:\n got %x\nwant %x", tc.TokenResponse, got, want)
			}
			if !bytes.Equal(req.Marshal(), testvec.Read(t, "privacypass", tc.TokenRequest)) {
				t.Error("TokenRequest.Marshal does not give back the request bytes")
			}
		})
	}
}

func TestVectorTokens(t *testing.T) {
	c := readCases(t)
	k := vectorKey(t)
	ring, err := NewKeyring([]KeySpec{{Key: k, Tier: "tier1"}})
	if err != nil {
		t.Fatal(err)
	}
	db, spent := newBoltSpent(t, filepath.Join(t.TempDir(), "spent.db"))
	defer db.Close()
	svc, err := New(Config{Keyring: ring, Spent: spent})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range c.Tokens {
		t.Run(fmt.Sprint(tc.Index), func(t *testing.T) {
			raw := testvec.Read(t, "privacypass", tc.Token)
			fromHeader, err := ParseAuthorization(tc.Authorization)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fromHeader, raw) {
				t.Fatal("Authorization header does not decode to the token file")
			}
			if got := Authorization(raw); got != tc.Authorization {
				t.Errorf("Authorization(token) = %q, want %q", got, tc.Authorization)
			}
			tok, err := ParseToken(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tok.Marshal(), raw) {
				t.Error("Token.Marshal does not give back the token bytes")
			}
			chBytes := testvec.Read(t, "privacypass", tc.Challenge)
			if tok.ChallengeDigest != sha256.Sum256(chBytes) {
				t.Error("challenge digest is not SHA-256 of the challenge file")
			}
			ch, err := ParseTokenChallenge(chBytes)
			if err != nil {
				t.Fatal(err)
			}
			if ch.IssuerName != tc.IssuerName || ch.TokenType != TokenType {
				t.Errorf("challenge issuer %q type %d, want %q type 2", ch.IssuerName, ch.TokenType, tc.IssuerName)
			}
			if re, err := ch.Marshal(); err != nil || !bytes.Equal(re, chBytes) {
				t.Errorf("TokenChallenge.Marshal round trip: %v", err)
			}

			_, err = svc.Verify(ctx, raw)
			if got := err == nil; got != tc.Verifies {
				t.Fatalf("first redemption: err %v, cases.json says verifies=%v", err, tc.Verifies)
			}
			_, err = svc.Verify(ctx, raw)
			if got := err == nil; got != tc.VerifiesAgainAfterSpend {
				t.Fatalf("second redemption: err %v, cases.json says %v", err, tc.VerifiesAgainAfterSpend)
			}
			if !errors.Is(err, ErrTokenSpent) {
				t.Fatalf("second redemption: %v, want ErrTokenSpent", err)
			}
		})
	}
}

// TestVectorSpentSurvivesRestart redeems Apple's tokens, closes the bbolt
// file, reopens it in a new service, and expects every token refused.
func TestVectorSpentSurvivesRestart(t *testing.T) {
	c := readCases(t)
	path := filepath.Join(t.TempDir(), "spent.db")
	ring, err := NewKeyring([]KeySpec{{Key: vectorKey(t), Tier: "tier1"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, spent := newBoltSpent(t, path)
	svc, _ := New(Config{Keyring: ring, Spent: spent})
	for _, tc := range c.Tokens {
		if _, err := svc.Verify(ctx, testvec.Read(t, "privacypass", tc.Token)); err != nil {
			t.Fatalf("token %d: %v", tc.Index, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, spent = newBoltSpent(t, path)
	defer db.Close()
	svc, _ = New(Config{Keyring: ring, Spent: spent})
	for _, tc := range c.Tokens {
		if _, err := svc.Verify(ctx, testvec.Read(t, "privacypass", tc.Token)); !errors.Is(err, ErrTokenSpent) {
			t.Errorf("token %d after restart: %v, want ErrTokenSpent", tc.Index, err)
		}
	}
}

// TestVectorTokensRedis redeems Apple's tokens with the spent set in a real
// Redis: a second service on the same Redis (another replica, or this one
// after a restart) refuses them.
func TestVectorTokensRedis(t *testing.T) {
	c := readCases(t)
	srv := redistest.Start(t)
	ring, err := NewKeyring([]KeySpec{{Key: vectorKey(t), Tier: "tier1"}})
	if err != nil {
		t.Fatal(err)
	}
	newSvc := func() *Service {
		spent, err := store.NewRedis(srv.Client(t), "blindlist:").SpentSet(SpentNamespace, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := New(Config{Keyring: ring, Spent: spent})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	ctx := context.Background()
	a, b := newSvc(), newSvc()
	for _, tc := range c.Tokens {
		tok := testvec.Read(t, "privacypass", tc.Token)
		if _, err := a.Verify(ctx, tok); err != nil {
			t.Fatalf("token %d on replica a: %v", tc.Index, err)
		}
		if _, err := b.Verify(ctx, tok); !errors.Is(err, ErrTokenSpent) {
			t.Fatalf("token %d on replica b: %v, want ErrTokenSpent", tc.Index, err)
		}
	}
}
