package api

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// TestAppleTokens: Apple's finalized tokens are accepted once by /config and
// refused when redeemed again.
func TestAppleTokens(t *testing.T) {
	e := newEnv(t, envOptions{})
	req, _ := proto.Marshal(&apipb.ConfigRequest{})
	for _, name := range []string{"token_0.bin", "token_1.bin", "token_2.bin"} {
		auth := privacypass.Authorization(testvec.Read(t, "privacypass", name))
		if code, _, body := e.post("/config", req, map[string]string{"Authorization": auth}); code != http.StatusOK {
			t.Errorf("%s: %d %s", name, code, body)
		}
		if code, _, _ := e.post("/config", req, map[string]string{"Authorization": auth}); code != http.StatusUnauthorized {
			t.Errorf("%s replayed: %d, want 401", name, code)
		}
	}
}

func TestIssuerKeyDirRotation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "issuer")
	apple, err := privacypass.ParsePrivateKeyPEM(testvec.Read(t, "privacypass", "issuer_private_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	gens := 0
	d := &IssuerKeyDir{Dir: dir, Lifetime: 30 * 24 * time.Hour, Overlap: 48 * time.Hour, Generate: func() (*privacypass.PrivateKey, error) {
		gens++
		if gens == 1 {
			return apple, nil
		}
		return privacypass.GenerateKey()
	}}
	t0 := time.Unix(1_800_000_000, 0)
	ring, err := d.Keyring([]string{"example/tier1"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := ring.Current("example/tier1", t0); err != nil || k.Public().ID() != apple.Public().ID() {
		t.Fatalf("first key: %v", err)
	}
	// A restart reuses the file.
	if _, err := d.Keyring([]string{"example/tier1"}, t0.Add(time.Hour)); err != nil || gens != 1 {
		t.Fatalf("restart generated a key (%d generations, %v)", gens, err)
	}
	// Past the lifetime a successor signs; the old key still verifies.
	t1 := t0.Add(31 * 24 * time.Hour)
	ring, err = d.Keyring([]string{"example/tier1"}, t1)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := ring.Current("example/tier1", t1); k.Public().ID() == apple.Public().ID() {
		t.Error("old key still current after its lifetime")
	}
	if _, _, err := ring.CheckToken(testvec.Read(t, "privacypass", "token_0.bin"), t1); err != nil {
		t.Errorf("token of the previous key refused during the overlap: %v", err)
	}
	// After the overlap the old key is gone, file included.
	t2 := t1.Add(49 * time.Hour)
	ring, err = d.Keyring([]string{"example/tier1"}, t2)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ring.CheckToken(testvec.Read(t, "privacypass", "token_0.bin"), t2); err == nil {
		t.Error("token of a retired key accepted")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pem"))
	if len(files) != 1 {
		t.Errorf("%d key files, want 1", len(files))
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600 (%v)", fi.Mode().Perm(), err)
	}
}

func TestReadUserTokens(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("# tier1\nAAAA\n\n  BBBB==  \n"), 0o600)
	toks, err := ReadUserTokens(good)
	if err != nil || len(toks) != 2 || toks[1] != "BBBB==" {
		t.Errorf("tokens %q, %v", toks, err)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("not base64!\n"), 0o600)
	if _, err := ReadUserTokens(bad); err == nil {
		t.Error("non-base64 token accepted")
	}
}

// TestIssuerKeyDirVoidBefore rotates after the spent-token store lost its
// data: every key that started before the loss is deleted (also one
// published ahead that started, not one still waiting) and the tier gets a
// key starting on the next whole second, never before the loss. The epoch
// note survives in the directory and is not taken for a key.
func TestIssuerKeyDirVoidBefore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "issuer")
	d := &IssuerKeyDir{Dir: dir, Lifetime: 30 * 24 * time.Hour, Overlap: 48 * time.Hour, PublishAhead: time.Hour}
	tiers := []string{"example/tier1"}
	t0 := time.Unix(1_800_000_000, 0)
	if _, err := d.Keyring(tiers, t0); err != nil {
		t.Fatal(err)
	}
	// Near the end of its lifetime a successor is published ahead.
	tPub := t0.Add(30*24*time.Hour - 30*time.Minute)
	ring, err := d.Keyring(tiers, tPub)
	if err != nil || len(ring.Keys()) != 2 {
		t.Fatalf("publish ahead: %v keys, %v", len(ring.Keys()), err)
	}
	if err := d.SaveEpoch("123-abc"); err != nil {
		t.Fatal(err)
	}
	// The store loses its data 10 minutes later, mid-second.
	lost := tPub.Add(10*time.Minute + 300*time.Millisecond)
	ring, err = d.KeyringSince(tiers, lost, lost)
	if err != nil {
		t.Fatal(err)
	}
	keys := ring.Keys()
	want := lost.Truncate(time.Second).Add(time.Second)
	var started []time.Time
	for _, k := range keys {
		if k.NotBefore.Before(lost) {
			t.Errorf("a key starting %v, before the loss at %v, is still in the keyring", k.NotBefore, lost)
		}
		started = append(started, k.NotBefore)
	}
	// The successor published ahead starts after the loss and stays; a
	// new key covers the time until it starts.
	if len(keys) != 2 || !keys[0].NotBefore.Equal(want) && !keys[1].NotBefore.Equal(want) {
		t.Fatalf("keys start %v; want the published successor and a new key starting %v", started, want)
	}
	if _, err := ring.Current("example/tier1", want); err != nil {
		t.Errorf("no key signs at %v: %v", want, err)
	}
	if _, err := ring.Current("example/tier1", lost); err == nil {
		t.Errorf("a key signs at %v, before the new key's first second", lost)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pem"))
	if len(files) != 2 {
		t.Errorf("%d key files after voiding, want 2", len(files))
	}
	if id, err := d.LoadEpoch(); err != nil || id != "123-abc" {
		t.Errorf("epoch note %q, %v", id, err)
	}
	// Later rotations with the same voidBefore change nothing.
	again, err := d.KeyringSince(tiers, want.Add(time.Minute), lost)
	if err != nil || len(again.Keys()) != 2 {
		t.Fatalf("rotation after the voiding: %d keys, %v", len(again.Keys()), err)
	}
}

func TestIssuerKeyDirEpochNoteAbsent(t *testing.T) {
	d := &IssuerKeyDir{Dir: filepath.Join(t.TempDir(), "none")}
	if id, err := d.LoadEpoch(); err != nil || id != "" {
		t.Fatalf("LoadEpoch without a note: %q, %v", id, err)
	}
	if _, err := os.Stat(d.Dir); !os.IsNotExist(err) {
		t.Errorf("LoadEpoch created the directory: %v", err)
	}
}

// TestIssuerKeyDirCachesAndSkew runs a rotation with the defaults of
// `serve` (lifetime 30 days, overlap 48 h, publish-ahead 48 h, clock skew
// 1 h) and checks what devices and caches rely on:
//   - the directory announces every key an hour before it starts (a device
//     whose clock is behind does not see a signing key as not yet valid);
//   - a successor is in the directory two days before it signs;
//   - after the successor starts, the old key still issues for a day (a
//     device that cached its token key gets tokens) and then stops, and
//     every token it issued verifies for the device's whole 24 h.
func TestIssuerKeyDirCachesAndSkew(t *testing.T) {
	const tier = "example/tier1"
	d := &IssuerKeyDir{Dir: t.TempDir(), Lifetime: 30 * 24 * time.Hour, Overlap: 48 * time.Hour,
		PublishAhead: 48 * time.Hour, ClockSkew: time.Hour}
	t0 := time.Unix(1_800_000_000, 0)
	ring, err := d.Keyring([]string{tier}, t0)
	if err != nil {
		t.Fatal(err)
	}
	first := ring.Keys()[0]
	if want := t0.Add(-time.Hour); !first.Announce.Equal(want) {
		t.Errorf("first key announced %v, want an hour before its start %v", first.Announce, want)
	}
	if !bytes.Contains(ring.Directory("/issue", t0), fmt.Appendf(nil, `"not-before":%d`, t0.Add(-time.Hour).Unix())) {
		t.Errorf("directory does not publish the backdated not-before: %s", ring.Directory("/issue", t0))
	}

	switchAt := t0.Add(30 * 24 * time.Hour)
	tPub := switchAt.Add(-48*time.Hour + time.Minute)
	if ring, err = d.Keyring([]string{tier}, tPub); err != nil {
		t.Fatal(err)
	}
	if n := len(ring.Keys()); n != 2 {
		t.Fatalf("%d keys two days before the switch, want the successor published", n)
	}
	succ := ring.Keys()[1]
	if !succ.NotBefore.Equal(tPub.Add(48*time.Hour).Truncate(time.Second)) || !succ.Announce.Equal(succ.NotBefore.Add(-time.Hour)) {
		t.Errorf("successor starts %v announced %v; want a start 48 h after publication, announced 1 h before", succ.NotBefore, succ.Announce)
	}

	after := succ.NotBefore
	ring, err = d.Keyring([]string{tier}, after.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ring.Current(tier, after.Add(time.Hour))
	if k.Public().ID() != succ.Key.Public().ID() {
		t.Error("the successor does not sign after its start")
	}
	// A device that cached the old token key, 23 h later (the old key's
	// issuing ends a day after the later of its lifetime's end and its
	// successor's start, less the minute the successor was late).
	late := after.Add(23 * time.Hour)
	tok := issueWith(t, ring, tier, first.Key, late)
	if tok == nil {
		t.Fatal("the old key refused to issue within a day of its successor's start")
	}
	if _, _, err := ring.CheckToken(tok, late.Add(24*time.Hour-time.Second)); err != nil {
		t.Errorf("a token the old key issued last does not verify for the device's 24 h: %v", err)
	}
	if issueWith(t, ring, tier, first.Key, after.Add(24*time.Hour+time.Minute)) != nil {
		t.Error("the old key still issues more than a day after its successor started")
	}
}

// issueWith runs the issuance protocol through ring for a token of key k
// at now; nil when the ring refuses.
func issueWith(t *testing.T, ring *privacypass.Keyring, tier string, k *privacypass.PrivateKey, now time.Time) []byte {
	t.Helper()
	p, req, err := privacypass.NewTokenRequest(rand.Reader, k.Public(), []byte("challenge"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ring.Issue(tier, req, now)
	if err != nil {
		return nil
	}
	tok, err := p.Finalize(resp)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
