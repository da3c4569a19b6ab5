package blocklist

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Rewrite is a set of changes [Normalize] made to an entry, one bit each.
type Rewrite uint16

// The rewrites [Normalize] reports; each is counted in [Report.Rewritten]
// under the name [Rewrite.Names] gives it.
const (
	RewriteScheme      Rewrite = 1 << iota // "scheme_removed": http:// or https:// dropped
	RewriteLowercase                       // "lowercased"
	RewritePunycode                        // "punycoded": a Unicode host converted to its ASCII form
	RewriteWWW                             // "www_stripped"
	RewriteTrailingDot                     // "trailing_dot_removed": example.com. → example.com
	RewriteDefaultPort                     // "default_port_removed": :443 or :80 dropped
	RewritePath                            // "path_canonicalised": empty, dot or trailing segments removed
	RewriteFragment                        // "fragment_removed": #fragment without a query
	RewriteUserinfo                        // "userinfo_removed": user:pass@ dropped
	RewriteWildcard                        // "wildcard_prefix_removed": *.example.com → example.com
	RewriteEscaped                         // "percent_encoded": bytes a browser escapes (UTF-8, ", <, …) encoded
	rewriteCount       = iota
)

var rewriteNames = [rewriteCount]string{
	"scheme_removed", "lowercased", "punycoded", "www_stripped", "trailing_dot_removed",
	"default_port_removed", "path_canonicalised", "fragment_removed", "userinfo_removed",
	"wildcard_prefix_removed", "percent_encoded",
}

// Names returns the report names of the rewrites in r.
func (r Rewrite) Names() []string {
	var out []string
	for i := range rewriteCount {
		if r&(1<<i) != 0 {
			out = append(out, rewriteNames[i])
		}
	}
	return out
}

// DropError is an entry that [Normalize] cannot turn into a key. Reason is
// the short name it is counted under in [Report.Dropped].
type DropError struct {
	Reason string
	Detail string
}

func (e *DropError) Error() string { return "blocklist: " + e.Detail }

func drop(reason, format string, args ...any) error {
	return &DropError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// MaxKeyBytes caps a key's length. Longer entries are dropped
// ("too_long"): real URLs in lists are far shorter and a PIR keyword this
// long would only waste database space.
const MaxKeyBytes = 2048

// idnaProfile maps a host as a browser's URL parser does before lookup
// (UTS #46 non-transitional), without the STD3 rules, so the underscores
// found in real host names are kept.
var idnaProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.StrictDomainName(false))

// Normalize maps one blocklist entry (a domain, host:port or URL, with or
// without scheme) to a key in the device's key space (client-spec §3.4) and
// reports what it changed. The returned error is a *[DropError] when the
// entry cannot be a key.
//
// Path, query and fragment are percent-encoded as a browser sends them
// (UTF-8 bytes and the characters the WHATWG URL standard escapes in each
// component), then lowercased with the rest of the key, so a list entry
// "example.com/straße" gives the key the device derives from the visited
// URL, "example.com/stra%c3%9fe". Existing escapes are kept as they are
// (only lowercased): the device is not known to decode them.
func Normalize(entry string) (string, Rewrite, error) {
	s := strings.TrimSpace(entry)
	if s == "" {
		return "", 0, drop("empty", "empty entry")
	}
	if isCanonicalHost(s) {
		return s, 0, nil // the common case: a list entry that is already a key
	}
	u, rw, err := splitURL(s)
	if err != nil {
		return "", 0, err
	}
	host, hrw, err := NormalizeHost(u.host)
	if err != nil {
		return "", 0, err
	}
	rw |= hrw
	port := u.port
	if port == "443" || port == "80" {
		port = ""
		rw |= RewriteDefaultPort
	}
	canon, changed := canonicalPath(u.path)
	if changed {
		rw |= RewritePath
	}
	query, fragment := u.query, u.fragment
	hasQuery := query != ""
	if u.hasFragment && (fragment == "" || !hasQuery) {
		fragment = ""
		rw |= RewriteFragment
	}
	var b strings.Builder
	b.Grow(len(host) + len(port) + 1 + len(canon) + len(query) + len(fragment) + 3)
	b.WriteString(host)
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	switch {
	case canon != "":
		b.WriteString(canon)
	case hasQuery:
		b.WriteByte('/') // example.com/?q=1: a browser's path is at least "/"
	}
	if hasQuery {
		b.WriteByte('?')
		b.WriteString(query)
		if fragment != "" {
			b.WriteByte('#')
			b.WriteString(fragment)
		}
	}
	key := b.String()
	if lower := strings.ToLower(key[len(host):]); lower != key[len(host):] {
		key = key[:len(host)] + lower
		rw |= RewriteLowercase
	}
	if len(key) > MaxKeyBytes {
		return "", 0, drop("too_long", "entry is %d bytes, over %d", len(key), MaxKeyBytes)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return "", 0, drop("invalid_character", "entry contains byte %#02x", c)
		}
	}
	return key, rw, nil
}

