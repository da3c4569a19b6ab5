package privacypass

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/blindlist/blindlist/internal/testvec"
)

func seedFiles(f *testing.F, names ...string) {
	for _, n := range names {
		f.Add(testvec.Read(f, "privacypass", n))
	}
}

func FuzzTokenRequest(f *testing.F) {
	seedFiles(f, "token_request_0.bin", "token_request_1.bin", "token_request_2.bin")
	f.Add([]byte{})
	k := vectorKey(f)
	ring, err := NewKeyring([]KeySpec{{Key: k, Tier: "t"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := ParseTokenRequest(b)
		if err != nil {
			if !errors.Is(err, ErrRequestSize) {
				t.Fatalf("parse error %v does not wrap ErrRequestSize", err)
			}
			return
		}
		if !bytes.Equal(req.Marshal(), b) {
			t.Fatal("Marshal(Parse(b)) != b")
		}
		resp, err := ring.Issue("t", b, time.Now())
		if err == nil && len(resp) != TokenResponseSize {
			t.Fatalf("response of %d bytes", len(resp))
		}
	})
}

func FuzzToken(f *testing.F) {
	seedFiles(f, "token_0.bin", "token_1.bin", "token_2.bin")
	f.Add([]byte{0, 2})
	ring, err := NewKeyring([]KeySpec{{Key: vectorKey(f), Tier: "t"}})
	if err != nil {
		f.Fatal(err)
	}
	genuine := map[string]bool{}
	for _, n := range []string{"token_0.bin", "token_1.bin", "token_2.bin"} {
		genuine[string(testvec.Read(f, "privacypass", n))] = true
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := ParseToken(b)
		if err == nil && !bytes.Equal(tok.Marshal(), b) {
			t.Fatal("Marshal(Parse(b)) != b")
		}
		_, _, err = ring.CheckToken(b, time.Now())
		if err == nil && !genuine[string(b)] {
			t.Fatalf("a token that is not one of Apple's verified: %x", b)
		}
	})
}

func FuzzAuthorization(f *testing.F) {
	for _, n := range []string{"token_0.bin", "token_2.bin"} {
		f.Add(Authorization(testvec.Read(f, "privacypass", n)))
	}
	f.Add(`PrivateToken token="AAAA", x=y`)
	f.Fuzz(func(t *testing.T, h string) {
		tok, err := ParseAuthorization(h)
		if err != nil {
			if !errors.Is(err, ErrNoToken) {
				t.Fatalf("error %v does not wrap ErrNoToken", err)
			}
			return
		}
		again, err := ParseAuthorization(Authorization(tok))
		if err != nil || !bytes.Equal(again, tok) {
			t.Fatal("Authorization(token) does not parse back")
		}
	})
}

func FuzzTokenChallenge(f *testing.F) {
	seedFiles(f, "challenge_0.bin", "challenge_1.bin", "challenge_2.bin")
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseTokenChallenge(b)
		if err != nil {
			return
		}
		re, err := c.Marshal()
		if err != nil || !bytes.Equal(re, b) {
			t.Fatalf("Marshal(Parse(b)) = %x, %v; want %x", re, err, b)
		}
	})
}

func FuzzPublicKey(f *testing.F) {
	seedFiles(f, "token_key_spki.der")
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePublicKey(b)
		if err == nil && !bytes.Equal(k.SPKI(), b) {
			t.Fatal("accepted SPKI differs from its re-encoding")
		}
	})
}
