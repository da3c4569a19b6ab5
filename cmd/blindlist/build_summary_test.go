package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/bloom"
)

// TestBuildSummaryShowsOverriddenAllowsAndFPRate checks what a maintainer
// must see after a build: allow entries a blocked parent overrides (the
// device walks up the host and still denies them), and the prefilter's
// false-positive rate, in the text and the JSON summary.
func TestBuildSummaryShowsOverriddenAllowsAndFPRate(t *testing.T) {
	dir := t.TempDir()
	block, allow := filepath.Join(dir, "block.txt"), filepath.Join(dir, "allow.txt")
	os.WriteFile(block, []byte("ads.example.com\ntracker.example.net\n"), 0o644)
	os.WriteFile(allow, []byte("cdn.ads.example.com\n"), 0o644)
	out := filepath.Join(dir, "out")

	code, stdout, stderr := runCLI(t, "", "build", "--source", block, "--allow", allow, "--no-pir", "--no-test-identity", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "allow entries overridden by a blocked parent (still denied): 1\n") ||
		!strings.Contains(stderr, "blindlist: warning: allow entry cdn.ads.example.com is below blocked ads.example.com: the device still denies it\n") ||
		!strings.Contains(stderr, "--allow-removes-parents") {
		t.Errorf("overridden allow entry not shown:\nstdout %q\nstderr %q", stdout, stderr)
	}
	var keys int
	var bits, hashes uint32
	if _, err := fmt.Sscanf(stdout, "%d keys from", &keys); err != nil {
		t.Fatalf("summary %q: %v", stdout, err)
	}
	_, rest, _ := strings.Cut(stdout, "prefilter: ")
	if _, err := fmt.Sscanf(rest, "%d bits, %d hashes", &bits, &hashes); err != nil {
		t.Fatalf("summary %q: %v", stdout, err)
	}
	want := bloom.FalsePositiveRate(bits, hashes, keys)
	perVisit := 1 - math.Pow(1-want, 24)
	if line := fmt.Sprintf("false-positive rate: %.3g per sub-URL looked up, %.3g per visit of 24 sub-URLs\n", want, perVisit); !strings.Contains(stdout, line) {
		t.Errorf("stdout %q lacks %q", stdout, line)
	}

	// --allow-removes-parents: nothing is overridden any more.
	code, stdout, stderr = runCLI(t, "", "build", "--source", block, "--allow", allow, "--allow-removes-parents", "--no-pir", "--no-test-identity", "--json", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum struct {
		FPPerKey   float64 `json:"false_positive_rate_per_key"`
		FPPerVisit float64 `json:"false_positive_rate_per_visit"`
		Overridden *int    `json:"overridden_allows"`
	}
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Overridden == nil || *sum.Overridden != 0 || strings.Contains(stderr, "still denies") || !(sum.FPPerKey > 0 && sum.FPPerVisit > sum.FPPerKey) {
		t.Errorf("--allow-removes-parents --json: %+v, stderr %q", sum, stderr)
	}
}