// urlParts is an entry split the way a URL parser splits it, with path,
// query and fragment already percent-encoded ([encodeComponent]).
type urlParts struct {
	scheme      string // lowercase "http" or "https", or "" when absent
	host, port  string // port "" when absent; IPv6 hosts keep brackets
	path        string
	query       string
	fragment    string
	hasQuery    bool // a "?" was present (the query may be empty)
	hasFragment bool // a "#" was present (the fragment may be empty)
}

// splitURL splits an entry with an optional http(s) scheme (or a
// scheme-relative "//") into its parts, dropping user information. Without
// a scheme an "@" is an error: "abuse@example.com" is an e-mail address, not
// a URL, and must not block example.com. A bare IPv6 address gets brackets.
func splitURL(s string) (urlParts, Rewrite, error) {
	var u urlParts
	var rw Rewrite
	hasScheme := false
	if i := strings.Index(s, "://"); i > 0 && isScheme(s[:i]) {
		switch strings.ToLower(s[:i]) {
		case "http":
			u.scheme = "http"
		case "https":
			u.scheme = "https"
		default:
			return u, 0, drop("unsupported_scheme", "scheme %q is not http or https", s[:i])
		}
		s = s[i+3:]
		rw |= RewriteScheme
		hasScheme = true
	} else if strings.HasPrefix(s, "//") {
		s = s[2:]
		rw |= RewriteScheme
		hasScheme = true
	}
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	authority, rest := s[:end], s[end:]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest, u.fragment, u.hasFragment = rest[:i], rest[i+1:], true
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, u.query, u.hasQuery = rest[:i], rest[i+1:], true
	}
	var e1, e2, e3 bool
	u.path, e1 = encodeComponent(rest, pathEscapes)
	u.query, e2 = encodeComponent(u.query, queryEscapes)
	u.fragment, e3 = encodeComponent(u.fragment, fragmentEscapes)
	if e1 || e2 || e3 {
		rw |= RewriteEscaped
	}
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		if !hasScheme {
			return u, 0, drop("invalid_host", "entry %q has a user name but no scheme (an e-mail address?)", authority)
		}
		authority = authority[at+1:]
		rw |= RewriteUserinfo
	}
	if strings.Count(authority, ":") >= 2 && authority[0] != '[' {
		if addr, err := netip.ParseAddr(authority); err == nil && addr.Is6() {
			authority = "[" + authority + "]"
		}
	}
	var err error
	u.host, u.port, err = splitHostPort(authority)
	return u, rw, err
}

// The bytes below 0x80 a browser percent-encodes in each URL component
// besides C0 controls and space, which never reach a key (WHATWG URL
// Standard §1.3: the path, special-query and fragment percent-encode sets).
// Bytes from 0x80 up (UTF-8) are encoded in every component.
const (
	pathEscapes     = "\"<>`{}"
	queryEscapes    = "\"<>'"
	fragmentEscapes = "\"<>`"
)

// encodeComponent percent-encodes the bytes of s from 0x80 up and those in
// escapes, with uppercase hex as browsers write it (keys are lowercased
// later), and whether it changed s. Existing escapes are left alone, so the
// encoding is idempotent.
func encodeComponent(s, escapes string) (string, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || strings.IndexByte(escapes, c) >= 0 {
			n++
		}
	}
	if n == 0 {
		return s, false
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || strings.IndexByte(escapes, c) >= 0 {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b), true
}

