package blocklist

import (
	"context"
	"slices"
	"testing"
)

// TestParseABPRuleShapes covers each shape of AdBlock network rule: what
// becomes an entry, what a policy decides (party, type and popup options),
// and the named reason of every rule a device cannot enforce.
func TestParseABPRuleShapes(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		entry      string // "" when skipped
		policy     string
		skip       string
	}{
		// Whole-domain rules and options that do not narrow them.
		{"domain", "||ads.example.com^", "ads.example.com", "", ""},
		{"domain without separator", "||ads.example.com", "ads.example.com", "", ""},
		{"domain with end anchor", "||ads.example.com^|", "ads.example.com", "", ""},
		{"domain, any rest", "||ads.example.com^*", "ads.example.com", "", ""},
		{"wildcard subdomains", "||*.ads.example.com^", "ads.example.com", "", ""},
		{"$important", "||ads.example.com^$important", "ads.example.com", "", ""},
		{"$all", "||ads.example.com^$all", "ads.example.com", "", ""},
		{"$document", "||ads.example.com^$document", "ads.example.com", "", ""},
		{"$doc", "||ads.example.com^$doc", "ads.example.com", "", ""},
		{"upper-case option", "||ads.example.com^$Important", "ads.example.com", "", ""},
		// Party options: a policy (block by default).
		{"$third-party", "||hotjar.com^$third-party", "hotjar.com", ReasonABPParty, ""},
		{"$3p", "||hotjar.com^$3p", "hotjar.com", ReasonABPParty, ""},
		{"$~third-party", "||hotjar.com^$~third-party", "hotjar.com", ReasonABPParty, ""},
		{"$1p", "||hotjar.com^$1p", "hotjar.com", ReasonABPParty, ""},
		{"$first-party", "||hotjar.com^$first-party", "hotjar.com", ReasonABPParty, ""},
		{"$strict3p", "||hotjar.com^$strict3p", "hotjar.com", ReasonABPParty, ""},
		{"party and important", "||hotjar.com^$third-party,important", "hotjar.com", ReasonABPParty, ""},
		// Resource types and popups: a policy (drop by default).
		{"$script", "||google-analytics.com^$script", "google-analytics.com", ReasonABPType, ""},
		{"types and party", "||awfonts.com^$script,third-party", "awfonts.com", ReasonABPType, ""},
		{"negated type", "||example.com^$~image", "example.com", ReasonABPType, ""},
		{"$xhr", "||example.com^$xhr", "example.com", ReasonABPType, ""},
		{"$popup", "||adcash.example.com^$popup", "adcash.example.com", ReasonABPPopup, ""},
		{"$popup, third-party", "||adcash.example.com^$popup,third-party", "adcash.example.com", ReasonABPPopup, ""},
		// Options that narrow the rule to a context: never a key.
		{"$domain=", "||criteo.com^$domain=spiegel.de", "", "", ReasonABPModifier},
		{"party and domain=", "||adobedtm.com^$third-party,domain=~adobe.com", "", "", ReasonABPModifier},
		{"$redirect-rule", "||google-analytics.com^$object,redirect-rule=noopjs", "", "", ReasonABPModifier},
		{"$csp with spaces", "||1337x.to^$csp=script-src 'self' 'unsafe-inline'", "", "", ReasonABPModifier},
		{"empty options", "||ads.example.com^$", "", "", ReasonABPModifier},
		// Paths: options other than non-narrowing ones are the author's
		// way of sparing the site itself.
		{"path with party", "||zanox.com/ppv/$third-party", "", "", ReasonABPPathOption},
		{"path with popup", "||cams.com/go/$popup", "", "", ReasonABPPathOption},
		{"path with $all", "||150.co.il/AnyDesk.exe$all", "150.co.il/AnyDesk.exe", "", ""},
		// Hosts that end in "." or "*": no key.
		{"trailing dot", "||adservice.google.", "", "", ReasonABPOpenHost},
		{"trailing dot, $all", "||familysimulator.$all", "", "", ReasonABPOpenHost},
		{"any TLD", "||google.*/pagead/", "", "", ReasonABPOpenHost},
		{"host prefix", "||ads.example*", "", "", ReasonABPOpenHost},
		{"trailing dot, end anchor", "||adservice.google.|", "", "", ReasonABPOpenHost},
		{"fully qualified name", "||ejghgjhhgadcdchjaada.ru.^", "ejghgjhhgadcdchjaada.ru.", "", ""},
		{"fully qualified name, path", "||tracker.example.com./x/", "tracker.example.com./x/", "", ""},
		{"wildcard label", "||cas.*.criteo.com^", "", "", ReasonABPWildcard},
		{"wildcard in label", "||iad-*.blaze.com^", "", "", ReasonABPWildcard},
		// Paths at segment boundaries: the prefix key.
		{"path ending in /", "||netquattro.com/stats/", "netquattro.com/stats/", "", ""},
		{"path then /*", "||snap.licdn.com/li.lms-analytics/*", "snap.licdn.com/li.lms-analytics/", "", ""},
		{"path then ^", "||apester.com/event^", "apester.com/event", "", ""},
		{"path then ^*", "||example.com/ads^*", "example.com/ads", "", ""},
		{"partial name then ^", "||example.com/comscore-^", "example.com/comscore-", "", ""},
		{"path then ?", "||google.com/gen_204?", "google.com/gen_204", "", ""},
		{"file name", "||dcdn.lt/g.js", "dcdn.lt/g.js", "", ""},
		{"directory name", "||roblox.com/report", "roblox.com/report", "", ""},
		{"exact end", "||example.com/track_|", "example.com/track_", "", ""},
		{"query value", "||example.com/p?id=1^", "example.com/p?id=1", "", ""},
		{"port and path", "||2.indexsinas.me:811/86.exe$all", "2.indexsinas.me:811/86.exe", "", ""},
		{"port only", "||ads.example.com:8080^", "ads.example.com:8080", "", ""},
		{"http anchor", "|https://exact.example.com/page.html|", "https://exact.example.com/page.html", "", ""},
		// Paths ending inside a segment: no key.
		{"ends in -", "||yimg.com/rx/ev/lib/comscore-", "", "", ReasonABPPartialSegment},
		{"ends in =", "||suggestive.com/deals/?cid=$doc", "", "", ReasonABPPartialSegment},
		{"ends in .", "||freecurrencyrates.com/statgif.", "", "", ReasonABPPartialSegment},
		{"ends in _", "||example.com/banner_", "", "", ReasonABPPartialSegment},
		{"ends in - then *", "||example.com/image-*", "", "", ReasonABPPartialSegment},
		{"wildcard in path", "||ifoneunlock.com/*_banner_", "", "", ReasonABPWildcard},
		{"separator in path", "||taboola.com^*/log/", "", "", ReasonABPWildcard},
		{"separator in query", "||ox-d.example.com/x^auid=", "", "", ReasonABPWildcard},
		// Unanchored rules: well-formed, no key, no problem.
		{"unanchored query", ".ashx?AdID=", "", "", ReasonABPUnanchored},
		{"unanchored size", "-120x600.", "", "", ReasonABPUnanchored},
		{"unanchored path", "/fbevents.js", "", "", ReasonABPUnanchored},
		{"unanchored file", "-didomi.js", "", "", ReasonABPUnanchored},
		{"unanchored underscore", "_stat.php/?referer=", "", "", ReasonABPUnanchored},
		{"unanchored parameter", "&adstype=", "", "", ReasonABPUnanchored},
		{"unanchored file name with dot", "adsbygoogle.js", "", "", ReasonABPUnanchored},
		{"unanchored options only", "$popup,third-party", "", "", ReasonABPUnanchored},
		{"unanchored path with options", "/ads/banner.$image", "", "", ReasonABPUnanchored},
		// Unanchored names: plain domains, as AdGuard reads them.
		{"plain domain", "ads.example.com", "ads.example.com", "", ""},
		{"plain domain, separator", "ads.example.com^", "ads.example.com", "", ""},
		{"plain domain with path", "ads.example.com/x/", "ads.example.com/x/", "", ""},
		{"plain IPv4", "192.0.2.1", "192.0.2.1", "", ""},
		{"plain URL", "http://ads.example.com/x", "http://ads.example.com/x", "", ""},
		{"plain domain with $all", "thepiratebay3.com^$all", "thepiratebay3.com", "", ""},
		// Other rules.
		{"regex", `/banner[0-9]+\.example\./`, "", "", "abp_regex"},
		{"regex with options", `/^https?:\/\/[a-z]{8}\.com\/$/$script,third-party`, "", "", "abp_regex"},
		{"scheme-less start anchor", "|example.com^", "", "", "abp_unsupported"},
		{"javascript: anchor", "|javascript:*setTimeout$popup", "", "", "abp_unsupported"},
		{"exception with party option", "@@||example.com^$third-party", "", "", "abp_exception"},
		{"exception with $popup", "@@||example.com^$popup", "", "", "abp_exception"},
		{"exception inside a segment", "@@||example.com/ad-", "", "", "abp_exception"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := parseABPLine(tc.line)
			var entry string
			if len(res.entries) == 1 {
				entry = res.entries[0]
			}
			if entry != tc.entry || res.policy != tc.policy || res.skip != tc.skip || res.err != nil || len(res.entries) > 1 {
				t.Errorf("%q: entries %q policy %q skip %q err %v; want entry %q policy %q skip %q",
					tc.line, res.entries, res.policy, res.skip, res.err, tc.entry, tc.policy, tc.skip)
			}
		})
	}
}

