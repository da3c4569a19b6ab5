package blocklist

import (
	"context"
	"slices"
	"testing"
)

func TestPublicSuffixHost(t *testing.T) {
	for _, tc := range []struct {
		key           string
		suffix, icann bool
	}{
		{"co.uk", true, true},
		{"gov.uk", true, true},
		{"co.uk/login", true, true},
		{"co.uk:8443", true, true},
		{"foo.kawasaki.jp", true, true},        // wildcard rule *.kawasaki.jp
		{"city.kawasaki.jp", false, true},      // exception rule !city.kawasaki.jp
		{"github.io", true, false},             // private section
		{"blogspot.com:8080/x", true, false},   // private, with port and path
		{"s3.amazonaws.com", true, false},      // private, three labels
		{"user.github.io", false, false},       // a registrable domain under it
		{"bbc.co.uk", false, true},             //
		{"www.com", false, true},               // a real site, not the TLD
		{"example.com/co.uk", false, true},     // only the host counts
		{"example.unknowntld", false, false},   // the default rule * is not a listed suffix
		{"192.0.2.1", false, false},            // IP literals never are
		{"[2001:db8::1]:8080/a", false, false}, //
	} {
		suffix, icann := publicSuffixHost(tc.key)
		if suffix != tc.suffix || suffix && icann != tc.icann {
			t.Errorf("%s: suffix %v icann %v, want %v %v", tc.key, suffix, icann, tc.suffix, tc.icann)
		}
	}
}

// TestCompilePublicSuffixes compiles a list of real public-suffix entries
// under each policy and checks the keys, the drop counts and the report.
func TestCompilePublicSuffixes(t *testing.T) {
	list := []Source{{Location: "l", Data: []byte(`www.co.uk
bbc.co.uk
0.0.0.0 github.io
user.github.io
||duckdns.org^
gov.uk/login
https://blogspot.com:8080/x
com
www.com
example.com
foo.kawasaki.jp
city.kawasaki.jp
`)}}
	// A kept suffix covers the keys below it like any parent
	// (user.github.io under github.io, bbc.co.uk under co.uk).
	// Keys with a path on a suffix (gov.uk/login, blogspot.com:8080/x) are
	// kept under every policy: they block that path on every site under
	// it, as the rule says.
	kept := []string{"bbc.co.uk", "blogspot.com:8080/x", "city.kawasaki.jp", "example.com", "gov.uk/login", "user.github.io", "www.com"}
	private := []string{"duckdns.org", "github.io"}
	for _, tc := range []struct {
		policy           SuffixPolicy
		keys             []string
		icann, private   int
		listed, keptKeys int
	}{
		{DropSuffixes, kept, 2, 2, 4, 0},
		{KeepPrivateSuffixes, []string{"bbc.co.uk", "blogspot.com:8080/x", "city.kawasaki.jp", "duckdns.org", "example.com",
			"github.io", "gov.uk/login", "www.com"}, 2, 0, 4, 2},
		{KeepSuffixes, []string{"blogspot.com:8080/x", "city.kawasaki.jp", "co.uk", "duckdns.org", "example.com",
			"foo.kawasaki.jp", "github.io", "gov.uk/login", "www.com"}, 0, 0, 4, 4},
	} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			r, err := Compile(context.Background(), list, nil, Options{PublicSuffixes: tc.policy})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Keys, tc.keys) {
				t.Errorf("keys %q, want %q", r.Keys, tc.keys)
			}
			d := r.Report.Dropped
			if d["public_suffix"] != tc.icann || d["private_suffix"] != tc.private || d["single_label"] != 1 {
				t.Errorf("dropped %v, want public_suffix %d private_suffix %d single_label 1", d, tc.icann, tc.private)
			}
			if r.Report.SuffixPathKeys != 2 {
				t.Errorf("%d path keys on a suffix counted, want 2 (gov.uk/login, blogspot.com:8080/x)", r.Report.SuffixPathKeys)
			}
			if err := r.Report.Balance(); err != nil {
				t.Error(err)
			}
			if r.Report.SuffixKeyCount != tc.listed || len(r.Report.SuffixKeys) != tc.listed || r.Report.SuffixKeysKept != tc.keptKeys {
				t.Errorf("report lists %d of %d suffix keys, %d kept; want %d, %d kept",
					len(r.Report.SuffixKeys), r.Report.SuffixKeyCount, r.Report.SuffixKeysKept, tc.listed, tc.keptKeys)
			}
			for _, sk := range r.Report.SuffixKeys {
				if slices.Contains(r.Keys, sk.Key) == sk.Dropped {
					t.Errorf("report says %s dropped=%v, keys disagree", sk.Key, sk.Dropped)
				}
				if wantSection := map[bool]string{true: "private", false: "icann"}[slices.Contains(private, sk.Key)]; sk.Section != wantSection {
					t.Errorf("%s: section %q, want %q", sk.Key, sk.Section, wantSection)
				}
			}
		})
	}
}

func TestParseSuffixPolicy(t *testing.T) {
	for _, p := range []SuffixPolicy{DropSuffixes, KeepPrivateSuffixes, KeepSuffixes} {
		if got, err := ParseSuffixPolicy(p.String()); err != nil || got != p {
			t.Errorf("%v: got %v, %v", p, got, err)
		}
	}
	if _, err := ParseSuffixPolicy("off"); err == nil {
		t.Error(`"off": no error`)
	}
}
