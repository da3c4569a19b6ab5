package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBench(t *testing.T) {
	code, out, errs := runCLI(t, "", "bench", "--keys", "200", "--answers", "3", "--duration", "200ms", "--concurrency", "2", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r benchJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// Sizes follow from the preset (docs/sizing.md §1): one seeded query
	// ciphertext (28160 + 32 bytes), two reply ciphertexts of 12290 bytes,
	// and 85056 bytes per key-switching key (Galois elements + relin).
	if r.QueryBytes < 28192 || r.QueryBytes > 28192+200 {
		t.Errorf("query %d bytes, want 28192 plus framing", r.QueryBytes)
	}
	if r.ResponseBytes < 2*12290 || r.ResponseBytes > 2*12290+200 {
		t.Errorf("response %d bytes, want 24580 plus framing", r.ResponseBytes)
	}
	if want := (len(r.GaloisElements) + 1) * 85056; r.EvaluationKeyBytes < want || r.EvaluationKeyBytes > want+2000 {
		t.Errorf("evaluation key %d bytes, want %d plus framing", r.EvaluationKeyBytes, want)
	}
	if r.Keys != 200 || r.AnswersPerSec <= 0 || r.P50MS <= 0 || r.P99MS < r.P50MS || r.DatabaseBytes <= 0 {
		t.Errorf("implausible result: %+v", r)
	}
	if !strings.Contains(errs, "bench: timing 3 sequential answers") {
		t.Errorf("no progress on stderr: %q", errs)
	}

	code, out, _ = runCLI(t, "", "bench", "--keys", "20", "--answers", "1", "--duration", "50ms")
	if code != 0 || !strings.Contains(out, "latency      p50") || !strings.Contains(out, "sizes        query 28.") {
		t.Errorf("text output: exit %d, %q", code, out)
	}
}

func TestBenchUsage(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"-h"}, 0, ""},
		{[]string{"--nope"}, 2, "blindlist: error: bench: unknown flag --nope (see 'blindlist bench -h')\n"},
		{[]string{"extra"}, 2, "blindlist: error: bench: unexpected argument \"extra\""},
		{[]string{"--keys", "0"}, 2, "--keys must be at least 1"},
		{[]string{"--keys", "5", "--shards", "6"}, 2, "--shards must be between"},
		{[]string{"--answers", "0"}, 2, "--answers"},
		{[]string{"--duration", "0s"}, 2, "--duration"},
		{[]string{"--concurrency", "0"}, 2, "--concurrency"},
		{[]string{"--keys", "10", "--preset", "no_such_preset", "--answers", "1", "--duration", "10ms"}, 1, "blindlist: error:"},
	}
	for _, tt := range tests {
		code, out, errs := runCLI(t, "", append([]string{"bench"}, tt.args...)...)
		if code != tt.code || !strings.Contains(errs, tt.stderr) {
			t.Errorf("bench %q: exit %d, stderr %q; want %d, %q", tt.args, code, errs, tt.code, tt.stderr)
		}
		if tt.code == 0 && !strings.HasPrefix(out, "Usage: blindlist bench") {
			t.Errorf("bench -h: stdout %q", out)
		}
	}
}
