package bhttp

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every error that reports an invalid message
// (RFC 9292 §4), whether found while decoding or while encoding.
var ErrInvalid = errors.New("bhttp: invalid message")

// Framing indicators, RFC 9292 §3.3.
const (
	framingKnownRequest          = 0
	framingKnownResponse         = 1
	framingIndeterminateRequest  = 2
	framingIndeterminateResponse = 3
)

const (
	// MaxFieldLines caps the field lines of one message, counting header and
	// trailer sections and informational responses together. Each line costs
	// at least two input bytes but a [Field] costs 32 bytes of memory, so
	// the cap bounds that amplification.
	MaxFieldLines = 1024

	// MaxInformational caps the informational (1xx) responses before a final
	// response.
	MaxInformational = 16
)

// Field is one field line: a name and a value, kept in wire order. Duplicate
// names are separate lines.
type Field struct {
	Name  string
	Value string
}

// Request is a binary HTTP request (RFC 9292 §3.4: method, scheme,
// authority, path; then header section, content and trailer section).
type Request struct {
	Method    string
	Scheme    string
	Authority string // empty when the request had no authority
	Path      string // path and query, as in an HTTP/2 :path
	Header    []Field
	Content   []byte
	Trailer   []Field

	// Indeterminate selects the indeterminate-length framing (indicator 2)
	// instead of known-length (0). The decoder sets it from the input.
	Indeterminate bool

	// Padding is the number of zero bytes after the message. The decoder
	// sets it; the encoder appends that many zero bytes.
	Padding int
}

// Informational is one informational (1xx) response that precedes the final
// response, RFC 9292 §3.5.1.
type Informational struct {
	Status int // 100..199
	Header []Field
}

// Response is a binary HTTP response: informational responses, then the
// final status (200..599), header section, content and trailer section.
type Response struct {
	Informational []Informational
	Status        int
	Header        []Field
	Content       []byte
	Trailer       []Field

	// Indeterminate selects the indeterminate-length framing (indicator 3)
	// instead of known-length (1). The decoder sets it from the input.
	Indeterminate bool

	// Padding is the number of zero bytes after the message, as in [Request].
	Padding int
}

// invalidf returns an error wrapping [ErrInvalid].
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// isTokenChar reports whether c is a tchar, RFC 9110 §5.6.2.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// checkName validates a field name: a non-empty token (RFC 9110 §5.1). A
// leading ':' marks a pseudo-field, which this package does not carry.
func checkName[T ~string | ~[]byte](name T) error {
	if len(name) == 0 {
		return invalidf("empty field name")
	}
	if name[0] == ':' {
		return invalidf("pseudo-field %q in field section", name)
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return invalidf("field name has byte 0x%02x at offset %d", name[i], i)
		}
	}
	return nil
}

// checkValue validates a field value by RFC 9113 §8.2.1: no NUL, CR or LF,
// and no leading or trailing space or tab.
func checkValue[T ~string | ~[]byte](value T) error {
	for i := 0; i < len(value); i++ {
		switch value[i] {
		case 0, '\r', '\n':
			return invalidf("field value has byte 0x%02x at offset %d", value[i], i)
		}
	}
	if n := len(value); n > 0 {
		if c := value[0]; c == ' ' || c == '\t' {
			return invalidf("field value starts with whitespace")
		}
		if c := value[n-1]; c == ' ' || c == '\t' {
			return invalidf("field value ends with whitespace")
		}
	}
	return nil
}

// checkControl validates request control data by the RFC 9113 §8.3.1 rules
// RFC 9292 §3.4 refers to: a token method, a non-empty scheme and path, and
// no control bytes or spaces in any of the four.
func checkControl[T ~string | ~[]byte](method, scheme, authority, path T) error {
	if len(method) == 0 {
		return invalidf("empty method")
	}
	for i := 0; i < len(method); i++ {
		if !isTokenChar(method[i]) {
			return invalidf("method has byte 0x%02x at offset %d", method[i], i)
		}
	}
	if len(scheme) == 0 {
		return invalidf("empty scheme")
	}
	if len(path) == 0 {
		return invalidf("empty path")
	}
	for i, v := range [...]T{scheme, authority, path} {
		for j := 0; j < len(v); j++ {
			if c := v[j]; c <= ' ' || c == 0x7f {
				return invalidf("%s has byte 0x%02x at offset %d", [...]string{"scheme", "authority", "path"}[i], c, j)
			}
		}
	}
	return nil
}

// checkFields validates every line of a field section.
func checkFields(fields []Field) error {
	for _, f := range fields {
		if err := checkName(f.Name); err != nil {
			return err
		}
		if err := checkValue(f.Value); err != nil {
			return err
		}
	}
	return nil
}
