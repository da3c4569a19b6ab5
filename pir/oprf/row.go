package oprf

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
)

// Output is a finalized VOPRF output for one keyword: the oblivious keyword
// the PIR database is keyed by, and the AES-192-GCM key and nonce that open
// its value. The key is secret; Output's String method does not print it.
type Output struct {
	out [OutputSize]byte
}

func newOutput(b []byte) (*Output, error) {
	if len(b) != OutputSize {
		return nil, fmt.Errorf("oprf: internal error: output is %d bytes", len(b))
	}
	o := &Output{}
	copy(o.out[:], b)
	return o, nil
}

// ObliviousKeyword returns output[0:16], the keyword under which the row is
// stored and looked up.
func (o *Output) ObliviousKeyword() []byte {
	return append([]byte(nil), o.out[:ObliviousKeywordSize]...)
}

// String returns a placeholder: the output holds the value's key.
func (o *Output) String() string { return "oprf.Output(****)" }

// aead returns AES-192-GCM keyed with output[24:48] and the nonce output[0:12]
// (Apple's ParsedOprfOutput: nonce = prefix(12), key = suffix(24)).
func (o *Output) aead() (cipher.AEAD, []byte, error) {
	block, err := aes.NewCipher(o.out[OutputSize-KeySize:])
	if err != nil {
		return nil, nil, fmt.Errorf("oprf: internal error: %w", err)
	}
	gcm, err := cipher.NewGCM(block) // 12-byte nonce, 16-byte tag
	if err != nil {
		return nil, nil, fmt.Errorf("oprf: internal error: %w", err)
	}
	return gcm, o.out[:NonceSize], nil
}

// Encrypt returns AES-192-GCM(value) as ciphertext || tag, with no additional
// data, exactly as Apple's KeywordDatabase.symmetricPIRProcess stores it.
func (o *Output) Encrypt(value []byte) ([]byte, error) {
	gcm, nonce, err := o.aead()
	if err != nil {
		return nil, err
	}
	return gcm.Seal(make([]byte, 0, len(value)+TagSize), nonce, value, nil), nil
}

// Decrypt opens a value encrypted by [Output.Encrypt] (Apple's
// OprfClient.decrypt). It returns [ErrDecrypt] if the tag does not verify
// (the tag comparison is constant time) and [ErrMalformed] if the value is
// shorter than a tag.
func (o *Output) Decrypt(encrypted []byte) ([]byte, error) {
	if len(encrypted) < TagSize {
		return nil, fmt.Errorf("%w: encrypted value is %d bytes, shorter than the %d-byte tag", ErrMalformed, len(encrypted), TagSize)
	}
	gcm, nonce, err := o.aead()
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, encrypted, nil)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// Output evaluates the VOPRF on keyword directly (RFC 9497 §3.3.2
// Evaluate, the server's unblinded evaluation): SHA-384(I2OSP(len(keyword), 2)
// || keyword || I2OSP(49, 2) || k·HashToGroup(keyword) || "Finalize"). It is
// swift-crypto's P384._VOPRF.PrivateKey.evaluate(_ input:).
func (k *PrivateKey) Output(keyword []byte) (*Output, error) {
	if len(keyword) > MaxInputSize {
		return nil, fmt.Errorf("%w: keyword is %d bytes, more than %d", ErrMalformed, len(keyword), MaxInputSize)
	}
	out, err := k.server.FullEvaluate(keyword)
	if err != nil {
		return nil, fmt.Errorf("oprf: evaluating keyword: %w", err)
	}
	return newOutput(out)
}

// ProcessRow is the offline row transform of Apple's
// KeywordDatabase.symmetricPIRProcess: it returns the 16-byte oblivious
// keyword and the value encrypted under the keyword's output
// (len(value) + 16 bytes). Sharding and cuckoo hashing then run on the
// oblivious keywords.
func (k *PrivateKey) ProcessRow(keyword, value []byte) (obliviousKeyword, encrypted []byte, err error) {
	o, err := k.Output(keyword)
	if err != nil {
		return nil, nil, err
	}
	encrypted, err = o.Encrypt(value)
	if err != nil {
		return nil, nil, err
	}
	return o.ObliviousKeyword(), encrypted, nil
}
