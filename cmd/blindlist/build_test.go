package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/blindlist/blindlist/bloom"
	"github.com/blindlist/blindlist/generation"
)

func TestBuildFixtures(t *testing.T) {
	out := t.TempDir()
	code, stdout, errs := runCLI(t, "", "build",
		"--source", "../../testdata/hosts.txt", "--source", "abp:../../testdata/abp.txt",
		"--source", "../../testdata/urlhaus.csv", "--source", "../../testdata/ut1",
		"--allow", "../../testdata/allow.txt", "--seed", "99", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, `hosts.txt:17: host "bad_host!.example.com"`) {
		t.Errorf("bad line not reported with file:line: %q", errs)
	}
	keys := strings.Split(strings.TrimSuffix(string(mustRead(t, filepath.Join(cur(t, out), "keys.txt"))), "\n"), "\n")
	for _, want := range []string{"ads.example.com", "adserver.example.com", "dl.example.net/payload/setup.msi",
		"gambling.example.com", "apple.com/url-filter-test", "www.apple.com/url-filter-test"} {
		if !slices.Contains(keys, want) {
			t.Errorf("keys.txt lacks %q", want)
		}
	}
	for _, absent := range []string{"tracker.example.net", "cdn.ads.example.com", "old.example.org/bin.sh"} {
		if slices.Contains(keys, absent) {
			t.Errorf("keys.txt has %q", absent)
		}
	}
	if !slices.IsSorted(keys) {
		t.Error("keys.txt not sorted")
	}
	f, err := bloom.ReadDir(cur(t, out))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !f.TestString(k) {
			t.Errorf("prefilter misses key %q", k)
		}
	}
	if f.Params().Seed != 99 || f.ItemCount() != len(keys) {
		t.Errorf("params %+v items %d", f.Params(), f.ItemCount())
	}
	if pl, err := bloom.UnmarshalPlist(mustRead(t, filepath.Join(cur(t, out), bloom.PlistFile))); err != nil || pl.Tag() != f.Tag() {
		t.Errorf("plist disagrees with raw bits: %v", err)
	}
	txt := string(mustRead(t, filepath.Join(cur(t, out), "input.txtpb")))
	if strings.Count(txt, "rows {") != len(keys) || !strings.Contains(txt, "keyword: \"ads.example.com\"\n  value: \"1\"") {
		t.Errorf("input.txtpb does not hold the keys")
	}
	var man generation.Manifest
	if err := json.Unmarshal(mustRead(t, filepath.Join(cur(t, out), "manifest.json")), &man); err != nil {
		t.Fatal(err)
	}
	r := man.Report
	if man.Keys != len(keys) || r.Dropped["allowlisted"] == 0 || r.Dropped["urlhaus_offline"] != 1 || r.ConflictCount != 2 ||
		man.Prefilter.Tag != f.Tag() {
		t.Errorf("manifest: keys %d dropped %v conflicts %d", man.Keys, r.Dropped, r.ConflictCount)
	}
	if !strings.Contains(stdout, "keys from") {
		t.Errorf("stdout %q", stdout)
	}
	// Same input, no seed: the derived seed makes two builds identical.
	out2, out3 := t.TempDir(), t.TempDir()
	runCLI(t, "", "build", "--source", "../../testdata/domains.txt", "--out", out2)
	runCLI(t, "", "build", "--source", "../../testdata/domains.txt", "--out", out3, "--workers", "1")
	a, b := mustRead(t, filepath.Join(cur(t, out2), bloom.BitsFile)), mustRead(t, filepath.Join(cur(t, out3), bloom.BitsFile))
	if string(a) != string(b) {
		t.Error("two builds of the same list differ")
	}
}

func TestBuildDemoAndVisitRate(t *testing.T) {
	out := t.TempDir()
	code, _, errs := runCLI(t, "", "build", "--out", out, "--visit-rate", "0.01", "--suburls", "48", "--no-test-identity")
	if code != 0 || !strings.Contains(errs, "built-in demo list") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	f, err := bloom.ReadDir(cur(t, out))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := bloom.ToleranceForVisit(0.01, 48)
	if f.Tolerance() != p {
		t.Errorf("tolerance %v, want %v", f.Tolerance(), p)
	}
	if f.TestString("apple.com/url-filter-test") && f.TestString("www.apple.com/url-filter-test") {
		t.Error("--no-test-identity still added the test keys")
	}
}

