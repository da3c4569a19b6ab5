package oprf

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/oprf"
	"github.com/cloudflare/circl/zk/dleq"

	"github.com/blindlist/blindlist/internal/atomicfile"
)

// Sizes of the encodings of the one configuration type,
// OPRF_P384_AES_GCM_192_NONCE_96_TAG_128 (Apple's SymmetricPirConfigType).
const (
	// ScalarSize is the byte length of a P-384 scalar (private key, proof halves).
	ScalarSize = 48
	// ElementSize is the byte length of a compressed SEC1 P-384 point:
	// 0x02 or 0x03, then the 48-byte x coordinate.
	ElementSize = 1 + 48
	// ProofSize is the byte length of a DLEQ proof, c || s.
	ProofSize = 2 * ScalarSize
	// OutputSize is the byte length of a VOPRF output (SHA-384).
	OutputSize = sha512.Size384
	// ObliviousKeywordSize is how many leading output bytes form the keyword
	// the PIR database is keyed by.
	ObliviousKeywordSize = 16
	// KeySize is the AES-192 key length, taken from the output's last bytes.
	KeySize = 24
	// NonceSize is the AES-GCM nonce length, taken from the output's first bytes.
	NonceSize = 12
	// TagSize is the AES-GCM tag appended to each encrypted value.
	TagSize = 16
	// MaxInputSize is the longest keyword RFC 9497 can evaluate: its length
	// is framed as a 2-byte integer (I2OSP(len(input), 2)).
	MaxInputSize = 1<<16 - 1
)

// ConfigTypeName is Apple's name of the only configuration type, as
// PIRProcessDatabase's JSON (`symmetricPirArguments.configType`) spells it.
// The protobuf enum value is 1
// (SYMMETRIC_PIR_CONFIG_TYPE_OPRF_P384_AES_GCM_192_NONCE_96_TAG_128).
const ConfigTypeName = "OPRF_P384_AES_GCM_192_NONCE_96_TAG_128"

// Errors callers may test for with errors.Is.
var (
	// ErrMalformed reports bytes that are not a valid encoding: wrong length,
	// not a curve point, a scalar out of range.
	ErrMalformed = errors.New("oprf: malformed encoding")
	// ErrProof reports an evaluation whose DLEQ proof does not verify
	// against the server's public key.
	ErrProof = errors.New("oprf: proof verification failed")
	// ErrDecrypt reports an encrypted value that does not open under the
	// keyword's key (wrong keyword, wrong key, or tampered bytes).
	ErrDecrypt = errors.New("oprf: value does not decrypt")
)

// suite is RFC 9497 §4.4 P384-SHA384.
var suite = oprf.SuiteP384

// contextString is RFC 9497 §3.1's contextString for the verifiable mode:
// "OPRFV1-" || I2OSP(0x01, 1) || "-" || "P384-SHA384". The DLEQ proof's
// domain separation tags are built from it.
const contextString = "OPRFV1-\x01-P384-SHA384"

// dleqParams are the RFC 9497 §2.2 proof parameters of the suite.
func dleqParams() dleq.Params {
	return dleq.Params{G: group.P384, H: suite.Hash(), DST: []byte(contextString)}
}

// PrivateKey is a server's VOPRF key: the scalar k in [1, n) and its public
// element k·G. It is safe for concurrent use. Its String and GoString methods
// print a placeholder, never the key.
type PrivateKey struct {
	k      group.Scalar
	server oprf.VerifiableServer
	pub    group.Element
	pubEnc [ElementSize]byte
}

// NewPrivateKey parses a 48-byte big-endian scalar (swift-crypto's
// P384._VOPRF.PrivateKey.rawRepresentation). It refuses 0 and values >= n.
func NewPrivateKey(b []byte) (*PrivateKey, error) {
	if len(b) != ScalarSize {
		return nil, fmt.Errorf("%w: private key is %d bytes, want %d", ErrMalformed, len(b), ScalarSize)
	}
	k := group.P384.NewScalar()
	if err := k.UnmarshalBinary(b); err != nil || k.IsZero() {
		return nil, fmt.Errorf("%w: private key is not a scalar in [1, n)", ErrMalformed)
	}
	var ck oprf.PrivateKey
	if err := ck.UnmarshalBinary(suite, b); err != nil {
		return nil, fmt.Errorf("%w: private key: %v", ErrMalformed, err)
	}
	pub := group.P384.NewElement().MulGen(k)
	enc, err := pub.MarshalBinaryCompress()
	if err != nil || len(enc) != ElementSize {
		return nil, fmt.Errorf("oprf: encoding public key: %v", err)
	}
	key := &PrivateKey{k: k, server: oprf.NewVerifiableServer(suite, &ck), pub: pub}
	copy(key.pubEnc[:], enc)
	return key, nil
}

