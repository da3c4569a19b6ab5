package ohttp

import (
	"crypto/cipher"
	"crypto/hpke"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// Labels of RFC 9458 §4.3 and §4.4.
const (
	requestLabel  = "message/bhttp request"  // HPKE info prefix, followed by 0x00 and the header
	responseLabel = "message/bhttp response" // HPKE exporter context for the response secret
)

// headerSize is the Encapsulated Request header: key_id (1), kem_id (2),
// kdf_id (2), aead_id (2).
const headerSize = 7

// requestInfo builds the HPKE info of RFC 9458 §4.3 step 2 in a fresh slice:
// "message/bhttp request" ‖ 0x00 ‖ hdr.
func requestInfo(hdr []byte) []byte {
	info := make([]byte, 0, len(requestLabel)+1+headerSize)
	info = append(info, requestLabel...)
	info = append(info, 0)
	return append(info, hdr...)
}

// ResponseContext is what a gateway keeps from a decapsulated request to
// encapsulate the response (RFC 9458 §4.4): the exported secret, the
// encapsulated key enc and the AEAD.
type ResponseContext struct {
	secret []byte // Export("message/bhttp response", max(Nn, Nk)), in buf
	enc    []byte
	aead   uint16
	buf    [nh]byte
	nonce  [nh]byte // AEAD nonces, here so that they need no allocation of their own
}

// DecapsulateRequest opens an Encapsulated Request (RFC 9458 §4.3, gateway
// side) and returns the binary HTTP request, in a new buffer, and the
// context for the response. An unknown key id, a KEM other than the key's or
// a suite the key does not offer is [ErrKeyConfig]; a body too short is
// [ErrMalformed]; a failed HPKE open is [ErrDecrypt]. The work done before
// decryption depends only on the public header. The context keeps a
// reference to enc inside encRequest, so encRequest must not change until
// the response is sealed.
func (ks *KeySet) DecapsulateRequest(encRequest []byte) ([]byte, *ResponseContext, error) {
	rc := new(ResponseContext)
	request, err := ks.decapsulateInto(rc, encRequest, false)
	if err != nil {
		return nil, nil, err
	}
	return request, rc, nil
}

// decapsulateInto is [KeySet.DecapsulateRequest] with the response context
// written to rc; with inPlace it opens the ciphertext over itself, so the
// request aliases encRequest (and a failed open leaves encRequest's
// ciphertext part unspecified). The gateway, which owns the body buffer,
// opens in place into a context it reuses.
func (ks *KeySet) decapsulateInto(rc *ResponseContext, encRequest []byte, inPlace bool) ([]byte, error) {
	request, err := ks.decapsulate(rc, encRequest, inPlace)
	if err != nil {
		*rc = ResponseContext{}
	}
	return request, err
}

func (ks *KeySet) decapsulate(rc *ResponseContext, encRequest []byte, inPlace bool) ([]byte, error) {
	if len(encRequest) < headerSize {
		return nil, fmt.Errorf("%w: request of %d bytes has no header", ErrMalformed, len(encRequest))
	}
	hdr := encRequest[:headerSize]
	keyID := hdr[0]
	kemID := binary.BigEndian.Uint16(hdr[1:])
	suite := Suite{KDF: binary.BigEndian.Uint16(hdr[3:]), AEAD: binary.BigEndian.Uint16(hdr[5:])}
	k := ks.byID[keyID]
	if k == nil {
		return nil, fmt.Errorf("%w: unknown key id %d", ErrKeyConfig, keyID)
	}
	if kemID != k.config.KEM {
		return nil, fmt.Errorf("%w: KEM 0x%04x for key id %d, want 0x%04x", ErrKeyConfig, kemID, keyID, k.config.KEM)
	}
	if !k.config.Supports(suite) {
		return nil, fmt.Errorf("%w: key id %d does not offer KDF 0x%04x AEAD 0x%04x", ErrKeyConfig, keyID, suite.KDF, suite.AEAD)
	}
	if _, _, err := hpkeSuite(suite); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyConfig, err)
	}
	nenc, _ := kemEncSize(kemID)
	if len(encRequest) < headerSize+nenc+aeadTagSize {
		return nil, fmt.Errorf("%w: request of %d bytes is shorter than header, enc and tag", ErrMalformed, len(encRequest))
	}
	enc := encRequest[headerSize : headerSize+nenc]
	ct := encRequest[headerSize+nenc:]
	if !inPlace {
		ct = slices.Clone(ct)
	}
	*rc = ResponseContext{enc: enc, aead: suite.AEAD}
	var request []byte
	var err error
	if k.recipient != nil {
		request, err = k.recipient.open(suite.AEAD, enc, ct, &rc.buf, &rc.nonce)
	} else {
		request, err = k.openHPKE(suite, hdr, enc, ct, &rc.buf)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	nk, nn, _ := aeadSizes(suite.AEAD)
	rc.secret = rc.buf[:max(nk, nn)]
	return request, nil
}

