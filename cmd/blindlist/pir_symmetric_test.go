package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPIRToolsSymmetric runs the file-based device and server tools through
// a symmetric-PIR lookup: pir process --symmetric-key, pir config, pir query
// (OPRF requests), pir answer (OPRF), pir query (PIR requests on the
// oblivious keywords), pir answer (PIR), pir decrypt (values opened with
// the OPRF outputs). It also checks that an OPRF answer under another key
// is refused.
func TestPIRToolsSymmetric(t *testing.T) {
	tmp := t.TempDir()
	p := func(name string) string { return filepath.Join(tmp, name) }
	if err := os.WriteFile(p("keys.txt"), []byte("a.example\nb.example\nc.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"db", "db2"} {
		if err := os.Mkdir(p(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	const uc = "com.example.app.url.filtering"
	must("pir", "process", "--input", p("keys.txt"), "--out", p("db"), "--symmetric-key", p("spir.txt"))
	must("pir", "config", "--db", p("db"), "--usecase", uc, "--out", p("config.binpb"))
	kws := []string{"--", "b.example", "absent.example"}
	query := func(extra ...string) {
		t.Helper()
		must(append(append([]string{"pir", "query", "--config", p("config.binpb"), "--usecase", uc}, extra...), kws...)...)
	}
	query("--oprf-state", p("state"), "--out-requests", p("oprf-req.binpb"))
	if fi, err := os.Stat(p("state")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", err, fi.Mode())
	}
	must("pir", "answer", "--db", p("db"), "--symmetric-key", p("spir.txt"), "--requests", p("oprf-req.binpb"), "--out", p("oprf-resp.binpb"))
	query("--oprf-state", p("state"), "--oprf-responses", p("oprf-resp.binpb"),
		"--out-requests", p("req.binpb"), "--out-keys", p("keys.binpb"), "--out-secret-key", p("sk.binpb"))
	must("pir", "answer", "--db", p("db"), "--keys", p("keys.binpb"), "--requests", p("req.binpb"), "--out", p("resp.binpb"))
	out := must(append([]string{"pir", "decrypt", "--config", p("config.binpb"), "--usecase", uc, "--secret-key", p("sk.binpb"),
		"--responses", p("resp.binpb"), "--oprf-state", p("state"), "--oprf-responses", p("oprf-resp.binpb")}, kws...)...)
	if out != "present 31\nabsent\n" {
		t.Fatalf("decrypt printed %q", out)
	}

	// Without the key, the server tool refuses OPRF requests.
	code, _, errOut := runCLI(t, "", "pir", "answer", "--db", p("db"), "--requests", p("oprf-req.binpb"), "--out", p("x"))
	if code != 1 || !strings.Contains(errOut, "SymmetricPIR not configured") {
		t.Fatalf("answer without key: exit %d: %s", code, errOut)
	}
	// Answers under another key fail proof verification in the client.
	must("pir", "process", "--input", p("keys.txt"), "--out", p("db2"), "--symmetric-key", p("other.txt"))
	must("pir", "answer", "--db", p("db2"), "--symmetric-key", p("other.txt"), "--requests", p("oprf-req.binpb"), "--out", p("bad.binpb"))
	code, _, errOut = runCLI(t, "", append([]string{"pir", "query", "--config", p("config.binpb"), "--usecase", uc,
		"--oprf-state", p("state"), "--oprf-responses", p("bad.binpb"),
		"--out-requests", p("r2"), "--out-keys", p("k2"), "--out-secret-key", p("s2")}, kws...)...)
	if code != 1 || !strings.Contains(errOut, "proof verification failed") {
		t.Fatalf("other key's answers: exit %d: %s", code, errOut)
	}
	// A symmetric usecase without --oprf-state is refused with a clear message.
	code, _, errOut = runCLI(t, "", append([]string{"pir", "query", "--config", p("config.binpb"), "--usecase", uc, "--out-requests", p("r3")}, kws...)...)
	if code != 1 || !strings.Contains(errOut, "--oprf-state") {
		t.Fatalf("no state: exit %d: %s", code, errOut)
	}
}
