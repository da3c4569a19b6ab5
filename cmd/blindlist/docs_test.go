package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/e2e"
)

// TestSizingDocMatchesOutput checks that docs/sizing.md names what bench
// and build really print: bench's latency percentiles and build's
// false-positive rate.
func TestSizingDocMatchesOutput(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "sizing.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("`blindlist bench[^`]*` reports (p\\d+)/(p\\d+)/(p\\d+)").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/sizing.md no longer says which percentiles bench reports")
	}
	var out bytes.Buffer
	printBench(&out, &e2e.BenchResult{})
	want := "latency      " + string(m[1]) + " "
	for _, p := range m[2:] {
		if !strings.Contains(out.String(), "  "+string(p)+" ") {
			t.Errorf("docs/sizing.md says bench reports %s; bench prints %q", p, out.String())
		}
	}
	if !strings.Contains(out.String(), want) {
		t.Errorf("docs/sizing.md says bench reports %s first; bench prints %q", m[1], out.String())
	}
	if !bytes.Contains(doc, []byte("`blindlist build` prints it")) {
		t.Fatal("docs/sizing.md no longer says build prints the false-positive rate")
	}
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "", "build", "--no-pir", "--out", dir)
	if code != 0 || !strings.Contains(stdout, "false-positive rate: ") || !strings.Contains(stdout, " per sub-URL looked up") {
		t.Errorf("build prints no false-positive rate: exit %d, %q %s", code, stdout, stderr)
	}
}
