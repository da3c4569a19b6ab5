package privacypass

import "errors"

// Errors callers branch on. Issuance and redemption failures wrap exactly one
// of them; [Service.Handler] and [Service.Middleware] map them to the status
// codes of Apple's service (pir-spec §8.2, §8.3).
var (
	// ErrRequestSize: a token request is not 259 bytes (400, as Apple's).
	ErrRequestSize = errors.New("privacypass: token request has the wrong size")
	// ErrRequestTokenType: a token request is not of type 2 (422, RFC 9578 §6.2).
	ErrRequestTokenType = errors.New("privacypass: token request has the wrong token type")
	// ErrRequestKeyID: no key of the caller's tier has the request's truncated
	// key id (422, RFC 9578 §6.2).
	ErrRequestKeyID = errors.New("privacypass: token request names an unknown token key")
	// ErrBlindedMessage: the blinded message is not below the modulus (422).
	ErrBlindedMessage = errors.New("privacypass: blinded message is out of range")

	// ErrNoToken: the Authorization header is missing, of another scheme, or
	// not decodable (401 "No private token").
	ErrNoToken = errors.New("privacypass: no private token")
	// ErrTokenSize: a token is not 354 bytes (400, as Apple's).
	ErrTokenSize = errors.New("privacypass: token has the wrong size")
	// ErrTokenType: a token is not of type 2 (401).
	ErrTokenType = errors.New("privacypass: token has the wrong token type")
	// ErrUnknownKey: no accepted key has the token's key id, or the key is
	// retired (401 "No token key found").
	ErrUnknownKey = errors.New("privacypass: token key id is not a key of this issuer")
	// ErrBadSignature: the authenticator is not a valid RSASSA-PSS signature
	// of the token (401).
	ErrBadSignature = errors.New("privacypass: token signature does not verify")
	// ErrTokenSpent: the token was redeemed before (401).
	ErrTokenSpent = errors.New("privacypass: token already spent")

	// ErrNoActiveKey: the user's tier has no key that may sign now: for
	// less than a second after the spent-token store lost its data (the
	// new key starts on the next whole second), or a misconfiguration
	// (503).
	ErrNoActiveKey = errors.New("privacypass: no active key for the tier")

	// ErrUnauthorized: the bearer user token is missing or unknown (401).
	ErrUnauthorized = errors.New("privacypass: user token is unauthorized")
)
