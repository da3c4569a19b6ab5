package blocklist

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestParseDNSLines feeds single lines of the resolver formats to their
// parsers.
func TestParseDNSLines(t *testing.T) {
	for _, tc := range []struct {
		format  Format
		line    string
		entries []string
		allow   bool
		skip    string
		err     bool
	}{
		// dnsmasq (dnsmasq(8): --address, --server, --local).
		{FormatDnsmasq, "address=/ads.example.com/", []string{"ads.example.com"}, false, "", false},
		{FormatDnsmasq, "address=/ads.example.com/#", []string{"ads.example.com"}, false, "", false},
		{FormatDnsmasq, "address=/ads.example.com/0.0.0.0", []string{"ads.example.com"}, false, "", false},
		{FormatDnsmasq, "address=/ads.example.com/::", []string{"ads.example.com"}, false, "", false},
		{FormatDnsmasq, "address=/ads.example.com/127.0.0.1", []string{"ads.example.com"}, false, "", false},
		{FormatDnsmasq, "address=/a.example.com/b.example.net/#", []string{"a.example.com", "b.example.net"}, false, "", false},
		{FormatDnsmasq, "address=/.ads.example.com/#", []string{"ads.example.com"}, false, "", false},
		{FormatDnsmasq, "address=/*.ads.example.com/#", []string{"ads.example.com"}, false, "", false},
		{FormatDnsmasq, "server=/ads.example.com/", []string{"ads.example.com"}, false, "", false},
		{FormatDnsmasq, "local=/ads.example.com/", []string{"ads.example.com"}, false, "", false},
		{FormatDnsmasq, "server=/ok.example.com/#", []string{"ok.example.com"}, true, "", false},
		{FormatDnsmasq, "address=/www.google.com/216.239.38.120", nil, false, "dns_redirect", false},
		{FormatDnsmasq, "server=/corp.example.com/192.0.2.53", nil, false, "dnsmasq_forward", false},
		{FormatDnsmasq, "server=/corp.example.com/192.0.2.53#5353", nil, false, "dnsmasq_forward", false},
		{FormatDnsmasq, "address=/#/0.0.0.0", nil, false, "dns_wildcard", false},
		{FormatDnsmasq, "address=/*example.com/#", nil, false, "dns_wildcard", false},
		{FormatDnsmasq, "server=//192.0.2.53", nil, false, "dnsmasq_forward", false},
		{FormatDnsmasq, "address=//#", nil, false, "dns_wildcard", false},
		{FormatDnsmasq, "cache-size=1000", nil, false, "dnsmasq_directive", false},
		{FormatDnsmasq, "domain-needed", nil, false, "dnsmasq_directive", false},
		{FormatDnsmasq, "address=1.2.3.4", nil, false, "dnsmasq_directive", false},
		{FormatDnsmasq, "# address=/ads.example.com/", nil, false, "comment", false},
		{FormatDnsmasq, "address=/ads.example.com", nil, false, "", true},
		{FormatDnsmasq, "address=/ads.example.com/ # note", nil, false, "", true},
		// Unbound (unbound.conf(5): local-zone, local-data).
		{FormatUnbound, `local-zone: "ads.example.com." always_nxdomain`, []string{"ads.example.com"}, false, "", false},
		{FormatUnbound, `local-zone: "ads.example.com" always_null`, []string{"ads.example.com"}, false, "", false},
		{FormatUnbound, `local-zone: ads.example.com. refuse`, []string{"ads.example.com"}, false, "", false},
		{FormatUnbound, `local-zone: "ads.example.com." STATIC # comment`, []string{"ads.example.com"}, false, "", false},
		{FormatUnbound, `local-zone: "ads.example.com." deny`, []string{"ads.example.com"}, false, "", false},
		{FormatUnbound, `local-zone: "ads.example.com." always_refuse`, []string{"ads.example.com"}, false, "", false},
		{FormatUnbound, `local-zone: "ok.example.com." always_transparent`, []string{"ok.example.com"}, true, "", false},
		{FormatUnbound, `local-zone: "ok.example.com." transparent`, []string{"ok.example.com"}, true, "", false},
		{FormatUnbound, `local-zone: "r.example.com." redirect`, nil, false, "unbound_nonblocking_zone", false},
		{FormatUnbound, `local-zone: "x.example.com." nodefault`, nil, false, "unbound_nonblocking_zone", false},
		{FormatUnbound, `local-zone: "." always_nxdomain`, nil, false, "dns_wildcard", false},
		{FormatUnbound, `local-zone: "x.example.com." never`, nil, false, "", true},
		{FormatUnbound, `local-zone: "x.example.com."`, nil, false, "", true},
		{FormatUnbound, `local-zone: "x.example.com. always_null`, nil, false, "", true},
		{FormatUnbound, `local-data: "ads.example.com. A 0.0.0.0"`, []string{"ads.example.com"}, false, "", false},
		{FormatUnbound, `local-data: "ads.example.com. 3600 IN AAAA ::"`, []string{"ads.example.com"}, false, "", false},
		{FormatUnbound, `local-data: "ads.example.com IN 60 A 127.0.0.1"`, []string{"ads.example.com"}, false, "", false},
		{FormatUnbound, `local-data: "www.google.com. A 216.239.38.120"`, nil, false, "dns_redirect", false},
		{FormatUnbound, `local-data: 'txt.example.com. TXT "a # b"'`, nil, false, "unbound_local_data", false},
		{FormatUnbound, `local-data: "ads.example.com. A"`, nil, false, "", true},
		{FormatUnbound, `local-data-ptr: "192.0.2.1 host.example.com"`, nil, false, "unbound_local_data", false},
		{FormatUnbound, `server:`, nil, false, "comment", false},
		{FormatUnbound, `verbosity: 1`, nil, false, "unbound_directive", false},
		{FormatUnbound, `include: "/etc/unbound/more.conf"`, nil, false, "unbound_directive", false},
		{FormatUnbound, `ads.example.com`, nil, false, "", true},
		// RPZ records (one line each, no $ORIGIN).
		{FormatRPZ, "ads.example.com CNAME .", []string{"ads.example.com"}, false, "", false},
		{FormatRPZ, "*.ads.example.com CNAME .", []string{"ads.example.com"}, false, "", false},
		{FormatRPZ, "ads.example.com 300 IN CNAME .", []string{"ads.example.com"}, false, "", false},
		{FormatRPZ, "ads.example.com IN 300 cname .", []string{"ads.example.com"}, false, "", false},
		{FormatRPZ, "ads.example.com CNAME *.", []string{"ads.example.com"}, false, "", false},
		{FormatRPZ, "ads.example.com CNAME rpz-drop.", []string{"ads.example.com"}, false, "", false},
		{FormatRPZ, "ads.example.com A 0.0.0.0", []string{"ads.example.com"}, false, "", false},
		{FormatRPZ, "ads.example.com. CNAME . ; absolute, no origin", []string{"ads.example.com"}, false, "", false},
		{FormatRPZ, "ok.example.com CNAME rpz-passthru.", []string{"ok.example.com"}, true, "", false},
		{FormatRPZ, "ok.example.com CNAME rpz-tcp-only.", nil, false, "rpz_tcp_only", false},
		{FormatRPZ, "www.google.com CNAME forcesafesearch.google.com.", nil, false, "dns_redirect", false},
		{FormatRPZ, "ads.example.com A 192.0.2.1", nil, false, "dns_redirect", false},
		{FormatRPZ, `ads.example.com TXT "blocked"`, nil, false, "rpz_local_data", false},
		{FormatRPZ, "32.1.2.0.192.rpz-ip CNAME .", nil, false, "rpz_trigger", false},
		{FormatRPZ, "ns.example.net.rpz-nsdname CNAME .", nil, false, "rpz_trigger", false},
		{FormatRPZ, "32.1.2.0.192.rpz-client-ip CNAME .", nil, false, "rpz_trigger", false},
		{FormatRPZ, "* CNAME .", nil, false, "dns_wildcard", false},
		{FormatRPZ, "ads*.example.com CNAME .", nil, false, "dns_wildcard", false},
		{FormatRPZ, "$TTL 3600", nil, false, "comment", false},
		{FormatRPZ, "@ SOA localhost. root.localhost. 1 14400 3600 86400 3600", nil, false, "comment", false},
		{FormatRPZ, "NS localhost.", nil, false, "", true}, // no owner yet
		{FormatRPZ, "$INCLUDE other.zone", nil, false, "rpz_include", false},
		{FormatRPZ, "$GENERATE 1-9 host$ CNAME .", nil, false, "rpz_unsupported", false},
		{FormatRPZ, "$WHAT x", nil, false, "", true},
		{FormatRPZ, "ads.example.com FROB .", nil, false, "", true},
		{FormatRPZ, "ads.example.com CNAME", nil, false, "", true},
		{FormatRPZ, "ads.example.com CNAME . .", nil, false, "", true},
		// Auto detection sends each shape to its parser.
		{FormatAuto, "address=/ads.example.com/#", []string{"ads.example.com"}, false, "", false},
		{FormatAuto, "server=/ok.example.com/#", []string{"ok.example.com"}, true, "", false},
		{FormatAuto, "cache-size=1000", nil, false, "dnsmasq_directive", false},
		{FormatAuto, `local-zone: "ads.example.com." always_null`, []string{"ads.example.com"}, false, "", false},
		{FormatAuto, `local-data: "ads.example.com. A 0.0.0.0"`, []string{"ads.example.com"}, false, "", false},
		{FormatAuto, "verbosity: 1", nil, false, "unbound_directive", false},
		{FormatAuto, "server:", nil, false, "comment", false},
		{FormatAuto, "ads.example.com CNAME .", []string{"ads.example.com"}, false, "", false},
		{FormatAuto, "*.ads.example.com CNAME .", []string{"ads.example.com"}, false, "", false},
		{FormatAuto, "ok.example.com CNAME rpz-passthru.", []string{"ok.example.com"}, true, "", false},
		{FormatAuto, "@ SOA localhost. root.localhost. 1 14400 3600 86400 3600", nil, false, "comment", false},
		{FormatAuto, "$TTL 3600", nil, false, "comment", false},
		{FormatAuto, "; a zone-file comment", nil, false, "comment", false},
		{FormatAuto, "$popup,third-party", nil, false, "abp_unanchored", false}, // a generic AdBlock rule, not a zone directive
		{FormatAuto, "@@||ok.example.com^", []string{"ok.example.com"}, true, "", false},
		{FormatAuto, "example.com/a?b=c", []string{"example.com/a?b=c"}, false, "", false},
		{FormatAuto, "http://example.com/x", []string{"http://example.com/x"}, false, "", false},
	} {
		res := lineParser(tc.format)(tc.line)
		if !slices.Equal(res.entries, tc.entries) || res.allow != tc.allow || res.skip != tc.skip || (res.err != nil) != tc.err {
			t.Errorf("%s parser on %q = entries %q allow %v skip %q err %v; want %q %v %q err %v",
				tc.format, tc.line, res.entries, res.allow, res.skip, res.err, tc.entries, tc.allow, tc.skip, tc.err)
		}
	}
}

