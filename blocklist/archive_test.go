package blocklist

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testingOnlyWriteUT1Archive regenerates ../testdata/ut1-blacklists.tar.gz:
//
//	go test ./blocklist -run TestUT1ArchiveFixture -write-ut1-archive
//
// The fixture is that command's output, committed. The test compares the
// committed archive's members with ut1ArchiveMembers, so the two cannot
// drift apart; the gzip bytes themselves may differ between Go versions.
var testingOnlyWriteUT1Archive = flag.Bool("write-ut1-archive", false, "rewrite ../testdata/ut1-blacklists.tar.gz")

const ut1ArchiveFixture = "../testdata/ut1-blacklists.tar.gz"

// tarMember is one member of a test archive.
type tarMember struct {
	name     string
	typeflag byte
	body     string
	linkname string
}

// ut1ArchiveMembers is the layout of UT1's blacklists.tar.gz (one directory
// per category under blacklists/, each with domains, urls and usage files,
// a README and global_usage at the top, English aliases such as ads as
// symbolic links to the French category names), plus the members an
// archive must never be trusted with: a hard link, a device, a FIFO, an
// absolute name and a name that climbs out with "..".
func ut1ArchiveMembers() []tarMember {
	return []tarMember{
		{name: "blacklists/", typeflag: tar.TypeDir},
		{name: "blacklists/README", typeflag: tar.TypeReg, body: "UT1 blacklists fixture for blindlist\n"},
		{name: "blacklists/global_usage", typeflag: tar.TypeReg, body: "NAME: publicite\nDEFAULT_TYPE: black\n"},
		{name: "blacklists/ads", typeflag: tar.TypeSymlink, linkname: "publicite"},
		{name: "blacklists/publicite/", typeflag: tar.TypeDir},
		{name: "blacklists/publicite/domains", typeflag: tar.TypeReg, body: "ads.example.com\ntracker.example.net\ncdn.ads.example.com\n"},
		{name: "blacklists/publicite/urls", typeflag: tar.TypeReg, body: "example.org/ads/top\n"},
		{name: "blacklists/publicite/usage", typeflag: tar.TypeReg, body: "black\n"},
		{name: "blacklists/phishing/", typeflag: tar.TypeDir},
		{name: "blacklists/phishing/domains", typeflag: tar.TypeReg, body: "phish.example.net\r\nlogin-verify.example.com\r\nnot a domain\r\n"},
		{name: "blacklists/phishing/urls.gz", typeflag: tar.TypeReg, body: "phish.example.org/login\n"},
		{name: "blacklists/phishing/usage", typeflag: tar.TypeReg, body: "black\n"},
		{name: "./blacklists/gambling/domains", typeflag: tar.TypeReg, body: "casino.example.net\n"},
		{name: "blacklists/malware/domains", typeflag: tar.TypeLink, linkname: "blacklists/phishing/domains"},
		{name: "blacklists/malware/urls", typeflag: tar.TypeSymlink, linkname: "/etc/passwd"},
		{name: "blacklists/dev/domains", typeflag: tar.TypeChar},
		{name: "blacklists/fifo/urls", typeflag: tar.TypeFifo},
		{name: "/etc/blacklists/evil/domains", typeflag: tar.TypeReg, body: "evil.example.com\n"},
		{name: "blacklists/../../evil/domains", typeflag: tar.TypeReg, body: "evil.example.org\n"},
	}
}

