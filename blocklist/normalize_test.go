package blocklist

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		rw       Rewrite
	}{
		{"example.com", "example.com", 0},
		{"Example.COM", "example.com", RewriteLowercase},
		{"www.example.com", "example.com", RewriteWWW},
		{"www.www.example.com", "www.example.com", RewriteWWW},
		{"www.com", "www.com", 0},
		{"https://www.example.com/", "example.com", RewriteScheme | RewriteWWW | RewritePath},
		{"http://example.com:80/a", "example.com/a", RewriteScheme | RewriteDefaultPort},
		{"example.com:8443/a", "example.com:8443/a", 0},
		{"example.com./a/", "example.com/a", RewriteTrailingDot | RewritePath},
		{"example.com/a//b/./c/../d", "example.com/a/b/d", RewritePath},
		{"example.com/A/B?X=1#Frag", "example.com/a/b?x=1#frag", RewriteLowercase},
		{"example.com/a#frag", "example.com/a", RewriteFragment},
		{"example.com?q=1", "example.com/?q=1", 0},
		{"example.com/a?", "example.com/a", 0},
		{"user:pw@example.com/x", "example.com/x", RewriteUserinfo},
		{"bücher.example", "xn--bcher-kva.example", RewritePunycode},
		{"BÜCHER.example", "xn--bcher-kva.example", RewritePunycode},
		{"*.example.org", "example.org", RewriteWildcard},
		{"198.51.100.7:8080/bins/mips", "198.51.100.7:8080/bins/mips", 0},
		{"http://[2001:DB8::1]/x", "[2001:db8::1]/x", RewriteScheme},
		{"_dmarc.example.com", "_dmarc.example.com", 0},
		{"example.com/%2Fpath", "example.com/%2fpath", RewriteLowercase},
	} {
		got, rw, err := Normalize(tc.in)
		if err != nil || got != tc.want || rw != tc.rw {
			t.Errorf("Normalize(%q) = %q, %v, %v; want %q, %v", tc.in, got, rw.Names(), err, tc.want, tc.rw.Names())
		}
	}
}

func TestNormalizeDrops(t *testing.T) {
	for _, tc := range []struct{ in, reason string }{
		{"", "empty"},
		{"localhost", "single_label"},
		{"ftp://example.com/x", "unsupported_scheme"},
		{"bad_host!.example.com", "invalid_host"},
		{"ads*.example.com", "wildcard"},
		{"example.com:99999", "invalid_port"},
		{"example.com:0", "invalid_port"},
		{"a..example.com", "invalid_host"},
		{strings.Repeat("a", 64) + ".com", "invalid_host"},
		{"example.com/" + strings.Repeat("x", MaxKeyBytes), "too_long"},
		{"example.com/a\"b", "invalid_character"},
		{"[::1", "invalid_host"},
	} {
		_, _, err := Normalize(tc.in)
		var de *DropError
		if !errors.As(err, &de) || de.Reason != tc.reason {
			t.Errorf("Normalize(%q) error = %v, want reason %s", tc.in, err, tc.reason)
		}
	}
}

// The 48 sub-URLs of the current NEURLFilterManager documentation
// (client-spec §3.1), in order.
func TestSubURLsAppleExample(t *testing.T) {
	sfx := []string{"", "/", "/a", "/a/", "/a/b", "/a/b/", "/a/b/c", "/a/b/c/",
		"/a/b/c/?id=123", "/a/b/c/?id=123#fragment", "/a/b/c?id=123", "/a/b/c?id=123#fragment"}
	var want []string
	for _, h := range []string{"example.com", "example.com:443", "sub1.example.com", "sub1.example.com:443"} {
		for _, s := range sfx {
			want = append(want, h+s)
		}
	}
	got, err := SubURLs("https://www.sub1.example.com/a/b/c?id=123#fragment")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 48 || !slices.Equal(got, want) {
		t.Errorf("SubURLs gave %d strings:\n%s\nwant:\n%s", len(got), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSubURLsEdges(t *testing.T) {
	got, err := SubURLs("http://Example.COM:8080")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"example.com", "example.com/", "example.com:8080", "example.com:8080/"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	got, _ = SubURLs("https://bücher.example/")
	if got[0] != "xn--bcher-kva.example" {
		t.Errorf("IDN host: got %v", got)
	}
	if _, err := SubURLs("ftp://example.com/"); err == nil {
		t.Error("ftp URL accepted")
	}
	if _, err := SubURLs("https://[::1]/x"); err != nil {
		t.Errorf("IPv6 URL: %v", err)
	}
	// Every key Normalize makes from a URL is among that URL's sub-URLs.
	for _, u := range []string{"https://www.ads.example.com/x/y?z=1#f", "http://example.org:8080/a/", "https://example.net/?q=1"} {
		key, _, err := Normalize(u)
		if err != nil {
			t.Fatal(err)
		}
		subs, _ := SubURLs(u)
		if !slices.Contains(subs, key) {
			t.Errorf("key %q of %s is not among its sub-URLs %v", key, u, subs)
		}
	}
}

func TestAncestors(t *testing.T) {
	collect := func(k string) []string {
		var out []string
		ancestors(k, func(a string) bool { out = append(out, a); return false })
		return out
	}
	for _, tc := range []struct {
		key  string
		want []string
	}{
		{"example.com", nil},
		{"a.b.example.com", []string{"b.example.com", "example.com"}},
		{"example.com/a/b", []string{"example.com", "example.com/a"}},
		{"sub.example.com:8080/a", []string{"sub.example.com:8080", "sub.example.com", "example.com:8080", "example.com",
			"example.com:8080/a", "example.com/a", "sub.example.com/a"}},
		{"example.com/a?q=1#f", []string{"example.com", "example.com/a", "example.com/a?q=1"}},
		{"198.51.100.7/x", []string{"198.51.100.7"}},
	} {
		got := collect(tc.key)
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("ancestors(%q) = %v, want %v", tc.key, got, want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"example.com", "https://www.Example.com:443/a//b?q#f", "bücher.example", "[::1]:80", "*.x.y", "a@b@c.d/e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, _, err := Normalize(s)
		if err != nil {
			var de *DropError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a DropError", err)
			}
			return
		}
		// Keys are fixed points.
		again, rw, err := Normalize(key)
		if err != nil || again != key {
			t.Fatalf("Normalize(%q) = %q; again = %q, %v, %v", s, key, again, rw.Names(), err)
		}
	})
}

func FuzzSubURLs(f *testing.F) {
	f.Add("https://www.sub1.example.com/a/b/c?id=123#fragment")
	f.Add("http://[::1]:8080/?")
	f.Fuzz(func(t *testing.T, s string) {
		subs, err := SubURLs(s)
		if err == nil && len(subs) == 0 {
			t.Fatalf("SubURLs(%q) returned nothing", s)
		}
	})
}
