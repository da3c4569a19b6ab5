package blocklist

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// TestParseLines feeds single lines of real-world shapes to each format's
// line parser.
func TestParseLines(t *testing.T) {
	for _, tc := range []struct {
		name    string
		format  Format
		line    string
		entries []string
		skip    string
		err     bool
		boiler  int
	}{
		// Hosts files.
		{"hosts several names", FormatHosts, "0.0.0.0 a.example.com b.example.com\tc.example.com", []string{"a.example.com", "b.example.com", "c.example.com"}, "", false, 0},
		{"hosts inline comment", FormatHosts, "0.0.0.0 a.example.com # b.example.com", []string{"a.example.com"}, "", false, 0},
		{"hosts comment without space", FormatHosts, "0.0.0.0 a.example.com#b.example.com", []string{"a.example.com"}, "", false, 0},
		{"hosts 127.0.0.1", FormatHosts, "127.0.0.1 a.example.com", []string{"a.example.com"}, "", false, 0},
		{"hosts IPv6 address", FormatHosts, "::1 a.example.com", []string{"a.example.com"}, "", false, 0},
		{"hosts localhost", FormatHosts, "127.0.0.1 localhost", nil, "", false, 1},
		{"hosts localhost upper, trailing dot", FormatHosts, "127.0.0.1 LocalHost.", nil, "", false, 1},
		{"hosts localhost beside a name", FormatHosts, "127.0.0.1 localhost a.example.com", []string{"a.example.com"}, "", false, 1},
		{"hosts ip6 boilerplate", FormatHosts, "fe80::1%lo0 localhost ip6-loopback", nil, "", false, 2},
		{"hosts broadcasthost", FormatHosts, "255.255.255.255 broadcasthost", nil, "", false, 1},
		{"hosts 0.0.0.0 0.0.0.0", FormatHosts, "0.0.0.0 0.0.0.0", nil, "", false, 1},
		{"hosts address as name", FormatHosts, "0.0.0.0 127.0.0.1 [::1]", nil, "", false, 2},
		{"hosts whole-line comment", FormatHosts, "# 0.0.0.0 a.example.com", nil, "comment", false, 0},
		{"hosts no name", FormatHosts, "0.0.0.0", nil, "", true, 0},
		{"hosts no address", FormatHosts, "a.example.com b.example.com", nil, "", true, 0},
		// Plain domains and URLs.
		{"domain with comment", FormatDomains, "a.example.com # note", []string{"a.example.com"}, "", false, 0},
		{"domain ABP comment", FormatDomains, "! note", nil, "comment", false, 0},
		{"domain two fields", FormatDomains, "two words.example.com", nil, "", true, 0},
		{"url keeps fragment", FormatURLs, "https://example.com/a?q=1#f", []string{"https://example.com/a?q=1#f"}, "", false, 0},
		// ABP / AdGuard.
		{"abp domain", FormatABP, "||ads.example.com^", []string{"ads.example.com"}, "", false, 0},
		{"abp harmless modifiers", FormatABP, "||ads.example.com^$important,document", []string{"ads.example.com"}, "", false, 0},
		{"abp $all", FormatABP, "||ads.example.com^$all", []string{"ads.example.com"}, "", false, 0},

		{"abp domain=", FormatABP, "||ads.example.com^$domain=example.org|example.net", nil, "abp_modifier", false, 0},
		{"abp dnstype", FormatABP, "||ads.example.com^$dnstype=AAAA", nil, "abp_modifier", false, 0},
		{"abp client", FormatABP, "||ads.example.com^$client=192.0.2.1", nil, "abp_modifier", false, 0},
		{"abp empty modifier", FormatABP, "||ads.example.com^$", nil, "abp_modifier", false, 0},
		{"abp path", FormatABP, "||cdn.example.com/ads^", []string{"cdn.example.com/ads"}, "", false, 0},
		{"abp port", FormatABP, "||ads.example.com:8080^", []string{"ads.example.com:8080"}, "", false, 0},
		{"abp address", FormatABP, "|https://exact.example.com/page.html|", []string{"https://exact.example.com/page.html"}, "", false, 0},
		{"abp start anchor, no scheme", FormatABP, "|example.com^", nil, "abp_unsupported", false, 0},
		{"abp element hiding", FormatABP, "example.com##.ad", nil, "abp_cosmetic", false, 0},
		{"abp element hiding exception", FormatABP, "example.com#@#.ad", nil, "abp_cosmetic", false, 0},
		{"abp extended css exception", FormatABP, "example.com#@?#.ad:has(a)", nil, "abp_cosmetic", false, 0},
		{"abp css injection exception", FormatABP, "example.com#@$#.ad { display: none }", nil, "abp_cosmetic", false, 0},
		{"abp scriptlet", FormatABP, "example.com#%#//scriptlet('abort-on-property-read', 'x')", nil, "abp_cosmetic", false, 0},
		{"abp html filtering", FormatABP, "example.com$$script[data-x]", nil, "abp_cosmetic", false, 0},
		{"abp regex", FormatABP, `/banner[0-9]+\.example\./`, nil, "abp_regex", false, 0},
		{"abp wildcard", FormatABP, "||ads*.example.com^", nil, "abp_wildcard", false, 0},
		{"abp header", FormatABP, "[Adblock Plus 2.0]", nil, "comment", false, 0},
		{"abp hosts line", FormatABP, "0.0.0.0 h.example.com", []string{"h.example.com"}, "", false, 0},
		// Auto detection routes every shape to the right parser; in
		// particular cosmetic rules must not become "example.com".
		{"auto cosmetic exception", FormatAuto, "example.com#@#.ad", nil, "abp_cosmetic", false, 0},
		{"auto extended css", FormatAuto, "example.com#?#.ad:has(a)", nil, "abp_cosmetic", false, 0},
		{"auto scriptlet", FormatAuto, "example.com#%#//scriptlet('x')", nil, "abp_cosmetic", false, 0},
		{"auto html filtering", FormatAuto, "example.com$$script", nil, "abp_cosmetic", false, 0},
		{"auto hosts", FormatAuto, "0.0.0.0 a.example.com#c", []string{"a.example.com"}, "", false, 0},
		{"auto abp", FormatAuto, "||a.example.com^", []string{"a.example.com"}, "", false, 0},
		{"auto abp without anchor", FormatAuto, "a.example.com^", []string{"a.example.com"}, "", false, 0},
		{"auto domain", FormatAuto, "a.example.com", []string{"a.example.com"}, "", false, 0},
		{"auto url with fragment", FormatAuto, "example.com/a#frag", []string{"example.com/a#frag"}, "", false, 0},
		{"auto shell comment", FormatAuto, "# a.example.com", nil, "comment", false, 0},
		{"auto urlhaus header", FormatAuto, "id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter", nil, "comment", false, 0},
		// URLhaus CSV quoting.
		{"urlhaus online", FormatURLhausCSV, `"1","2024-12-09 12:40:05","http://a.example.com/x","online","","malware_download","elf,mips","https://urlhaus.abuse.ch/url/1/","r"`, []string{"http://a.example.com/x"}, "", false, 0},
		{"urlhaus comma in url", FormatURLhausCSV, `"1","d","http://a.example.com/a,b","online"`, []string{"http://a.example.com/a,b"}, "", false, 0},
		{"urlhaus doubled quote", FormatURLhausCSV, `"1","d","http://a.example.com/""x""","online"`, []string{`http://a.example.com/"x"`}, "", false, 0},
		{"urlhaus offline", FormatURLhausCSV, `"1","d","http://a.example.com/x","offline"`, nil, "urlhaus_offline", false, 0},
		{"urlhaus quoted header", FormatURLhausCSV, `"id","dateadded","url","url_status"`, nil, "comment", false, 0},
		{"urlhaus short row", FormatURLhausCSV, `"1","d"`, nil, "", true, 0},
		{"urlhaus url with space", FormatURLhausCSV, `"1","d","http://a.example.com/a b","online"`, nil, "", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := lineParser(tc.format)(tc.line)
			if !slices.Equal(res.entries, tc.entries) || res.skip != tc.skip || (res.err != nil) != tc.err || res.boilerplate != tc.boiler {
				t.Errorf("%s parser on %q = entries %q, skip %q, err %v, boilerplate %d; want %q, %q, err %v, %d",
					tc.format, tc.line, res.entries, res.skip, res.err, res.boilerplate, tc.entries, tc.skip, tc.err, tc.boiler)
			}
		})
	}
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCompileDocuments covers whole-document shapes: byte order marks, line
// endings, very long lines, binary garbage and refused encodings.
func TestCompileDocuments(t *testing.T) {
	for _, tc := range []struct {
		name    string
		format  Format
		doc     []byte
		keys    []string
		dropped map[string]int
		errText string
	}{
		{"BOM before a hosts line", FormatAuto, []byte("\ufeff0.0.0.0 bom.example.com\n"), []string{"bom.example.com"}, nil, ""},
		{"BOM before an ABP header", FormatAuto, []byte("\ufeff[Adblock Plus 2.0]\n||abp.example.com^\n"), []string{"abp.example.com"}, nil, ""},
		{"BOM in hosts format", FormatHosts, []byte("\ufeff0.0.0.0 bom.example.com\r\n"), []string{"bom.example.com"}, nil, ""},
		{"BOM inside gzip", FormatAuto, gzipBytes(t, []byte("\ufeffgz.example.com\n")), []string{"gz.example.com"}, nil, ""},
		{"CRLF", FormatAuto, []byte("0.0.0.0 a.example.com\r\n0.0.0.0 b.example.com # c\r\n\r\n"), []string{"a.example.com", "b.example.com"}, nil, ""},
		{"bare CR is a line break", FormatAuto, []byte("a.example.com\rb.example.com\n"), []string{"a.example.com", "b.example.com"}, nil, ""},
		{"CR-only file (classic Mac OS)", FormatHosts, []byte("# hosts\r0.0.0.0 a.example.com\r\r0.0.0.0 b.example.com\r"),
			[]string{"a.example.com", "b.example.com"}, nil, ""},
		{"mixed line endings", FormatAuto, []byte("a.example.com\rb.example.com\r\nc.example.com\n\rd.example.com"),
			[]string{"a.example.com", "b.example.com", "c.example.com", "d.example.com"}, nil, ""},
		{"CR-only ABP list", FormatABP, []byte("[Adblock Plus 2.0]\r||a.example.com^\r@@||b.a.example.com^\r"),
			[]string{"a.example.com"}, nil, ""},
		{"CR-only URLhaus CSV", FormatURLhausCSV, []byte("# comment\r\"1\",\"d\",\"http://a.example.com/x\",\"online\"\r\"2\",\"d\",\"http://b.example.com/y\",\"online\""),
			[]string{"a.example.com/x", "b.example.com/y"}, nil, ""},
		{"CR-only gzip", FormatAuto, gzipBytes(t, []byte("a.example.com\rb.example.com\r")), []string{"a.example.com", "b.example.com"}, nil, ""},
		{"CR-only file longer than a line", FormatDomains, bytes.Repeat([]byte("a.example.com\r"), 2*maxLineBytes/14),
			[]string{"a.example.com"}, map[string]int{"duplicate": 2*maxLineBytes/14 - 1}, ""},
		{"no final newline", FormatAuto, []byte("a.example.com"), []string{"a.example.com"}, nil, ""},
		{"very long line skipped", FormatAuto, append(bytes.Repeat([]byte("a"), maxLineBytes+1), "\nok.example.com\n"...),
			[]string{"ok.example.com"}, map[string]int{"line_too_long": 1}, ""},
		{"long key dropped", FormatAuto, []byte("example.com/" + strings.Repeat("x", MaxKeyBytes) + "\nok.example.com\n"),
			[]string{"ok.example.com"}, map[string]int{"too_long": 1}, ""},
		{"binary garbage", FormatAuto, []byte("\x00\x01\x02\xff\xfe\n\xff garbage\n\x7fELF\x02\x01\n"), nil,
			map[string]int{"invalid_host": 2, "invalid_line": 1}, ""},
		{"UTF-16 refused", FormatAuto, []byte("\xff\xfea\x00.\x00b\x00"), nil, nil, "UTF-16"},
		{"zip refused", FormatAuto, []byte("PK\x03\x04\x14\x00"), nil, nil, "zip archive"},
		{"e-mail address is not a domain", FormatDomains, []byte("abuse@example.com\n"), nil, map[string]int{"invalid_host": 1}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Compile(context.Background(), []Source{{Location: "doc", Format: tc.format, Data: tc.doc}}, nil, Options{})
			if tc.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Keys, tc.keys) {
				t.Errorf("keys %q, want %q", r.Keys, tc.keys)
			}
			for reason, n := range tc.dropped {
				if r.Report.Dropped[reason] != n {
					t.Errorf("dropped[%s] = %d, want %d (all: %v)", reason, r.Report.Dropped[reason], n, r.Report.Dropped)
				}
			}
		})
	}
}