// tarGz writes members as a gzipped tar with fixed times and owners.
// A member whose name ends in .gz has its body gzipped.
func tarGz(t *testing.T, members []tarMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range members {
		body := m.body
		if strings.HasSuffix(m.name, ".gz") {
			body = string(gzipBytes(t, []byte(body)))
		}
		hdr := &tar.Header{Name: m.name, Typeflag: m.typeflag, Linkname: m.linkname, Mode: 0o644,
			ModTime: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Uname: "root", Gname: "root", Format: tar.FormatPAX}
		if m.typeflag == tar.TypeReg {
			hdr.Size = int64(len(body))
		}
		if m.typeflag == tar.TypeDir {
			hdr.Mode = 0o755
		}
		if m.typeflag == tar.TypeXGlobalHeader { // as git archive writes
			hdr = &tar.Header{Typeflag: m.typeflag, PAXRecords: map[string]string{"comment": "0123abcd"}}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ut1ArchiveKeys are the keys of the fixture's categories.
var ut1ArchiveKeys = map[string][]string{
	"publicite": {"ads.example.com", "example.org/ads/top", "tracker.example.net"},
	"phishing":  {"login-verify.example.com", "phish.example.net", "phish.example.org/login"},
	"gambling":  {"casino.example.net"},
}

func keysOf(cats ...string) []string {
	var keys []string
	for _, c := range cats {
		keys = append(keys, ut1ArchiveKeys[c]...)
	}
	slices.Sort(keys)
	return keys
}

// TestUT1ArchiveFixture checks that the committed archive holds exactly
// ut1ArchiveMembers, and rewrites it with -write-ut1-archive.
func TestUT1ArchiveFixture(t *testing.T) {
	members := ut1ArchiveMembers()
	if *testingOnlyWriteUT1Archive {
		if err := os.WriteFile(ut1ArchiveFixture, tarGz(t, members), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(ut1ArchiveFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for i := 0; ; i++ {
		hdr, err := tr.Next()
		if err != nil {
			if i != len(members) {
				t.Fatalf("archive ends after %d members (%v), want %d", i, err, len(members))
			}
			break
		}
		if i >= len(members) || hdr.Name != members[i].name || hdr.Typeflag != members[i].typeflag || hdr.Linkname != members[i].linkname {
			t.Fatalf("member %d is %q (type %c), not as ut1ArchiveMembers says; rerun with -write-ut1-archive", i, hdr.Name, hdr.Typeflag)
		}
	}
}

// TestCompileUT1Archive reads the archive as a file, auto-detected and as
// ut1, and over HTTP, and checks keys, skipped and refused members.
func TestCompileUT1Archive(t *testing.T) {
	data, err := os.ReadFile(ut1ArchiveFixture)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
	defer srv.Close()
	want := keysOf("publicite", "phishing", "gambling")
	for _, loc := range []string{ut1ArchiveFixture, "ut1:" + ut1ArchiveFixture, srv.URL + "/blacklists.tar.gz", "ut1:" + srv.URL + "/download"} {
		src, err := ParseSource(loc)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Compile(context.Background(), []Source{src}, nil, Options{HTTPClient: srv.Client()})
		if err != nil {
			t.Fatalf("%s: %v", loc, err)
		}
		if !slices.Equal(r.Keys, want) {
			t.Errorf("%s: keys %q, want %q", loc, r.Keys, want)
		}
		sr := r.Report.Sources[0]
		refused := map[string]int{"link": 3, "special": 2, "unsafe_name": 2}
		if sr.Documents != 5 || sr.SkippedFiles != 4 || !mapsEqual(sr.RefusedMembers, refused) {
			t.Errorf("%s: documents %d, skipped %d, refused %v; want 5, 4, %v", loc, sr.Documents, sr.SkippedFiles, sr.RefusedMembers, refused)
		}
		if r.Report.Dropped["covered_by_parent"] != 1 || r.Report.Dropped["invalid_line"] != 1 {
			t.Errorf("%s: dropped %v", loc, r.Report.Dropped)
		}
		if p := r.Report.Problems; len(p) != 1 || p[0].Source != src.Location+":blacklists/phishing/domains" || p[0].Line != 3 {
			t.Errorf("%s: problems %v, want one at blacklists/phishing/domains line 3", loc, p)
		}
		if ex := r.Report.Examples["archive_link"]; len(ex) != 3 || !strings.Contains(ex[0], "blacklists/ads -> publicite") {
			t.Errorf("%s: link examples %q", loc, ex)
		}
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestUT1Categories selects categories the same way in the directory and
// the archive form, and fails on a category the source lacks, naming the
// link target when the name is an alias.
func TestUT1Categories(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		source     string
		keys       []string
		unselected int
		errText    string
	}{
		{"ut1=phishing:" + ut1ArchiveFixture, keysOf("phishing"), 3, ""},
		{"ut1=phishing,gambling:" + ut1ArchiveFixture, keysOf("phishing", "gambling"), 2, ""},
		{"ut1=publicite:" + ut1ArchiveFixture, keysOf("publicite"), 3, ""},
		{"ut1=ads:" + ut1ArchiveFixture, nil, 0, `category "ads" is a symbolic link to "publicite"`},
		{"ut1=nosuch:" + ut1ArchiveFixture, nil, 0, "has no category nosuch (it has: gambling, phishing, publicite)"},
		{"ut1=phishing:../testdata/ut1", []string{"login-verify.example.com", "phish.example.net"}, 2, ""},
		{"ut1=ads:../testdata/ut1", []string{"casino.example.net", "example.org/ads/side", "example.org/ads/top", "gambling.example.com"}, 1, ""},
		{"ut1=phishing:../testdata/ut1/phishing", []string{"login-verify.example.com", "phish.example.net"}, 0, ""},
		{"ut1=nosuch:../testdata/ut1", nil, 0, "has no category nosuch (it has: ads, phishing)"},
	} {
		src, err := ParseSource(tc.source)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Compile(ctx, []Source{src}, nil, Options{})
		if tc.errText != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errText) {
				t.Errorf("%s: error %v, want one containing %q", tc.source, err, tc.errText)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.source, err)
		}
		if !slices.Equal(r.Keys, tc.keys) || r.Report.Sources[0].UnselectedFiles != tc.unselected {
			t.Errorf("%s: keys %q, unselected %d; want %q, %d", tc.source, r.Keys, r.Report.Sources[0].UnselectedFiles, tc.keys, tc.unselected)
		}
	}
	if _, err := Compile(ctx, []Source{{Location: "../testdata/hosts.txt", Categories: []string{"ads"}}}, nil, Options{}); err == nil {
		t.Error("categories on a plain list: no error")
	}
}

// TestUT1SingleCategoryArchive reads the layout of UT1's per-category
// downloads (phishing.tar.gz holds phishing/domains, phishing/urls,
// phishing/usage).
func TestUT1SingleCategoryArchive(t *testing.T) {
	p := filepath.Join(t.TempDir(), "phishing.tar.gz")
	err := os.WriteFile(p, tarGz(t, []tarMember{
		{name: "pax_global_header", typeflag: tar.TypeXGlobalHeader},
		{name: "phishing/", typeflag: tar.TypeDir},
		{name: "phishing/domains", typeflag: tar.TypeReg, body: "phish.example.net\n"},
		{name: "phishing/urls", typeflag: tar.TypeReg, body: "http://phish.example.org/login\n"},
		{name: "phishing/usage", typeflag: tar.TypeReg, body: "black\n"},
	}), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{p, "ut1=phishing:" + p} {
		src, _ := ParseSource(s)
		r, err := Compile(context.Background(), []Source{src}, nil, Options{})
		if err != nil || !slices.Equal(r.Keys, []string{"phish.example.net", "phish.example.org/login"}) {
			t.Fatalf("%s: %v, %v", s, r, err)
		}
		if sr := r.Report.Sources[0]; sr.Documents != 2 || sr.SkippedFiles != 1 || sr.RefusedMembers != nil {
			t.Errorf("%s: documents %d, skipped %d, refused %v; want 2, 1, none", s, sr.Documents, sr.SkippedFiles, sr.RefusedMembers)
		}
	}
}

// TestUT1ArchiveLimits checks the member and archive caps (a gzip bomb
// stops at them), truncated and non-tar input, and cancellation.
func TestUT1ArchiveLimits(t *testing.T) {
	ctx := context.Background()
	big := strings.Repeat("a.example.com\n", 1<<18) // 3.5 MiB of text, ~10 KiB gzipped
	bomb := tarGz(t, []tarMember{{name: "blacklists/x/domains", typeflag: tar.TypeReg, body: big}})
	_, err := Compile(ctx, []Source{{Location: "bomb.tar.gz", Data: bomb}}, nil, Options{MaxBytes: 1 << 20})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "blacklists/x/domains") {
		t.Errorf("member over the cap: %v, want ErrTooLarge naming the member", err)
	}
	skipped := tarGz(t, []tarMember{
		{name: "blacklists/x/usage", typeflag: tar.TypeReg, body: big},
		{name: "blacklists/x/domains", typeflag: tar.TypeReg, body: "a.example.com\n"},
	})
	_, err = Compile(ctx, []Source{{Location: "skipped.tar.gz", Data: skipped}}, nil, Options{MaxArchiveBytes: 1 << 20})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "archive over") {
		t.Errorf("archive over the cap: %v, want ErrTooLarge for the archive", err)
	}
	gzMember := tarGz(t, []tarMember{{name: "blacklists/x/domains.gz", typeflag: tar.TypeReg, body: big}})
	_, err = Compile(ctx, []Source{{Location: "gzmember.tar.gz", Data: gzMember}}, nil, Options{MaxBytes: 1 << 20})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("gzipped member over the cap: %v, want ErrTooLarge", err)
	}
	data, err := os.ReadFile(ut1ArchiveFixture)
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	zr, _ := gzip.NewReader(bytes.NewReader(data))
	plain.ReadFrom(zr)
	if _, err := Compile(ctx, []Source{{Location: "cut.tar", Data: plain.Bytes()[:plain.Len()/2]}}, nil, Options{}); err == nil ||
		!strings.Contains(err.Error(), "cut.tar") {
		t.Errorf("truncated archive: %v", err)
	}
	noEnd := plain.Bytes()[:plain.Len()-2*tarBlockSize] // cut at a header: only the end blocks tell
	if _, err := Compile(ctx, []Source{{Location: "noend.tar", Data: noEnd}}, nil, Options{}); err == nil ||
		!strings.Contains(err.Error(), "truncated") {
		t.Errorf("archive cut before its end blocks: %v", err)
	}
	r, err := Compile(ctx, []Source{{Location: "plain.tar", Data: plain.Bytes()}}, nil, Options{})
	if err != nil || len(r.Keys) != len(keysOf("publicite", "phishing", "gambling")) {
		t.Errorf("uncompressed tar: %v, %v", r, err)
	}
	if _, err := Compile(ctx, []Source{{Location: "hosts.txt", Format: FormatUT1, Data: []byte("0.0.0.0 a.example.com\n")}}, nil, Options{}); err == nil ||
		!strings.Contains(err.Error(), "neither a directory nor a tar archive") {
		t.Errorf("ut1 on a plain list: %v", err)
	}
	empty := tarGz(t, []tarMember{{name: "blacklists/README", typeflag: tar.TypeReg, body: "x\n"}})
	if _, err := Compile(ctx, []Source{{Location: "empty.tar.gz", Data: empty}}, nil, Options{}); err == nil ||
		!strings.Contains(err.Error(), "no domains or urls files") {
		t.Errorf("archive without lists: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Compile(cctx, []Source{{Location: ut1ArchiveFixture}}, nil, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v, want context.Canceled", err)
	}
}

// TestUT1ArchiveManyLists checks that an archive of more list files than
// any real one holds is refused rather than read for minutes.
func TestUT1ArchiveManyLists(t *testing.T) {
	members := make([]tarMember, maxArchiveLists+1)
	for i := range members {
		members[i] = tarMember{name: fmt.Sprintf("blacklists/c%d/domains", i), typeflag: tar.TypeReg}
	}
	members[0].body = "a.example.com\n"
	_, err := Compile(context.Background(), []Source{{Location: "many.tar.gz", Data: tarGz(t, members)}}, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "more than 10000 domains and urls files") {
		t.Errorf("archive of %d lists: %v", len(members), err)
	}
}

// TestUT1ArchiveStalledHTTP checks that an archive download that stops
// mid-stream ends at the context deadline, naming the source.
func TestUT1ArchiveStalledHTTP(t *testing.T) {
	data, err := os.ReadFile(ut1ArchiveFixture)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(data[:len(data)/2])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = Compile(ctx, []Source{{Location: srv.URL + "/blacklists.tar.gz"}}, nil, Options{HTTPClient: srv.Client()})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "/blacklists.tar.gz") {
		t.Errorf("stalled archive: %v, want a deadline error naming the source", err)
	}
}

func TestSafeMemberName(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		ok      bool
	}{
		{"blacklists/ads/domains", "blacklists/ads/domains", true},
		{"./blacklists/ads/domains", "blacklists/ads/domains", true},
		{"blacklists//ads/./domains", "blacklists/ads/domains", true},
		{"/etc/passwd", "", false},
		{"../domains", "", false},
		{"blacklists/../../domains", "", false},
		{`blacklists\ads\domains`, "", false},
		{"a\x00b", "", false},
		{"./", "", false},
		{"", "", false},
	} {
		if out, ok := safeMemberName(tc.in); out != tc.out || ok != tc.ok {
			t.Errorf("safeMemberName(%q) = %q, %v; want %q, %v", tc.in, out, ok, tc.out, tc.ok)
		}
	}
}

// FuzzCompileArchive runs archives, the fixture and its plain tar among the
// seeds, through Compile with small caps: no panic, and every key
// normalised.
func FuzzCompileArchive(f *testing.F) {
	data, err := os.ReadFile(ut1ArchiveFixture)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		f.Fatal(err)
	}
	var plain bytes.Buffer
	plain.ReadFrom(zr)
	f.Add(plain.Bytes())
	f.Fuzz(func(t *testing.T, doc []byte) {
		src := Source{Location: "fuzz.tar.gz", Format: FormatUT1, Data: doc}
		r, err := Compile(context.Background(), []Source{src}, nil, Options{MaxBytes: 1 << 20, MaxArchiveBytes: 4 << 20})
		if err != nil {
			return
		}
		for _, k := range r.Keys {
			if again, _, err := Normalize(k); err != nil || again != k {
				t.Fatalf("key %q is not normalised: %q, %v", k, again, err)
			}
		}
	})
}

