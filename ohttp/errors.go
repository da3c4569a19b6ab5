package ohttp

import "errors"

// Errors callers branch on. Each is wrapped with detail; test with errors.Is.
var (
	// ErrKeyConfig reports a key configuration that cannot be used: an
	// unknown key identifier, a KEM that does not match the key, a suite the
	// key does not offer, or a malformed or unsupported configuration. A
	// gateway answers it with the RFC 9458 §5.3 "ohttp-key" problem, so
	// clients know to fetch the key configuration again.
	ErrKeyConfig = errors.New("ohttp: key configuration mismatch")

	// ErrMalformed reports an encapsulated request or response too short to
	// hold its header, encapsulated key and AEAD tag.
	ErrMalformed = errors.New("ohttp: malformed encapsulated message")

	// ErrDecrypt reports that HPKE or AEAD decryption failed: the message was
	// not sealed to this key, or was altered.
	ErrDecrypt = errors.New("ohttp: decryption failed")

	errUnsupportedSuite = errors.New("ohttp: unsupported HPKE suite")
)
