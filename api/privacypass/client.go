package privacypass

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/cloudflare/circl/blindsign/blindrsa"
)

// PendingToken is a client's state between a token request and the issuer's
// response.
type PendingToken struct {
	client blindrsa.Client
	state  blindrsa.State
	token  Token
}

// NewTokenRequest builds a token request as a device does (RFC 9578 §6.1),
// for tests and tools: a random nonce from random, the SHA-256 of the
// encoded challenge, and the blinded RSABSSA-SHA384-PSS-Deterministic
// message of the token input. It uses circl's blind RSA client.
func NewTokenRequest(random io.Reader, pub *PublicKey, challenge []byte) (*PendingToken, []byte, error) {
	c, err := blindrsa.NewClient(blindrsa.SHA384PSSDeterministic, pub.RSA())
	if err != nil {
		return nil, nil, fmt.Errorf("privacypass: %w", err)
	}
	p := &PendingToken{client: c}
	p.token.TokenType = TokenType
	if _, err := io.ReadFull(random, p.token.Nonce[:]); err != nil {
		return nil, nil, fmt.Errorf("privacypass: reading nonce: %w", err)
	}
	p.token.ChallengeDigest = sha256.Sum256(challenge)
	p.token.KeyID = pub.ID()
	blinded, state, err := c.Blind(random, p.token.authenticatorInput())
	if err != nil {
		return nil, nil, fmt.Errorf("privacypass: blinding: %w", err)
	}
	p.state = state
	req := make([]byte, 3, TokenRequestSize)
	binary.BigEndian.PutUint16(req, TokenType)
	req[2] = pub.TruncatedID()
	return p, append(req, blinded...), nil
}

// Finalize unblinds the issuer's token response and returns the token,
// after checking its signature.
func (p *PendingToken) Finalize(response []byte) ([]byte, error) {
	if len(response) != TokenResponseSize {
		return nil, fmt.Errorf("privacypass: token response of %d bytes, want %d", len(response), TokenResponseSize)
	}
	sig, err := p.client.Finalize(p.state, response)
	if err != nil {
		return nil, fmt.Errorf("privacypass: finalizing token: %w", err)
	}
	t := p.token
	t.Authenticator = sig
	return t.Marshal(), nil
}
