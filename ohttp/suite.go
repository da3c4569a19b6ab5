package ohttp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hpke"

	"golang.org/x/crypto/chacha20poly1305"
)

// HPKE algorithm identifiers (RFC 9180 §7, IANA "HPKE" registry) that this
// package uses.
const (
	KEMX25519HKDFSHA256 uint16 = 0x0020 // DHKEM(X25519, HKDF-SHA256)
	// KEMMLKEM768X25519 is the hybrid of ML-KEM-768 and X25519 that Go's
	// crypto/hpke implements ([hpke.MLKEM768X25519]). The IANA HPKE KEM
	// registry lists 0x647a as "X-Wing" (draft-connolly-cfrg-xwing-kem);
	// draft-ietf-hpke-pq names the same construction MLKEM768-X25519, keeps
	// the identifier and asks IANA to rename the entry. It is not
	// X25519Kyber768Draft00 (0x0030), the pre-standard Kyber hybrid that
	// privacy-gateway-server-go serves.
	KEMMLKEM768X25519    uint16 = 0x647a
	KDFHKDFSHA256        uint16 = 0x0001 // HKDF-SHA256
	AEADAES128GCM        uint16 = 0x0001 // AES-128-GCM
	AEADAES256GCM        uint16 = 0x0002 // AES-256-GCM
	AEADChaCha20Poly1305 uint16 = 0x0003 // ChaCha20-Poly1305
)

// Suite is one HPKE symmetric algorithm pair of a key configuration (RFC 9458
// §3.1, "HPKE Symmetric Algorithms").
type Suite struct {
	KDF  uint16
	AEAD uint16
}

// DefaultSuites returns the suites a gateway key advertises unless told
// otherwise, in order of preference: HKDF-SHA256 with AES-128-GCM (the suite
// client-spec.md §5.4 recommends for Apple's clients), AES-256-GCM and
// ChaCha20-Poly1305.
func DefaultSuites() []Suite {
	return []Suite{
		{KDFHKDFSHA256, AEADAES128GCM},
		{KDFHKDFSHA256, AEADAES256GCM},
		{KDFHKDFSHA256, AEADChaCha20Poly1305},
	}
}

// kemPublicKeySize is Npk of the KEMs whose key configurations this package
// can parse: the DHKEMs of RFC 9180 §7.1 and MLKEM768-X25519.
func kemPublicKeySize(kem uint16) (int, bool) {
	switch kem {
	case 0x0010: // DHKEM(P-256, HKDF-SHA256): uncompressed point, 1 + 2·32
		return 65, true
	case 0x0011: // DHKEM(P-384, HKDF-SHA384): 1 + 2·48
		return 97, true
	case 0x0012: // DHKEM(P-521, HKDF-SHA512): 1 + 2·66
		return 133, true
	case KEMX25519HKDFSHA256:
		return 32, true
	case 0x0021: // DHKEM(X448, HKDF-SHA512)
		return 56, true
	case KEMMLKEM768X25519: // ML-KEM-768 encapsulation key (1184) ‖ X25519 point (32)
		return 1184 + 32, true
	}
	return 0, false
}

// kemEncSize is Nenc, the length of the encapsulated key in a request: Npk
// for the DHKEMs, the ML-KEM-768 ciphertext (1088) ‖ an X25519 point for
// MLKEM768-X25519.
func kemEncSize(kem uint16) (int, bool) {
	if kem == KEMMLKEM768X25519 {
		return 1088 + 32, true
	}
	return kemPublicKeySize(kem)
}

// aeadSizes returns Nk and Nn (RFC 9180 §7.3) of the AEADs we support.
func aeadSizes(aead uint16) (nk, nn int, ok bool) {
	switch aead {
	case AEADAES128GCM:
		return 16, 12, true
	case AEADAES256GCM, AEADChaCha20Poly1305:
		return 32, 12, true
	}
	return 0, 0, false
}

// aeadTagSize is Nt, 16 bytes for all three AEADs.
const aeadTagSize = 16

// newAEAD returns the AEAD aead keyed with key, for response encapsulation
// (RFC 9458 §4.4), which uses the AEAD directly rather than through HPKE.
func newAEAD(aead uint16, key []byte) (cipher.AEAD, error) {
	switch aead {
	case AEADAES128GCM, AEADAES256GCM:
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(block)
	case AEADChaCha20Poly1305:
		return chacha20poly1305.New(key)
	}
	return nil, errUnsupportedSuite
}

// hpkeSuite resolves s for crypto/hpke. Only HKDF-SHA256 and the three AEADs
// above are accepted, whatever crypto/hpke could do besides.
func hpkeSuite(s Suite) (hpke.KDF, hpke.AEAD, error) {
	if s.KDF != KDFHKDFSHA256 {
		return nil, nil, errUnsupportedSuite
	}
	switch s.AEAD {
	case AEADAES128GCM:
		return hpke.HKDFSHA256(), hpke.AES128GCM(), nil
	case AEADAES256GCM:
		return hpke.HKDFSHA256(), hpke.AES256GCM(), nil
	case AEADChaCha20Poly1305:
		return hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), nil
	}
	return nil, nil, errUnsupportedSuite
}