func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "comments"), []byte("# nothing\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"build", "--source", filepath.Join(dir, "missing"), "--out", dir}, 1, "no such file"},
		{[]string{"build", "--source", filepath.Join(dir, "comments"), "--no-test-identity", "--out", dir}, 1, "no keys"},
		{[]string{"build", "--tolerance", "2", "--out", dir}, 2, "outside (0, 1)"},
		{[]string{"build", "--visit-rate", "0.5", "--suburls", "0", "--out", dir}, 1, "sub-URLs"},
		{[]string{"build", "--bogus"}, 2, "unknown flag --bogus"},
		{[]string{"build", "stray"}, 2, "unexpected argument \"stray\""},
	} {
		code, _, errs := runCLI(t, "", tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
	if code, out, _ := runCLI(t, "", "build", "-h"); code != 0 || !strings.Contains(out, "blindlist build") {
		t.Errorf("-h: exit %d", code)
	}
}

func TestCheck(t *testing.T) {
	out := t.TempDir()
	if code, _, errs := runCLI(t, "", "build", "--out", out); code != 0 {
		t.Fatal(errs)
	}
	code, stdout, errs := runCLI(t, "", "check", "https://www.cdn.ads.example.com/x?y=1", "--prefilter", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(stdout, "LISTED         ads.example.com\n") ||
		!strings.Contains(stdout, "blocked: key ads.example.com from builtin:demo:4 '0.0.0.0 ads.example.com'\n") {
		t.Errorf("check output:\n%s", stdout)
	}
	code, stdout, _ = runCLI(t, "", "check", "--json", "--prefilter", out, "clean.example.org/page")
	var res []checkResult
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || len(res) != 1 || strings.HasPrefix(res[0].Verdict, "blocked") {
		t.Errorf("clean URL: exit %d %s", code, stdout)
	}
	if len(res) == 1 && len(res[0].Subs) != 16 {
		t.Errorf("clean.example.org/page: %d sub-URLs, want 16 (2 hosts x 2 ports x 4)", len(res[0].Subs))
	}
	// Without keys.txt, hits are only "maybe".
	os.Remove(filepath.Join(cur(t, out), "keys.txt"))
	_, stdout, _ = runCLI(t, "", "check", "--prefilter", out, "https://ads.example.com/")
	if !strings.Contains(stdout, "maybe blocked") {
		t.Errorf("no keys.txt:\n%s", stdout)
	}
	if code, _, errs := runCLI(t, "", "check", "--prefilter", t.TempDir(), "example.com"); code != 1 || !strings.Contains(errs, "neither") {
		t.Errorf("empty dir: exit %d %q", code, errs)
	}
	if code, _, _ := runCLI(t, "", "check"); code != 2 {
		t.Errorf("no URL: exit %d, want 2", code)
	}
}

func TestHash(t *testing.T) {
	code, out, _ := runCLI(t, "", "hash", "example.com", "www.apple.com/url-filter-test")
	want := "seed 1267652889, 144 bits, 10 hashes\n" +
		"\"example.com\" fnv1a32=431ceb26 murmur3=45ffc2de indices=134,52,114,64,126,44,106,56,118,36\n" +
		"\"www.apple.com/url-filter-test\" fnv1a32=52571b77 murmur3=cafaf5ed indices=135,132,97,94,91,88,85,50,47,44\n"
	if code != 0 || out != want {
		t.Errorf("hash: exit %d\n%s\nwant\n%s", code, out, want)
	}
	code, out, _ = runCLI(t, "", "hash", "--seed", "0x9747b28c", "--json", "test")
	var res struct {
		Keys []hashLine `json:"keys"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Keys[0].Murmur3 != "704b81dc" || res.Keys[0].FNV1a32 != "afd071e5" {
		t.Errorf("hash --json: %s", out)
	}
	for _, args := range [][]string{{"hash", "--bits", "0", "x"}, {"hash", "--seed", "-1", "x"}} {
		if code, _, _ := runCLI(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, _ := runCLI(t, "", "hash"); code != 2 {
		t.Errorf("no string: exit %d, want 2", code)
	}
}

// writeHostsFile writes an n-line hosts file of distinct names, with the
// mix of case, www. and comments real lists have.
func writeHostsFile(tb testing.TB, path string, n int) {
	tb.Helper()
	var b strings.Builder
	b.WriteString("# generated hosts file\n127.0.0.1 localhost\n")
	for i := range n {
		switch i % 10 {
		case 0:
			fmt.Fprintf(&b, "0.0.0.0 www.Ads%d.tracker-%d.example.com\n", i, i%5003)
		case 1:
			fmt.Fprintf(&b, "0.0.0.0 cdn%d.metrics-%d.example.net # note\n", i, i%7919)
		default:
			fmt.Fprintf(&b, "0.0.0.0 host%d.ads-%d.example.org\n", i, i%9973)
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkBuildHosts1M runs the whole 'blindlist build' on a generated
// 1,000,000-line hosts file: parse, normalise, dedupe, Bloom build, write
// all outputs.
func BenchmarkBuildHosts1M(b *testing.B) {
	dir := b.TempDir()
	hosts := filepath.Join(dir, "hosts.txt")
	writeHostsFile(b, hosts, 1_000_000)
	out := filepath.Join(dir, "out")
	b.ReportAllocs()
	for b.Loop() {
		if code, _, errs := runCLI(b, "", "build", "--source", hosts, "--out", out); code != 0 {
			b.Fatal(errs)
		}
	}
}

// TestBuildKeepCovered checks --keep-covered: keys below a listed parent
// stay in keys.txt and the prefilter (for devices that test only the exact
// host, client-spec §3.3), and are dropped as covered_by_parent without it.
func TestBuildKeepCovered(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(list, []byte("example.com\nsub.example.com\nwww.deep.sub.example.com\nexample.org/a\nexample.org/a/b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	covered := []string{"deep.sub.example.com", "example.org/a/b", "sub.example.com"}
	for _, keep := range []bool{false, true} {
		out := filepath.Join(dir, fmt.Sprint("out-", keep))
		args := []string{"build", "--source", list, "--no-pir", "--no-test-identity", "--out", out}
		if keep {
			args = append(args, "--keep-covered")
		}
		if code, _, errs := runCLI(t, "", args...); code != 0 {
			t.Fatalf("keep=%v: exit %d: %s", keep, code, errs)
		}
		keys := strings.Fields(string(mustRead(t, filepath.Join(cur(t, out), "keys.txt"))))
		want := []string{"example.com", "example.org/a"}
		if keep {
			want = append(want, covered...)
			slices.Sort(want)
		}
		if !slices.Equal(keys, want) {
			t.Errorf("keep=%v: keys %q, want %q", keep, keys, want)
		}
		var man generation.Manifest
		if err := json.Unmarshal(mustRead(t, filepath.Join(cur(t, out), "manifest.json")), &man); err != nil {
			t.Fatal(err)
		}
		if wantDropped := map[bool]int{false: len(covered), true: 0}[keep]; man.Report.Dropped["covered_by_parent"] != wantDropped || man.KeepCovered != keep {
			t.Errorf("keep=%v: manifest keep_covered %v, covered_by_parent %d, want %d",
				keep, man.KeepCovered, man.Report.Dropped["covered_by_parent"], wantDropped)
		}
		f, err := bloom.ReadDir(cur(t, out))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range want {
			if !f.TestString(k) {
				t.Errorf("keep=%v: prefilter misses %q", keep, k)
			}
		}
	}
	if _, usage, _ := runCLI(t, "", "build", "--help"); !strings.Contains(usage, "--keep-covered") {
		t.Error("build --help does not document --keep-covered")
	}
}

// TestBuildPublicSuffix checks --public-suffix: keys on a public suffix are
// dropped and warned about by default, counted in manifest.json, and kept
// when asked.
func TestBuildPublicSuffix(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(list, []byte("www.co.uk\nbbc.co.uk\n0.0.0.0 github.io\nexample.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		policy  string
		keys    []string
		dropped map[string]int
	}{
		{"", []string{"bbc.co.uk", "example.com"}, map[string]int{"public_suffix": 1, "private_suffix": 1}},
		{"keep-private", []string{"bbc.co.uk", "example.com", "github.io"}, map[string]int{"public_suffix": 1}},
		{"keep", []string{"co.uk", "example.com", "github.io"}, map[string]int{"covered_by_parent": 1}},
	} {
		out := filepath.Join(dir, "out-"+tc.policy)
		args := []string{"build", "--source", list, "--no-pir", "--no-test-identity", "--out", out}
		if tc.policy != "" {
			args = append(args, "--public-suffix", tc.policy)
		}
		code, _, errs := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", tc.policy, code, errs)
		}
		if keys := strings.Fields(string(mustRead(t, filepath.Join(cur(t, out), "keys.txt")))); !slices.Equal(keys, tc.keys) {
			t.Errorf("%q: keys %q, want %q", tc.policy, keys, tc.keys)
		}
		verb := map[bool]string{true: "kept", false: "dropped"}[tc.policy == "keep"]
		if !strings.Contains(errs, "blindlist: warning: "+verb+" key co.uk: its host is a public suffix (icann section)") {
			t.Errorf("%q: no warning for co.uk: %s", tc.policy, errs)
		}
		var man generation.Manifest
		if err := json.Unmarshal(mustRead(t, filepath.Join(cur(t, out), "manifest.json")), &man); err != nil {
			t.Fatal(err)
		}
		for _, reason := range []string{"public_suffix", "private_suffix", "covered_by_parent"} {
			if man.Report.Dropped[reason] != tc.dropped[reason] {
				t.Errorf("%q: dropped[%s] = %d, want %d", tc.policy, reason, man.Report.Dropped[reason], tc.dropped[reason])
			}
		}
		if man.Report.SuffixKeyCount != 2 {
			t.Errorf("%q: manifest lists %d suffix keys, want 2", tc.policy, man.Report.SuffixKeyCount)
		}
	}
	if code, _, errs := runCLI(t, "", "build", "--source", list, "--public-suffix", "off", "--out", dir); code != 2 || !strings.Contains(errs, "keep-private") {
		t.Errorf("--public-suffix off: exit %d, %q", code, errs)
	}
}

// TestCheckKeysWithCR checks that check reads a keys.txt whose lines end in
// bare CRs (classic Mac OS) or CRLFs one key per line.
func TestCheckKeysWithCR(t *testing.T) {
	out := t.TempDir()
	if code, _, errs := runCLI(t, "", "build", "--no-pir", "--out", out); code != 0 {
		t.Fatal(errs)
	}
	path := filepath.Join(cur(t, out), "keys.txt")
	keys := strings.Fields(string(mustRead(t, path)))
	for _, eol := range []string{"\r", "\r\n"} {
		if err := os.WriteFile(path, []byte(strings.Join(keys, eol)), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, errs := runCLI(t, "", "check", "--prefilter", out, "https://ads.example.com/")
		if code != 0 || !strings.Contains(stdout, "blocked: key ads.example.com from builtin:demo:4") {
			t.Errorf("keys.txt with %q line ends: exit %d %s\n%s", eol, code, errs, stdout)
		}
	}
}

func TestScanAnyLine(t *testing.T) {
	const in = "a\r\nb\rc\n\rd\r\r\ne\r"
	want := []string{"a", "b", "c", "", "d", "", "e"}
	for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
		sc := bufio.NewScanner(r)
		sc.Split(scanAnyLine)
		var got []string
		for sc.Scan() {
			got = append(got, sc.Text())
		}
		if sc.Err() != nil || !slices.Equal(got, want) {
			t.Errorf("got %q, %v; want %q", got, sc.Err(), want)
		}
	}
}

// TestHashPrefilterConflicts checks that --prefilter with --seed, --bits or
// --hashes is a usage error (it used to override them silently), and that
// --prefilter alone takes the built filter's parameters.
func TestHashPrefilterConflicts(t *testing.T) {
	out := t.TempDir()
	if code, _, errs := runCLI(t, "", "build", "--no-pir", "--seed", "42", "--out", out); code != 0 {
		t.Fatal(errs)
	}
	for _, extra := range [][]string{{"--seed", "1"}, {"--bits", "144"}, {"--hashes", "3"}, {"--seed", "1", "--hashes", "3"}} {
		args := append([]string{"hash", "--prefilter", out}, extra...)
		code, stdout, errs := runCLI(t, "", append(args, "example.com")...)
		msg, _, _ := strings.Cut(errs, "\n")
		if code != 2 || stdout != "" || !strings.Contains(msg, "do not also give") || !strings.Contains(msg, extra[0]) ||
			!strings.Contains(errs, "(see 'blindlist hash -h')") || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and a usage error", extra, code, stdout, errs)
		}
	}
	code, stdout, errs := runCLI(t, "", "hash", "--prefilter", out, "example.com")
	if code != 0 || !strings.HasPrefix(stdout, "seed 42, ") {
		t.Errorf("--prefilter alone: exit %d %q %s", code, stdout, errs)
	}
}

// TestBuildFilterListPolicies builds an AdBlock list through the CLI and
// checks the verdicts and provenance check prints, the --abp-drop-party
// and --abp-block-types flags, and check on a build without (or with a
// stale) provenance file.
func TestBuildFilterListPolicies(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "easyprivacy.txt")
	if err := os.WriteFile(list, []byte("[Adblock Plus 2.0]\n||hotjar.com^$third-party\n||google-analytics.com^$script\n-120x600.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flags   []string
		hotjar  string
		ga      string
		summary string
	}{
		{nil, "blocked: key hotjar.com from " + list + ":2 '||hotjar.com^$third-party'\n", "allowed", "abp_party_option=1"},
		{[]string{"--abp-drop-party", "--abp-block-types"}, "allowed",
			"blocked: key google-analytics.com from " + list + ":3 '||google-analytics.com^$script'\n", "abp_resource_type=1"},
	} {
		out := filepath.Join(dir, "out")
		args := append([]string{"build", "--no-pir", "--no-test-identity", "--source", list, "--out", out}, tc.flags...)
		code, stdout, errs := runCLI(t, "", args...)
		if code != 0 || !strings.Contains(stdout, "blocked as whole domains, options ignored: "+tc.summary) ||
			!strings.Contains(stdout, "abp_unanchored=1") || strings.Contains(errs, "warning") {
			t.Fatalf("%v: exit %d\n%s%s", tc.flags, code, stdout, errs)
		}
		for url, want := range map[string]string{"https://static.hotjar.com/c/x.js": tc.hotjar, "https://www.google-analytics.com/analytics.js": tc.ga} {
			_, stdout, _ := runCLI(t, "", "check", "--prefilter", out, url)
			if !strings.Contains(stdout, "\n"+want) {
				t.Errorf("%v: check %s:\n%s\nwant %q", tc.flags, url, stdout, want)
			}
		}
	}
	out := filepath.Join(dir, "out")
	keys := filepath.Join(cur(t, out), "keys.txt")
	if err := os.WriteFile(keys, append(mustRead(t, keys), "extra.example.com\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stdout, errs := runCLI(t, "", "check", "--prefilter", out, "https://www.google-analytics.com/")
	if !strings.Contains(stdout, "blocked: listed key google-analytics.com\n") || !strings.Contains(errs, "belongs to another build") {
		t.Errorf("stale provenance: %s%s", stdout, errs)
	}
	if err := os.Remove(filepath.Join(cur(t, out), "provenance.txt.gz")); err != nil {
		t.Fatal(err)
	}
	_, stdout, errs = runCLI(t, "", "check", "--prefilter", out, "https://www.google-analytics.com/")
	if !strings.Contains(stdout, "blocked: listed key google-analytics.com\n") || errs != "" {
		t.Errorf("no provenance: %s%s", stdout, errs)
	}
}
