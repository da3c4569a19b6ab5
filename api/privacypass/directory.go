package privacypass

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// IssuerRequestURI is the issuance path Apple's service publishes.
const IssuerRequestURI = "/issue"

// DirectoryKey is one "token-keys" entry of the issuer directory.
type DirectoryKey struct {
	// Key is the token key.
	Key *PublicKey
	// NotBefore is published as "not-before" (Unix seconds) when not zero.
	NotBefore time.Time
}

// MarshalDirectory returns the issuer directory JSON (RFC 9578 §4) byte for
// byte as Apple's example service writes it: "token-keys" first, then
// "issuer-request-uri"; no whitespace; '/' escaped as "\/" (Foundation's
// JSONEncoder does); token keys in base64url with padding kept (a 2048-bit
// SPKI of 342 bytes needs none).
func MarshalDirectory(requestURI string, keys []DirectoryKey) []byte {
	var b strings.Builder
	b.WriteString(`{"token-keys":[`)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"token-type":`)
		b.WriteString(strconv.Itoa(int(TokenType)))
		b.WriteString(`,"token-key":`)
		writeJSONString(&b, base64.URLEncoding.EncodeToString(k.Key.SPKI()))
		if !k.NotBefore.IsZero() {
			b.WriteString(`,"not-before":`)
			b.WriteString(strconv.FormatInt(k.NotBefore.Unix(), 10))
		}
		b.WriteByte('}')
	}
	b.WriteString(`],"issuer-request-uri":`)
	writeJSONString(&b, requestURI)
	b.WriteByte('}')
	return []byte(b.String())
}

// writeJSONString writes s as a JSON string with Foundation's escapes.
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\' || r == '/':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// Directory returns the issuer directory of the keyring at now: every key
// that is not retired, including keys whose NotBefore is still ahead.
func (r *Keyring) Directory(requestURI string, now time.Time) []byte {
	return r.directory(requestURI, now, time.Time{})
}

// directory is Directory without the keys void since since.
func (r *Keyring) directory(requestURI string, now, since time.Time) []byte {
	var keys []DirectoryKey
	for _, s := range r.directoryKeys(now, since) {
		keys = append(keys, DirectoryKey{Key: s.Key.Public(), NotBefore: s.announced()})
	}
	return MarshalDirectory(requestURI, keys)
}