// GenerateKey draws a fresh private key from rand (crypto/rand.Reader in
// production).
func GenerateKey(rand io.Reader) (*PrivateKey, error) {
	if rand == nil {
		return nil, errors.New("oprf: nil random source")
	}
	k, err := randomScalar(rand)
	if err != nil {
		return nil, err
	}
	b, err := k.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("oprf: encoding scalar: %w", err)
	}
	return NewPrivateKey(b)
}

// maxScalarDraws bounds rejection sampling. n is within 2^-190 of 2^384, so
// a healthy source needs one draw; only a broken one (all 0xff, all zero)
// exhausts the bound.
const maxScalarDraws = 8

// randomScalar samples a scalar uniformly from [1, n) by rejection from
// 48-byte strings read from rand.
func randomScalar(rand io.Reader) (group.Scalar, error) {
	var buf [ScalarSize]byte
	s := group.P384.NewScalar()
	for range maxScalarDraws {
		if _, err := io.ReadFull(rand, buf[:]); err != nil {
			return nil, fmt.Errorf("oprf: reading randomness: %w", err)
		}
		if s.UnmarshalBinary(buf[:]) == nil && !s.IsZero() {
			return s, nil
		}
	}
	return nil, errors.New("oprf: random source gave no scalar in [1, n)")
}

// Bytes returns the 48-byte big-endian scalar. Treat it as a secret.
func (k *PrivateKey) Bytes() []byte {
	b, err := k.k.MarshalBinary()
	if err != nil || len(b) != ScalarSize {
		panic("oprf: internal error: scalar encoding")
	}
	return b
}

// PublicKey returns the 49-byte compressed public element, the value of
// SymmetricPirClientConfig.server_public_key.
func (k *PrivateKey) PublicKey() []byte { return bytes.Clone(k.pubEnc[:]) }

// String returns a placeholder, so that formatting a key never prints it.
func (k *PrivateKey) String() string { return "oprf.PrivateKey(****)" }

// GoString returns the same placeholder as String.
func (k *PrivateKey) GoString() string { return k.String() }

// MarshalKeyFile returns the key in Apple's key-file format: the scalar as
// 96 lowercase hex digits, no newline.
func (k *PrivateKey) MarshalKeyFile() []byte {
	b := k.Bytes()
	out := make([]byte, hex.EncodedLen(len(b)))
	hex.Encode(out, b)
	clear(b)
	return out
}

// ParseKeyFile parses Apple's key-file format (see [PrivateKey.MarshalKeyFile]).
// Surrounding ASCII whitespace is ignored; anything else but 96 hex digits is
// refused. The error never contains the file's bytes.
func ParseKeyFile(data []byte) (*PrivateKey, error) {
	s := bytes.TrimSpace(data)
	if len(s) != 2*ScalarSize {
		return nil, fmt.Errorf("%w: key file has %d characters, want %d hex digits", ErrMalformed, len(s), 2*ScalarSize)
	}
	var b [ScalarSize]byte
	defer clear(b[:])
	if _, err := hex.Decode(b[:], s); err != nil {
		return nil, fmt.Errorf("%w: key file is not hex", ErrMalformed)
	}
	return NewPrivateKey(b[:])
}

// ReadKeyFile reads and parses a key file written by [CreateKeyFile] or by
// Apple's PIRProcessDatabase (`outputDatabaseEncryptionKeyFilePath`).
func ReadKeyFile(path string) (*PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("oprf: reading key file: %w", err)
	}
	defer clear(data)
	k, err := ParseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("oprf: key file %s: %w", path, err)
	}
	return k, nil
}

// WriteKeyFile atomically writes k to path in Apple's format with mode 0600,
// replacing any file there.
func WriteKeyFile(path string, k *PrivateKey) error {
	data := k.MarshalKeyFile()
	defer clear(data)
	if err := atomicfile.WriteBytes(path, 0o600, data); err != nil {
		return fmt.Errorf("oprf: writing key file: %w", err)
	}
	return nil
}

// CreateKeyFile reads the key at path if the file exists; otherwise it
// generates a key from rand and writes it there (mode 0600). created reports
// which happened.
func CreateKeyFile(path string, rand io.Reader) (k *PrivateKey, created bool, err error) {
	k, err = ReadKeyFile(path)
	if err == nil {
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	if k, err = GenerateKey(rand); err != nil {
		return nil, false, err
	}
	if err := WriteKeyFile(path, k); err != nil {
		return nil, false, err
	}
	return k, true, nil
}
