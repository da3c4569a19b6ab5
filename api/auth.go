package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/blindlist/blindlist/api/privacypass"
)

// TokenVerifier checks the Privacy Pass token (RFC 9578, type 2) that every
// PIR-service call carries. api/privacypass provides the implementation.
type TokenVerifier interface {
	// Redeem verifies a token and records its nonce as spent, so a second
	// redemption fails. It returns the tier of the key that issued it (a
	// fixed, configured name, safe as a metric label). Errors wrap one of
	// [ErrTokenMalformed], [ErrTokenUnknownKey] or [ErrTokenInvalid]; any
	// other error is an internal failure (for example the spent-nonce store
	// is unreachable).
	Redeem(ctx context.Context, token []byte) (tier string, err error)
}

// Token verification outcomes a [TokenVerifier] reports, mapped to Apple's
// statuses and messages (pir-spec §8.2 item 1).
var (
	// ErrTokenMalformed: the token does not have the type-2 size (400).
	ErrTokenMalformed = errors.New("api: private token is malformed")
	// ErrTokenUnknownKey: no current issuer key has the token's key id
	// (401 "No token key found with key id: ...").
	ErrTokenUnknownKey = errors.New("api: private token key not found")
	// ErrTokenInvalid: bad signature, wrong type, or nonce already spent
	// (401 "Token did not pass verification").
	ErrTokenInvalid = errors.New("api: private token did not pass verification")
)

// tokenSize is the size of an RFC 9578 type-2 token: uint16 type, 32-byte
// nonce, 32-byte challenge digest, 32-byte key id, 256-byte authenticator.
const tokenSize = privacypass.TokenSize

// privateTokenFromHeader extracts the token bytes from the first
// Authorization value that [privacypass.ParseAuthorization] accepts
// ("PrivateToken token=<base64url>", as the device sends it; the issuer
// and the service share that one parser). ok is false when there is none:
// the header is missing, has another scheme, or its token is not base64url.
func privateTokenFromHeader(h http.Header) (token []byte, ok bool) {
	for _, v := range h.Values("Authorization") {
		if tok, err := privacypass.ParseAuthorization(v); err == nil {
			return tok, true
		}
	}
	return nil, false
}

// checkToken runs the Privacy Pass check on a request and returns the tier.
// Statuses and messages follow Apple's middleware.
func checkToken(ctx context.Context, v TokenVerifier, h http.Header) (string, error) {
	tok, ok := privateTokenFromHeader(h)
	if !ok {
		return "", newHTTPError(http.StatusUnauthorized, catAuth, "No private token")
	}
	if len(tok) != tokenSize {
		return "", newHTTPError(http.StatusBadRequest, catAuth, fmt.Sprintf("Invalid token size %d, want %d", len(tok), tokenSize))
	}
	tier, err := v.Redeem(ctx, tok)
	switch {
	case err == nil:
		return tier, nil
	case errors.Is(err, ErrTokenMalformed):
		return "", &httpError{status: http.StatusBadRequest, category: catAuth, message: "Invalid private token", err: err}
	case errors.Is(err, ErrTokenUnknownKey):
		// Apple prints the full key id; it is public (the SHA-256 of a
		// published key), and the device logs it, which helps operators.
		return "", &httpError{status: http.StatusUnauthorized, category: catAuth,
			message: fmt.Sprintf("No token key found with key id: %v", tokenKeyIDList(tok)), err: err}
	case errors.Is(err, ErrTokenInvalid):
		return "", &httpError{status: http.StatusUnauthorized, category: catAuth, message: "Token did not pass verification", err: err}
	default:
		return "", fmt.Errorf("api: verifying private token: %w", err)
	}
}

// tokenKeyIDList formats the token's key id as Swift prints a [UInt8]:
// "[215, 192, ...]".
func tokenKeyIDList(tok []byte) string {
	return byteList(tok[2+32+32 : 2+32+32+32])
}
