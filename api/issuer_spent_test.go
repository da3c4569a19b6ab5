package api

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/internal/testvec"
)

// TestIssuerKeyLifeBounded checks the invariant the spent-token TTL relies
// on: every key verifies for at most Lifetime + Overlap after its creation.
// Before, a successor made late (the process was down past the key's
// lifetime) extended the old key's acceptance to restart + Overlap, beyond
// the Lifetime + Overlap its spent tokens are remembered: a token redeemed
// when the key was new could be replayed after its spent entry expired.
func TestIssuerKeyLifeBounded(t *testing.T) {
	const tier = "example/tier1"
	apple, err := privacypass.ParsePrivateKeyPEM(testvec.Read(t, "privacypass", "issuer_private_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	token := testvec.Read(t, "privacypass", "token_0.bin")
	lifetime, overlap := 30*24*time.Hour, 48*time.Hour
	newDir := func() *IssuerKeyDir {
		gens := 0
		return &IssuerKeyDir{Dir: filepath.Join(t.TempDir(), "issuer"), Lifetime: lifetime, Overlap: overlap,
			Generate: func() (*privacypass.PrivateKey, error) {
				if gens++; gens == 1 {
					return apple, nil
				}
				return privacypass.GenerateKey()
			}}
	}
	t0 := time.Unix(1_800_000_000, 0)
	checkBounded := func(ring *privacypass.Keyring) {
		t.Helper()
		for _, k := range ring.Keys() {
			if k.NotAfter.IsZero() || k.NotAfter.Sub(k.NotBefore) > lifetime+overlap {
				t.Errorf("key of %v verifies until %v, more than lifetime+overlap", k.NotBefore, k.NotAfter)
			}
		}
	}

	// Rotation on time: the old key keeps its overlap up to created+L+O.
	d := newDir()
	if _, err := d.Keyring([]string{tier}, t0); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(lifetime + 30*time.Minute)
	ring, err := d.Keyring([]string{tier}, t1)
	if err != nil {
		t.Fatal(err)
	}
	checkBounded(ring)
	if _, _, err := ring.CheckToken(token, t0.Add(lifetime+overlap-time.Minute)); err != nil {
		t.Errorf("old key refused within its overlap: %v", err)
	}
	if _, _, err := ring.CheckToken(token, t0.Add(lifetime+overlap)); err == nil {
		t.Error("old key accepted past lifetime+overlap")
	}

	// The process was down past the key's lifetime and overlap: on restart
	// the old key verifies nothing, though its successor is only now made.
	d = newDir()
	if _, err := d.Keyring([]string{tier}, t0); err != nil {
		t.Fatal(err)
	}
	restart := t0.Add(lifetime + overlap + time.Hour)
	if ring, err = d.Keyring([]string{tier}, restart); err != nil {
		t.Fatal(err)
	}
	checkBounded(ring)
	if _, _, err := ring.CheckToken(token, restart); err == nil {
		t.Error("after a long downtime the old key still verifies, beyond its spent tokens' TTL")
	}
	// Down for less: the old key keeps verifying until created+L+O only.
	d = newDir()
	if _, err := d.Keyring([]string{tier}, t0); err != nil {
		t.Fatal(err)
	}
	restart = t0.Add(lifetime + 40*time.Hour)
	if ring, err = d.Keyring([]string{tier}, restart); err != nil {
		t.Fatal(err)
	}
	checkBounded(ring)
	if _, _, err := ring.CheckToken(token, restart); err != nil {
		t.Errorf("old key refused within lifetime+overlap: %v", err)
	}
}
