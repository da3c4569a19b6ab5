package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"

	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// TestBuildKeyConfigStable checks that evaluation_key_config.txtpb is
// written in Apple's layout for the default preset (prototext's output
// varies between binaries) and that its SHA-256 in pir-manifest.json is
// that of the file.
func TestBuildKeyConfigStable(t *testing.T) {
	out := t.TempDir()
	if code, _, errs := runCLI(t, "", "build", "--no-test-identity", "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	const want = `encryption_parameters {
  polynomial_degree: 4096
  plaintext_modulus: 17
  coefficient_moduli: [134176769, 268369921, 268361729]
  security_level: SECURITY_LEVEL_QUANTUM128
  he_scheme: HE_SCHEME_BFV
}
galois_elements: [`
	got := string(mustRead(t, filepath.Join(cur(t, out), pirKeyConfigFile)))
	if len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("%s:\n%s\nwant it to start with\n%s", pirKeyConfigFile, got, want)
	}
	var kc hepb.EvaluationKeyConfig
	if err := prototext.Unmarshal([]byte(got), &kc); err != nil || !kc.HasRelinKey || len(kc.GaloisElements) == 0 {
		t.Errorf("prototext reads %v, %v", &kc, err)
	}
	sum := sha256.Sum256([]byte(got))
	digest := hex.EncodeToString(sum[:])
	man, err := os.ReadFile(filepath.Join(cur(t, out), pirManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(man), digest) {
		t.Errorf("%s does not record the key config's SHA-256 %s", pirManifestFile, digest)
	}
}
