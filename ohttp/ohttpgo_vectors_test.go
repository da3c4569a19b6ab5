package ohttp

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hpke"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/blindlist/blindlist/ohttp/bhttp"
)

// ohttpGoVectors is testdata/ohttp-go-vectors.json: key configurations,
// requests and responses produced by chris-wood/ohttp-go, the OHTTP library
// of cloudflare/privacy-gateway-server-go (testdata/README.md says how).
type ohttpGoVectors struct {
	Keys []struct {
		KeyID      uint8  `json:"key_id"`
		KEM        uint16 `json:"kem_id"`
		Seed       string `json:"seed"`
		PrivateKey string `json:"private_key"`
		Config     string `json:"key_config"`
	} `json:"keys"`
	KeyConfigs string `json:"key_configs"`
	Exchanges  []struct {
		AEAD                 uint16 `json:"aead_id"`
		KeyID                uint8  `json:"key_id"`
		Request              string `json:"request"`
		EncapsulatedRequest  string `json:"encapsulated_request"`
		Response             string `json:"response"`
		EncapsulatedResponse string `json:"encapsulated_response"`
	} `json:"exchanges"`
}

// TestOHTTPGoVectors checks blindlist against an independent OHTTP
// implementation's output, not against itself: the key configuration list
// ohttp-go serves (an X25519Kyber768Draft00 key first, as
// privacy-gateway-server-go does, then X25519 keys with each AEAD), the same
// keys derived from their seeds by crypto/hpke, the configurations encoded
// byte for byte, ohttp-go's encapsulated requests opened by our gateway's
// recipient into binary HTTP our decoder reads, and ohttp-go's encapsulated
// responses re-created byte for byte by our sealing (with their response
// nonce) and opened by our client side.
func TestOHTTPGoVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/ohttp-go-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v ohttpGoVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	unhex := func(s string) []byte {
		t.Helper()
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// The list: the Kyber entry is skipped, the X25519 ones parse.
	configs, err := ParseKeyConfigs(unhex(v.KeyConfigs))
	if err != nil {
		t.Fatalf("ohttp-go's key configuration list refused: %v", err)
	}
	var keys []*PrivateKey
	for _, k := range v.Keys {
		if k.KEM != KEMX25519HKDFSHA256 {
			continue
		}
		want, err := ParseKeyConfig(unhex(k.Config))
		if err != nil {
			t.Fatal(err)
		}
		sk := unhex(k.PrivateKey)
		// RFC 9180 DeriveKeyPair: crypto/hpke from ohttp-go's seed gives
		// ohttp-go's (circl's) key. The two serialize the scalar before and
		// after clamping (RFC 7748 §5), which X25519 applies anyway, so
		// compare clamped scalars and the public keys.
		derived, err := hpke.DHKEM(ecdh.X25519()).DeriveKeyPair(unhex(k.Seed))
		if err != nil {
			t.Fatal(err)
		}
		db, err := derived.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		clamp := func(b []byte) []byte {
			c := bytes.Clone(b)
			c[0] &= 248
			c[31] = c[31]&127 | 64
			return c
		}
		if !bytes.Equal(clamp(db), clamp(sk)) || !bytes.Equal(derived.PublicKey().Bytes(), want.PublicKey) {
			t.Errorf("key id %d: DeriveKeyPair(seed) = %x, ohttp-go has %x", k.KeyID, db, sk)
		}
		pk, err := NewPrivateKey(k.KeyID, KEMX25519HKDFSHA256, sk, want.Suites)
		if err != nil {
			t.Fatal(err)
		}
		if enc, err := pk.Config().MarshalBinary(); err != nil || !bytes.Equal(enc, unhex(k.Config)) {
			t.Errorf("key id %d: our configuration %x, ohttp-go's %s", k.KeyID, enc, k.Config)
		}
		keys = append(keys, pk)
	}
	if len(configs) != len(keys) || len(keys) != 3 {
		t.Fatalf("%d configurations parsed for %d X25519 keys, want 3", len(configs), len(keys))
	}
	for i, c := range configs {
		if c.KeyID != keys[i].Config().KeyID {
			t.Errorf("configuration %d has key id %d, want %d", i, c.KeyID, keys[i].Config().KeyID)
		}
	}
	ks, err := NewKeySet(keys, nil)
	if err != nil {
		t.Fatal(err)
	}

	seen := map[uint16]bool{}
	for i, x := range v.Exchanges {
		seen[x.AEAD] = true
		t.Run(aeadName(x.AEAD), func(t *testing.T) {
			plain, rc, err := ks.DecapsulateRequest(unhex(x.EncapsulatedRequest))
			if err != nil {
				t.Fatalf("ohttp-go's request: %v", err)
			}
			if !bytes.Equal(plain, unhex(x.Request)) {
				t.Fatalf("request %x, want %s", plain, x.Request)
			}
			br, err := bhttp.ParseRequest(plain)
			if err != nil {
				t.Fatalf("ohttp-go's binary HTTP request: %v", err)
			}
			if br.Method != "POST" || br.Scheme != "https" || br.Authority != "service.example.net" || br.Path != "/queries" ||
				string(br.Content) != fmt.Sprintf("PIR query %d", i) || br.Indeterminate ||
				len(br.Header) != 1 || br.Header[0].Value != "PrivateToken token=AAAA" {
				t.Errorf("decoded request %+v", br)
			}

			encResp := unhex(x.EncapsulatedResponse)
			nonceLen, err := rc.nonceSize()
			if err != nil {
				t.Fatal(err)
			}
			ours, err := rc.EncapsulateResponse(bytes.NewReader(encResp[:nonceLen]), unhex(x.Response))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ours, encResp) {
				t.Errorf("our sealing of ohttp-go's response\n got %x\nwant %x", ours, encResp)
			}
			cc := &ClientContext{secret: rc.secret, enc: rc.enc, aead: rc.aead}
			opened, err := cc.DecapsulateResponse(encResp)
			if err != nil || !bytes.Equal(opened, unhex(x.Response)) {
				t.Fatalf("ohttp-go's response: %x, %v", opened, err)
			}
			resp, err := bhttp.ParseResponse(opened)
			if err != nil || resp.Status != 200 || string(resp.Content) != fmt.Sprintf("PIR answer %d", i) {
				t.Errorf("decoded response %+v, %v", resp, err)
			}
		})
	}
	for _, aead := range []uint16{AEADAES128GCM, AEADAES256GCM, AEADChaCha20Poly1305} {
		if !seen[aead] {
			t.Errorf("no exchange for %s", aeadName(aead))
		}
	}
}