// TestCompressedSources reads bzip2 (a list and a UT1 tar.bz2; the standard
// library decodes it) and refuses xz and Zstandard with a clear error. The
// bzip2 bytes were made with
//
//	printf 'bz.example.com\n' | bzip2 -9 | xxd -p
//
// and, for the archive, Python's tarfile (USTAR, one member
// blacklists/bz/domains holding "bzcat.example.com\n") compressed by
// bz2.compress(data, 9).
func TestCompressedSources(t *testing.T) {
	hexBytes := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	list := hexBytes("425a6839314159265359eb53292c0000025180001000013a06c0502000310340d029801ea5483c62061ba70bb9229c284875a9949600")
	archive := hexBytes("425a6839314159265359476e0383000077fd84ca1040404001ff8000087e2fde50000080082000741a936a61007a80d001a641944190d07a80" +
		"00340f9ef72e02080c880048b11a1ed4546402147859d6677a8c2305001cd40c89d2153791859cc9731b225443b381f2eda3873c4b3a492cea0f805f" +
		"cbfba0a06bd1f0be343433c11798d108401f8bb9229c284823b701c180")
	for _, tc := range []struct {
		name    string
		data    []byte
		keys    []string
		errText string
	}{
		{"list.bz2", list, []string{"bz.example.com"}, ""},
		{"ut1.tar.bz2", archive, []string{"bzcat.example.com"}, ""},
		{"list.xz", []byte("\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46"), nil, "xz-compressed"},
		{"list.zst", []byte("\x28\xb5\x2f\xfd\x04\x58\x00\x00"), nil, "Zstandard"},
		{"text starting BZh", []byte("BZh9.example.com\n"), []string{"bzh9.example.com"}, ""},
	} {
		r, err := Compile(context.Background(), []Source{{Location: tc.name, Data: tc.data}}, nil, Options{})
		if tc.errText != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errText) || !strings.Contains(err.Error(), tc.name) {
				t.Errorf("%s: error %v, want one naming the source and %q", tc.name, err, tc.errText)
			}
			continue
		}
		if err != nil || !slices.Equal(r.Keys, tc.keys) {
			t.Errorf("%s: %v, %v; want keys %q", tc.name, r, err, tc.keys)
		}
	}
}