// TestRPZZoneState covers what an RPZ parser carries across lines:
// $ORIGIN, the zone apex from an absolute SOA owner, omitted owners and
// records in parentheses.
func TestRPZZoneState(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  []string // entries of the last line
		skip  string
	}{
		{"relative to origin", []string{"$ORIGIN rpz.example.", "ads.example.com CNAME ."}, []string{"ads.example.com"}, ""},
		{"absolute in zone", []string{"$ORIGIN rpz.example.", "ads.example.com.rpz.example. CNAME ."}, []string{"ads.example.com"}, ""},
		{"absolute out of zone", []string{"$ORIGIN rpz.example.", "ads.example.com. CNAME ."}, nil, "rpz_out_of_zone"},
		{"apex is a wildcard", []string{"$ORIGIN rpz.example.", "@ CNAME ."}, nil, "dns_wildcard"},
		{"nested origin", []string{"$ORIGIN rpz.example.", "$ORIGIN example.org.rpz.example.", "deep CNAME ."}, []string{"deep.example.org"}, ""},
		{"relative origin", []string{"$ORIGIN rpz.example.", "$ORIGIN example.org", "deep CNAME ."}, []string{"deep.example.org"}, ""},
		{"origin outside the zone", []string{"$ORIGIN rpz.example.", "$ORIGIN example.org.", "deep CNAME ."}, nil, "rpz_out_of_zone"},
		{"apex from SOA", []string{"rpz.example. SOA ns. admin. 1 2 3 4 5", "ads.example.com.rpz.example. CNAME ."}, []string{"ads.example.com"}, ""},
		{"relative SOA owner", []string{"@ SOA ns. admin. 1 2 3 4 5", "ads.example.com CNAME ."}, []string{"ads.example.com"}, ""},
		{"omitted owner", []string{"ads.example.com CNAME .", "AAAA ::"}, []string{"ads.example.com"}, ""},
		{"omitted owner after TTL", []string{"ads.example.com A 0.0.0.0", "300 IN AAAA ::1"}, []string{"ads.example.com"}, ""},
		{"SOA in parentheses", []string{"@ IN SOA ns. admin. (", "1 ; serial", "2 3 4 5 )", "ads.example.com CNAME ."}, []string{"ads.example.com"}, ""},
		{"record closes in parentheses", []string{"ads.example.com CNAME (", ". )"}, []string{"ads.example.com"}, ""},
		{"open parentheses swallow lines", []string{"@ SOA ns. admin. (", "ads.example.com CNAME ."}, nil, "comment"},
	} {
		p := newDocParser(FormatRPZ)
		var res lineResult
		for _, l := range tc.lines {
			res = p.parse(l)
		}
		if !slices.Equal(res.entries, tc.want) || res.skip != tc.skip || res.err != nil {
			t.Errorf("%s: last line gives %q skip %q err %v; want %q %q", tc.name, res.entries, res.skip, res.err, tc.want, tc.skip)
		}
	}
	// An unclosed "(" cannot gather a whole file.
	p := newDocParser(FormatRPZ)
	p.parse("@ SOA ns. admin. (")
	var err error
	for range 100 {
		if res := p.parse("1 2 3"); res.err != nil {
			err = res.err
			break
		}
	}
	if err == nil || p.rpz.open {
		t.Errorf("unclosed parentheses: err %v, still open %v", err, p.rpz.open)
	}
}