// TestParseABPExceptionShapes checks that exception rules follow the same
// shapes as blocking rules, without policies.
func TestParseABPExceptionShapes(t *testing.T) {
	for line, want := range map[string]string{
		"@@||good.example.com^":            "good.example.com",
		"@@||good.example.com^$important":  "good.example.com",
		"@@||good.example.com/path/*":      "good.example.com/path/",
		"@@||good.example.com/file.js|":    "good.example.com/file.js",
		"@@good.example.com^":              "good.example.com",
		"@@|https://good.example.com/a?b|": "https://good.example.com/a?b",
	} {
		res := parseABPLine(line)
		if !res.allow || !slices.Equal(res.entries, []string{want}) {
			t.Errorf("%q: allow %v entries %q, want %q", line, res.allow, res.entries, want)
		}
	}
}

// TestCompileABPPolicies checks the options that decide party, type and
// popup rules, and that each outcome is counted under its reason.
func TestCompileABPPolicies(t *testing.T) {
	list := []Source{{Location: "l.txt", Format: FormatABP, Data: []byte(`! Title: policies
||party.example.com^$third-party
||types.example.com^$script,image
||popup.example.com^$popup
||plain.example.com^
||party.example.org/path/$third-party
`)}}
	for _, tc := range []struct {
		name      string
		opts      Options
		keys      []string
		dropped   map[string]int
		converted map[string]int
	}{
		{"default", Options{}, []string{"party.example.com", "plain.example.com"},
			map[string]int{ReasonABPType: 1, ReasonABPPopup: 1, ReasonABPPathOption: 1},
			map[string]int{ReasonABPParty: 1}},
		{"drop party", Options{ABPPartyRules: DropPartyRules}, []string{"plain.example.com"},
			map[string]int{ReasonABPParty: 1, ReasonABPType: 1, ReasonABPPopup: 1, ReasonABPPathOption: 1},
			map[string]int{}},
		{"block types", Options{ABPTypeRules: BlockTypeRules},
			[]string{"party.example.com", "plain.example.com", "popup.example.com", "types.example.com"},
			map[string]int{ReasonABPPathOption: 1},
			map[string]int{ReasonABPParty: 1, ReasonABPType: 1, ReasonABPPopup: 1}},
		{"drop party, block types", Options{ABPPartyRules: DropPartyRules, ABPTypeRules: BlockTypeRules},
			[]string{"plain.example.com", "popup.example.com", "types.example.com"},
			map[string]int{ReasonABPParty: 1, ReasonABPPathOption: 1},
			map[string]int{ReasonABPType: 1, ReasonABPPopup: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Compile(context.Background(), list, nil, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Keys, tc.keys) {
				t.Errorf("keys %q, want %q", r.Keys, tc.keys)
			}
			if !countsEqual(r.Report.Rules.Dropped, tc.dropped) || !countsEqual(r.Report.Rules.Converted, tc.converted) {
				t.Errorf("rules dropped %v converted %v, want %v and %v", r.Report.Rules.Dropped, r.Report.Rules.Converted, tc.dropped, tc.converted)
			}
			if err := r.Report.Balance(); err != nil {
				t.Error(err)
			}
		})
	}
}

