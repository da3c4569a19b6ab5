package ohttp

import (
	"encoding/binary"
	"fmt"
)

// KeyConfig is one key configuration, RFC 9458 §3.1: a key identifier, the
// KEM and public key of a gateway key, and the symmetric suites the gateway
// accepts with it.
type KeyConfig struct {
	KeyID     uint8
	KEM       uint16
	PublicKey []byte // Npk bytes, the KEM's SerializePublicKey output
	Suites    []Suite
}

// maxSuitesBytes is the largest "HPKE Symmetric Algorithms Length", 65532:
// the largest multiple of 4 a 16-bit length holds (RFC 9458 §3.1: 4..65532).
const maxSuitesBytes = 65532

// check validates c for encoding.
func (c KeyConfig) check() error {
	npk, ok := kemPublicKeySize(c.KEM)
	if !ok {
		return fmt.Errorf("%w: KEM 0x%04x is not supported", ErrKeyConfig, c.KEM)
	}
	if len(c.PublicKey) != npk {
		return fmt.Errorf("%w: public key is %d bytes, KEM 0x%04x needs %d", ErrKeyConfig, len(c.PublicKey), c.KEM, npk)
	}
	if len(c.Suites) == 0 || 4*len(c.Suites) > maxSuitesBytes {
		return fmt.Errorf("%w: %d symmetric suites, want 1..%d", ErrKeyConfig, len(c.Suites), maxSuitesBytes/4)
	}
	return nil
}

// AppendBinary appends the RFC 9458 §3.1 encoding of c to b.
func (c KeyConfig) AppendBinary(b []byte) ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	b = append(b, c.KeyID)
	b = binary.BigEndian.AppendUint16(b, c.KEM)
	b = append(b, c.PublicKey...)
	b = binary.BigEndian.AppendUint16(b, uint16(4*len(c.Suites)))
	for _, s := range c.Suites {
		b = binary.BigEndian.AppendUint16(b, s.KDF)
		b = binary.BigEndian.AppendUint16(b, s.AEAD)
	}
	return b, nil
}

// MarshalBinary returns the RFC 9458 §3.1 encoding of c.
func (c KeyConfig) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// Supports reports whether c lists s.
func (c KeyConfig) Supports(s Suite) bool {
	for _, t := range c.Suites {
		if t == s {
			return true
		}
	}
	return false
}

// ParseKeyConfig decodes exactly one RFC 9458 §3.1 key configuration; bytes
// after it are an error. The public key length comes from the KEM, so only
// the DHKEMs of RFC 9180 §7.1 can be parsed. Errors wrap [ErrKeyConfig].
func ParseKeyConfig(b []byte) (KeyConfig, error) {
	c, rest, err := parseKeyConfig(b)
	if err != nil {
		return KeyConfig{}, err
	}
	if len(rest) != 0 {
		return KeyConfig{}, fmt.Errorf("%w: %d bytes after the key configuration", ErrKeyConfig, len(rest))
	}
	return c, nil
}

func parseKeyConfig(b []byte) (KeyConfig, []byte, error) {
	if len(b) < 3 {
		return KeyConfig{}, nil, fmt.Errorf("%w: key configuration of %d bytes is truncated", ErrKeyConfig, len(b))
	}
	c := KeyConfig{KeyID: b[0], KEM: binary.BigEndian.Uint16(b[1:3])}
	npk, ok := kemPublicKeySize(c.KEM)
	if !ok {
		return KeyConfig{}, nil, fmt.Errorf("%w: KEM 0x%04x is not supported", ErrKeyConfig, c.KEM)
	}
	b = b[3:]
	if len(b) < npk+2 {
		return KeyConfig{}, nil, fmt.Errorf("%w: key configuration truncated in the public key", ErrKeyConfig)
	}
	c.PublicKey = append([]byte(nil), b[:npk]...)
	n := int(binary.BigEndian.Uint16(b[npk:]))
	b = b[npk+2:]
	if n < 4 || n%4 != 0 || n > len(b) {
		return KeyConfig{}, nil, fmt.Errorf("%w: symmetric algorithms length %d (want a multiple of 4 in 4..%d)", ErrKeyConfig, n, min(len(b), maxSuitesBytes))
	}
	c.Suites = make([]Suite, n/4)
	for i := range c.Suites {
		c.Suites[i] = Suite{KDF: binary.BigEndian.Uint16(b[4*i:]), AEAD: binary.BigEndian.Uint16(b[4*i+2:])}
	}
	return c, b[n:], nil
}

// MarshalKeyConfigs returns the application/ohttp-keys encoding of configs
// (RFC 9458 §3.2): each configuration prefixed with its 16-bit length.
func MarshalKeyConfigs(configs []KeyConfig) ([]byte, error) {
	var b []byte
	for _, c := range configs {
		start := len(b)
		b = append(b, 0, 0)
		var err error
		if b, err = c.AppendBinary(b); err != nil {
			return nil, err
		}
		n := len(b) - start - 2
		if n > 0xffff {
			return nil, fmt.Errorf("%w: key configuration %d is %d bytes, over 65535", ErrKeyConfig, c.KeyID, n)
		}
		binary.BigEndian.PutUint16(b[start:], uint16(n))
	}
	return b, nil
}

// ParseKeyConfigs decodes an application/ohttp-keys body (RFC 9458 §3.2)
// and returns the configurations this package can use, in list order.
//
// An entry whose KEM this package does not implement (for example
// privacy-gateway-server-go's X25519Kyber768Draft00, KEM 0x0030, which it
// lists before its X25519 key) is skipped: its length prefix delimits it,
// and a client only has to pick a configuration it supports. An encoding
// error (a length prefix running past the body, an entry too short to name
// its KEM, a malformed entry for a KEM we implement) discards the whole
// list, as §3.2 asks, so that clients recovering differently from a damaged
// list cannot be told apart. A list with no usable entry is an error too.
// Errors wrap [ErrKeyConfig].
func ParseKeyConfigs(b []byte) ([]KeyConfig, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty key configuration list", ErrKeyConfig)
	}
	var configs []KeyConfig
	var skipped []uint16
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("%w: truncated length prefix", ErrKeyConfig)
		}
		n := int(binary.BigEndian.Uint16(b))
		if n > len(b)-2 {
			return nil, fmt.Errorf("%w: key configuration length %d exceeds the %d remaining bytes", ErrKeyConfig, n, len(b)-2)
		}
		entry := b[2 : 2+n]
		b = b[2+n:]
		if n < 3 {
			return nil, fmt.Errorf("%w: key configuration of %d bytes is too short to name its KEM", ErrKeyConfig, n)
		}
		if kem := binary.BigEndian.Uint16(entry[1:3]); !kemSupported(kem) {
			skipped = append(skipped, kem)
			continue
		}
		c, err := ParseKeyConfig(entry)
		if err != nil {
			return nil, err
		}
		configs = append(configs, c)
	}
	if len(configs) == 0 {
		return nil, fmt.Errorf("%w: no key configuration with a supported KEM (skipped KEM %s)", ErrKeyConfig, kemList(skipped))
	}
	return configs, nil
}

// kemSupported reports whether this package can parse and use key
// configurations of kem.
func kemSupported(kem uint16) bool {
	_, ok := kemPublicKeySize(kem)
	return ok
}

// kemList formats KEM identifiers as "0x0030, 0x0031".
func kemList(kems []uint16) string {
	s := ""
	for i, k := range kems {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("0x%04x", k)
	}
	return s
}
