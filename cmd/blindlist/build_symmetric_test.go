package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/api"
	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/oprf"
)

// lookupSymmetric serves dir's shards with key and looks keywords up as a
// symmetric-PIR device: OPRF round, PIR on the oblivious keyword, value
// decryption.
func lookupSymmetric(t *testing.T, dir, keyPath string, present, absent []string) {
	t.Helper()
	ctx := context.Background()
	u, err := api.OpenUsecase(ctx, api.UsecaseConfig{Name: "u", Directory: dir, FileStem: "url", ShardCount: readPIRManifest(t, dir).ShardCount,
		SymmetricPirArguments: &api.SymmetricPirArguments{DatabaseEncryptionKeyFilePath: keyPath}})
	if err != nil {
		t.Fatal(err)
	}
	if !u.Symmetric() {
		t.Fatal("usecase is not symmetric")
	}
	key, err := oprf.ReadKeyFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	dbs, err := pir.LoadShards(ctx, cur(t, dir), "url")
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
	for _, kw := range present {
		if v, ok, err := c.Lookup(ctx, s, ek, []byte(kw), rand.Reader); err != nil || !ok || string(v) != "1" {
			t.Errorf("present %q: %q %v %v", kw, v, ok, err)
		}
	}
	for _, kw := range absent {
		if v, ok, err := c.Lookup(ctx, s, ek, []byte(kw), rand.Reader); err != nil || ok {
			t.Errorf("absent %q: %q %v %v", kw, v, ok, err)
		}
	}
}

// TestBuildSymmetric builds with --symmetric-key (the key is created 0600),
// rebuilds with one key changed (only that key's shard is reprocessed, the
// others are reused), looks keys up through the OPRF round, and checks that
// a new key forces a full rebuild.
func TestBuildSymmetric(t *testing.T) {
	tmp := t.TempDir()
	src, out, keyPath := filepath.Join(tmp, "list.txt"), filepath.Join(tmp, "out"), filepath.Join(tmp, "spir-key.txt")
	var domains []string
	for i := range 30 {
		domains = append(domains, fmt.Sprintf("site%02d.example.com", i))
	}
	writeDomains(t, src, domains)
	args := []string{"--source", "domains:" + src, "--out", out, "--shards", "3", "--symmetric-key", keyPath}
	errs := buildOK(t, args...)
	if !strings.Contains(errs, "created symmetric PIR key") {
		t.Errorf("no creation notice:\n%s", errs)
	}
	fi, err := os.Stat(keyPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", err, fi.Mode())
	}
	key, err := oprf.ReadKeyFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	m1 := readPIRManifest(t, out)
	if m1.Settings.SymmetricPublicKey != hex.EncodeToString(key.PublicKey()) {
		t.Fatalf("manifest public key %q", m1.Settings.SymmetricPublicKey)
	}
	if bytes.Contains(mustRead(t, filepath.Join(cur(t, out), pirManifestFile)), []byte(hex.EncodeToString(key.Bytes()))) {
		t.Fatal("manifest holds the private key")
	}
	lookupSymmetric(t, out, keyPath, domains[:3], []string{"absent.example.com"})

	// Same keys: nothing reprocessed, same config_id.
	errs = buildOK(t, args...)
	if !strings.Contains(errs, "(0 processed, 3 unchanged)") {
		t.Errorf("unchanged rebuild reprocessed shards:\n%s", errs)
	}
	// One key replaced: the shards of the removed and the added oblivious
	// keyword (one or two) are reprocessed, the others kept.
	domains[7] = "changed.example.com"
	writeDomains(t, src, domains)
	errs = buildOK(t, args...)
	if !strings.Contains(errs, "(1 processed, 2 unchanged)") && !strings.Contains(errs, "(2 processed, 1 unchanged)") {
		t.Errorf("one changed key:\n%s", errs)
	}
	lookupSymmetric(t, out, keyPath, []string{"changed.example.com", domains[8]}, []string{"site07.example.com"})

	// Another key: the settings differ, full rebuild.
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	errs = buildOK(t, args...)
	if !strings.Contains(errs, "symmetric public key") || !strings.Contains(errs, "(3 processed, 0 unchanged)") {
		t.Errorf("new key did not force a full rebuild:\n%s", errs)
	}
	lookupSymmetric(t, out, keyPath, domains[:2], nil)

	if code, _, errOut := runCLI(t, "", "build", "--source", "domains:"+src, "--out", out, "--no-pir", "--symmetric-key", keyPath); code != 1 && code != 2 {
		t.Errorf("--no-pir with --symmetric-key: exit %d: %s", code, errOut)
	}
}
