package ohttp

import (
	"bufio"
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readVector reads a "name: hex" file from testdata.
func readVector(t testing.TB, name string) map[string][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := make(map[string][]byte)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, h, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("%s: bad line %q", name, line)
		}
		b, err := hex.DecodeString(strings.TrimSpace(h))
		if err != nil {
			t.Fatalf("%s: %s: %v", name, k, err)
		}
		v[k] = b
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRFC9458AppendixA(t *testing.T) {
	v := readVector(t, "rfc9458-appendix-a.txt")
	want := func(name string, got []byte) {
		t.Helper()
		if !bytes.Equal(got, v[name]) {
			t.Errorf("%s:\n got %x\nwant %x", name, got, v[name])
		}
	}

	// The gateway key and its configuration.
	config, err := ParseKeyConfig(v["key_config"])
	if err != nil {
		t.Fatal(err)
	}
	if config.KeyID != 1 || config.KEM != KEMX25519HKDFSHA256 || len(config.Suites) != 2 ||
		config.Suites[0] != (Suite{KDFHKDFSHA256, AEADAES128GCM}) || config.Suites[1] != (Suite{KDFHKDFSHA256, AEADChaCha20Poly1305}) {
		t.Fatalf("parsed key config %+v", config)
	}
	key, err := NewPrivateKey(1, KEMX25519HKDFSHA256, v["gateway_secret_key"], config.Suites)
	if err != nil {
		t.Fatal(err)
	}
	encoded, err := key.Config().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want("key_config", encoded)

	// The client's ephemeral key is the enc of the request.
	skE, err := ecdh.X25519().NewPrivateKey(v["client_ephemeral_secret_key"])
	if err != nil {
		t.Fatal(err)
	}
	want("client_ephemeral_public_key", skE.PublicKey().Bytes())
	want("client_ephemeral_public_key", v["encapsulated_request"][headerSize:headerSize+32])
	want("info", requestInfo(v["encapsulated_request"][:headerSize]))

	// Gateway: decapsulate, export, derive, seal with the given nonce.
	ks, err := NewKeySet([]*PrivateKey{key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	request, rc, err := ks.DecapsulateRequest(v["encapsulated_request"])
	if err != nil {
		t.Fatal(err)
	}
	want("request", request)
	want("exported_secret", rc.secret)
	responseNonce := v["encapsulated_response"][:16]
	want("salt", append(append([]byte(nil), rc.enc...), responseNonce...))
	aeadKey, aeadNonce, err := responseKeys(rc.secret, rc.enc, responseNonce, rc.aead)
	if err != nil {
		t.Fatal(err)
	}
	want("aead_key", aeadKey)
	want("aead_nonce", aeadNonce)
	encResponse, err := rc.EncapsulateResponse(bytes.NewReader(responseNonce), v["response"])
	if err != nil {
		t.Fatal(err)
	}
	want("encapsulated_response", encResponse)

	// Client: the same secret opens the response.
	cc := &ClientContext{secret: v["exported_secret"], enc: v["client_ephemeral_public_key"], aead: AEADAES128GCM}
	response, err := cc.DecapsulateResponse(v["encapsulated_response"])
	if err != nil {
		t.Fatal(err)
	}
	want("response", response)
}

func testSeed(b byte) []byte { return bytes.Repeat([]byte{b}, SeedSize) }

func TestRoundTripSuites(t *testing.T) {
	ks, err := DeriveKeySet(testSeed(7), []uint8{3}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	config := ks.Configs()[0]
	for _, s := range DefaultSuites() {
		request := bytes.Repeat([]byte("q"), 1000)
		encRequest, cc, err := EncapsulateRequest(config, s, request)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(encRequest), len(request)+headerSize+32+aeadTagSize; got != want {
			t.Errorf("AEAD 0x%04x: request overhead: %d bytes, want %d", s.AEAD, got, want)
		}
		got, rc, err := ks.DecapsulateRequest(encRequest)
		if err != nil {
			t.Fatalf("AEAD 0x%04x: %v", s.AEAD, err)
		}
		if !bytes.Equal(got, request) {
			t.Fatalf("AEAD 0x%04x: decapsulated request differs", s.AEAD)
		}
		encResponse, err := rc.EncapsulateResponse(nil, []byte("answer"))
		if err != nil {
			t.Fatal(err)
		}
		nk, nn, _ := aeadSizes(s.AEAD)
		if got, want := len(encResponse), max(nk, nn)+len("answer")+aeadTagSize; got != want {
			t.Errorf("AEAD 0x%04x: response is %d bytes, want %d", s.AEAD, got, want)
		}
		response, err := cc.DecapsulateResponse(encResponse)
		if err != nil || string(response) != "answer" {
			t.Fatalf("AEAD 0x%04x: response %q, %v", s.AEAD, response, err)
		}
		encResponse[len(encResponse)-1] ^= 1
		if _, err := cc.DecapsulateResponse(encResponse); !errors.Is(err, ErrDecrypt) {
			t.Errorf("AEAD 0x%04x: altered response: got %v, want ErrDecrypt", s.AEAD, err)
		}
	}
}

func TestDecapsulateErrors(t *testing.T) {
	ks, err := DeriveKeySet(testSeed(1), []uint8{1}, []uint8{9}, []Suite{{KDFHKDFSHA256, AEADAES128GCM}})
	if err != nil {
		t.Fatal(err)
	}
	config := ks.Configs()[0]
	good, _, err := EncapsulateRequest(config, config.Suites[0], []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"header only", good[:headerSize], ErrMalformed},
		{"no tag", good[:headerSize+32+10], ErrMalformed},
		{"unknown key id", mutate(func(b []byte) []byte { b[0] = 2; return b }), ErrKeyConfig},
		{"retired key id, wrong key", mutate(func(b []byte) []byte { b[0] = 9; return b }), ErrDecrypt},
		{"other KEM", mutate(func(b []byte) []byte { b[2] = 0x10; return b }), ErrKeyConfig},
		{"suite not offered", mutate(func(b []byte) []byte { b[6] = 3; return b }), ErrKeyConfig},
		{"corrupt ciphertext", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ErrDecrypt},
		{"corrupt enc", mutate(func(b []byte) []byte { b[headerSize] ^= 1; return b }), ErrDecrypt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ks.DecapsulateRequest(tc.in)
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestRetiredKeyAccepted(t *testing.T) {
	old, err := DeriveKeySet(testSeed(5), []uint8{1}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := DeriveKeySet(testSeed(5), []uint8{2}, []uint8{1}, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	if c := rotated.Configs(); len(c) != 1 || c[0].KeyID != 2 {
		t.Fatalf("rotated set advertises %+v, want only key id 2", c)
	}
	encRequest, _, err := EncapsulateRequest(old.Configs()[0], DefaultSuites()[0], []byte("r"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rotated.DecapsulateRequest(encRequest); err != nil {
		t.Errorf("request to the retired key: %v", err)
	}
}

func TestDeriveKeyStable(t *testing.T) {
	a, err := DeriveKey(testSeed(3), 1, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	b, err := DeriveKey(testSeed(3), 1, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	c, err := DeriveKey(testSeed(3), 2, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	d, err := DeriveKey(testSeed(4), 1, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.config.PublicKey, b.config.PublicKey) {
		t.Error("same seed and key id gave different keys")
	}
	if bytes.Equal(a.config.PublicKey, c.config.PublicKey) || bytes.Equal(a.config.PublicKey, d.config.PublicKey) {
		t.Error("different key id or seed gave the same key")
	}
	if _, err := DeriveKey(testSeed(3)[:31], 1, DefaultSuites()); err == nil {
		t.Error("31-byte seed accepted")
	}
	if _, err := DeriveKey(testSeed(3), 1, []Suite{{KDFHKDFSHA256, 0x7777}}); err == nil {
		t.Error("unknown AEAD accepted")
	}
}

// FuzzDecapsulateRequest checks that no input panics and that every failure
// is one of the three documented errors.
func FuzzDecapsulateRequest(f *testing.F) {
	v := readVector(f, "rfc9458-appendix-a.txt")
	f.Add(v["encapsulated_request"])
	key, err := NewPrivateKey(1, KEMX25519HKDFSHA256, v["gateway_secret_key"], DefaultSuites())
	if err != nil {
		f.Fatal(err)
	}
	ks, err := NewKeySet([]*PrivateKey{key}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		_, _, err := ks.DecapsulateRequest(in)
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrKeyConfig) && !errors.Is(err, ErrDecrypt) {
			t.Fatalf("undocumented error %v", err)
		}
	})
}

// TestResponseKeysMatchHKDF checks the written-out HKDF of responseKeys
// against crypto/hkdf for every AEAD.
func TestResponseKeysMatchHKDF(t *testing.T) {
	secret, enc, rn := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	for _, s := range DefaultSuites() {
		nk, nn, _ := aeadSizes(s.AEAD)
		key, nonce, err := responseKeys(secret, enc, rn[:max(nk, nn)], s.AEAD)
		if err != nil {
			t.Fatal(err)
		}
		prk, err := hkdf.Extract(sha256.New, secret, append(bytes.Clone(enc), rn[:max(nk, nn)]...))
		if err != nil {
			t.Fatal(err)
		}
		wantKey, _ := hkdf.Expand(sha256.New, prk, "key", nk)
		wantNonce, _ := hkdf.Expand(sha256.New, prk, "nonce", nn)
		if !bytes.Equal(key, wantKey) || !bytes.Equal(nonce, wantNonce) {
			t.Errorf("AEAD 0x%04x: key %x nonce %x, want %x %x", s.AEAD, key, nonce, wantKey, wantNonce)
		}
	}
}