// TestCompileDNSFormats reads each resolver fixture with its format named
// and auto-detected (both must agree), and checks keys and drop counts.
func TestCompileDNSFormats(t *testing.T) {
	for _, tc := range []struct {
		file    string
		format  string
		keys    []string
		dropped map[string]int
	}{
		{"dnsmasq.conf", "dnsmasq", []string{"a.multi.example.com", "ads.example.com", "b.multi.example.net", "leading.example.com",
			"local.example.com", "loopback.example.org", "pixel.example.org", "server.example.com", "tracker.example.net",
			"v6.example.org", "wild.example.net"},
			map[string]int{"abp_exception_allowlisted": 1, "covered_by_parent": 1, "dns_redirect": 1, "dns_wildcard": 2,
				"dnsmasq_directive": 1, "dnsmasq_forward": 1, "duplicate": 1, "invalid_line": 1}},
		{"unbound.conf", "unbound", []string{"ads.example.com", "deny.example.org", "pixel.example.org", "redirect.example.com",
			"refused.example.org", "tracker.example.net", "upper.example.net", "v6.example.com"},
			map[string]int{"abp_exception_allowlisted": 1, "covered_by_parent": 1, "dns_redirect": 1, "dns_wildcard": 1,
				"invalid_line": 1, "unbound_directive": 1, "unbound_local_data": 2, "unbound_nonblocking_zone": 2}},
		{"rpz.zone", "rpz", []string{"ads.example.com", "deep.example.org", "drop.example.org", "nodata.example.org",
			"null.example.org", "tracker.example.net"},
			map[string]int{"abp_exception_allowlisted": 1, "covered_by_parent": 0, "dns_redirect": 2, "dns_wildcard": 1,
				"duplicate": 2, "invalid_line": 1, "rpz_include": 1, "rpz_local_data": 1, "rpz_out_of_zone": 1,
				"rpz_tcp_only": 1, "rpz_trigger": 2}},
	} {
		var reports []*Result
		for _, s := range []string{tc.format + ":../testdata/" + tc.file, "../testdata/" + tc.file} {
			r := compileFixture(t, []string{s}, nil, Options{})
			if !slices.Equal(r.Keys, tc.keys) {
				t.Errorf("%s: keys %q, want %q", s, r.Keys, tc.keys)
			}
			if fmt.Sprint(r.Report.Dropped) != fmt.Sprint(tc.dropped) {
				t.Errorf("%s: dropped %v, want %v", s, r.Report.Dropped, tc.dropped)
			}
			if r.Report.ABPExceptions != 1 || r.Report.ProblemCount != 1 {
				t.Errorf("%s: %d exception entries and %d problems, want 1 and 1: %v", s, r.Report.ABPExceptions, r.Report.ProblemCount, r.Report.Problems)
			}
			reports = append(reports, r)
		}
		if fmt.Sprint(reports[0].Report.Examples) != fmt.Sprint(reports[1].Report.Examples) {
			t.Errorf("%s: named and auto-detected formats report differently:\n%v\n%v", tc.file, reports[0].Report.Examples, reports[1].Report.Examples)
		}
	}
}

