package ohttp

import (
	"bytes"
	"crypto/hmac"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"testing"
)

// TestRecipientMatchesHPKE checks the gateway's own RFC 9180 recipient
// against crypto/hpke's: for random keys and requests of every AEAD, the
// same plaintext and the same exported response secret; and that a flipped
// byte of enc, of the ciphertext, or a header naming another offered key or
// AEAD (so another HPKE info) is refused with ErrDecrypt.
func TestRecipientMatchesHPKE(t *testing.T) {
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	kem, err := hpke.NewKEM(KEMX25519HKDFSHA256)
	if err != nil {
		t.Fatal(err)
	}
	for trial := range 8 {
		sk := make([]byte, 32)
		rand.Read(sk)
		k1, err := NewPrivateKey(1, KEMX25519HKDFSHA256, sk, DefaultSuites())
		if err != nil {
			t.Fatal(err)
		}
		k2, err := DeriveKey(testSeed(byte(trial)), 2, DefaultSuites())
		if err != nil {
			t.Fatal(err)
		}
		ks, err := NewKeySet([]*PrivateKey{k1, k2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		hsk, err := kem.NewPrivateKey(sk)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range DefaultSuites() {
			t.Run(fmt.Sprintf("trial=%d/aead=0x%04x", trial, s.AEAD), func(t *testing.T) {
				request := make([]byte, rng.IntN(3000))
				rand.Read(request)
				encRequest, cc, err := EncapsulateRequest(k1.Config(), s, request)
				if err != nil {
					t.Fatal(err)
				}

				// crypto/hpke's recipient on the same bytes.
				kdf, aead, err := hpkeSuite(s)
				if err != nil {
					t.Fatal(err)
				}
				enc, ct := encRequest[headerSize:headerSize+32], encRequest[headerSize+32:]
				r, err := hpke.NewRecipient(enc, hsk, kdf, aead, requestInfo(encRequest[:headerSize]))
				if err != nil {
					t.Fatal(err)
				}
				wantPlain, err := r.Open(nil, ct)
				if err != nil {
					t.Fatal(err)
				}
				nk, nn, _ := aeadSizes(s.AEAD)
				wantSecret, err := r.Export(responseLabel, max(nk, nn))
				if err != nil {
					t.Fatal(err)
				}

				// Ours, in place on a copy.
				buf := bytes.Clone(encRequest)
				rc := new(ResponseContext)
				got, err := ks.decapsulateInto(rc, buf, true)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, wantPlain) || !bytes.Equal(got, request) {
					t.Error("plaintext differs from crypto/hpke's")
				}
				if len(got) > 0 && &got[0] != &buf[headerSize+32] {
					t.Error("request not opened in place")
				}
				if !bytes.Equal(rc.secret, wantSecret) || !bytes.Equal(rc.secret, cc.secret) {
					t.Errorf("exported secret %x, crypto/hpke %x", rc.secret, wantSecret)
				}

				// Refusals.
				flip := func(name string, i int, mask byte) {
					t.Helper()
					bad := bytes.Clone(encRequest)
					bad[i] ^= mask
					if _, err := ks.decapsulateInto(new(ResponseContext), bad, true); !errors.Is(err, ErrDecrypt) {
						t.Errorf("%s: got %v, want ErrDecrypt", name, err)
					}
				}
				flip("enc", headerSize+rng.IntN(32), 1<<rng.IntN(8))
				flip("ciphertext", headerSize+32+rng.IntN(len(ct)), 1<<rng.IntN(8))
				flip("header key id 1 -> 2", 0, 1^2)
				other := AEADAES128GCM // another offered AEAD: its key schedule differs
				if s.AEAD == AEADAES128GCM {
					other = AEADChaCha20Poly1305
				}
				flip("header AEAD", 6, byte(s.AEAD^other))
				bad := bytes.Clone(encRequest)
				clear(bad[headerSize : headerSize+32]) // low-order point: all-zero X25519 output
				if _, err := ks.decapsulateInto(new(ResponseContext), bad, true); !errors.Is(err, ErrDecrypt) {
					t.Errorf("zero enc: got %v, want ErrDecrypt", err)
				}
			})
		}
	}
}

// TestDecapsulateRequestKeepsInput checks that the exported
// DecapsulateRequest, unlike the gateway's in-place path, leaves its input
// as it was.
func TestDecapsulateRequestKeepsInput(t *testing.T) {
	ks, err := DeriveKeySet(testSeed(5), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	encRequest, _, err := EncapsulateRequest(ks.Configs()[0], DefaultSuites()[0], []byte("query"))
	if err != nil {
		t.Fatal(err)
	}
	orig := bytes.Clone(encRequest)
	for range 2 {
		got, _, err := ks.DecapsulateRequest(encRequest)
		if err != nil || string(got) != "query" {
			t.Fatalf("got %q, %v", got, err)
		}
	}
	if !bytes.Equal(encRequest, orig) {
		t.Error("DecapsulateRequest changed its input")
	}
}

// TestHMACSHA256 checks the stack HMAC against crypto/hmac, for keys
// shorter than, equal to and longer than a block and for messages that fit
// the scratch buffer or take the fallback.
func TestHMACSHA256(t *testing.T) {
	for _, kl := range []int{0, 1, 32, 63, 64, 65, 200} {
		for _, ml := range []int{0, 1, 55, 64, 191, 192, 193, 1000} {
			key, msg := make([]byte, kl), make([]byte, ml)
			rand.Read(key)
			rand.Read(msg)
			m := hmac.New(sha256.New, key)
			m.Write(msg)
			want := m.Sum(nil)
			half := ml / 2
			got := hmacSHA256(key, msg[:half], msg[half:])
			if !bytes.Equal(got[:], want) {
				t.Errorf("key %d bytes, message %d bytes: got %x, want %x", kl, ml, got, want)
			}
		}
	}
}

// TestRecipientAllocations pins the allocations of one request open: those
// of crypto/ecdh (public key, shared secret) and of the AEAD's
// construction, none for the key schedule.
func TestRecipientAllocations(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("allocation counts differ under coverage or the race detector")
	}
	ks, err := DeriveKeySet(testSeed(6), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range DefaultSuites() {
		encRequest, _, err := EncapsulateRequest(ks.Configs()[0], s, make([]byte, 1000))
		if err != nil {
			t.Fatal(err)
		}
		r := ks.byID[1].recipient
		enc, ct := encRequest[headerSize:headerSize+32], encRequest[headerSize+32:]
		buf := make([]byte, len(ct))
		var secret, nonce [nh]byte
		allocs := testing.AllocsPerRun(20, func() {
			copy(buf, ct)
			if _, err := r.open(s.AEAD, enc, buf, &secret, &nonce); err != nil {
				t.Fatal(err)
			}
		})
		// crypto/ecdh: the peer's public key (2) and the shared secret (1);
		// crypto/aes + crypto/cipher: the key schedule and the GCM state (2),
		// or one ChaCha20-Poly1305 state. Nothing of ours.
		if allocs > 5 {
			t.Errorf("AEAD 0x%04x: %v allocations per open, want at most 5", s.AEAD, allocs)
		}
	}
}
