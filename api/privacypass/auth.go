package privacypass

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// maxAuthorizationBytes caps the header we parse: a token is 472 base64
// characters; quoting, padding and other parameters stay well below this.
const maxAuthorizationBytes = 2048

// ParseAuthorization extracts the token from an Authorization header value
// of the PrivateToken scheme (RFC 9577 §2.2.2):
//
//	PrivateToken token=<base64url>
//
// The scheme and parameter names are case-insensitive (RFC 9110 §11); the
// value may be quoted and may be padded or not (devices send it unquoted and
// unpadded); other parameters are ignored; a repeated token parameter is an
// error. Any failure wraps [ErrNoToken]. Only the encoding is checked: the
// token's size and contents are [Keyring.CheckToken]'s.
func ParseAuthorization(header string) ([]byte, error) {
	if len(header) > maxAuthorizationBytes {
		return nil, fmt.Errorf("privacypass: Authorization header over %d bytes: %w", maxAuthorizationBytes, ErrNoToken)
	}
	scheme, params, ok := strings.Cut(strings.TrimLeft(header, " \t"), " ")
	if !ok || !strings.EqualFold(scheme, "PrivateToken") {
		return nil, fmt.Errorf("privacypass: Authorization is not of the PrivateToken scheme: %w", ErrNoToken)
	}
	var value string
	found := false
	for p := range strings.SplitSeq(params, ",") {
		name, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("privacypass: Authorization parameter without '=': %w", ErrNoToken)
		}
		name = strings.Trim(name, " \t")
		v = strings.Trim(v, " \t")
		if !strings.EqualFold(name, "token") {
			continue
		}
		if found {
			return nil, fmt.Errorf("privacypass: Authorization repeats the token parameter: %w", ErrNoToken)
		}
		found = true
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1] // base64url has no characters that need quoted-pair escapes
		}
		value = v
	}
	if !found {
		return nil, fmt.Errorf("privacypass: Authorization has no token parameter: %w", ErrNoToken)
	}
	tok, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(value, "="))
	if err != nil || len(tok) == 0 {
		return nil, fmt.Errorf("privacypass: token is not base64url: %w", ErrNoToken)
	}
	return tok, nil
}

// Authorization returns the header value a device sends for token:
// "PrivateToken token=" and the unpadded base64url token.
func Authorization(token []byte) string {
	return "PrivateToken token=" + base64.RawURLEncoding.EncodeToString(token)
}
