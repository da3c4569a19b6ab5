package blocklist

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func compileFixture(t *testing.T, block []string, allow []string, opts Options) *Result {
	t.Helper()
	var bs, as []Source
	for _, b := range block {
		s, err := ParseSource(b)
		if err != nil {
			t.Fatal(err)
		}
		bs = append(bs, s)
	}
	for _, a := range allow {
		as = append(as, Source{Location: a})
	}
	r, err := Compile(context.Background(), bs, as, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCompileFormats reads every fixture in ../testdata and checks the keys
// and the drop counts the fixture was written to produce.
func TestCompileFormats(t *testing.T) {
	for _, tc := range []struct {
		source  string
		keys    []string
		dropped map[string]int
	}{
		{"../testdata/hosts.txt", []string{"ads.example.com", "banner.example.org", "metrics.example.io", "metrics2.example.io",
			"pixel.example.com", "tracker.example.net", "xn--bcher-kva.example"},
			map[string]int{"covered_by_parent": 1, "duplicate": 1, "hosts_boilerplate": 5, "invalid_host": 1, "invalid_line": 1}},
		{"hosts:../testdata/hosts.txt.gz", []string{"gz1.example.com", "gz2.example.com"}, map[string]int{}},
		{"../testdata/domains.txt", []string{"malware.example.net", "phish.example.com", "wildcard.example.org"},
			map[string]int{"covered_by_parent": 1, "invalid_line": 1, "single_label": 1}},
		{"abp:../testdata/abp.txt", []string{"adserver.example.com", "cdn.example.net/ads", "exact.example.com/page.html",
			"hostsline.example.com", "thirdparty.example.com", "tracker.example.org"},
			map[string]int{"abp_cosmetic": 2, "abp_regex": 1, "abp_wildcard": 1, "covered_by_parent": 1}},
		{"../testdata/urls.txt", []string{"198.51.100.7:8080/bins/mips", "example.com/malware/payload.exe", "example.net/a/b/c",
			"example.org/path/upper", "phish.example.org/login?next=%2fhome#frag"}, map[string]int{"unsupported_scheme": 1}},
		{"../testdata/urlhaus.csv", []string{"192.0.2.44:38031/i", "dl.example.net/payload/setup.msi"},
			map[string]int{"invalid_line": 1, "urlhaus_offline": 1}},
		{"../testdata/ut1", []string{"casino.example.net", "example.org/ads/side", "example.org/ads/top", "gambling.example.com",
			"login-verify.example.com", "phish.example.net"}, map[string]int{}},
	} {
		t.Run(tc.source, func(t *testing.T) {
			r := compileFixture(t, []string{tc.source}, nil, Options{})
			if !slices.Equal(r.Keys, tc.keys) {
				t.Errorf("keys %q, want %q", r.Keys, tc.keys)
			}
			for reason, n := range r.Report.Dropped {
				if n != tc.dropped[reason] {
					t.Errorf("dropped[%s] = %d, want %d", reason, n, tc.dropped[reason])
				}
			}
			for reason, n := range tc.dropped {
				if r.Report.Dropped[reason] != n {
					t.Errorf("dropped[%s] = %d, want %d", reason, r.Report.Dropped[reason], n)
				}
			}
			if r.Report.Keys != len(r.Keys) {
				t.Errorf("report keys %d, have %d", r.Report.Keys, len(r.Keys))
			}
			if err := r.Report.Balance(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestCompileProblemsHaveFileAndLine(t *testing.T) {
	r := compileFixture(t, []string{"../testdata/hosts.txt"}, nil, Options{})
	var got []string
	for _, p := range r.Report.Problems {
		got = append(got, p.String())
	}
	want := []string{
		`../testdata/hosts.txt:17: host "bad_host!.example.com" has character '!'`,
		`../testdata/hosts.txt:18: expected one domain or URL, found 7 fields`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
}

func TestCompileAllow(t *testing.T) {
	block := []string{"../testdata/hosts.txt", "abp:../testdata/abp.txt"}
	// allow.txt: cdn.ads.example.com (below blocked ads.example.com: conflict),
	// tracker.example.net (exact), sub.adserver.example.com (below blocked
	// adserver.example.com: conflict).
	r := compileFixture(t, block, []string{"../testdata/allow.txt"}, Options{})
	if slices.Contains(r.Keys, "tracker.example.net") {
		t.Error("allowed key tracker.example.net kept")
	}
	if !slices.Contains(r.Keys, "ads.example.com") || !slices.Contains(r.Keys, "adserver.example.com") {
		t.Error("blocked parents removed without AllowRemovesParents")
	}
	if r.Report.ConflictCount != 2 || r.Report.Dropped["allowlisted"] != 3 {
		// allowlisted: tracker.example.net, cdn.ads.example.com and
		// sub.adserver.example.com (both were blocked themselves too).
		t.Errorf("conflicts %d (%v), allowlisted %d; want 2, 3", r.Report.ConflictCount, r.Report.Conflicts, r.Report.Dropped["allowlisted"])
	}
	r = compileFixture(t, block, []string{"../testdata/allow.txt"}, Options{AllowRemovesParents: true})
	if slices.Contains(r.Keys, "ads.example.com") || slices.Contains(r.Keys, "adserver.example.com") {
		t.Errorf("AllowRemovesParents kept a conflicting parent: %q", r.Keys)
	}
	// Parent-aware: allowing example.org removes every key below it.
	dir := t.TempDir()
	os.WriteFile(dir+"/allow", []byte("www.example.org\n"), 0o644)
	r = compileFixture(t, []string{"../testdata/ut1", "../testdata/urls.txt"}, []string{dir + "/allow"}, Options{})
	for _, k := range r.Keys {
		if strings.HasPrefix(k, "example.org") {
			t.Errorf("key %q survived allowing example.org", k)
		}
	}
}

func TestCompileKeepCovered(t *testing.T) {
	list := []Source{{Location: "l", Data: []byte("example.com\nsub.example.com\nexample.com/a\n")}}
	r, err := Compile(context.Background(), list, nil, Options{})
	if err != nil || !slices.Equal(r.Keys, []string{"example.com"}) {
		t.Errorf("default: keys %q, %v", r.Keys, err)
	}
	r, err = Compile(context.Background(), list, nil, Options{KeepCovered: true})
	if want := []string{"example.com", "example.com/a", "sub.example.com"}; err != nil || !slices.Equal(r.Keys, want) ||
		r.Report.Dropped["covered_by_parent"] != 0 {
		t.Errorf("KeepCovered: keys %q, dropped %v, %v; want %q", r.Keys, r.Report.Dropped, err, want)
	}
}

func TestCompileTestIdentityAndDemo(t *testing.T) {
	r, err := Compile(context.Background(), []Source{DemoSource()}, nil, Options{TestIdentity: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range append(TestIdentityKeys, "ads.example.com", "example.net/malware", "phishing.example/login?session=1",
		"downloads.example.com/payload.exe", "malware.example", "telemetry.example.org") {
		if !slices.Contains(r.Keys, k) {
			t.Errorf("demo build lacks %q: %q", k, r.Keys)
		}
	}
	if slices.Contains(r.Keys, "cdn.ads.example.com") {
		t.Error("covered key cdn.ads.example.com kept")
	}
}

func TestCompileHTTP(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("||remote.example.com^\n"))
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/list.txt.gz":
			w.Write(gz.Bytes())
		case "/big":
			w.Write(bytes.Repeat([]byte("a.example.com\n"), 1000))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	r, err := Compile(ctx, []Source{{Location: srv.URL + "/list.txt.gz"}}, nil, Options{HTTPClient: srv.Client()})
	if err != nil || !slices.Equal(r.Keys, []string{"remote.example.com"}) {
		t.Fatalf("http gzip source: %v, %v", r, err)
	}
	if _, err := Compile(ctx, []Source{{Location: srv.URL + "/missing"}}, nil, Options{HTTPClient: srv.Client()}); err == nil ||
		!strings.Contains(err.Error(), "404") {
		t.Errorf("404 source: error %v", err)
	}
	_, err = Compile(ctx, []Source{{Location: srv.URL + "/big"}}, nil, Options{HTTPClient: srv.Client(), MaxBytes: 1000})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("over-cap source: error %v, want ErrTooLarge", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Compile(cctx, []Source{{Location: srv.URL + "/big"}}, nil, Options{HTTPClient: srv.Client()}); err == nil {
		t.Error("cancelled context: no error")
	}
}

// TestCompileHTTPLimits checks that a stalled server is cut off by the
// context deadline and a gzip bomb stops at the size cap, both with an
// error that names the source.
func TestCompileHTTPLimits(t *testing.T) {
	bomb := gzipBytes(t, bytes.Repeat([]byte("a.example.com\n"), 1<<20)) // 14 MiB in about 30 KB
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stall":
			w.Write([]byte("a.example.com\n"))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/bomb.gz":
			w.Write(bomb)
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := Compile(ctx, []Source{{Location: srv.URL + "/stall"}}, nil, Options{HTTPClient: srv.Client()})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "/stall") {
		t.Errorf("stalled source: error %v, want a deadline error naming the source", err)
	}
	_, err = Compile(context.Background(), []Source{{Location: srv.URL + "/bomb.gz"}}, nil, Options{HTTPClient: srv.Client(), MaxBytes: 1 << 20})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "/bomb.gz") {
		t.Errorf("gzip bomb: error %v, want ErrTooLarge naming the source", err)
	}
}

func TestCompileErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Compile(ctx, nil, nil, Options{}); err == nil {
		t.Error("no sources: no error")
	}
	if _, err := Compile(ctx, []Source{{Location: "../testdata/nonexistent"}}, nil, Options{}); err == nil {
		t.Error("missing file: no error")
	}
	if _, err := Compile(ctx, []Source{{Location: "../testdata/ut1", Format: FormatHosts}}, nil, Options{}); err == nil {
		t.Error("directory as hosts: no error")
	}
	long := append(bytes.Repeat([]byte("x"), maxLineBytes+10), "\nok.example.com\n"...)
	r, err := Compile(ctx, []Source{{Location: "long", Data: long}}, nil, Options{})
	if err != nil || !slices.Equal(r.Keys, []string{"ok.example.com"}) || r.Report.Dropped["line_too_long"] != 1 {
		t.Errorf("long line: %v %v", r, err)
	}
	if p := r.Report.Problems; len(p) != 1 || p[0].Line != 1 {
		t.Errorf("long line problems %v", p)
	}
}

func TestParseSource(t *testing.T) {
	for _, tc := range []struct {
		in  string
		loc string
		f   Format
	}{
		{"abp:lists/x.txt", "lists/x.txt", FormatABP},
		{"https://example.com/hosts", "https://example.com/hosts", FormatAuto},
		{"urlhaus:https://example.com/csv", "https://example.com/csv", FormatURLhausCSV},
		{"C:list", "C:list", FormatAuto},
	} {
		s, err := ParseSource(tc.in)
		if err != nil || s.Location != tc.loc || s.Format != tc.f {
			t.Errorf("ParseSource(%q) = %+v, %v", tc.in, s, err)
		}
	}
	if _, err := ParseSource("hosts:"); err == nil {
		t.Error("format without location accepted")
	}
}

// fuzzParser checks that a line parser never panics and that every entry it
// returns is a single field.
func fuzzParser(f *testing.F, fixtures []string, parse func(string) lineResult) {
	for _, name := range fixtures {
		b, err := os.ReadFile("../testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		for l := range strings.SplitSeq(string(b), "\n") {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		res := parse(line)
		for _, e := range res.entries {
			if e == "" || strings.ContainsAny(e, " \t") && !strings.HasPrefix(line, "\"") {
				t.Fatalf("parser returned entry %q from %q", e, line)
			}
			Normalize(e)
		}
	})
}

func FuzzParseHosts(f *testing.F) { fuzzParser(f, []string{"hosts.txt"}, parseHostsLine) }
func FuzzParseABP(f *testing.F)   { fuzzParser(f, []string{"abp.txt"}, parseABPLine) }
func FuzzParseSingle(f *testing.F) {
	fuzzParser(f, []string{"domains.txt", "urls.txt"}, parseSingleLine)
}
func FuzzParseURLhaus(f *testing.F) { fuzzParser(f, []string{"urlhaus.csv"}, parseURLhausLine) }
func FuzzParseAuto(f *testing.F) {
	fuzzParser(f, []string{"hosts.txt", "abp.txt", "domains.txt", "urls.txt", "urlhaus.csv"},
		func(l string) lineResult { return lineParser(FormatAuto)(l) })
}

// FuzzCompileDocument runs whole documents, gzip included, through Compile.
func FuzzCompileDocument(f *testing.F) {
	for _, name := range []string{"hosts.txt", "hosts.txt.gz", "abp.txt", "urlhaus.csv", "urls.txt", "dnsmasq.conf", "unbound.conf", "rpz.zone", "ut1-blacklists.tar.gz"} {
		b, _ := os.ReadFile("../testdata/" + name)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		r, err := Compile(context.Background(), []Source{{Location: "fuzz", Data: doc}}, nil, Options{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		if !slices.IsSorted(r.Keys) {
			t.Fatal("keys not sorted")
		}
		for _, k := range r.Keys {
			if again, _, err := Normalize(k); err != nil || again != k {
				t.Fatalf("key %q is not normalised: %q, %v", k, again, err)
			}
		}
	})
}

func ExampleCompile() {
	list := "0.0.0.0 ads.example.com\n0.0.0.0 cdn.ads.example.com\n||Tracker.example.net^\n"
	r, err := Compile(context.Background(), []Source{{Location: "inline", Data: []byte(list)}}, nil, Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Keys, r.Report.Dropped["covered_by_parent"])
	// Output: [ads.example.com tracker.example.net] 1
}

func ExampleSubURLs() {
	subs, _ := SubURLs("https://www.news.example.com/a")
	fmt.Println(len(subs), subs[:4])
	// Output: 16 [example.com example.com/ example.com/a example.com/a/]
}

// TestCompileABPExceptions checks that @@ exception rules in block lists
// unblock like allow entries (parent-aware, across every block source,
// conflicts reported) and that $badfilter disables the rule it names,
// wherever either appears, unless another line gives the same key.
func TestCompileABPExceptions(t *testing.T) {
	list1 := `||early.example.com^$badfilter
||late.example.com^$badfilter
||ads.example.com^
||cdn.ads.example.com^
||tracker.example.org^
@@||tracker.example.org^
||example.net^
@@||sub.example.net^
@@||other.example.com^
||bad.example.com^
||both.example.com^
@@||ex.example.com^
@@||ex.example.com^$badfilter
||ex.example.com^
@@||page.example.com^$elemhide
||page.example.com^
`
	list2 := `0.0.0.0 other.example.com deep.tracker.example.org
0.0.0.0 early.example.com
||early.example.com^
||late.example.com^
||bad.example.com^$badfilter
0.0.0.0 both.example.com
||both.example.com^$badfilter
`
	block := []Source{{Location: "list1", Data: []byte(list1)}, {Location: "list2", Data: []byte(list2)}}
	allow := []Source{{Location: "allow", Data: []byte("@@||ads.example.com^\n")}}
	r, err := Compile(context.Background(), block, allow, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// early.example.com stays: the hosts line gives it too.
	want := []string{"both.example.com", "early.example.com", "ex.example.com", "example.net", "page.example.com"}
	if !slices.Equal(r.Keys, want) {
		t.Errorf("keys %q, want %q", r.Keys, want)
	}
	d := r.Report
	for reason, n := range map[string]int{
		"abp_exception_allowlisted": 3, // tracker.example.org, deep.tracker.example.org, other.example.com
		"allowlisted":               2, // ads.example.com, cdn.ads.example.com (the @@ rule in the allow source)
		"badfiltered":               2, // bad.example.com (disabled after it), late.example.com (before)
		"badfiltered_exception":     1, // @@||ex.example.com^
		"abp_exception":             1, // $elemhide
		"covered_by_parent":         0,
	} {
		if d.Dropped[reason] != n {
			t.Errorf("dropped[%s] = %d, want %d (all: %v)", reason, d.Dropped[reason], n, d.Dropped)
		}
	}
	if d.Badfilters != 5 || d.BadfilterKept != 2 || d.ABPExceptions != 4 {
		t.Errorf("badfilters %d kept %d, exceptions %d; want 5, 2, 4", d.Badfilters, d.BadfilterKept, d.ABPExceptions)
	}
	if d.ConflictCount != 1 || d.Conflicts[0] != (Conflict{Allow: "sub.example.net", BlockedParent: "example.net", Exception: true}) {
		t.Errorf("conflicts %d %+v, want sub.example.net below example.net", d.ConflictCount, d.Conflicts)
	}
	r, err = Compile(context.Background(), block, nil, Options{AllowRemovesParents: true})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(r.Keys, "example.net") {
		t.Error("AllowRemovesParents kept example.net below which an exception allows sub.example.net")
	}
}
