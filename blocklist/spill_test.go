package blocklist

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// spillCorpus returns block and allow sources that exercise every step a
// spilled compile resolves per partition: duplicates across sources and
// across the spill point, keys covered by parents, allow entries and AdBlock
// exceptions below blocked parents, $badfilter rules (one disabling a
// key's only rule, one a key other lines give too), public-suffix keys, URL
// keys with ports, paths and queries, rule texts that are not the key
// with a shared prefix and suffix, and the test identity.
func spillCorpus(n int) (block, allow []Source) {
	var extra strings.Builder
	for i := range 50 {
		fmt.Fprintf(&extra, "||parent%d.example.com^\n", i)
		fmt.Fprintf(&extra, "||child.parent%d.example.com^\n", i)
		fmt.Fprintf(&extra, "@@||allowed.parent%d.example.com^\n", i%10)
	}
	extra.WriteString("||badonly.example.net^$third-party\n||badonly.example.net^$third-party,badfilter\n")
	extra.WriteString("||keptbad.example.net^\n0.0.0.0 keptbad.example.net\n||keptbad.example.net^$badfilter\n")
	extra.WriteString("||co.uk^\n||github.io^\n||blogspot.com/path^\n||apple.com/url-filter-test^\n")
	extra.WriteString("||x.example.org:8443/a/b^\n||example.org:8443^\n||example.org/a^\n")
	block = []Source{
		{Location: "hosts", Data: syntheticList(n, "hosts", 11)},
		{Location: "urls", Data: syntheticList(n/2, "urls", 12)},
		{Location: "abp", Data: syntheticList(n/2, "abp", 13), Format: FormatABP},
		{Location: "extra", Data: []byte(extra.String()), Format: FormatABP},
		{Location: "hosts-again", Data: syntheticList(n/4, "hosts", 11)},
	}
	var al strings.Builder
	for i := range 20 {
		fmt.Fprintf(&al, "www.parent%d.example.com\n", i)
	}
	al.Write(syntheticList(n/40, "hosts", 14))
	allow = []Source{{Location: "allow", Data: []byte(al.String())}}
	return block, allow
}

// compiled is what a compile writes: the keys file, the provenance file
// and the report.
type compiled struct {
	keys, prov, report []byte
}

func compileBoth(t *testing.T, block, allow []Source, opts Options) (mem, spilled compiled) {
	t.Helper()
	ctx := context.Background()
	r, err := Compile(ctx, block, allow, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Spilled != nil {
		t.Fatal("a compile without SpillDir spilled")
	}
	var kb, pb bytes.Buffer
	for _, k := range r.Keys {
		kb.WriteString(k + "\n")
	}
	if _, err := r.Provenance.WriteTo(&pb); err != nil {
		t.Fatal(err)
	}
	mem = compiled{kb.Bytes(), pb.Bytes(), mustJSON(t, r.Report)}

	dir := t.TempDir()
	opts.SpillDir, opts.SpillBudget = dir, 1
	stages := 0
	opts.Stagef = func(string, ...any) { stages++ }
	s, err := Compile(ctx, block, allow, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s.Spilled == nil || s.Keys != nil || s.Provenance != nil {
		t.Fatal("a compile with a 1-byte budget did not spill")
	}
	if s.Len() != r.Len() {
		t.Errorf("spilled Len %d, in memory %d", s.Len(), r.Len())
	}
	var skb, spb bytes.Buffer
	if err := s.Spilled.Write(ctx, &skb, &spb); err != nil {
		t.Fatal(err)
	}
	if err := s.Spilled.Remove(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("spill directory left behind: %v", left)
	}
	if stages == 0 {
		t.Error("no stage lines from a spilled compile")
	}
	return mem, compiled{skb.Bytes(), spb.Bytes(), mustJSON(t, s.Report)}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCompileSpilledMatchesMemory compiles one corpus in memory and spilled
// (budget 1 byte: every key goes through the partition files and the
// 256-way merge) under each option that changes the resolution, and wants
// the same keys, provenance file and report, byte for byte.
func TestCompileSpilledMatchesMemory(t *testing.T) {
	block, allow := spillCorpus(6000)
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"default", Options{TestIdentity: true}},
		{"allow-removes-parents", Options{TestIdentity: true, AllowRemovesParents: true}},
		{"keep-covered-keep-suffixes", Options{KeepCovered: true, PublicSuffixes: KeepSuffixes}},
		{"keep-private", Options{PublicSuffixes: KeepPrivateSuffixes, AllowRemovesParents: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem, sp := compileBoth(t, block, allow, tc.opts)
			if !bytes.Equal(mem.keys, sp.keys) {
				t.Errorf("keys differ: %d bytes in memory, %d spilled", len(mem.keys), len(sp.keys))
			}
			if !bytes.Equal(mem.prov, sp.prov) {
				t.Errorf("provenance files differ: %d bytes in memory, %d spilled", len(mem.prov), len(sp.prov))
			}
			if !bytes.Equal(mem.report, sp.report) {
				t.Errorf("reports differ:\nin memory %s\nspilled   %s", mem.report, sp.report)
			}
			if bytes.Count(mem.keys, []byte("\n")) < 1000 {
				t.Errorf("only %d keys: the corpus is too small to test much", bytes.Count(mem.keys, []byte("\n")))
			}
		})
	}
}

// TestCompileSpillMidway spills after part of the first source (a budget
// of about 2,000 keys), so keys held in memory and keys read afterwards
// meet in the partitions, and wants the in-memory result.
func TestCompileSpillMidway(t *testing.T) {
	block, allow := spillCorpus(8000)
	opts := Options{TestIdentity: true, AllowRemovesParents: true}
	mem, _ := compileBoth(t, block, allow, opts)
	opts.SpillDir, opts.SpillBudget = t.TempDir(), 2000*(spillKeyBytes+20)
	ctx := context.Background()
	s, err := Compile(ctx, block, allow, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Spilled.Remove()
	var kb, pb bytes.Buffer
	if err := s.Spilled.Write(ctx, &kb, &pb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mem.keys, kb.Bytes()) || !bytes.Equal(mem.prov, pb.Bytes()) || !bytes.Equal(mem.report, mustJSON(t, s.Report)) {
		t.Error("a compile that spilled midway differs from the in-memory one")
	}
}

// TestGroupBounds checks that every key ancestors visits has its key's
// host group, which is what lets each partition be resolved alone.
func TestGroupBounds(t *testing.T) {
	for _, k := range []string{
		"a.b.example.com", "example.com", "com", "x.example.org:8443/a/b?q#f", "example.org:8443",
		"1.2.3.4:80/x", "1.2.3.4", "[2001:db8::1]:443/p", "[2001:db8::1]", "a.b.co.uk/p/q", "localhost/x",
	} {
		a, b := groupBounds(k)
		g := k[a:b]
		ancestors(k, func(p string) bool {
			if pa, pb := groupBounds(p); p[pa:pb] != g {
				t.Errorf("%q: ancestor %q has group %q, want %q", k, p, p[pa:pb], g)
			}
			return false
		})
		if ga, gb := groupBounds([]byte(k)); ga != a || gb != b {
			t.Errorf("%q: byte and string bounds differ", k)
		}
	}
}