func ExampleParseSource() {
	for _, arg := range []string{"ut1=phishing,malware:blacklists.tar.gz", "rpz:https://example.com/rpz.txt", "lists/hosts.txt"} {
		src, err := ParseSource(arg)
		if err != nil {
			panic(err)
		}
		fmt.Println(src.Format, src.Categories, src.Location)
	}
	// Output:
	// ut1 [phishing malware] blacklists.tar.gz
	// rpz [] https://example.com/rpz.txt
	// auto [] lists/hosts.txt
}

func TestParseSourceCategories(t *testing.T) {
	for _, bad := range []string{"hosts=ads:list.txt", "ut1=:blacklists.tar.gz", "ut1=ads,,x:b.tar.gz", "ut1=../etc:b.tar.gz", "ut1=a/b:b.tar.gz", "ut1=ads:"} {
		if s, err := ParseSource(bad); err == nil {
			t.Errorf("ParseSource(%q) = %+v, want an error", bad, s)
		}
	}
	s, err := ParseSource("ut1=adult:https://dsi.ut-capitole.fr/blacklists/download/blacklists.tar.gz")
	if err != nil || s.String() != "ut1=adult:https://dsi.ut-capitole.fr/blacklists/download/blacklists.tar.gz" {
		t.Errorf("round trip: %q, %v", s.String(), err)
	}
}

func TestParseSourceUnknownFormat(t *testing.T) {
	for _, tc := range []struct {
		arg     string
		wantErr string // "" for no error
		wantLoc string
	}{
		{"foo:file.txt", "unknown format foo (one of auto, hosts, domains, abp, urls, urlhaus, ut1, dnsmasq, unbound, rpz)", ""},
		{"Hosts2:list", "unknown format Hosts2", ""},
		{"./foo:file.txt", "", "./foo:file.txt"},
		{"lists/a:b.txt", "", "lists/a:b.txt"},
		{"https://example.com/x", "", "https://example.com/x"},
		{"http://example.com/x", "", "http://example.com/x"},
		{"abp:x.txt", "", "x.txt"},
	} {
		s, err := ParseSource(tc.arg)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ParseSource(%q) = %+v, %v; want error containing %q", tc.arg, s, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || s.Location != tc.wantLoc):
			t.Errorf("ParseSource(%q) = %+v, %v; want location %q", tc.arg, s, err, tc.wantLoc)
		}
	}
}