// TestDNSFormatsMatchDomainSemantics builds the same domains written in
// every domain format and checks they give the same keys: a DNS rule for a
// domain, which covers its subdomains, is the key a plain domain or an
// AdBlock ||domain^ rule gives, subdomains and allow entries included.
func TestDNSFormatsMatchDomainSemantics(t *testing.T) {
	domains := []string{"ads.example.com", "cdn.ads.example.com", "Tracker.Example.NET", "www.pixel.example.org",
		"xn--bcher-kva.example", "bücher.example", "_dmarc.example.com", "com", "co.uk", "sub.allowed.example.org"}
	writers := map[string]func(d string) string{
		"domains": func(d string) string { return d },
		"abp":     func(d string) string { return "||" + d + "^" },
		"hosts":   func(d string) string { return "0.0.0.0 " + d },
		"dnsmasq": func(d string) string { return "address=/" + d + "/#" },
		"unbound": func(d string) string { return `local-zone: "` + d + `." always_nxdomain` },
		"rpz":     func(d string) string { return d + " CNAME .\n*." + d + " CNAME ." },
	}
	var want []string
	for _, name := range []string{"domains", "abp", "hosts", "dnsmasq", "unbound", "rpz"} {
		var b strings.Builder
		for _, d := range domains {
			b.WriteString(writers[name](d) + "\n")
		}
		f, _ := ParseFormat(name)
		allow := []Source{{Location: "allow", Data: []byte("allowed.example.org\n")}}
		r, err := Compile(context.Background(), []Source{{Location: name, Format: f, Data: []byte(b.String())}}, allow, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = r.Keys
			if len(want) != 5 {
				t.Fatalf("domains: keys %q, want 5", want)
			}
			continue
		}
		if !slices.Equal(r.Keys, want) {
			t.Errorf("%s: keys %q, want %q as from plain domains", name, r.Keys, want)
		}
	}
}