// TestLineNumbersWithCR checks that a bare CR counts as a line break in
// reported line numbers, and a CRLF as one.
func TestLineNumbersWithCR(t *testing.T) {
	doc := []byte("a.example.com\r\rb.example.com\r\nbad_host!.example.com\n")
	r, err := Compile(context.Background(), []Source{{Location: "doc", Data: doc}}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Report.Problems) != 1 || r.Report.Problems[0].Line != 4 || r.Report.Sources[0].Lines != 4 {
		t.Errorf("problems %v, lines %d; want one on line 4 of 4", r.Report.Problems, r.Report.Sources[0].Lines)
	}
}

// TestLineEndReader feeds CR, LF and CRLF endings one byte at a time and in
// one read, so a CRLF split across reads is still one line break.
func TestLineEndReader(t *testing.T) {
	const in, want = "a\r\nb\rc\n\rd\r\r\ne\r", "a\nb\nc\n\nd\n\ne\n"
	for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in)), iotest.HalfReader(strings.NewReader(in))} {
		got, err := io.ReadAll(&lineEndReader{r: r})
		if err != nil || string(got) != want {
			t.Errorf("got %q, %v; want %q", got, err, want)
		}
	}
}

// TestParseABPExceptionsAndBadfilter covers exception rules (allow
// entries, or skipped when they cannot be keys) and $badfilter rules (the
// text of the rule they disable).
func TestParseABPExceptionsAndBadfilter(t *testing.T) {
	for _, tc := range []struct {
		format    Format
		line      string
		entries   []string
		allow     bool
		skip      string
		badfilter string
	}{
		{FormatABP, "@@||good.example.com^", []string{"good.example.com"}, true, "", ""},
		{FormatAuto, "@@||good.example.com^", []string{"good.example.com"}, true, "", ""},
		{FormatABP, "@@||good.example.com/path^", []string{"good.example.com/path"}, true, "", ""},
		{FormatABP, "@@||good.example.com^$document", []string{"good.example.com"}, true, "", ""},
		{FormatABP, "@@|https://good.example.com/page|", []string{"https://good.example.com/page"}, true, "", ""},
		// Exceptions that only narrow or touch cosmetic filtering.
		{FormatABP, "@@||good.example.com^$elemhide", nil, false, "abp_exception", ""},
		{FormatABP, "@@||good.example.com^$third-party", nil, false, "abp_exception", ""},
		{FormatABP, "@@||good*.example.com^", nil, false, "abp_exception", ""},
		{FormatABP, "@@/banner[0-9]/", nil, false, "abp_exception", ""},
		{FormatABP, "@@0.0.0.0 good.example.com", nil, false, "abp_exception", ""},
		{FormatABP, "@@@@||good.example.com^", nil, false, "abp_exception", ""},
		{FormatABP, "@@", nil, false, "abp_exception", ""},
		{FormatABP, strings.Repeat("@@", 30000) + "||good.example.com^", nil, false, "abp_exception", ""}, // no deep recursion
		// $badfilter names the same text without the option.
		{FormatABP, "||ads.example.com^$badfilter", nil, false, "", "||ads.example.com^"},
		{FormatAuto, "||ads.example.com^$badfilter", nil, false, "", "||ads.example.com^"},
		{FormatABP, "||ads.example.com^$third-party,badfilter", nil, false, "", "||ads.example.com^$third-party"},
		{FormatABP, "||ads.example.com^$badfilter,important", nil, false, "", "||ads.example.com^$important"},
		{FormatABP, "@@||good.example.com^$badfilter", nil, false, "", "@@||good.example.com^"},
		{FormatABP, "example.com##.ad$badfilter", nil, false, "abp_cosmetic", ""},
	} {
		res := lineParser(tc.format)(tc.line)
		if !slices.Equal(res.entries, tc.entries) || res.allow != tc.allow || res.skip != tc.skip || res.badfilter != tc.badfilter || res.err != nil {
			t.Errorf("%s parser on %q = entries %q allow %v skip %q badfilter %q err %v; want %q %v %q %q",
				tc.format, tc.line, res.entries, res.allow, res.skip, res.badfilter, res.err, tc.entries, tc.allow, tc.skip, tc.badfilter)
		}
	}
}
