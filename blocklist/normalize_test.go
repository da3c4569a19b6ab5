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
		{"http://user:pw@example.com/x", "example.com/x", RewriteScheme | RewriteUserinfo},
		{"http://a@b@example.com/x", "example.com/x", RewriteScheme | RewriteUserinfo},
		{"bücher.example", "xn--bcher-kva.example", RewritePunycode},
		{"BÜCHER.example", "xn--bcher-kva.example", RewritePunycode},
		{"*.example.org", "example.org", RewriteWildcard},
		{"198.51.100.7:8080/bins/mips", "198.51.100.7:8080/bins/mips", 0},
		{"http://[2001:DB8::1]/x", "[2001:db8::1]/x", RewriteScheme},
		{"_dmarc.example.com", "_dmarc.example.com", 0},
		{"example.com/%2Fpath", "example.com/%2fpath", RewriteLowercase},
		// Mixed case, trailing dots, ports.
		{"EXAMPLE.COM", "example.com", RewriteLowercase},
		{"Example.com.", "example.com", RewriteLowercase | RewriteTrailingDot},
		{"example.com:443", "example.com", RewriteDefaultPort},
		{"https://example.com:80/x", "example.com/x", RewriteScheme | RewriteDefaultPort},
		{"HTTPS://Example.com", "example.com", RewriteScheme | RewriteLowercase},
		{"//example.com/x", "example.com/x", RewriteScheme},
		// www. handling: one leading www. only, never down to a single label.
		{"WWW.Example.com", "example.com", RewriteLowercase | RewriteWWW},
		{"www.example.com.", "example.com", RewriteWWW | RewriteTrailingDot},
		{"www2.example.com", "www2.example.com", 0},
		{"wwwexample.com", "wwwexample.com", 0},
		// IDNs: UTS #46 mapping (fullwidth, ideographic full stop, ß kept).
		{"münchen.de", "xn--mnchen-3ya.de", RewritePunycode},
		{"XN--MNCHEN-3YA.de", "xn--mnchen-3ya.de", RewriteLowercase},
		{"faß.de", "xn--fa-hia.de", RewritePunycode},
		{"ＥＸＡＭＰＬＥ.com", "example.com", RewritePunycode},
		{"example。com", "example.com", RewritePunycode},
		{"https://www.bücher.example/Straße?q=ä#ü", "xn--bcher-kva.example/stra%c3%9fe?q=%c3%a4#%c3%bc",
			RewriteScheme | RewritePunycode | RewriteWWW | RewriteLowercase | RewriteEscaped},
		// IP literals.
		{"192.0.2.1", "192.0.2.1", 0},
		{"192.0.2.1:80/x", "192.0.2.1/x", RewriteDefaultPort},
		{"[::1]", "[::1]", 0},
		{"2001:db8::1", "[2001:db8::1]", 0},
		{"http://[2001:db8:0::1]:8080/", "[2001:db8::1]:8080", RewriteScheme | RewritePath},
		// Percent-encoding: escapes kept (lowercased), raw bytes a browser
		// would escape encoded.
		{"example.com/%41", "example.com/%41", 0},
		{"example.com/a\"b", "example.com/a%22b", RewriteEscaped},
		{"example.com/<x>?q='1'", "example.com/%3cx%3e?q=%271%27", RewriteLowercase | RewriteEscaped},
		{"example.com/{a}`#f", "example.com/%7ba%7d%60", RewriteLowercase | RewriteFragment | RewriteEscaped},
		{"example.com/ä", "example.com/%c3%a4", RewriteLowercase | RewriteEscaped},
		{"::1", "[::1]", 0},
		// Queries and fragments.
		{"example.com/?", "example.com", RewritePath},
		{"example.com#", "example.com", RewriteFragment},
		{"example.com/a?q=1#", "example.com/a?q=1", RewriteFragment},
		{"example.com/a/?q=1", "example.com/a?q=1", RewritePath},
		{"example.com/a/../../b", "example.com/b", RewritePath},
		{"example.com/./", "example.com", RewritePath},
		{"example.com\r", "example.com", 0},
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
		{"[::1", "invalid_host"},
		{"example.com/a\\b", "invalid_character"},
		{"example.com/a\x01b", "invalid_character"},
		// An e-mail address must not block its domain.
		{"abuse@example.com", "invalid_host"},
		{"user:pw@example.com/x", "invalid_host"},
		// Invalid UTF-8 is not Punycoded into a made-up name.
		{"exa\xffmple.com", "invalid_host"},
		{"\xff\xfe0\x000\x00", "invalid_host"},
		// A numeric last label is an IPv4 address in another notation or
		// nothing; no TLD is numeric.
		{"256.1.1.1", "invalid_host"},
		{"1.2.3", "invalid_host"},
		{"010.1.1.1", "invalid_host"},
		{"0x7f.0.0.1", "invalid_host"},
		{"[fe80::1%25eth0]/", "invalid_host"},
		{"example.com..", "invalid_host"},
		{".example.com", "invalid_host"},
		{"\x00example.com", "invalid_host"},
		{"example.com:", "invalid_port"},
		{"http:example.com", "invalid_port"},
		{"mailto:x@example.com", "invalid_host"},
		{"*example.com", "wildcard"},
		{"*.*.example.com", "wildcard"},
		{"example.*", "wildcard"},
		{"ip6-localhost", "single_label"},
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

