package blocklist

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestParallelLinesMatchSequential compiles the same sources with the
// parallel line reader and the sequential one, in memory and spilled, and
// wants the same keys, provenance file and report byte for byte. Besides
// the spill corpus (several chunks per document), the sources hold what
// the parallel reader must get right: an auto-format document that turns
// out to be an AdBlock list after thousands of lines (the fast path read
// ahead must be redone: "-after0.flip.example.com" is a host before the
// flip and an unanchored rule after it),
// over-long lines, blank lines (also at the end), CRLF line ends, and a
// document without a final newline.
func TestParallelLinesMatchSequential(t *testing.T) {
	block, allow := spillCorpus(40000)
	var auto strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&auto, "-before%d.flip.example.com\n", i)
	}
	auto.WriteString("! Title: turns into an AdBlock list here\n")
	for i := range 5000 {
		fmt.Fprintf(&auto, "-after%d.flip.example.com\n||anchored%d.flip.example.com^\n", i, i)
	}
	var odd bytes.Buffer
	for i := range 3000 {
		fmt.Fprintf(&odd, "0.0.0.0 odd%d.example.net\r\n", i)
		if i%700 == 0 {
			odd.WriteString("0.0.0.0 " + strings.Repeat("x", maxLineBytes+10) + ".example.net\r\n\r\n   \n")
		}
	}
	odd.WriteString("0.0.0.0 last.example.net\n\n\n")
	block = append(block,
		Source{Location: "auto", Data: []byte(auto.String())},
		Source{Location: "odd", Data: odd.Bytes(), Format: FormatHosts},
		Source{Location: "no-final-newline", Data: []byte("nofinal.example.org\nnofinal2.example.org")},
	)
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"default", Options{TestIdentity: true}},
		{"keep-covered", Options{KeepCovered: true, AllowRemovesParents: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq := tc.opts
			seq.testingOnlySequentialLines = true
			memSeq, spSeq := compileBoth(t, block, allow, seq)
			memPar, spPar := compileBoth(t, block, allow, tc.opts)
			for _, c := range []struct {
				what     string
				seq, par compiled
			}{{"in memory", memSeq, memPar}, {"spilled", spSeq, spPar}} {
				if !bytes.Equal(c.seq.keys, c.par.keys) {
					t.Errorf("%s: keys differ: %d bytes sequential, %d parallel", c.what, len(c.seq.keys), len(c.par.keys))
				}
				if !bytes.Equal(c.seq.prov, c.par.prov) {
					t.Errorf("%s: provenance files differ", c.what)
				}
				if !bytes.Equal(c.seq.report, c.par.report) {
					t.Errorf("%s: reports differ:\nsequential %s\nparallel   %s", c.what, c.seq.report, c.par.report)
				}
			}
			if !bytes.Contains(memSeq.keys, []byte("\n-before4999.flip.example.com\n")) || bytes.Contains(memSeq.keys, []byte("-after0.flip.example.com\n")) {
				t.Error("the auto document did not turn into an AdBlock list where expected")
			}
		})
	}
}
