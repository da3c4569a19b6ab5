package ohttp

import (
	"bytes"
	"errors"
	"slices"
	"strings"
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
		"empty":           {},
		"one byte":        {0},
		"length too long": append([]byte{0, byte(len(one) + 1)}, one...),
		"trailing byte":   append(bytes.Clone(list), 0),
		// An entry for a KEM we do not implement is skipped (see
		// TestParseKeyConfigsSkipsUnknownKEM), but a list of nothing else
		// leaves no configuration, and a damaged one is an encoding error.
		"only an unknown KEM":           kyberConfig(t, 7),
		"unknown KEM past the body":     append(bytes.Clone(kyberConfig(t, 7)[:100]), list...),
		"entry too short to name a KEM": append([]byte{0, 2, 1, 0}, list...),
		"zero-length entry":             append([]byte{0, 0}, list...),
		"short public key":              append([]byte{0, 10}, one[:10]...),
		"suites length 3":               append([]byte{0, 38}, append(append(bytes.Clone(one[:35]), 0, 3), 0)...),
		"suites length 0":               append([]byte{0, 37}, append(bytes.Clone(one[:35]), 0, 0)...),
		"valid then junk":               append(bytes.Clone(list), 0, 1, 7),
	} {
		if _, err := ParseKeyConfigs(in); !errors.Is(err, ErrKeyConfig) {
			t.Errorf("%s: got %v, want ErrKeyConfig", name, err)
		}
	}
}

// kyberConfig returns a length-prefixed key configuration for
// X25519Kyber768Draft00 (KEM 0x0030, the hybrid privacy-gateway-server-go
// lists first): key id, KEM, a 32 + 1184-byte public key and HKDF-SHA256 with
// AES-128-GCM. This package does not implement that KEM.
func kyberConfig(t testing.TB, keyID byte) []byte {
	t.Helper()
	pk := bytes.Repeat([]byte{0xab}, 32+1184)
	entry := append([]byte{keyID, 0x00, 0x30}, pk...)
	entry = append(entry, 0, 4, 0, 1, 0, 1)
	return append([]byte{byte(len(entry) >> 8), byte(len(entry))}, entry...)
}

// TestParseKeyConfigsSkipsUnknownKEM: a well-encoded list that holds a
// configuration for a KEM we do not implement, before and after the ones we
// do, yields the usable ones in order (RFC 9458 §3.2), as served by
// privacy-gateway-server-go (X25519Kyber768Draft00, then X25519).
func TestParseKeyConfigsSkipsUnknownKEM(t *testing.T) {
	ks, err := DeriveKeySet(testSeed(2), []uint8{1, 2}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	ours := ks.MarshalConfigs()
	body := slices.Concat(kyberConfig(t, 9), ours, kyberConfig(t, 10))
	configs, err := ParseKeyConfigs(body)
	if err != nil {
		t.Fatalf("list with an X25519Kyber768Draft00 entry refused: %v", err)
	}
	if len(configs) != 2 || configs[0].KeyID != 1 || configs[1].KeyID != 2 {
		t.Fatalf("parsed %+v, want key ids 1 and 2", configs)
	}
	if !slices.EqualFunc(configs, ks.Configs(), func(a, b KeyConfig) bool {
		return a.KeyID == b.KeyID && a.KEM == b.KEM && bytes.Equal(a.PublicKey, b.PublicKey) && slices.Equal(a.Suites, b.Suites)
	}) {
		t.Errorf("parsed configurations differ from the key set's")
	}
	kc, err := SelectKeyConfig(configs)
	if err != nil || kc.KeyID != 1 {
		t.Errorf("SelectKeyConfig = key id %d, %v; want 1", kc.KeyID, err)
	}
}

// TestSelectKeyConfig: the client takes the first configuration it can seal
// to and explains why it can use none.
func TestSelectKeyConfig(t *testing.T) {
	ks, err := DeriveKeySet(testSeed(2), []uint8{4}, nil, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	good := ks.Configs()[0]
	x448 := KeyConfig{KeyID: 1, KEM: 0x0021, PublicKey: make([]byte, 56), Suites: DefaultSuites()} // parses, crypto/hpke lacks X448
	noSuite := good
	noSuite.KeyID = 2
	noSuite.Suites = []Suite{{KDF: KDFHKDFSHA256, AEAD: 0xffff}}
	kc, err := SelectKeyConfig([]KeyConfig{x448, noSuite, good})
	if err != nil || kc.KeyID != 4 {
		t.Fatalf("SelectKeyConfig = key id %d, %v; want 4", kc.KeyID, err)
	}
	if _, err := SelectKeyConfig([]KeyConfig{x448, noSuite}); !errors.Is(err, ErrKeyConfig) ||
		!strings.Contains(err.Error(), "0x0021") || !strings.Contains(err.Error(), "no supported suite") {
		t.Errorf("nothing usable: %v", err)
	}
}

// FuzzParseKeyConfigs checks that no input panics and that what parses
// re-encodes canonically: the re-encoding parses to the same list, and it
// is the input itself unless entries for unknown KEMs were skipped.
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
		if err != nil {
			t.Fatalf("parsed list does not re-encode: %v", err)
		}
		again, err := ParseKeyConfigs(out)
		if err != nil || len(again) != len(configs) {
			t.Fatalf("re-encoded list does not parse back: %v", err)
		}
		if len(out) > len(in) || len(out) < len(in) && !skipsEntries(in) {
			t.Fatalf("re-encoding differs: %x from %x", out, in)
		}
		if len(out) == len(in) && !bytes.Equal(out, in) {
			t.Fatalf("re-encoding differs: %x from %x", out, in)
		}
	})
}

// skipsEntries reports whether the well-encoded list in names a KEM that
// ParseKeyConfigs skips.
func skipsEntries(in []byte) bool {
	for len(in) >= 5 {
		n := int(in[0])<<8 | int(in[1])
		if !kemSupported(uint16(in[3])<<8 | uint16(in[4])) {
			return true
		}
		in = in[min(2+n, len(in)):]
	}
	return false
}
