package blocklist

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestKeySet checks keySet against a map on random adds, lookups and
// removals across several index resizes and arena chunks.
func TestKeySet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := newKeySet()
	want := map[string]bool{}
	for i := range 200_000 {
		k := fmt.Sprintf("k%d.example.com/%s", r.IntN(60_000), strings.Repeat("p", r.IntN(40)))
		switch r.IntN(10) {
		case 0:
			s.Remove(k)
			delete(want, k)
		case 1, 2:
			if got := s.Has(k); got != want[k] {
				t.Fatalf("op %d: Has(%q) = %v, want %v", i, k, got, want[k])
			}
		case 3:
			if got := s.AddBytes([]byte(k), manyOrigins); got == want[k] {
				t.Fatalf("op %d: AddBytes(%q) = %v with present %v", i, k, got, want[k])
			}
			want[k] = true
		default:
			if got := s.Add(k, manyOrigins); got == want[k] {
				t.Fatalf("op %d: Add(%q) = %v with present %v", i, k, got, want[k])
			}
			want[k] = true
		}
	}
	if s.Len() != len(want) {
		t.Errorf("Len %d, want %d", s.Len(), len(want))
	}
	got := s.Sorted()
	if w := slices.Sorted(maps.Keys(want)); !slices.Equal(got, w) {
		t.Errorf("Sorted gave %d keys, want %d (first difference near %v)", len(got), len(w), got[:min(3, len(got))])
	}
}

// TestArenaStringsStayValid fills several chunks, including a key larger
// than a chunk, and checks every string handed out.
func TestArenaStringsStayValid(t *testing.T) {
	var a arena
	var got, want []string
	for i := range 100_000 {
		k := fmt.Sprintf("%d-%s", i, strings.Repeat("x", i%50))
		if i == 500 {
			k = strings.Repeat("y", 3*arenaChunkBytes)
		}
		want = append(want, k)
		if i%2 == 0 {
			got = append(got, a.copy(k))
		} else {
			got = append(got, a.copyBytes([]byte(k)))
		}
	}
	if !slices.Equal(got, want) {
		t.Fatal("arena strings changed after later copies")
	}
}

// fastLineAgrees fails when fastLine accepts a line that the general path
// would read differently: other keys, or anything to report.
func fastLineAgrees(t *testing.T, f Format, line string) {
	raw := []byte(strings.TrimSpace(line))
	if strings.ContainsAny(line, "\n") || len(raw) == 0 {
		return
	}
	names := fastLine(f, raw, nil)
	if len(names) == 0 {
		return
	}
	c := newCompiler(Options{})
	set := newKeySet()
	var sr SourceReport
	c.parseLine(lineParser(f), string(raw), "doc", 1, set, &sr, true)
	var fast []string
	for _, n := range names {
		if !slices.Contains(fast, string(n)) {
			fast = append(fast, string(n))
		}
	}
	general := set.Sorted()
	slices.Sort(fast)
	if !slices.Equal(fast, general) || sr.Entries != len(names) || len(c.rep.Rewritten) != 0 || c.rep.ProblemCount != 0 ||
		len(c.rep.Dropped) > 1 || len(c.rep.Dropped) == 1 && c.rep.Dropped["duplicate"] != len(names)-len(fast) {
		t.Errorf("%s line %q: fast path %q, general path %q, entries %d/%d, rewritten %v, dropped %v",
			f, line, fast, general, sr.Entries, len(names), c.rep.Rewritten, c.rep.Dropped)
	}
}

func TestFastLineAgrees(t *testing.T) {
	lines := []string{
		"0.0.0.0 a.example.com", "127.0.0.1 a.example.com b.example.com a.example.com", "0.0.0.0 a.example.com # c",
		"0.0.0.0 a.example.com#c", "0.0.0.0 localhost.localdomain", "0.0.0.0 a.example.com ## x", "a.example.com",
		"||a.example.com^", "||a.example.com^$third-party", "a.example.com##.ad", "0.0.0.0\ta.example.com\t",
		"0.0.0.0 0.0.0.0", "1.2.3.4 a.example.com", "0.0.0.0 www.a.example.com", "0.0.0.0 A.example.com",
		"a.example.com^", "!a.example.com", "#a.example.com", "a.example.com#x", "0.0.0.0 a.b # c d", "||www.a.com^",
		"0.0.0.0", "0.0.0.0 #", "0.0.0.0 a.example.com\v", "0.0.0.0 a.example.com\u00a0b.example.com",
	}
	for _, f := range []Format{FormatAuto, FormatHosts, FormatDomains, FormatURLs, FormatABP} {
		for _, l := range lines {
			fastLineAgrees(t, f, l)
		}
	}
	// The fast path must actually take the common shapes.
	for _, tc := range []struct {
		f    Format
		line string
	}{{FormatAuto, "0.0.0.0 a.example.com # c"}, {FormatHosts, "127.0.0.1 a.example.com b.example.com"},
		{FormatAuto, "a.example.com"}, {FormatDomains, "a.example.com"}, {FormatABP, "||a.example.com^"}, {FormatAuto, "||a.example.com^"}} {
		if len(fastLine(tc.f, []byte(tc.line), nil)) == 0 {
			t.Errorf("%s line %q takes the general path", tc.f, tc.line)
		}
	}
}

func FuzzFastLineAgrees(f *testing.F) {
	for _, s := range []string{"0.0.0.0 a.example.com # c", "||a.example.com^", "a.example.com", "127.0.0.1 a.b c.d",
		"address=/a.example.com/#", `local-zone: "a.example.com." always_null`} {
		f.Add(uint8(0), s)
	}
	formats := []Format{FormatAuto, FormatHosts, FormatDomains, FormatURLs, FormatABP, FormatDnsmasq, FormatUnbound}
	f.Fuzz(func(t *testing.T, format uint8, line string) {
		fastLineAgrees(t, formats[int(format)%len(formats)], line)
	})
}

func TestSortParallel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 100, 1 << 14, 50_000} {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprintf("%x.example.com/%d", r.Uint64(), i)
		}
		if n == 50_000 {
			for i := range keys[:n/2] {
				keys[i] = "a" + keys[i] // a skewed distribution
			}
		}
		want := slices.Sorted(slices.Values(keys))
		sortParallel(keys)
		if !slices.Equal(keys, want) {
			t.Errorf("n=%d: not sorted", n)
		}
	}
}
