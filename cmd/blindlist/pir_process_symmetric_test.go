package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/oprf"
)

// TestPIRProcessSymmetric processes with Apple's symmetricPirArguments (a
// new key written 0600, then the same key read back) and with
// --symmetric-key, and looks keys up through the OPRF round in process.
func TestPIRProcessSymmetric(t *testing.T) {
	tmp := t.TempDir()
	in := filepath.Join(tmp, "input.txtpb")
	db := `rows { keyword: "a.example" value: "\001" } rows { keyword: "b.example" value: "\002\003" } rows { keyword: "c.example" value: "" }`
	if err := os.WriteFile(in, []byte(db), 0o644); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(tmp, "spir-encryption-key.txt")
	writeConfig := func(sym string) string {
		p := filepath.Join(tmp, "config.json")
		cfg := `{"inputDatabase": "` + in + `", "outputDatabase": "` + filepath.Join(tmp, "url-SHARD_ID.bin") +
			`", "outputPirParameters": "` + filepath.Join(tmp, "url-SHARD_ID.params.txtpb") +
			`", "rlweParameters": "n_4096_logq_27_28_28_logt_5", "databaseType": "keyword", "symmetricPirArguments": ` + sym + `}`
		if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lookup := func(key *oprf.PrivateKey) {
		t.Helper()
		dbs, err := pir.LoadShards(context.Background(), tmp, "url")
		if err != nil {
			t.Fatal(err)
		}
		s, err := pir.NewServer(dbs, pir.ServerOptions{SymmetricKey: key})
		if err != nil {
			t.Fatal(err)
		}
		cc, err := pir.ClientConfigFromResponse(s.Config().ConfigResponse("u"), "u")
		if err != nil {
			t.Fatal(err)
		}
		c, _ := pir.NewClient(cc, rand.Reader)
		up, _ := c.EvaluationKey(1, rand.Reader)
		ek, err := s.ParseEvaluationKey(up.GetEvaluationKey())
		if err != nil {
			t.Fatal(err)
		}
		for kw, want := range map[string][]byte{"b.example": {2, 3}, "c.example": {}} {
			v, ok, err := c.Lookup(context.Background(), s, ek, []byte(kw), rand.Reader)
			if err != nil || !ok || !bytes.Equal(v, want) {
				t.Fatalf("%s: %x %v %v", kw, v, ok, err)
			}
		}
	}

	code, out, errOut := runCLI(t, "", "pir", "process", "--config", writeConfig(`{"outputDatabaseEncryptionKeyFilePath": "`+keyPath+`"}`))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	fi, err := os.Stat(keyPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v", err, fi.Mode())
	}
	key, err := oprf.ReadKeyFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "symmetric_pir_server_public_key ") {
		t.Errorf("stdout lacks the public key:\n%s", out)
	}
	lookup(key)

	code, _, errOut = runCLI(t, "", "pir", "process", "--config",
		writeConfig(`{"databaseEncryptionKeyFilePath": "`+keyPath+`", "configType": "OPRF_P384_AES_GCM_192_NONCE_96_TAG_128"}`))
	if code != 0 {
		t.Fatalf("existing key: exit %d: %s", code, errOut)
	}
	lookup(key)

	for name, sym := range map[string]string{
		"both paths":  `{"databaseEncryptionKeyFilePath": "` + keyPath + `", "outputDatabaseEncryptionKeyFilePath": "x"}`,
		"no path":     `{}`,
		"bad type":    `{"databaseEncryptionKeyFilePath": "` + keyPath + `", "configType": "OPRF_P256"}`,
		"missing key": `{"databaseEncryptionKeyFilePath": "` + filepath.Join(tmp, "none") + `"}`,
		"unknown key": `{"databaseEncryptionKeyFile": "x"}`,
	} {
		if code, _, errOut := runCLI(t, "", "pir", "process", "--config", writeConfig(sym)); code != 1 || !strings.HasPrefix(errOut, "blindlist: error: ") {
			t.Errorf("%s: exit %d, stderr %q", name, code, errOut)
		}
	}

	flagKey := filepath.Join(tmp, "flag-key.txt")
	code, _, errOut = runCLI(t, "", "pir", "process", "--input", in, "--out", tmp, "--symmetric-key", flagKey)
	if code != 0 || !strings.Contains(errOut, "created symmetric PIR key") {
		t.Fatalf("--symmetric-key: exit %d: %s", code, errOut)
	}
	k2, err := oprf.ReadKeyFile(flagKey)
	if err != nil {
		t.Fatal(err)
	}
	lookup(k2)
}
