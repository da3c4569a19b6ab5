package ohttp

import (
	"bytes"
	"errors"
	"testing"
)

func TestKeyConfigsList(t *testing.T) {
	ks, err := DeriveKeySet(testSeed(2), []uint8{1, 2}, []uint8{3}, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	body := ks.MarshalConfigs()
	// Two configs of 1+2+32+2+12 = 49 bytes, each behind a 2-byte length.
	if len(body) != 2*(2+49) || body[0] != 0 || body[1] != 49 {
		t.Fatalf("application/ohttp-keys body %x", body)
	}
	configs, err := ParseKeyConfigs(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(configs) != 2 || configs[0].KeyID != 1 || configs[1].KeyID != 2 {
		t.Fatalf("parsed %+v", configs)
	}
	again, err := MarshalKeyConfigs(configs)
	if err != nil || !bytes.Equal(again, body) {
		t.Errorf("re-encoded list differs: %v", err)
	}
}

// TestKeyConfigExample checks the example of client-spec.md §5.3: key id 1,
// X25519, HKDF-SHA256 + AES-128-GCM is 41 bytes, 43 with its length prefix.
func TestKeyConfigExample(t *testing.T) {
	c := KeyConfig{KeyID: 1, KEM: KEMX25519HKDFSHA256, PublicKey: make([]byte, 32), Suites: DefaultSuites()[:1]}
	b, err := MarshalKeyConfigs([]KeyConfig{c})
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte{0x00, 0x29, 0x01, 0x00, 0x20}, make([]byte, 32)...), 0x00, 0x04, 0x00, 0x01, 0x00, 0x01)
	if !bytes.Equal(b, want) {
		t.Errorf("got %x, want %x", b, want)
	}
}

func TestParseKeyConfigsInvalid(t *testing.T) {
	one, err := KeyConfig{KeyID: 1, KEM: KEMX25519HKDFSHA256, PublicKey: make([]byte, 32), Suites: DefaultSuites()}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	list := append([]byte{0, byte(len(one))}, one...)
	for name, in := range map[string][]byte{
		"empty":            {},
		"one byte":         {0},
		"length too long":  append([]byte{0, byte(len(one) + 1)}, one...),
		"trailing byte":    append(bytes.Clone(list), 0),
		"unknown KEM":      append([]byte{0, 5}, 1, 0x12, 0x34, 0, 0),
		"short public key": append([]byte{0, 10}, one[:10]...),
		"suites length 3":  append([]byte{0, 38}, append(append(bytes.Clone(one[:35]), 0, 3), 0)...),
		"suites length 0":  append([]byte{0, 37}, append(bytes.Clone(one[:35]), 0, 0)...),
		"valid then junk":  append(bytes.Clone(list), 0, 1, 7),
	} {
		if _, err := ParseKeyConfigs(in); !errors.Is(err, ErrKeyConfig) {
			t.Errorf("%s: got %v, want ErrKeyConfig", name, err)
		}
	}
}

// FuzzParseKeyConfigs checks that no input panics and that what parses
// re-encodes to the same bytes (the encoding is canonical).
func FuzzParseKeyConfigs(f *testing.F) {
	v := readVector(f, "rfc9458-appendix-a.txt")
	f.Add(append([]byte{0, byte(len(v["key_config"]))}, v["key_config"]...))
	ks, err := DeriveKeySet(testSeed(2), []uint8{1, 2}, nil, DefaultSuites())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ks.MarshalConfigs())
	f.Fuzz(func(t *testing.T, in []byte) {
		configs, err := ParseKeyConfigs(in)
		if err != nil {
			if !errors.Is(err, ErrKeyConfig) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		out, err := MarshalKeyConfigs(configs)
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("re-encoding differs: %v", err)
		}
	})
}
