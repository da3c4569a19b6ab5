package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/internal/testvec"
)

// runTokenCLI runs blindlist in process and returns exit code, stdout, stderr.
func runTokenCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestTokenUsage(t *testing.T) {
	for _, args := range [][]string{
		{"token", "-h"}, {"token", "key", "-h"}, {"token", "issue", "--help"},
		{"token", "verify", "-h"}, {"token", "keygen", "-h"},
	} {
		code, out, _ := runTokenCLI(t, args...)
		if code != 0 || !strings.Contains(out, "Usage: blindlist token") || !strings.Contains(out, "blindlist token") {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
	}
	if code, _, _ := runTokenCLI(t, "token"); code != 2 {
		t.Errorf("token with no command: exit %d, want 2", code)
	}
	if code, _, _ := runTokenCLI(t, "token", "key", "--bogus"); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
	if code, _, errb := runTokenCLI(t, "token", "nope"); code != 2 || !strings.HasPrefix(errb, "blindlist: error: ") {
		t.Errorf("unknown command: exit %d, stderr %q", code, errb)
	}
}

func TestTokenKey(t *testing.T) {
	key := testvec.Path(t, "privacypass", "issuer_private_key.pem")
	out := filepath.Join(t.TempDir(), "key.der")
	if code, _, errb := runTokenCLI(t, "token", "key", "--key", key, "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, testvec.Read(t, "privacypass", "token_key_spki.der")) {
		t.Error("written SPKI differs from token_key_spki.der")
	}
	code, stdout, _ := runTokenCLI(t, "token", "key", "--key", key, "--directory")
	if code != 0 || stdout != string(testvec.Read(t, "privacypass", "issuer_directory.json"))+"\n" {
		t.Errorf("--directory: exit %d, %q", code, stdout)
	}
	code, _, errb := runTokenCLI(t, "token", "key", "--key", filepath.Join(t.TempDir(), "missing.pem"))
	if code != 1 || strings.Count(errb, "\n") != 1 || !strings.HasPrefix(errb, "blindlist: error: ") {
		t.Errorf("missing key: exit %d, stderr %q", code, errb)
	}
	if code, _, errb := runTokenCLI(t, "token", "key"); code != 2 || !strings.Contains(errb, "token key: --key PEM is required (see 'blindlist token key -h')") {
		t.Errorf("no --key: exit %d, stderr %q", code, errb)
	}
}

func TestTokenIssue(t *testing.T) {
	key := testvec.Path(t, "privacypass", "issuer_private_key.pem")
	dir := t.TempDir()
	for _, i := range []string{"0", "1", "2"} {
		out := filepath.Join(dir, "resp"+i)
		code, _, errb := runTokenCLI(t, "token", "issue", "--key", key,
			"--request", testvec.Path(t, "privacypass", "token_request_"+i+".bin"), "--out", out)
		if code != 0 {
			t.Fatalf("request %s: exit %d: %s", i, code, errb)
		}
		got, _ := os.ReadFile(out)
		if !bytes.Equal(got, testvec.Read(t, "privacypass", "token_response_"+i+".bin")) {
			t.Errorf("response %s differs from Apple's", i)
		}
	}
	bad := filepath.Join(dir, "bad.bin")
	os.WriteFile(bad, make([]byte, 100), 0o644)
	code, _, errb := runTokenCLI(t, "token", "issue", "--key", key, "--request", bad, "--out", filepath.Join(dir, "x"))
	if code != 1 || strings.Count(errb, "\n") != 1 || !strings.Contains(errb, "259") {
		t.Errorf("short request: exit %d, stderr %q", code, errb)
	}
}

func TestTokenVerify(t *testing.T) {
	key := testvec.Path(t, "privacypass", "issuer_private_key.pem")
	var cases struct {
		Tokens []struct {
			Authorization string `json:"authorization"`
			Token         string `json:"token"`
		} `json:"tokens"`
	}
	if err := json.Unmarshal(testvec.Read(t, "privacypass", "cases.json"), &cases); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "spent.db")
	for _, tc := range cases.Tokens {
		// Without --spent-db nothing is recorded: valid twice.
		for range 2 {
			if code, out, errb := runTokenCLI(t, "token", "verify", "--key", key, tc.Authorization); code != 0 || out != "valid\n" {
				t.Fatalf("header: exit %d, %q %q", code, out, errb)
			}
		}
		path := testvec.Path(t, "privacypass", tc.Token)
		if code, out, _ := runTokenCLI(t, "token", "verify", "--key", key, "--spent-db", db, path); code != 0 || out != "valid\n" {
			t.Fatalf("first with --spent-db: exit %d, %q", code, out)
		}
		if code, out, _ := runTokenCLI(t, "token", "verify", "--key", key, "--spent-db", db, tc.Authorization); code != 1 || out != "invalid: spent\n" {
			t.Fatalf("second with --spent-db: exit %d, %q", code, out)
		}
	}

	raw := testvec.Read(t, "privacypass", "token_0.bin")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sig := bytes.Clone(raw)
	sig[len(sig)-1] ^= 1
	kid := bytes.Clone(raw)
	kid[70] ^= 1
	typ := bytes.Clone(raw)
	typ[1] = 3
	for _, c := range []struct{ name, arg, want string }{
		{"bad signature", write("sig", sig), "invalid: bad signature\n"},
		{"wrong key id", write("kid", kid), "invalid: wrong key id\n"},
		{"wrong type", write("typ", typ), "invalid: wrong token type\n"},
		{"short", write("short", raw[:10]), "invalid: malformed"},
		{"bad header", "PrivateToken token=%%%", "invalid: malformed"},
	} {
		code, out, _ := runTokenCLI(t, "token", "verify", "--key", key, c.arg)
		if code != 1 || !strings.HasPrefix(out, c.want) {
			t.Errorf("%s: exit %d, %q; want %q", c.name, code, out, c.want)
		}
	}
	if code, _, errb := runTokenCLI(t, "token", "verify", "--key", key, filepath.Join(dir, "missing")); code != 1 || !strings.HasPrefix(errb, "blindlist: error: ") {
		t.Errorf("missing file: exit %d, %q", code, errb)
	}
}

func TestTokenKeygen(t *testing.T) {
	out := filepath.Join(t.TempDir(), "k.pem")
	if code, _, errb := runTokenCLI(t, "token", "keygen", "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	if code, _, _ := runTokenCLI(t, "token", "keygen", "--out", out); code != 1 {
		t.Error("keygen overwrote an existing file")
	}
	if code, _, errb := runTokenCLI(t, "token", "key", "--key", out, "--out", filepath.Join(t.TempDir(), "k.der")); code != 0 {
		t.Fatalf("generated key unusable: %s", errb)
	}
}
