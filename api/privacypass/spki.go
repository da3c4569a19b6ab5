package privacypass

import (
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers of the token key's SubjectPublicKeyInfo.
var (
	// oidRSASSAPSS is id-RSASSA-PSS, 1.2.840.113549.1.1.10 (RFC 4055 §3.1).
	oidRSASSAPSS = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	// oidMGF1 is id-mgf1, 1.2.840.113549.1.1.8 (RFC 4055 §2.2).
	oidMGF1 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	// oidSHA384 is id-sha384, 2.16.840.1.101.3.4.2.2 (RFC 4055 §2.1).
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
)

// saltLength is the RSASSA-PSS salt length of token type 2: the SHA-384
// output length (RFC 9578 §6.2, RFC 9474 §5 RSABSSA-SHA384-PSS-*).
const saltLength = 48

// marshalSPKI encodes pub as Apple's issuer serves it (RFC 9578 §6.5 asks
// for this form):
//
//	SubjectPublicKeyInfo ::= SEQUENCE {
//	  algorithm SEQUENCE {
//	    id-RSASSA-PSS,
//	    RSASSA-PSS-params ::= SEQUENCE {
//	      [0] SEQUENCE { id-sha384 }                      -- no NULL parameters
//	      [1] SEQUENCE { id-mgf1, SEQUENCE { id-sha384 } } -- no NULL parameters
//	      [2] INTEGER 48 }                                -- trailerField omitted (DEFAULT 1)
//	  }
//	  subjectPublicKey BIT STRING { RSAPublicKey ::= SEQUENCE { n, e } }
//	}
//
// crypto/x509 writes only the rsaEncryption form, so the bytes are built
// here. The token key id is the SHA-256 of exactly these bytes.
func marshalSPKI(pub *rsa.PublicKey) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidRSASSAPSS)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidSHA384)
					})
				})
				b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidMGF1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(oidSHA384)
						})
					})
				})
				b.AddASN1(cbasn1.Tag(2).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					b.AddASN1Int64(saltLength)
				})
			})
		})
		b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
			b.AddUint8(0) // no unused bits
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1BigInt(pub.N)
				b.AddASN1Int64(int64(pub.E))
			})
		})
	})
	// The builder fails only on a negative integer or an invalid OID, and
	// neither can occur for a validated key and the constants above.
	der, err := b.Bytes()
	if err != nil {
		panic("privacypass: internal error: encoding SPKI: " + err.Error())
	}
	return der
}

// ParsePublicKey parses a token key in the SPKI form of [PublicKey.SPKI]
// (the bytes of the directory's "token-key" and of
// /token-key-for-user-token). It accepts exactly that encoding: the
// parameters must be SHA-384, MGF1-SHA-384, salt 48, and re-encoding the key
// must give back the same bytes, so the key id a client computes is the one
// we compute.
func ParsePublicKey(spki []byte) (*PublicKey, error) {
	pub, err := parseSPKI(spki)
	if err != nil {
		return nil, err
	}
	return newPublicKey(pub)
}

func parseSPKI(der []byte) (*rsa.PublicKey, error) {
	in := cryptobyte.String(der)
	var spki, alg, key cryptobyte.String
	var oid asn1.ObjectIdentifier
	var bits asn1.BitString
	if !in.ReadASN1(&spki, cbasn1.SEQUENCE) || !in.Empty() ||
		!spki.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, errors.New("privacypass: token key is not a SubjectPublicKeyInfo")
	}
	if !oid.Equal(oidRSASSAPSS) {
		return nil, errors.New("privacypass: token key algorithm is not id-RSASSA-PSS")
	}
	if !spki.ReadASN1BitString(&bits) || !spki.Empty() || bits.BitLength%8 != 0 {
		return nil, errors.New("privacypass: token key has a malformed subjectPublicKey")
	}
	key = cryptobyte.String(bits.Bytes)
	var rsaKey cryptobyte.String
	n, e := new(big.Int), new(big.Int)
	if !key.ReadASN1(&rsaKey, cbasn1.SEQUENCE) || !key.Empty() ||
		!rsaKey.ReadASN1Integer(n) || !rsaKey.ReadASN1Integer(e) || !rsaKey.Empty() {
		return nil, errors.New("privacypass: token key has a malformed RSAPublicKey")
	}
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 || n.Sign() <= 0 {
		return nil, errors.New("privacypass: token key has an invalid public exponent or modulus")
	}
	pub := &rsa.PublicKey{N: n, E: int(e.Int64())}
	// The parameters are checked by comparing the whole re-encoding: there is
	// exactly one accepted form.
	if string(marshalSPKI(pub)) != string(der) {
		return nil, errors.New("privacypass: token key parameters are not RSASSA-PSS SHA-384, MGF1-SHA-384, salt 48 in canonical DER")
	}
	return pub, nil
}