// countsEqual compares counts, a missing name counting as 0.
func countsEqual(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// TestAutoFormatFilterList checks that an auto-format document that shows
// it is a filter list reads unanchored rules as AdBlock rules, not as
// hosts, and that a hosts file's "#####" banner does not switch it.
func TestAutoFormatFilterList(t *testing.T) {
	filter := []byte("[Adblock Plus 2.0]\n-didomi.js\n_stat.php/?referer=\next=$script,1p,domain=example.org\n||ads.example.com^\n0.0.0.0 hosts.example.com\n")
	r, err := Compile(context.Background(), []Source{{Location: "f", Data: filter}}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ads.example.com", "hosts.example.com"}; !slices.Equal(r.Keys, want) {
		t.Errorf("filter list keys %q, want %q", r.Keys, want)
	}
	if r.Report.Dropped[ReasonABPUnanchored] != 2 || r.Report.Dropped[ReasonABPModifier] != 1 || r.Report.ProblemCount != 0 {
		t.Errorf("dropped %v, %d problems; want 2 unanchored, 1 modifier, no problem", r.Report.Dropped, r.Report.ProblemCount)
	}
	hosts := []byte("##########\n# hosts\n0.0.0.0 a.example.com\nb.example.com\n")
	r, err = Compile(context.Background(), []Source{{Location: "h", Data: hosts}}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.example.com", "b.example.com"}; !slices.Equal(r.Keys, want) {
		t.Errorf("hosts keys %q, want %q", r.Keys, want)
	}
}
