package privacypass

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Sizes of token type 2 (RFC 9578 §6).
const (
	// TokenType is the token type of publicly verifiable tokens, Blind RSA
	// 2048 (RFC 9578 §8.2.1).
	TokenType uint16 = 0x0002
	// Nk is the length of a blinded message, a blind signature and an
	// authenticator: the RSA modulus length in bytes.
	Nk = KeyBits / 8
	// Nid is the length of a token key id.
	Nid = 32
	// NonceSize is the length of a token nonce.
	NonceSize = 32
	// TokenRequestSize is 2 + 1 + Nk = 259 bytes (RFC 9578 §6.1).
	TokenRequestSize = 2 + 1 + Nk
	// TokenResponseSize is Nk = 256 bytes (RFC 9578 §6.2).
	TokenResponseSize = Nk
	// TokenSize is 2 + 32 + 32 + Nid + Nk = 354 bytes (RFC 9578 §6.3).
	TokenSize = 2 + NonceSize + sha256.Size + Nid + Nk
	// authenticatorInputSize is the signed prefix of a token.
	authenticatorInputSize = TokenSize - Nk
)

// TokenRequest is the body of a POST /issue (RFC 9578 §6.1):
//
//	struct {
//	  uint16_t token_type = 0x0002;
//	  uint8_t truncated_token_key_id;
//	  uint8_t blinded_msg[Nk];
//	} TokenRequest;
type TokenRequest struct {
	TokenType      uint16
	TruncatedKeyID byte
	BlindedMsg     []byte
}

// ParseTokenRequest decodes a token request. Only the length is checked
// here; [PrivateKey.Issue] checks the type, key id and range.
func ParseTokenRequest(b []byte) (*TokenRequest, error) {
	if len(b) != TokenRequestSize {
		return nil, fmt.Errorf("privacypass: token request of %d bytes, want %d: %w", len(b), TokenRequestSize, ErrRequestSize)
	}
	return &TokenRequest{
		TokenType:      binary.BigEndian.Uint16(b),
		TruncatedKeyID: b[2],
		BlindedMsg:     append([]byte(nil), b[3:]...),
	}, nil
}

// Marshal encodes the request.
func (r *TokenRequest) Marshal() []byte {
	b := make([]byte, 3, 3+len(r.BlindedMsg))
	binary.BigEndian.PutUint16(b, r.TokenType)
	b[2] = r.TruncatedKeyID
	return append(b, r.BlindedMsg...)
}

// Token is a redeemable token (RFC 9577 §2.2, RFC 9578 §6.3):
//
//	struct {
//	  uint16_t token_type = 0x0002;
//	  uint8_t nonce[32];
//	  uint8_t challenge_digest[32];
//	  uint8_t token_key_id[Nid];
//	  uint8_t authenticator[Nk];
//	} Token;
type Token struct {
	TokenType       uint16
	Nonce           [NonceSize]byte
	ChallengeDigest [sha256.Size]byte
	KeyID           [Nid]byte
	Authenticator   []byte
}

// ParseToken decodes a token. Only the length is checked here; [Verifier]
// checks the rest.
func ParseToken(b []byte) (*Token, error) {
	if len(b) != TokenSize {
		return nil, fmt.Errorf("privacypass: token of %d bytes, want %d: %w", len(b), TokenSize, ErrTokenSize)
	}
	t := &Token{TokenType: binary.BigEndian.Uint16(b)}
	off := 2
	off += copy(t.Nonce[:], b[off:])
	off += copy(t.ChallengeDigest[:], b[off:])
	off += copy(t.KeyID[:], b[off:])
	t.Authenticator = append([]byte(nil), b[off:]...)
	return t, nil
}

// Marshal encodes the token.
func (t *Token) Marshal() []byte {
	b := t.authenticatorInput()
	return append(b, t.Authenticator...)
}

// authenticatorInput returns token_type || nonce || challenge_digest ||
// token_key_id, the message the authenticator signs (RFC 9578 §6.3).
func (t *Token) authenticatorInput() []byte {
	b := make([]byte, 2, TokenSize)
	binary.BigEndian.PutUint16(b, t.TokenType)
	b = append(b, t.Nonce[:]...)
	b = append(b, t.ChallengeDigest[:]...)
	return append(b, t.KeyID[:]...)
}

// TokenChallenge is the challenge a token is bound to (RFC 9577 §2.1):
//
//	struct {
//	  uint16_t token_type;
//	  opaque issuer_name<1..2^16-1>;
//	  opaque redemption_context<0..32>;
//	  opaque origin_info<0..2^16-1>;
//	} TokenChallenge;
//
// Apple's devices build the challenge themselves and Apple's service does
// not check the digest (pir-spec §8.3); this type exists for clients and
// tests.
type TokenChallenge struct {
	TokenType         uint16
	IssuerName        string
	RedemptionContext []byte
	OriginInfo        string
}

// ParseTokenChallenge decodes a token challenge.
func ParseTokenChallenge(b []byte) (*TokenChallenge, error) {
	s := cryptobyte.String(b)
	var c TokenChallenge
	var issuer, ctx cryptobyte.String
	var origin cryptobyte.String
	if !s.ReadUint16(&c.TokenType) ||
		!s.ReadUint16LengthPrefixed(&issuer) ||
		!s.ReadUint8LengthPrefixed(&ctx) ||
		!s.ReadUint16LengthPrefixed(&origin) || !s.Empty() {
		return nil, errors.New("privacypass: malformed token challenge")
	}
	if len(issuer) == 0 {
		return nil, errors.New("privacypass: token challenge has an empty issuer name")
	}
	if len(ctx) != 0 && len(ctx) != 32 {
		return nil, fmt.Errorf("privacypass: token challenge redemption context of %d bytes, want 0 or 32", len(ctx))
	}
	c.IssuerName = string(issuer)
	c.RedemptionContext = append([]byte(nil), ctx...)
	c.OriginInfo = string(origin)
	return &c, nil
}

// Marshal encodes the challenge.
func (c *TokenChallenge) Marshal() ([]byte, error) {
	if len(c.IssuerName) == 0 || len(c.IssuerName) > 0xffff || len(c.OriginInfo) > 0xffff {
		return nil, errors.New("privacypass: token challenge issuer name or origin info has an invalid length")
	}
	if len(c.RedemptionContext) != 0 && len(c.RedemptionContext) != 32 {
		return nil, errors.New("privacypass: token challenge redemption context must be 0 or 32 bytes")
	}
	var b cryptobyte.Builder
	b.AddUint16(c.TokenType)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(c.IssuerName)) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c.RedemptionContext) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(c.OriginInfo)) })
	return b.Bytes()
}
