package privacypass

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/blindlist/blindlist/api/privacypass/internal/ctrsa"
	"github.com/cloudflare/circl/blindsign/blindrsa"
)

// KeyBits is the modulus size of token type 2 keys (RFC 9578 §6: Nk = 256).
const KeyBits = 2048

// PublicKey is a token key: an RSA-2048 public key with e = 65537 or
// another odd exponent, its SPKI bytes and its token key id.
type PublicKey struct {
	rsa      *rsa.PublicKey
	spki     []byte
	id       [32]byte
	verifier blindrsa.Verifier
}

func newPublicKey(pub *rsa.PublicKey) (*PublicKey, error) {
	if pub.N.BitLen() != KeyBits {
		return nil, fmt.Errorf("privacypass: token key has %d bits, token type 2 needs %d", pub.N.BitLen(), KeyBits)
	}
	v, err := blindrsa.NewVerifier(blindrsa.SHA384PSSDeterministic, pub)
	if err != nil {
		return nil, fmt.Errorf("privacypass: token key: %w", err)
	}
	spki := marshalSPKI(pub)
	return &PublicKey{rsa: pub, spki: spki, id: sha256.Sum256(spki), verifier: v}, nil
}

// SPKI returns the key's SubjectPublicKeyInfo as served in the directory and
// by /token-key-for-user-token. The caller must not modify it.
func (k *PublicKey) SPKI() []byte { return k.spki }

// ID returns the token key id, SHA-256 of [PublicKey.SPKI] (RFC 9578 §6.5).
func (k *PublicKey) ID() [32]byte { return k.id }

// TruncatedID returns the last byte of the key id, the truncated_token_key_id
// of token requests (RFC 9578 §6.1).
func (k *PublicKey) TruncatedID() byte { return k.id[31] }

// RSA returns the RSA public key.
func (k *PublicKey) RSA() *rsa.PublicKey { return k.rsa }

// PrivateKey is an issuer key, ready for constant-time blind signing.
type PrivateKey struct {
	pub    *PublicKey
	rsa    *rsa.PrivateKey
	signer *ctrsa.PrivateKey
}

// NewPrivateKey wraps a validated two-prime RSA-2048 key.
func NewPrivateKey(k *rsa.PrivateKey) (*PrivateKey, error) {
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("privacypass: invalid issuer key: %w", err)
	}
	pub, err := newPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	signer, err := ctrsa.NewPrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("privacypass: issuer key: %w", err)
	}
	return &PrivateKey{pub: pub, rsa: k, signer: signer}, nil
}

// GenerateKey returns a new issuer key: RSA-2048, e = 65537, from
// crypto/rand (crypto/rsa ignores any other source since Go 1.24).
func GenerateKey() (*PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("privacypass: generating key: %w", err)
	}
	return NewPrivateKey(k)
}

// ParsePrivateKeyPEM reads an issuer key from PEM: PKCS #1 ("RSA PRIVATE
// KEY", as Apple's example writes) or PKCS #8 ("PRIVATE KEY").
func ParsePrivateKeyPEM(data []byte) (*PrivateKey, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("privacypass: no PEM block in issuer key")
	}
	if b2, _ := pem.Decode(rest); b2 != nil {
		return nil, errors.New("privacypass: issuer key file holds more than one PEM block")
	}
	var k *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		var err error
		if k, err = x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return nil, fmt.Errorf("privacypass: parsing PKCS #1 key: %w", err)
		}
	case "PRIVATE KEY":
		any, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("privacypass: parsing PKCS #8 key: %w", err)
		}
		var ok bool
		if k, ok = any.(*rsa.PrivateKey); !ok {
			return nil, fmt.Errorf("privacypass: PKCS #8 key is %T, want an RSA key", any)
		}
	default:
		return nil, fmt.Errorf("privacypass: PEM block %q, want \"RSA PRIVATE KEY\" or \"PRIVATE KEY\"", block.Type)
	}
	return NewPrivateKey(k)
}

// MarshalPEM returns the key as a PKCS #8 PEM block.
func (k *PrivateKey) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.rsa)
	if err != nil {
		return nil, fmt.Errorf("privacypass: encoding key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Public returns the token key.
func (k *PrivateKey) Public() *PublicKey { return k.pub }
