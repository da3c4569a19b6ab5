package blocklist

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
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

// TestCompileSpilledSmall compiles small lists without duplicates, allow
// lists or exceptions in both modes: counts a spilled compile adds per
// partition must not appear when zero.
func TestCompileSpilledSmall(t *testing.T) {
	for _, list := range []string{"a.example.com\nb.example.net\n", "0.0.0.0 x.example.org\n||y.example.org^\n", "https://example.com/a/b\n"} {
		mem, sp := compileBoth(t, []Source{{Location: "l", Data: []byte(list)}}, nil, Options{})
		if !bytes.Equal(mem.keys, sp.keys) || !bytes.Equal(mem.prov, sp.prov) || !bytes.Equal(mem.report, sp.report) {
			t.Errorf("%q: in memory %s %s, spilled %s %s", list, mem.keys, mem.report, sp.keys, sp.report)
		}
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

// peakLiveHeap runs fn and returns the largest live heap (runtime/metrics
// /gc/heap/live:bytes, measured at each GC) seen while it ran, sampled
// every millisecond.
func peakLiveHeap(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	runtime.GC() // the last live figure includes what fn held at its end
	close(stop)
	return <-done
}

// TestCompileSpillMemoryBound compiles a 600,000-line hosts file (600k
// keys, about 60 MB live in memory) with an 8 MiB budget and wants the
// live heap to stay under the budget plus 40 MiB of fixed cost (256 write
// buffers of 64 KiB, read buffers, one partition of about 2,500 keys,
// the report): the key set itself never lives in memory whole. The
// in-memory compile of the same file is measured too, to show the bound
// means something.
func TestCompileSpillMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles 600k lines twice")
	}
	path := filepath.Join(t.TempDir(), "hosts.txt")
	var b bytes.Buffer
	for i := range 600_000 {
		fmt.Fprintf(&b, "0.0.0.0 h%d-%x.example%d.com\n", i, uint64(i)*2654435761%1000000007, i%251)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b = bytes.Buffer{}
	src, err := ParseSource(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const budget = 8 << 20
	var keys int
	memPeak := peakLiveHeap(func() {
		r, err := Compile(ctx, []Source{src}, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		keys = len(r.Keys)
	})
	spillPeak := peakLiveHeap(func() {
		r, err := Compile(ctx, []Source{src}, nil, Options{SpillDir: t.TempDir(), SpillBudget: budget})
		if err != nil {
			t.Fatal(err)
		}
		if r.Spilled == nil || r.Len() != keys {
			t.Fatalf("spilled %v, %d keys, want %d", r.Spilled != nil, r.Len(), keys)
		}
		r.Spilled.Remove()
	})
	t.Logf("%d keys: peak live heap %.1f MiB in memory, %.1f MiB with an %d MiB budget", keys, float64(memPeak)/(1<<20), float64(spillPeak)/(1<<20), budget>>20)
	if limit := uint64(budget + 40<<20); spillPeak > limit {
		t.Errorf("spilled compile: peak live heap %d bytes, want under %d", spillPeak, limit)
	}
	if 2*memPeak < 3*spillPeak { // measured 49-59 MiB against 14-23 MiB
		t.Errorf("in-memory compile peaked at %d bytes, spilled at %d: the list is too small to show the bound", memPeak, spillPeak)
	}
}
