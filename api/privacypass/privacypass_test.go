package privacypass

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blindlist/blindlist/internal/testvec"
)

// generated caches fresh keys across tests: generation takes a while.
var generated struct {
	sync.Mutex
	keys []*PrivateKey
}

// freshKeys returns n generated keys with distinct truncated ids, distinct
// from the vector key's too.
func freshKeys(t testing.TB, n int) []*PrivateKey {
	t.Helper()
	generated.Lock()
	defer generated.Unlock()
	for len(generated.keys) < n {
		k, err := GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		ok := k.Public().TruncatedID() != vectorKey(t).Public().TruncatedID()
		for _, o := range generated.keys {
			ok = ok && o.Public().TruncatedID() != k.Public().TruncatedID()
		}
		if ok {
			generated.keys = append(generated.keys, k)
		}
	}
	return generated.keys[:n]
}

func newTestService(t testing.TB, specs []KeySpec, users map[string]string, now func() time.Time) *Service {
	t.Helper()
	ring, err := NewKeyring(specs)
	if err != nil {
		t.Fatal(err)
	}
	db, spent := newBoltSpent(t, filepath.Join(t.TempDir(), "spent.db"))
	t.Cleanup(func() { _ = db.Close() })
	svc, err := New(Config{Keyring: ring, UserTokens: users, Spent: spent, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// mintToken runs the whole protocol with our client and k.
func mintToken(t testing.TB, k *PrivateKey) []byte {
	t.Helper()
	ch, _ := (&TokenChallenge{TokenType: TokenType, IssuerName: "test"}).Marshal()
	p, req, err := NewTokenRequest(rand.Reader, k.Public(), ch)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseTokenRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := k.Issue(r)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := p.Finalize(resp)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenRefusals(t *testing.T) {
	k := vectorKey(t)
	other := freshKeys(t, 1)[0]
	svc := newTestService(t, []KeySpec{{Key: k, Tier: "tier1"}}, nil, nil)
	ctx := context.Background()
	good := testvec.Read(t, "privacypass", "token_0.bin")

	// A token from a key of another issuer, valid in itself.
	foreign := mintToken(t, other)

	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := []struct {
		name  string
		token []byte
		want  error
	}{
		{"empty", nil, ErrTokenSize},
		{"one short", good[:TokenSize-1], ErrTokenSize},
		{"one long", append(bytes.Clone(good), 0), ErrTokenSize},
		{"type 1", mutate(func(b []byte) []byte { b[1] = 1; return b }), ErrTokenType},
		{"type 0xda7a", mutate(func(b []byte) []byte { b[0], b[1] = 0xda, 0x7a; return b }), ErrTokenType},
		{"other key id", foreign, ErrUnknownKey},
		{"key id byte flipped", mutate(func(b []byte) []byte { b[2+32+32] ^= 1; return b }), ErrUnknownKey},
		{"authenticator all zero", mutate(func(b []byte) []byte { clear(b[TokenSize-Nk:]); return b }), ErrBadSignature},
	}
	// Every single-byte alteration outside type and key id breaks the signature.
	for _, off := range []int{2, 2 + 31, 2 + 32, 2 + 63, TokenSize - Nk, TokenSize - 1} {
		cases = append(cases, struct {
			name  string
			token []byte
			want  error
		}{fmt.Sprintf("byte %d altered", off), mutate(func(b []byte) []byte { b[off] ^= 0x80; return b }), ErrBadSignature})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := svc.Verify(ctx, c.token); !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
	// None of the refusals spent the real token.
	if _, err := svc.Verify(ctx, good); err != nil {
		t.Fatalf("genuine token after the refusals: %v", err)
	}
	if _, err := svc.Verify(ctx, good); !errors.Is(err, ErrTokenSpent) {
		t.Fatalf("replay: %v, want ErrTokenSpent", err)
	}
}

// TestEveryByteAltered flips each byte of a token in turn: every variant
// must be refused.
func TestEveryByteAltered(t *testing.T) {
	ring, err := NewKeyring([]KeySpec{{Key: vectorKey(t), Tier: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	good := testvec.Read(t, "privacypass", "token_1.bin")
	step := 1
	if testing.Short() {
		step = 7
	}
	for i := 0; i < len(good); i += step {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		if _, _, err := ring.CheckToken(b, time.Now()); err == nil {
			t.Fatalf("token with byte %d altered verified", i)
		}
	}
	if _, _, err := ring.CheckToken(good, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestIssueRefusals(t *testing.T) {
	k := vectorKey(t)
	good := testvec.Read(t, "privacypass", "token_request_0.bin")
	n := k.Public().RSA().N.FillBytes(make([]byte, Nk))
	cases := []struct {
		name string
		req  TokenRequest
		want error
	}{
		{"type 1", TokenRequest{1, k.Public().TruncatedID(), good[3:]}, ErrRequestTokenType},
		{"wrong key id", TokenRequest{TokenType, k.Public().TruncatedID() + 1, good[3:]}, ErrRequestKeyID},
		{"short blinded message", TokenRequest{TokenType, k.Public().TruncatedID(), good[3:100]}, ErrRequestSize},
		{"blinded message = n", TokenRequest{TokenType, k.Public().TruncatedID(), n}, ErrBlindedMessage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := k.Issue(&c.req); !errors.Is(err, c.want) {
				t.Fatalf("Issue = %v, want %v", err, c.want)
			}
		})
	}
	for _, size := range []int{0, 258, 260} {
		if _, err := ParseTokenRequest(make([]byte, size)); !errors.Is(err, ErrRequestSize) {
			t.Errorf("ParseTokenRequest(%d bytes) = %v, want ErrRequestSize", size, err)
		}
	}
}

func TestClientRoundTrip(t *testing.T) {
	k := freshKeys(t, 1)[0]
	svc := newTestService(t, []KeySpec{{Key: k, Tier: "gold"}}, nil, nil)
	for range 3 {
		tok := mintToken(t, k)
		tier, err := svc.Verify(context.Background(), tok)
		if err != nil || tier != "gold" {
			t.Fatalf("Verify = %q, %v; want gold", tier, err)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	keys := freshKeys(t, 3)
	old, next, other := keys[0], keys[1], keys[2]
	t0 := time.Unix(1_900_000_000, 0)
	now := t0
	clock := func() time.Time { return now }
	specs := []KeySpec{
		{Key: old, Tier: "tier1", NotAfter: t0.Add(48 * time.Hour)},
		{Key: next, Tier: "tier1", NotBefore: t0.Add(24 * time.Hour)},
		{Key: other, Tier: "tier2"},
	}
	svc := newTestService(t, specs, map[string]string{"AAAA": "tier1"}, clock)
	ring := svc.Keyring()
	ctx := context.Background()

	// Before the switch: old is current, next is already published.
	if k, _ := ring.Current("tier1", now); k != old {
		t.Fatal("before NotBefore the old key should be current")
	}
	dir := string(ring.Directory(IssuerRequestURI, now))
	for _, k := range keys {
		if !strings.Contains(dir, base64.URLEncoding.EncodeToString(k.Public().SPKI())) {
			t.Fatal("directory misses a key")
		}
	}
	if !strings.Contains(dir, fmt.Sprintf(`"not-before":%d`, t0.Add(24*time.Hour).Unix())) {
		t.Errorf("directory lacks next key's not-before: %s", dir)
	}
	tokOld := mintToken(t, old)
	nextReq := func() []byte {
		_, req, err := NewTokenRequest(rand.Reader, next.Public(), []byte("c"))
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	if _, err := ring.Issue("tier1", nextReq(), now); !errors.Is(err, ErrRequestKeyID) {
		t.Fatalf("issuing with a key before its NotBefore: %v, want ErrRequestKeyID", err)
	}

	// Overlap: next is current, old still issues and verifies.
	now = t0.Add(30 * time.Hour)
	if k, _ := ring.Current("tier1", now); k != next {
		t.Fatal("after NotBefore the next key should be current")
	}
	if _, err := ring.Issue("tier1", nextReq(), now); err != nil {
		t.Fatalf("issuing with the new key: %v", err)
	}
	if _, err := svc.Verify(ctx, tokOld); err != nil {
		t.Fatalf("old key's token during the overlap: %v", err)
	}
	// A tier1 user cannot get tier2 tokens.
	_, req2, _ := NewTokenRequest(rand.Reader, other.Public(), []byte("c"))
	if _, err := ring.Issue("tier1", req2, now); !errors.Is(err, ErrRequestKeyID) {
		t.Fatalf("tier1 issuing with tier2's key: %v, want ErrRequestKeyID", err)
	}

	// After retirement: old tokens refused, old key gone from the directory.
	tokOld2 := mintToken(t, old)
	now = t0.Add(49 * time.Hour)
	if _, err := svc.Verify(ctx, tokOld2); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("retired key's token: %v, want ErrUnknownKey", err)
	}
	if strings.Contains(string(ring.Directory(IssuerRequestURI, now)), base64.URLEncoding.EncodeToString(old.Public().SPKI())) {
		t.Error("retired key still in the directory")
	}
}

func TestNewKeyringRefuses(t *testing.T) {
	k := vectorKey(t)
	t0 := time.Unix(1_900_000_000, 0)
	bad := map[string][]KeySpec{
		"empty":                  nil,
		"nil key":                {{Tier: "a"}},
		"no tier":                {{Key: k}},
		"same key twice":         {{Key: k, Tier: "a"}, {Key: k, Tier: "b"}},
		"retires earlier":        {{Key: k, Tier: "a", NotBefore: t0, NotAfter: t0}},
		"issues past retirement": {{Key: k, Tier: "a", NotBefore: t0, NotAfter: t0.Add(time.Hour), IssueUntil: t0.Add(2 * time.Hour)}},
		"issues before start":    {{Key: k, Tier: "a", NotBefore: t0, IssueUntil: t0}},
		"announced after start":  {{Key: k, Tier: "a", NotBefore: t0, Announce: t0.Add(time.Second)}},
	}
	for name, specs := range bad {
		if _, err := NewKeyring(specs); err == nil {
			t.Errorf("%s: NewKeyring succeeded", name)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	tok := testvec.Read(t, "privacypass", "token_2.bin")
	enc := base64.RawURLEncoding.EncodeToString(tok)
	padded := base64.URLEncoding.EncodeToString(append(bytes.Clone(tok), 1))
	good := map[string][]byte{
		"PrivateToken token=" + enc:                        tok,
		`PrivateToken token="` + enc + `"`:                 tok,
		"privatetoken Token=" + enc:                        tok,
		"PrivateToken  token = " + enc:                     tok,
		"PrivateToken other=1, token=" + enc + ", x=\"y\"": tok,
		"PrivateToken token=" + padded:                     append(bytes.Clone(tok), 1),
	}
	for h, want := range good {
		got, err := ParseAuthorization(h)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ParseAuthorization(%.40q…) = %d bytes, %v", h, len(got), err)
		}
	}
	bad := []string{
		"", "Bearer AAAA", "PrivateToken", "PrivateToken token=", "PrivateToken token=!!!",
		"PrivateToken tok=" + enc, "PrivateToken token=" + enc + ", token=" + enc,
		"PrivateTokentoken=" + enc, "PrivateToken token=" + strings.Repeat("A", 3000),
		"PrivateToken token=" + base64.StdEncoding.EncodeToString(tok[:30]) + "+/",
	}
	for _, h := range bad {
		if _, err := ParseAuthorization(h); !errors.Is(err, ErrNoToken) {
			t.Errorf("ParseAuthorization(%.40q…) = %v, want ErrNoToken", h, err)
		}
	}
}

func TestParsePublicKeyRefuses(t *testing.T) {
	spki := testvec.Read(t, "privacypass", "token_key_spki.der")
	// rsaEncryption form of the same key, as crypto/x509 writes it.
	k := vectorKey(t)
	cases := map[string][]byte{
		"empty":          nil,
		"truncated":      spki[:len(spki)-1],
		"trailing byte":  append(bytes.Clone(spki), 0),
		"salt 32":        bytes.Replace(bytes.Clone(spki), []byte{0xa2, 0x03, 0x02, 0x01, 0x30}, []byte{0xa2, 0x03, 0x02, 0x01, 0x20}, 1),
		"sha256 in hash": bytes.Replace(bytes.Clone(spki), []byte{0x65, 0x03, 0x04, 0x02, 0x02}, []byte{0x65, 0x03, 0x04, 0x02, 0x01}, 1),
	}
	if der, err := marshalPKIXForTest(k); err == nil {
		cases["rsaEncryption"] = der
	}
	for name, b := range cases {
		if name != "empty" && name != "rsaEncryption" && bytes.Equal(b, spki) {
			t.Fatalf("%s: mutation did not apply", name)
		}
		if _, err := ParsePublicKey(b); err == nil {
			t.Errorf("%s: ParsePublicKey succeeded", name)
		}
	}
}

func TestParsePrivateKeyPEMRefuses(t *testing.T) {
	pemBytes := testvec.Read(t, "privacypass", "issuer_private_key.pem")
	cases := map[string][]byte{
		"empty":      nil,
		"not PEM":    []byte("hello"),
		"two blocks": append(bytes.Clone(pemBytes), pemBytes...),
		"wrong type": bytes.ReplaceAll(bytes.Clone(pemBytes), []byte("RSA PRIVATE KEY"), []byte("CERTIFICATE")),
	}
	for name, b := range cases {
		if _, err := ParsePrivateKeyPEM(b); err == nil {
			t.Errorf("%s: ParsePrivateKeyPEM succeeded", name)
		}
	}
}

// marshalPKIXForTest returns the rsaEncryption SPKI of k, the form
// ParsePublicKey must refuse.
func marshalPKIXForTest(k *PrivateKey) ([]byte, error) {
	return x509.MarshalPKIXPublicKey(k.Public().RSA())
}

// TestVerifyMatchesStdlib checks circl's verifier, which CheckToken uses,
// against crypto/rsa.VerifyPSS on genuine and altered tokens.
func TestVerifyMatchesStdlib(t *testing.T) {
	k := vectorKey(t)
	opts := &rsa.PSSOptions{SaltLength: saltLength, Hash: crypto.SHA384}
	for _, name := range []string{"token_0.bin", "token_1.bin", "token_2.bin"} {
		good := testvec.Read(t, "privacypass", name)
		for i := -1; i < len(good); i += 5 {
			b := bytes.Clone(good)
			if i >= 0 {
				b[i] ^= 0x10
			}
			tok, err := ParseToken(b)
			if err != nil {
				t.Fatal(err)
			}
			digest := sha512.Sum384(tok.authenticatorInput())
			std := rsa.VerifyPSS(k.Public().RSA(), crypto.SHA384, digest[:], tok.Authenticator, opts) == nil
			ours := verifyAuthenticator(k.Public(), tok) == nil
			if std != ours || (i < 0) != ours {
				t.Fatalf("%s byte %d: circl %v, crypto/rsa %v", name, i, ours, std)
			}
		}
	}
}
