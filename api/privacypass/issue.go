package privacypass

import (
	"errors"
	"fmt"

	"github.com/blindlist/blindlist/api/privacypass/internal/ctrsa"
)

// Issue answers a token request with the 256-byte blind signature
// s = blinded_msg^d mod n (RFC 9578 §6.2, RFC 9474 §4.2 BlindSign). The
// answer is deterministic, so it is byte-identical to Apple's issuer's.
//
// It checks, in Apple's order, the token type, the truncated key id and the
// blinded message size, then that the message is below n. The signature is
// computed in constant time and verified before it is returned.
func (k *PrivateKey) Issue(req *TokenRequest) ([]byte, error) {
	if req.TokenType != TokenType {
		return nil, fmt.Errorf("privacypass: token type %#04x, want %#04x: %w", req.TokenType, TokenType, ErrRequestTokenType)
	}
	if req.TruncatedKeyID != k.pub.TruncatedID() {
		return nil, fmt.Errorf("privacypass: truncated key id %d, want %d: %w", req.TruncatedKeyID, k.pub.TruncatedID(), ErrRequestKeyID)
	}
	if len(req.BlindedMsg) != Nk {
		return nil, fmt.Errorf("privacypass: blinded message of %d bytes, want %d: %w", len(req.BlindedMsg), Nk, ErrRequestSize)
	}
	sig, err := k.signer.Sign(req.BlindedMsg)
	switch {
	case errors.Is(err, ctrsa.ErrInputRange):
		return nil, fmt.Errorf("privacypass: %w", ErrBlindedMessage)
	case err != nil:
		// A fault or an impossible size: never the client's doing.
		return nil, fmt.Errorf("privacypass: blind signing: %w", err)
	}
	return sig, nil
}
