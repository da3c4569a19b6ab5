package ohttp

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestHybridKeys: a key set with an X25519 key and an MLKEM768-X25519
// (KEM 0x647a) key advertises both, X25519 first; the hybrid configuration
// has the draft's sizes, derives the same from the same seed and differs
// per key id; a client prefers it, and requests sealed to it with every
// AEAD go through a real gateway and relay and come back. A client that
// only takes X25519 still works with the same key set.
func TestHybridKeys(t *testing.T) {
	ks, err := DeriveHybridKeySet(testSeed(7), []uint8{1}, nil, []uint8{2}, DefaultSuites())
	if err != nil {
		t.Fatal(err)
	}
	configs, err := ParseKeyConfigs(ks.MarshalConfigs())
	if err != nil {
		t.Fatal(err)
	}
	if len(configs) != 2 || configs[0].KEM != KEMX25519HKDFSHA256 || configs[1].KEM != KEMMLKEM768X25519 {
		t.Fatalf("advertised %+v, want X25519 then MLKEM768-X25519", configs)
	}
	hybrid := configs[1]
	if hybrid.KeyID != 2 || len(hybrid.PublicKey) != 1216 {
		t.Fatalf("hybrid configuration: key id %d, %d-byte public key", hybrid.KeyID, len(hybrid.PublicKey))
	}
	again, err := DeriveHybridKey(testSeed(7), 2, DefaultSuites())
	if err != nil || !bytes.Equal(again.Config().PublicKey, hybrid.PublicKey) {
		t.Fatalf("hybrid key not reproducible from the seed: %v", err)
	}
	other, err := DeriveHybridKey(testSeed(7), 3, DefaultSuites())
	if err != nil || bytes.Equal(other.Config().PublicKey, hybrid.PublicKey) {
		t.Fatalf("hybrid keys of two ids coincide: %v", err)
	}
	if kc, err := SelectKeyConfig(configs); err != nil || kc.KEM != KEMMLKEM768X25519 {
		t.Errorf("SelectKeyConfig chose KEM 0x%04x, %v; want the hybrid", kc.KEM, err)
	}

	target := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(append([]byte("answer to "), b...))
	})
	gw, err := New(Config{Keys: ks, Targets: map[string]http.Handler{"service.example.net": target}})
	if err != nil {
		t.Fatal(err)
	}
	gwServer := httptest.NewServer(gw.Handler())
	defer gwServer.Close()
	relay, err := NewRelay(RelayConfig{GatewayURL: gwServer.URL + GatewayPath})
	if err != nil {
		t.Fatal(err)
	}
	relayServer := httptest.NewServer(relay.Handler())
	defer relayServer.Close()
	for _, kc := range configs {
		for _, s := range DefaultSuites() {
			t.Run(fmt.Sprintf("KEM 0x%04x/%s", kc.KEM, aeadName(s.AEAD)), func(t *testing.T) {
				c := &http.Client{Transport: &Client{RelayURL: relayServer.URL, KeyConfig: kc, Suite: s}}
				resp, err := c.Post("https://service.example.net/queries", "application/octet-stream", bytes.NewReader([]byte("q")))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != "answer to q" {
					t.Errorf("status %d, body %q", resp.StatusCode, body)
				}
			})
		}
	}

	// A tampered hybrid request is refused as undecryptable.
	enc, _, err := EncapsulateRequest(hybrid, DefaultSuites()[0], []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != headerSize+1120+1+aeadTagSize {
		t.Errorf("hybrid request of %d bytes, want header + 1120-byte enc + content + tag", len(enc))
	}
	enc[headerSize+500] ^= 1
	if _, _, err := ks.DecapsulateRequest(enc); err == nil {
		t.Error("tampered hybrid request opened")
	}
}
