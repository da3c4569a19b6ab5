package blocklist

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/publicsuffix"
)

// filterListFixtures are excerpts of real lists (testdata/filterlists,
// sources and licences in testdata/README.md), read in the auto format as
// a user passes them to blindlist build.
var filterListFixtures = []string{
	"easylist.txt", "easyprivacy.txt", "ublock-filters.txt", "ublock-badware.txt", "urlhaus-filter-ag-online.txt",
}

func compileFilterLists(t *testing.T, opts Options) *Result {
	t.Helper()
	var srcs []Source
	for _, f := range filterListFixtures {
		srcs = append(srcs, Source{Location: filepath.Join("..", "testdata", "filterlists", f)})
	}
	r, err := Compile(context.Background(), srcs, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// blockedBy returns the key that blocks a visited URL (one of its
// sub-URLs), or "".
func blockedBy(t *testing.T, keys map[string]bool, url string) string {
	t.Helper()
	subs, err := SubURLs(url)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if keys[s] {
			return s
		}
	}
	return ""
}

// TestRealFilterLists compiles excerpts of EasyList, EasyPrivacy, uBlock
// Origin's filters and badware lists and URLhaus's filter, and checks what
// a list maintainer expects: URLs the rules clearly target are blocked
// (whole-domain tracker rules with $third-party included), popular sites
// are not, no key is one the device can never match, unanchored rules are
// not reported as malformed, and the report accounts for every line.
func TestRealFilterLists(t *testing.T) {
	r := compileFilterLists(t, Options{})
	keys := map[string]bool{}
	for _, k := range r.Keys {
		keys[k] = true
	}
	for url, want := range map[string]string{
		"https://static.hotjar.com/c/hotjar-123.js?sv=6":     "hotjar.com",            // ||hotjar.com^$third-party
		"https://sb.scorecardresearch.com/beacon.js":         "scorecardresearch.com", // ||scorecardresearch.com^$third-party
		"https://cdn.segment.com/analytics.js/v1/k/a.min.js": "segment.com",           // ||segment.com^$third-party
		"https://www.google-analytics.com/analytics.js":      "google-analytics.com",  // ||google-analytics.com^$third-party
		"https://stats.g.doubleclick.net/r/collect":          "doubleclick.net",       // ||doubleclick.net^$third-party
		"https://ib.adnxs.com/ut/v3":                         "adnxs.com",             // ||adnxs.com^
		"https://netquattro.com/stats/counter.gif":           "netquattro.com/stats",  // ||netquattro.com/stats/
		"https://dcdn.lt/g.js":                               "dcdn.lt/g.js",          // ||dcdn.lt/g.js
		"https://www.google.com/gen_204?atyp=i":              "google.com/gen_204",    // ||google.com/gen_204?
		"https://apester.com/event?x=1":                      "apester.com/event",     // ||apester.com/event^
		"https://d1.cloudfront.net/transcode/a.mp4":          "",                      // $media,domain=…: context only
	} {
		if got := blockedBy(t, keys, url); got != want {
			t.Errorf("%s: blocked by %q, want %q", url, got, want)
		}
	}
	for _, url := range []string{
		"https://www.google.com/", "https://www.google.com/search?q=blindlist", "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
		"https://en.wikipedia.org/wiki/Main_Page", "https://www.amazon.com/", "https://www.apple.com/",
		"https://github.com/easylist/easylist", "https://d111111abcdef8.cloudfront.net/index.html",
		"https://www.spiegel.de/", "https://www.screen13.com/", // ||screen13.com^$image: a resource-type rule
		"https://b8cdn.com/assets/v1/analytics-x.js", // ||b8cdn.com/assets/v1/analytics-: inside a segment
	} {
		if got := blockedBy(t, keys, url); got != "" {
			t.Errorf("%s: blocked by %q, want allowed", url, got)
		}
	}
	for _, k := range r.Keys {
		host, _, _ := strings.Cut(k, "/")
		host, _, _ = strings.Cut(host, ":")
		if strings.ContainsAny(k[len(k)-1:], "-_.=&*^") {
			t.Errorf("key %q ends inside a segment", k)
		}
		if ps, icann := publicsuffix.PublicSuffix(host); !isIPv4(host) && !icann && !strings.Contains(ps, ".") {
			t.Errorf("key %q: host %q is under no known top-level domain", k, host)
		}
	}
	d := r.Report.Rules.Dropped
	for _, reason := range []string{ReasonABPUnanchored, ReasonABPPartialSegment, ReasonABPOpenHost, ReasonABPType,
		ReasonABPPopup, ReasonABPModifier, ReasonABPPathOption, ReasonABPWildcard, "abp_cosmetic", "abp_exception"} {
		if d[reason] == 0 {
			t.Errorf("no rule dropped as %s: %v", reason, d)
		}
	}
	if r.Report.Rules.Converted[ReasonABPParty] == 0 {
		t.Errorf("no party rule converted: %v", r.Report.Rules.Converted)
	}
	for _, p := range r.Report.Problems {
		t.Errorf("well-formed list reported as malformed: %s", p)
	}
	if r.Report.SuffixPathKeys == 0 || !keys["azureedge.net/adtags"] {
		t.Errorf("path keys on public suffixes: %d counted, azureedge.net/adtags kept %v", r.Report.SuffixPathKeys, keys["azureedge.net/adtags"])
	}
	if err := r.Report.Balance(); err != nil {
		t.Error(err)
	}
	// Every non-blank line of the fixtures is accounted for.
	lines := 0
	for _, f := range filterListFixtures {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "filterlists", f))
		if err != nil {
			t.Fatal(err)
		}
		for l := range bytes.Lines(b) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines++
			}
		}
	}
	if r.Report.Rules.Lines != lines {
		t.Errorf("report counts %d lines, the fixtures have %d", r.Report.Rules.Lines, lines)
	}
}

// TestRealFilterListsPolicies checks the two policy options on the real
// excerpts: dropping party rules unblocks hotjar.com; blocking type rules
// blocks screen13.com ($image) and doubleclick.net's popups.
func TestRealFilterListsPolicies(t *testing.T) {
	has := func(r *Result, k string) bool {
		for _, key := range r.Keys {
			if key == k {
				return true
			}
		}
		return false
	}
	r := compileFilterLists(t, Options{ABPPartyRules: DropPartyRules, ABPTypeRules: BlockTypeRules})
	if has(r, "hotjar.com") || !has(r, "screen13.com") {
		t.Errorf("drop party, block types: hotjar.com kept %v, screen13.com kept %v; want false, true", has(r, "hotjar.com"), has(r, "screen13.com"))
	}
	if err := r.Report.Balance(); err != nil {
		t.Error(err)
	}
}