// splitHostPort separates an optional :port; IPv6 literals keep brackets.
func splitHostPort(a string) (host, port string, err error) {
	if strings.HasPrefix(a, "[") {
		i := strings.IndexByte(a, ']')
		if i < 0 {
			return "", "", drop("invalid_host", "unterminated IPv6 literal %q", a)
		}
		host, a = a[:i+1], a[i+1:]
		if a == "" {
			return host, "", nil
		}
		if a[0] != ':' {
			return "", "", drop("invalid_host", "junk after IPv6 literal %q", a)
		}
		port = a[1:]
	} else if i := strings.LastIndexByte(a, ':'); i >= 0 {
		host, port = a[:i], a[i+1:]
	} else {
		return a, "", nil
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 || port[0] == '0' {
		return "", "", drop("invalid_port", "port %q is not a number in 1..65535", port)
	}
	return host, port, nil
}

// NormalizeHost lowercases host, converts Unicode labels to Punycode,
// removes a trailing dot, a leading "*." and one leading "www.", and checks
// the label syntax. IP literals are kept as they are (IPv4 dotted,
// IPv6 in brackets). Single-label names cannot be keys (the device never
// tests a bare TLD) and are dropped.
func NormalizeHost(host string) (string, Rewrite, error) {
	var rw Rewrite
	if host == "" {
		return "", 0, drop("invalid_host", "empty host")
	}
	if host[0] == '[' {
		addr, err := netip.ParseAddr(strings.Trim(host, "[]"))
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return "", 0, drop("invalid_host", "bad IPv6 literal %q", host)
		}
		return "[" + addr.String() + "]", 0, nil
	}
	if strings.HasSuffix(host, ".") {
		host = host[:len(host)-1]
		rw |= RewriteTrailingDot
	}
	if strings.HasPrefix(host, "*.") {
		host = host[2:]
		rw |= RewriteWildcard
	}
	ascii := true
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		if !utf8.ValidString(host) {
			return "", 0, drop("invalid_host", "host %q is not valid UTF-8", host)
		}
		a, err := idnaProfile.ToASCII(host)
		if err != nil {
			return "", 0, drop("invalid_host", "host %q: %v", host, errors.Unwrap(err))
		}
		host = a
		rw |= RewritePunycode
	}
	if lower := strings.ToLower(host); lower != host {
		host = lower
		rw |= RewriteLowercase
	}
	if len(host) > 253 {
		return "", 0, drop("invalid_host", "host is %d bytes, over 253", len(host))
	}
	if addr, err := netip.ParseAddr(host); err == nil && addr.Is4() {
		return host, rw, nil
	}
	if isNumeric(host[strings.LastIndexByte(host, '.')+1:]) {
		// A URL parser reads such a host as an IPv4 address in some
		// other notation (1.2.3, 0x7f.0.0.1, 010.0.0.1) or rejects it; no
		// top-level domain is numeric (RFC 3696 §2).
		return "", 0, drop("invalid_host", "host %q ends in a numeric label but is not a dotted-quad IPv4 address", host)
	}
	labels := 0
	for l := range strings.SplitSeq(host, ".") {
		labels++
		if l == "" || len(l) > 63 {
			return "", 0, drop("invalid_host", "host %q has an empty or over-long label", host)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				if c == '*' {
					return "", 0, drop("wildcard", "host %q has a wildcard", host)
				}
				return "", 0, drop("invalid_host", "host %q has character %q", host, c)
			}
		}
	}
	if strings.HasPrefix(host, "www.") && labels > 2 {
		host = host[4:]
		labels--
		rw |= RewriteWWW
	}
	if labels < 2 {
		return "", 0, drop("single_label", "host %q has one label", host)
	}
	return host, rw, nil
}

// canonicalPath returns "/seg1/seg2…" with empty and "." segments removed
// and ".." applied, or "" for an empty path, and whether that changed path.
func canonicalPath(p string) (string, bool) {
	if p == "" {
		return "", false
	}
	clean := true
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			clean = false
			break
		}
	}
	if clean {
		return p, false
	}
	var segs []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, seg)
		}
	}
	if len(segs) == 0 {
		return "", true
	}
	return "/" + strings.Join(segs, "/"), true
}

// isNumeric reports whether s is a non-empty run of ASCII digits.
func isNumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isScheme reports whether s has URL scheme syntax (RFC 3986 §3.1).
func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// isCanonicalHost reports whether s is already a normalised host-only key:
// lowercase ASCII labels of 1–63 bytes from [a-z0-9_-], at least two
// labels, at most 253 bytes, no leading "www." or "*.". Such entries skip
// the general path and its allocations. A numeric last label (an IPv4
// address, or an invalid host) takes the general path.
func isCanonicalHost[T ~string | ~[]byte](s T) bool {
	if len(s) > 253 || len(s) >= 4 && s[0] == 'w' && s[1] == 'w' && s[2] == 'w' && s[3] == '.' {
		return false
	}
	dots, label, letters := 0, 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z' || c == '-' || c == '_':
			letters++
			fallthrough
		case c >= '0' && c <= '9':
			label++
			if label > 63 {
				return false
			}
		case c == '.':
			if label == 0 {
				return false
			}
			dots++
			label, letters = 0, 0
		default:
			return false
		}
	}
	return dots > 0 && label > 0 && letters > 0
}