// TestFastLineAgreesDNS checks the fast paths of the resolver formats
// against their general parsers, and that they take the common shapes.
func TestFastLineAgreesDNS(t *testing.T) {
	lines := []string{
		"address=/a.example.com/", "address=/a.example.com/#", "address=/a.example.com/0.0.0.0", "address=/a.example.com/::",
		"address=/a.example.com/192.0.2.1", "local=/a.example.com/", "server=/a.example.com/", "server=/a.example.com/#",
		"address=/a.example.com/b.example.com/#", "address=/www.a.example.com/#", "address=/A.example.com/#",
		"address=/*.a.example.com/#", "address=/a.example.com", "address=/#/#",
		`local-zone: "a.example.com." always_null`, `local-zone: "a.example.com" always_nxdomain`,
		`local-zone: "a.example.com." transparent`, `local-zone: "a.example.com." redirect`, `local-zone: "." always_null`,
		`local-zone: "a.example.com."  always_null`, `local-zone: "www.a.example.com." always_null`,
	}
	for _, f := range []Format{FormatAuto, FormatDnsmasq, FormatUnbound} {
		for _, l := range lines {
			fastLineAgrees(t, f, l)
		}
	}
	for _, tc := range []struct {
		f    Format
		line string
	}{{FormatDnsmasq, "address=/a.example.com/#"}, {FormatAuto, "address=/a.example.com/"}, {FormatDnsmasq, "local=/a.example.com/"},
		{FormatUnbound, `local-zone: "a.example.com." always_nxdomain`}, {FormatAuto, `local-zone: "a.example.com." always_null`}} {
		if len(fastLine(tc.f, []byte(tc.line), nil)) == 0 {
			t.Errorf("%s line %q takes the general path", tc.f, tc.line)
		}
	}
	// RPZ: the fast path runs inside a document's parser state.
	rpzLines := []string{"a.example.com CNAME .", "*.a.example.com CNAME .", "a.example.com CNAME . ", "A.example.com CNAME .",
		"a.example.com CNAME rpz-passthru.", "32.1.2.0.192.rpz-ip CNAME .", "a.example.com\tCNAME\t.", "www.a.example.com CNAME ."}
	for _, l := range rpzLines {
		for _, prefix := range [][]string{nil, {"$ORIGIN rpz.example."}, {"$ORIGIN rpz.example.", "$ORIGIN x.rpz.example."}} {
			fast, general := newDocParser(FormatRPZ), newDocParser(FormatRPZ)
			for _, p := range prefix {
				fast.parse(p)
				general.parse(p)
			}
			names := fast.fast([]byte(strings.TrimSpace(l)), nil)
			if len(names) == 0 {
				continue
			}
			res := general.parse(strings.TrimSpace(l))
			key, rw, err := Normalize(res.entries[0])
			if len(res.entries) != 1 || res.allow || err != nil || rw != 0 || key != string(names[0]) {
				t.Errorf("RPZ line %q after %q: fast %q, general %q (allow %v, rewrites %v, %v)", l, prefix, names, res.entries, res.allow, rw, err)
			}
			if next := fast.parse("AAAA ::"); !slices.Equal(next.entries, res.entries) {
				t.Errorf("RPZ line %q: the fast path lost the owner for the next line: %q", l, next.entries)
			}
		}
	}
	if p := newDocParser(FormatRPZ); len(p.fast([]byte("a.example.com CNAME ."), nil)) == 0 {
		t.Error("RPZ line takes the general path")
	}
}

