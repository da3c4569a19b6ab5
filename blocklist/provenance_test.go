package blocklist

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestProvenance checks that each key's origin is the first line that gave
// it, on the fast path (hosts, domain and ||host^ lines), the general path
// (options, paths, rewrites) and for the test identity, and that the file
// written beside the build gives the same answers.
func TestProvenance(t *testing.T) {
	block := []Source{
		{Location: "easyprivacy.txt", Format: FormatABP, Data: []byte("! Title: x\n||taboola.com^$third-party\n||fast.example.com^\n||Upper.Example.com/Path/\n")},
		{Location: "hosts", Data: []byte("# hosts\n0.0.0.0 a.example.net b.example.net\n0.0.0.0 taboola.com\nplain.example.org\n")},
	}
	r, err := Compile(context.Background(), block, nil, Options{TestIdentity: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Origin{
		"taboola.com":                   {"easyprivacy.txt", 2, "||taboola.com^$third-party"},
		"fast.example.com":              {"easyprivacy.txt", 3, "||fast.example.com^"},
		"upper.example.com/path":        {"easyprivacy.txt", 4, "||Upper.Example.com/Path/"},
		"a.example.net":                 {"hosts", 2, "0.0.0.0 a.example.net b.example.net"},
		"b.example.net":                 {"hosts", 2, "0.0.0.0 a.example.net b.example.net"},
		"plain.example.org":             {"hosts", 4, "plain.example.org"},
		"apple.com/url-filter-test":     {},
		"www.apple.com/url-filter-test": {},
	}
	if r.Provenance.Len() != len(r.Keys) || len(r.Keys) != len(want) {
		t.Fatalf("%d origins for %d keys %q, want %d", r.Provenance.Len(), len(r.Keys), r.Keys, len(want))
	}
	var file bytes.Buffer
	if _, err := r.Provenance.WriteTo(&file); err != nil {
		t.Fatal(err)
	}
	for i, k := range r.Keys {
		if got := r.Provenance.Origin(i); got != want[k] {
			t.Errorf("origin of %s = %+v, want %+v", k, got, want[k])
		}
		got, err := LookupOrigin(bytes.NewReader(file.Bytes()), i, len(r.Keys), k)
		if err != nil || got != want[k] {
			t.Errorf("file: origin of %s = %+v, %v; want %+v", k, got, err, want[k])
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(file.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	// Version 2: a rule around its key is a pair defined once ("P 2 ||^",
	// then "@N"), a rule that does not hold the key is written whole.
	for _, line := range []string{"blindlist-provenance 2\n8\n", "\nP 2 ||^\n0 3 @", "\n1 2 @0\n", "\n0 4 =||Upper.Example.com/Path/\n"} {
		if !bytes.Contains(text, []byte(line)) {
			t.Errorf("provenance text lacks %q:\n%s", line, text)
		}
	}
	if got := fmt.Sprint(want["taboola.com"]); got != "easyprivacy.txt:2 '||taboola.com^$third-party'" {
		t.Errorf("Origin.String() = %s", got)
	}
	if _, err := LookupOrigin(bytes.NewReader(file.Bytes()), len(r.Keys), len(r.Keys), "x"); !errors.Is(err, ErrNoOrigin) {
		t.Errorf("index past the end: %v, want ErrNoOrigin", err)
	}
	if _, err := LookupOrigin(bytes.NewReader(file.Bytes()), 0, len(r.Keys)+1, "x"); err == nil {
		t.Error("a file for another number of keys gave no error")
	}
	if _, err := LookupOrigin(strings.NewReader("not gzip"), 0, 1, "x"); err == nil {
		t.Error("a file that is not gzip gave no error")
	}
	truncated := file.Bytes()[:file.Len()/2]
	if _, err := LookupOrigin(bytes.NewReader(truncated), len(r.Keys)-1, len(r.Keys), "x"); err == nil {
		t.Error("a truncated file gave no error")
	}
}

// TestProvenanceAfterRemovals checks that origins stay aligned with the
// keys when allow entries, $badfilter, covered keys and public suffixes
// remove keys from the middle of the set.
func TestProvenanceAfterRemovals(t *testing.T) {
	block := []Source{{Location: "l", Format: FormatABP, Data: []byte(`||a.example.com^
||co.uk^
||sub.a.example.com^
||bad.example.com^
||bad.example.com^$badfilter
||ok.example.com^
||allowed.example.org^
||z.example.net^
`)}}
	allow := []Source{{Location: "allow", Data: []byte("allowed.example.org\n")}}
	r, err := Compile(context.Background(), block, allow, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.example.com", "ok.example.com", "z.example.net"}; !slices.Equal(r.Keys, want) {
		t.Fatalf("keys %q, want %q", r.Keys, want)
	}
	for i, k := range r.Keys {
		if o := r.Provenance.Origin(i); o.Rule != "||"+k+"^" {
			t.Errorf("origin of %s: %+v", k, o)
		}
	}
}

// TestSortedWithOrder checks the sort on both of its paths (small and
// partitioned across two goroutines).
func TestSortedWithOrder(t *testing.T) {
	for _, n := range []int{10, 1 << 15} {
		s := newKeySet()
		var want []string
		for i := range n {
			k := fmt.Sprintf("k%d.example.com", (i*7919)%n)
			s.Add(k, manyOrigins)
			if i%5 == 3 {
				s.Remove(k)
				continue
			}
			want = append(want, k)
		}
		inserted := slices.Clone(s.keys)
		keys, order := s.SortedWithOrder()
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Fatalf("n=%d: keys not sorted or wrong", n)
		}
		for i, o := range order {
			if inserted[o] != keys[i] {
				t.Fatalf("n=%d: order[%d]=%d names %q, key is %q", n, i, o, inserted[o], keys[i])
			}
		}
	}
}

func ExampleLookupOrigin() {
	list := Source{Location: "easyprivacy.txt", Format: FormatABP,
		Data: []byte("! Title: EasyPrivacy\n||taboola.com^$third-party\n||hotjar.com^$third-party\n")}
	r, err := Compile(context.Background(), []Source{list}, nil, Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	var file bytes.Buffer // provenance.txt.gz beside keys.txt
	if _, err := r.Provenance.WriteTo(&file); err != nil {
		fmt.Println(err)
		return
	}
	i := slices.Index(r.Keys, "taboola.com")
	o, err := LookupOrigin(&file, i, len(r.Keys), r.Keys[i])
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("blocked: key %s from %s\n", r.Keys[i], o)
	fmt.Println(r.Report.Rules.Converted)
	// Output:
	// blocked: key taboola.com from easyprivacy.txt:2 '||taboola.com^$third-party'
	// map[abp_party_option:2]
}

// FuzzCompileBalance compiles arbitrary documents in every format and
// checks the report's sums (Report.Balance) and that every key has an
// origin on a line of the document that holds its text.
func FuzzCompileBalance(f *testing.F) {
	for _, name := range []string{"hosts.txt", "abp.txt", "domains.txt", "urls.txt", "urlhaus.csv", "dnsmasq.conf",
		"unbound.conf", "rpz.zone", "filterlists/easylist.txt", "filterlists/easyprivacy.txt", "filterlists/ublock-filters.txt"} {
		b, err := os.ReadFile("../testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(FormatAuto))
		f.Add(b, uint8(FormatABP))
	}
	f.Fuzz(func(t *testing.T, doc []byte, format uint8) {
		fm := Format(format % uint8(FormatRPZ+1))
		if fm == FormatUT1 {
			fm = FormatAuto
		}
		block := []Source{{Location: "doc", Format: fm, Data: doc}}
		allow := []Source{{Location: "allow", Data: []byte("allowed.example.com\n")}}
		r, err := Compile(context.Background(), block, allow, Options{TestIdentity: true})
		if err != nil {
			return // refused encodings and the like
		}
		if err := r.Report.Balance(); err != nil {
			t.Fatal(err)
		}

		if r.Provenance.Len() != len(r.Keys) {
			t.Fatalf("%d origins for %d keys", r.Provenance.Len(), len(r.Keys))
		}
		for i := range r.Keys {
			o := r.Provenance.Origin(i)
			if o.Source == "" {
				if !slices.Contains(TestIdentityKeys, r.Keys[i]) {
					t.Fatalf("key %q has no origin", r.Keys[i])
				}
				continue
			}
			if o.Source != "doc" || o.Line < 1 || !bytes.Contains(doc, []byte(o.Rule)) {
				t.Fatalf("key %q: origin %+v not in the document", r.Keys[i], o)
			}
		}
	})
}

// TestLookupOriginVersions reads hand-written provenance texts of both
// versions: version 1 (the rule in full, as earlier builds wrote it) and
// version 2 (the key itself, an affix pair defined before its first use,
// an inline rule), and refuses malformed pairs and records.
func TestLookupOriginVersions(t *testing.T) {
	gz := func(text string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(text))
		zw.Close()
		return b.Bytes()
	}
	v1 := "blindlist-provenance 1\n3\nS hosts\nS abp\n0 2 0.0.0.0 a.example\n- 0\n1 7\n"
	v2 := "blindlist-provenance 2\n4\nS hosts\nS abp\nP 8 0.0.0.0 \n0 2 @0\nP 2 ||^$third-party\n1 3 @1\n1 4 =||B.Example^\n0 9 @0\n"
	for _, tc := range []struct {
		name, text string
		index, n   int
		key        string
		want       Origin
		wantErr    string
	}{
		{"v1 rule", v1, 0, 3, "a.example", Origin{"hosts", 2, "0.0.0.0 a.example"}, ""},
		{"v1 built in", v1, 1, 3, "apple.com/url-filter-test", Origin{}, ""},
		{"v1 key", v1, 2, 3, "c.example", Origin{"abp", 7, "c.example"}, ""},
		{"v2 pair", v2, 0, 4, "a.example", Origin{"hosts", 2, "0.0.0.0 a.example"}, ""},
		{"v2 second pair", v2, 1, 4, "t.example", Origin{"abp", 3, "||t.example^$third-party"}, ""},
		{"v2 inline", v2, 2, 4, "b.example", Origin{"abp", 4, "||B.Example^"}, ""},
		{"v2 pair used again", v2, 3, 4, "z.example", Origin{"hosts", 9, "0.0.0.0 z.example"}, ""},
		{"v2 undefined pair", "blindlist-provenance 2\n1\nS h\n0 1 @0\n", 0, 1, "k", Origin{}, "bad affix pair"},
		{"v2 bad pair length", "blindlist-provenance 2\n1\nS h\nP 9 ab\n0 1 @0\n", 0, 1, "k", Origin{}, "bad affix pair"},
		{"v2 unknown rule form", "blindlist-provenance 2\n1\nS h\n0 1 rule\n", 0, 1, "k", Origin{}, "bad record"},
		{"version 3", "blindlist-provenance 3\n1\nS h\n0 1\n", 0, 1, "k", Origin{}, "not a blindlist provenance file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LookupOrigin(bytes.NewReader(gz(tc.text)), tc.index, tc.n, tc.key)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %+v, %v; want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