// responseKeys derives the response AEAD key and nonce of RFC 9458 §4.4
// steps 3–5 with the plain HKDF-SHA256 of the suite (not HPKE's labeled
// variant):
//
//	prk   = HKDF-Extract(salt = enc ‖ response_nonce, ikm = secret) = HMAC(salt, secret)
//	key   = HKDF-Expand(prk, "key", Nk)   = HMAC(prk, "key" ‖ 0x01)[:Nk]
//	nonce = HKDF-Expand(prk, "nonce", Nn) = HMAC(prk, "nonce" ‖ 0x01)[:Nn]
//
// Each Expand is the first block T(1) of RFC 5869 §2.3, since Nk and Nn are
// at most HashLen = 32. Written out over [hmacSHA256], which needs no heap;
// crypto/hkdf gives the same bytes (TestResponseKeysMatchHKDF).
func responseKeys(secret, enc, responseNonce []byte, aeadID uint16) (key, nonce []byte, err error) {
	k, n, err := responseKeyArrays(secret, enc, responseNonce, aeadID)
	if err != nil {
		return nil, nil, err
	}
	nk, nn, _ := aeadSizes(aeadID)
	return k[:nk:nk], n[:nn:nn], nil
}

// responseKeyArrays is [responseKeys] into arrays; key[:Nk] and nonce[:Nn]
// are the outputs, the rest is zero.
func responseKeyArrays(secret, enc, responseNonce []byte, aeadID uint16) (key, nonce [nh]byte, err error) {
	nk, nn, ok := aeadSizes(aeadID)
	if !ok || nk > nh || nn > nh {
		return key, nonce, errUnsupportedSuite
	}
	var salt [2 * nh]byte // enc ‖ response_nonce, 32 + at most 32 bytes for X25519
	var saltSlice []byte
	if len(enc)+len(responseNonce) <= len(salt) {
		saltSlice = append(append(salt[:0], enc...), responseNonce...)
	} else {
		saltSlice = slices.Concat(enc, responseNonce)
	}
	prk := hmacSHA256(saltSlice, secret)
	defer clear(prk[:])
	key = hmacSHA256(prk[:], []byte("key\x01"))
	nonce = hmacSHA256(prk[:], []byte("nonce\x01"))
	clear(key[nk:])
	clear(nonce[nn:])
	return key, nonce, nil
}

// responseAEAD is [responseKeys] with the key turned into an AEAD.
func responseAEAD(secret, enc, responseNonce []byte, aeadID uint16) (cipher.AEAD, [nh]byte, error) {
	key, nonce, err := responseKeyArrays(secret, enc, responseNonce, aeadID)
	defer clear(key[:])
	if err != nil {
		return nil, nonce, err
	}
	nk, _, _ := aeadSizes(aeadID)
	aead, err := newAEAD(aeadID, key[:nk])
	if err != nil {
		return nil, nonce, err
	}
	return aead, nonce, nil
}

// EncapsulateResponse seals a binary HTTP response (RFC 9458 §4.4, gateway
// side) and returns response_nonce ‖ ct. The response nonce, max(Nn, Nk)
// bytes, is read from rnd (crypto/rand when nil).
func (rc *ResponseContext) EncapsulateResponse(rnd io.Reader, response []byte) ([]byte, error) {
	n, err := rc.nonceSize()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n, n+len(response)+aeadTagSize)
	// Seal with a copy: sealInPlace keeps the nonce in its context, and rc
	// may be shared by goroutines sealing several responses.
	local := ResponseContext{secret: rc.secret, enc: rc.enc, aead: rc.aead}
	return local.sealInPlace(rnd, append(buf, response...), n)
}

// nonceSize is the response nonce length, max(Nn, Nk).
func (rc *ResponseContext) nonceSize() (int, error) {
	nk, nn, ok := aeadSizes(rc.aead)
	if !ok {
		return 0, errUnsupportedSuite
	}
	return max(nk, nn), nil
}

