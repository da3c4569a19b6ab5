package ohttp

import (
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// The gateway's HPKE recipient: RFC 9180 base mode for DHKEM(X25519,
// HKDF-SHA256), HKDF-SHA256 and the three AEADs of suite.go, written out so
// that a request costs one X25519 and a few SHA-256 compressions on stack
// buffers, and the request opens in place. The client side
// ([EncapsulateRequest]) stays on crypto/hpke, so every round-trip test
// checks this recipient against Go's sender.
//
// Every length below is public (fixed by the suite); no branch or index
// depends on a secret.

// hpkeVersion is the "HPKE-v1" prefix of every labeled derivation (RFC 9180 §4).
const hpkeVersion = "HPKE-v1"

// nh is Nh of HKDF-SHA256 and Nsecret of DHKEM(X25519, HKDF-SHA256).
const nh = sha256.Size

// kscSize is the length of key_schedule_context in base mode (RFC 9180
// §5.1): mode (1) ‖ psk_id_hash (Nh) ‖ info_hash (Nh).
const kscSize = 1 + 2*nh

// hmacScratch bounds HMAC input on the stack: one 64-byte block for the
// padded key and up to 192 bytes of message (the longest here, the
// DHKEM shared_secret expansion, is 92 bytes).
const hmacScratch = sha256.BlockSize + 192

// hmacSHA256 returns HMAC-SHA256(key, parts[0] ‖ parts[1] ‖ …) (RFC 2104)
// computed with two sha256.Sum256 over a stack buffer, so it does not
// allocate. A key longer than a block is hashed first; a message longer
// than the scratch space falls back to crypto/hmac (never the case for the
// fixed-size inputs of this file).
func hmacSHA256(key []byte, parts ...[]byte) [nh]byte {
	var buf [hmacScratch]byte
	defer clear(buf[:])
	n := sha256.BlockSize
	for _, p := range parts {
		if len(p) > len(buf)-n {
			return hmacSHA256Slow(key, parts)
		}
		n += copy(buf[n:], p)
	}
	var k [sha256.BlockSize]byte
	defer clear(k[:])
	if len(key) > sha256.BlockSize {
		h := sha256.Sum256(key)
		copy(k[:], h[:])
	} else {
		copy(k[:], key)
	}
	for i := range k {
		buf[i] = k[i] ^ 0x36
	}
	inner := sha256.Sum256(buf[:n])
	for i := range k {
		buf[i] = k[i] ^ 0x5c
	}
	copy(buf[sha256.BlockSize:], inner[:])
	clear(inner[:])
	return sha256.Sum256(buf[:sha256.BlockSize+nh])
}

// hmacSHA256Slow is [hmacSHA256] for a long message, through crypto/hmac.
// The parts are copied into one heap buffer first, so they do not escape and
// the fast path stays free of allocation.
func hmacSHA256Slow(key []byte, parts [][]byte) [nh]byte {
	var msg []byte
	for _, p := range parts {
		msg = append(msg, p...)
	}
	m := hmac.New(sha256.New, append([]byte(nil), key...))
	m.Write(msg)
	var out [nh]byte
	m.Sum(out[:0])
	return out
}

// labeledExtract is LabeledExtract(salt, label, ikm) of RFC 9180 §4:
// HKDF-Extract(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm), and HKDF-Extract
// is HMAC(salt, ikm) (RFC 5869 §2.2; an empty salt is the same HMAC key as
// HashLen zeros).
func labeledExtract(salt, suiteID []byte, label string, ikm []byte) [nh]byte {
	return hmacSHA256(salt, []byte(hpkeVersion), suiteID, []byte(label), ikm)
}

// labeledExpand is LabeledExpand(prk, label, info, L) of RFC 9180 §4 for
// L ≤ Nh: HKDF-Expand(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label ‖ info,
// L), which is the first block T(1) = HMAC(prk, labeled_info ‖ 0x01)
// truncated to L (RFC 5869 §2.3).
func labeledExpand(prk, suiteID []byte, label string, info []byte, l int) [nh]byte {
	var lenCounter [3]byte // I2OSP(L, 2), then the counter byte 0x01 after info
	binary.BigEndian.PutUint16(lenCounter[:2], uint16(l))
	lenCounter[2] = 1
	t := hmacSHA256(prk, lenCounter[:2], []byte(hpkeVersion), suiteID, []byte(label), info, lenCounter[2:])
	clear(t[l:])
	return t
}

// kemSuiteID is suite_id of DHKEM(X25519, HKDF-SHA256): "KEM" ‖ I2OSP(kem_id, 2)
// (RFC 9180 §4.1).
var kemSuiteID = []byte{'K', 'E', 'M', 0x00, 0x20}

// hpkeSuiteID is suite_id of the key schedule: "HPKE" ‖ kem_id ‖ kdf_id ‖
// aead_id (RFC 9180 §5.1).
func hpkeSuiteID(aeadID uint16) [10]byte {
	var id [10]byte
	copy(id[:], "HPKE")
	binary.BigEndian.PutUint16(id[4:], KEMX25519HKDFSHA256)
	binary.BigEndian.PutUint16(id[6:], KDFHKDFSHA256)
	binary.BigEndian.PutUint16(id[8:], aeadID)
	return id
}

// recipient is the per-key state of the gateway's HPKE recipient: the
// X25519 private key parsed once, the serialized public key pkRm, and for
// each AEAD the key_schedule_context of RFC 9180 §5.1, which in base mode
// depends only on the suite and the info. The info of RFC 9458 §4.3 is
// "message/bhttp request" ‖ 0x00 ‖ header, and the header (key id, KEM, KDF,
// AEAD) is fixed per key and suite, so the whole context is too.
type recipient struct {
	sk  *ecdh.PrivateKey
	pkR []byte
	ksc [AEADChaCha20Poly1305 + 1][kscSize]byte // indexed by AEAD id
}

// newRecipient builds the recipient for an X25519 private key skBytes
// (RFC 9180 SerializePrivateKey) under keyID.
func newRecipient(keyID uint8, skBytes []byte) (*recipient, error) {
	sk, err := ecdh.X25519().NewPrivateKey(skBytes)
	if err != nil {
		return nil, err
	}
	r := &recipient{sk: sk, pkR: sk.PublicKey().Bytes()}
	for _, aeadID := range []uint16{AEADAES128GCM, AEADAES256GCM, AEADChaCha20Poly1305} {
		var hdr [headerSize]byte
		hdr[0] = keyID
		binary.BigEndian.PutUint16(hdr[1:], KEMX25519HKDFSHA256)
		binary.BigEndian.PutUint16(hdr[3:], KDFHKDFSHA256)
		binary.BigEndian.PutUint16(hdr[5:], aeadID)
		r.ksc[aeadID] = keyScheduleContext(aeadID, requestInfo(hdr[:]))
	}
	return r, nil
}

// keyScheduleContext is key_schedule_context of RFC 9180 §5.1 in base mode:
// mode_base (0) ‖ LabeledExtract("", "psk_id_hash", "") ‖
// LabeledExtract("", "info_hash", info).
func keyScheduleContext(aeadID uint16, info []byte) [kscSize]byte {
	suiteID := hpkeSuiteID(aeadID)
	pskIDHash := labeledExtract(nil, suiteID[:], "psk_id_hash", nil)
	infoHash := labeledExtract(nil, suiteID[:], "info_hash", info)
	var ksc [kscSize]byte
	ksc[0] = 0x00 // mode_base
	copy(ksc[1:], pskIDHash[:])
	copy(ksc[1+nh:], infoHash[:])
	return ksc
}

// errOpen is the one error of a failed HPKE open, whatever step failed, so
// the outcome reveals no more than the AEAD's.
var errOpen = errors.New("ohttp: HPKE open failed")

// open is the RFC 9180 base-mode recipient for one request of RFC 9458
// §4.3: Decap(enc, skR) (§4.1), KeySchedule (§5.1), Open(aad = "", ct) with
// sequence number 0 (§5.2), and Export("message/bhttp response", L) (§5.3)
// into secret[:L], L = max(Nn, Nk). ct is opened in place: on success the
// plaintext is ct[:len(ct)-16]; on failure ct's contents are unspecified.
// aeadID must be one of the three AEADs of suite.go. nonceBuf is scratch
// space for the AEAD nonce, which escapes to the heap through the
// cipher.AEAD interface: the caller's buffer spares an allocation.
func (r *recipient) open(aeadID uint16, enc, ct []byte, secret, nonceBuf *[nh]byte) ([]byte, error) {
	nk, nn, ok := aeadSizes(aeadID)
	if !ok {
		return nil, errUnsupportedSuite
	}
	return r.openBase(aeadID, r.ksc[aeadID][:], enc, ct, nil, []byte(responseLabel), max(nk, nn), secret, nonceBuf)
}

// openBase is the RFC 9180 base-mode recipient with its inputs spelt out:
// the key_schedule_context ksc (which holds the info), the AAD of the one
// Open (sequence number 0), and one Export(exporterContext, exportLen),
// exportLen ≤ Nh, into secret. The gateway passes the RFC 9458 values
// ([recipient.open]); TestRecipientRFC9180Vectors passes those of the RFC's
// test vectors.
func (r *recipient) openBase(aeadID uint16, ksc, enc, ct, aad, exporterContext []byte, exportLen int, secret, nonceBuf *[nh]byte) ([]byte, error) {
	nk, nn, ok := aeadSizes(aeadID)
	if !ok || exportLen > nh {
		return nil, errUnsupportedSuite
	}
	// DHKEM Decap (§4.1): dh = DH(skR, pkE); kem_context = enc ‖ pkRm;
	// shared_secret = ExtractAndExpand(dh, kem_context). crypto/ecdh
	// refuses the all-zero output of a low-order pkE.
	pkE, err := ecdh.X25519().NewPublicKey(enc)
	if err != nil {
		return nil, errOpen
	}
	dh, err := r.sk.ECDH(pkE)
	if err != nil {
		return nil, errOpen
	}
	eaePRK := labeledExtract(nil, kemSuiteID, "eae_prk", dh)
	clear(dh)
	var kemContext [2 * 32]byte
	copy(kemContext[:], enc)
	copy(kemContext[32:], r.pkR)
	shared := labeledExpand(eaePRK[:], kemSuiteID, "shared_secret", kemContext[:], nh)
	clear(eaePRK[:])

	// KeySchedule (§5.1), base mode: psk = "", so secret =
	// LabeledExtract(shared_secret, "secret", "").
	suiteID := hpkeSuiteID(aeadID)
	prk := labeledExtract(shared[:], suiteID[:], "secret", nil)
	clear(shared[:])
	key := labeledExpand(prk[:], suiteID[:], "key", ksc, nk)
	*nonceBuf = labeledExpand(prk[:], suiteID[:], "base_nonce", ksc, nn)
	nonce := nonceBuf[:nn]
	defer clear(nonceBuf[:])
	exporter := labeledExpand(prk[:], suiteID[:], "exp", ksc, nh)
	clear(prk[:])
	defer clear(exporter[:])
	defer clear(key[:])

	// Open with seq = 0: the nonce is base_nonce XOR 0.
	aead, err := newAEAD(aeadID, key[:nk])
	if err != nil {
		return nil, fmt.Errorf("ohttp: request AEAD: %w", err)
	}
	pt, err := aead.Open(ct[:0], nonce, ct, aad)
	if err != nil {
		return nil, errOpen
	}
	*secret = labeledExpand(exporter[:], suiteID[:], "sec", exporterContext, exportLen)
	return pt, nil
}