// TestSubURLsEncoding checks that SubURLs encodes and resolves a visited
// URL the way Normalize treats a list entry, so the two always agree.
func TestSubURLsEncoding(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://example.com/Straße", "example.com/stra%c3%9fe"},
		{"https://example.com/stra%C3%9Fe", "example.com/stra%c3%9fe"},
		{"https://example.com/a/./b/../c", "example.com/a/c"},
		{"https://example.com/p?q=ä'", "example.com/p?q=%c3%a4%27"},
		{"https://example.com/p?q=1#ü", "example.com/p?q=1#%c3%bc"},
		{"https://münchen.de/", "xn--mnchen-3ya.de"},
		{"http://[2001:db8::1]:8080/x", "[2001:db8::1]:8080/x"},
		{"https://user:pw@www.Example.com./x", "example.com/x"},
	} {
		subs, err := SubURLs(tc.url)
		if err != nil || !slices.Contains(subs, tc.want) {
			t.Errorf("SubURLs(%q) = %q, %v; want it to contain %q", tc.url, subs, err, tc.want)
		}
	}
	for _, bad := range []string{"example.com/x", "ftp://example.com/", "https://exa\xffmple.com/", "https://example.com:99999/"} {
		if subs, err := SubURLs(bad); err == nil {
			t.Errorf("SubURLs(%q) = %q, want an error", bad, subs)
		}
	}
}

// keyAmongSubURLs fails when Normalize and SubURLs both accept an http(s)
// URL but the key is not among the sub-URLs: the device would never look
// up such a key.
func keyAmongSubURLs(t *testing.T, u string) {
	key, _, err := Normalize(u)
	if err != nil {
		return
	}
	subs, err := SubURLs(u)
	if err != nil {
		return
	}
	if !slices.Contains(subs, key) {
		t.Errorf("key %q of %q is not among its sub-URLs %q", key, u, subs)
	}
}

func TestNormalizeKeyAmongSubURLs(t *testing.T) {
	for _, u := range []string{
		"https://www.ads.example.com/x/y?z=1#f", "http://example.org:8080/a/", "https://example.net/?q=1",
		"https://www.bücher.example/Straße?q=ä#ü", "https://example.com/a//b/./c/../d", "http://example.com:80/a#f",
		"https://example.com/<x>?q='1'", "https://example.com/{a}`?b=`#`", "http://[2001:db8::1]:8080/x?y",
		"https://example.com/%41/%zz", "https://example.com/a?", "https://example.com/a?q#",
	} {
		keyAmongSubURLs(t, u)
	}
}

func FuzzNormalizeKeyAmongSubURLs(f *testing.F) {
	for _, s := range []string{"https://www.Example.com:443/a//b?q#f", "http://bücher.example/ü?ä#ö", "https://[::1]:80/%41"} {
		f.Add(s)
	}
	f.Fuzz(keyAmongSubURLs)
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