// sealInPlace encapsulates buf[n:], the response, in place: it fills
// buf[:n] with the response nonce from rnd, derives the key and nonce, and
// seals buf[n:] over itself, so the whole Encapsulated Response needs one
// buffer.
func (rc *ResponseContext) sealInPlace(rnd io.Reader, buf []byte, n int) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	buf = slices.Grow(buf, aeadTagSize) // Seal then appends the tag without moving buf
	if _, err := io.ReadFull(rnd, buf[:n]); err != nil {
		return nil, fmt.Errorf("ohttp: reading response nonce: %w", err)
	}
	aead, nonce, err := responseAEAD(rc.secret, rc.enc, buf[:n], rc.aead)
	if err != nil {
		return nil, fmt.Errorf("ohttp: response keys: %w", err)
	}
	rc.nonce = nonce
	clear(nonce[:])
	ct := aead.Seal(buf[n:n], rc.nonce[:aead.NonceSize()], buf[n:], nil)
	clear(rc.nonce[:])
	return buf[:n+len(ct)], nil
}

// ClientContext is what a client keeps from an encapsulated request to open
// the response: the same secret, enc and AEAD as the gateway's
// [ResponseContext].
type ClientContext struct {
	secret []byte
	enc    []byte
	aead   uint16
}

// EncapsulateRequest seals a binary HTTP request to the gateway key of
// config with suite (RFC 9458 §4.3, client side) and returns the
// Encapsulated Request hdr ‖ enc ‖ ct. The ephemeral key comes from
// crypto/rand, inside crypto/hpke.
func EncapsulateRequest(config KeyConfig, suite Suite, request []byte) ([]byte, *ClientContext, error) {
	if !config.Supports(suite) {
		return nil, nil, fmt.Errorf("%w: key id %d does not offer KDF 0x%04x AEAD 0x%04x", ErrKeyConfig, config.KeyID, suite.KDF, suite.AEAD)
	}
	kdf, aead, err := hpkeSuite(suite)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrKeyConfig, err)
	}
	kem, err := hpke.NewKEM(config.KEM)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrKeyConfig, err)
	}
	pk, err := kem.NewPublicKey(config.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: public key of key id %d: %w", ErrKeyConfig, config.KeyID, err)
	}
	hdr := make([]byte, 0, headerSize)
	hdr = append(hdr, config.KeyID)
	hdr = binary.BigEndian.AppendUint16(hdr, config.KEM)
	hdr = binary.BigEndian.AppendUint16(hdr, suite.KDF)
	hdr = binary.BigEndian.AppendUint16(hdr, suite.AEAD)
	enc, sender, err := hpke.NewSender(pk, kdf, aead, requestInfo(hdr))
	if err != nil {
		return nil, nil, fmt.Errorf("ohttp: HPKE setup: %w", err)
	}
	ct, err := sender.Seal(nil, request)
	if err != nil {
		return nil, nil, fmt.Errorf("ohttp: HPKE seal: %w", err)
	}
	nk, nn, _ := aeadSizes(suite.AEAD)
	secret, err := sender.Export(responseLabel, max(nk, nn))
	if err != nil {
		return nil, nil, fmt.Errorf("ohttp: exporting response secret: %w", err)
	}
	out := make([]byte, 0, len(hdr)+len(enc)+len(ct))
	out = append(append(append(out, hdr...), enc...), ct...)
	return out, &ClientContext{secret: secret, enc: enc, aead: suite.AEAD}, nil
}

// DecapsulateResponse opens an Encapsulated Response (RFC 9458 §4.4, client
// side) and returns the binary HTTP response.
func (cc *ClientContext) DecapsulateResponse(encResponse []byte) ([]byte, error) {
	nk, nn, ok := aeadSizes(cc.aead)
	if !ok {
		return nil, errUnsupportedSuite
	}
	n := max(nk, nn)
	if len(encResponse) < n+aeadTagSize {
		return nil, fmt.Errorf("%w: response of %d bytes is shorter than nonce and tag", ErrMalformed, len(encResponse))
	}
	aead, nonce, err := responseAEAD(cc.secret, cc.enc, encResponse[:n], cc.aead)
	if err != nil {
		return nil, fmt.Errorf("ohttp: response keys: %w", err)
	}
	response, err := aead.Open(nil, nonce[:aead.NonceSize()], encResponse[n:], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	return response, nil
}