// fuzzDocument runs a multi-line document through a fresh parser of format
// f: no panic, and every entry is one field.
func fuzzDocument(f *testing.F, format Format, fixtures ...string) {
	for _, name := range fixtures {
		b, err := os.ReadFile("../testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
		for l := range strings.SplitSeq(string(b), "\n") {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, doc string) {
		p := newDocParser(format)
		for l := range strings.SplitSeq(doc, "\n") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			res := p.parse(l)
			for _, e := range res.entries {
				if e == "" || strings.ContainsAny(e, " \t") {
					t.Fatalf("parser returned entry %q from %q", e, l)
				}
				Normalize(e)
			}
			if names := p.fast([]byte(l), nil); len(names) > 0 && !isCanonicalHost(names[0]) {
				t.Fatalf("fast path returned %q from %q", names[0], l)
			}
		}
	})
}

func FuzzParseDnsmasq(f *testing.F) { fuzzDocument(f, FormatDnsmasq, "dnsmasq.conf") }
func FuzzParseUnbound(f *testing.F) { fuzzDocument(f, FormatUnbound, "unbound.conf") }
func FuzzParseRPZ(f *testing.F)     { fuzzDocument(f, FormatRPZ, "rpz.zone") }
func FuzzParseAutoDNS(f *testing.F) {
	fuzzDocument(f, FormatAuto, "dnsmasq.conf", "unbound.conf", "rpz.zone", "abp.txt", "hosts.txt")
}

func ExampleCompile_rpz() {
	zone := "$ORIGIN rpz.example.\n" +
		"ads.example.com CNAME .\n" +
		"*.ads.example.com CNAME .\n" +
		"ok.ads.example.com CNAME rpz-passthru.\n" +
		"www.google.com CNAME forcesafesearch.google.com.\n"
	r, err := Compile(context.Background(), []Source{{Location: "zone", Format: FormatRPZ, Data: []byte(zone)}}, nil, Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Keys, r.Report.Dropped["dns_redirect"], r.Report.ConflictCount)
	// Output: [ads.example.com] 1 1
}
