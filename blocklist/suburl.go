package blocklist

import (
	"errors"
	"fmt"
	"strings"
)

// SubURLs returns the strings the device tests against the prefilter for a
// visited URL, in the device's order, as Apple documents the default
// configuration (client-spec §3.1–3.2): the host without "www." and each
// parent down to two labels (never the bare TLD), each with and without its
// port (the scheme's default when none is given: 443 for https, 80 for
// http), each followed by "", "/", every path prefix with and without a
// trailing "/", and, when there is a query, the full path with and without
// "/" before "?query" (and "#fragment" when present).
//
// The URL is split and encoded exactly as [Normalize] splits and encodes a
// list entry (Punycode host, percent-encoded path, query and fragment, dot
// segments resolved), and the strings are lowercased (matching is
// case-insensitive by default), so a key [Normalize] makes from a URL is
// among that URL's sub-URLs. Public suffixes are not treated specially, and
// for http the port 80 is an inference (client-spec §3.2 lists both as
// unknowns).
func SubURLs(visited string) ([]string, error) {
	s := strings.TrimSpace(visited)
	if i := strings.Index(s, "://"); i <= 0 || !isScheme(s[:i]) {
		return nil, fmt.Errorf("blocklist: URL %q needs an http or https scheme", visited)
	}
	u, _, err := splitURL(s)
	if err == nil && u.scheme == "" {
		err = errors.New("not an http or https URL")
	}
	if err != nil {
		return nil, fmt.Errorf("blocklist: URL %q: %w", visited, err)
	}
	host, _, err := NormalizeHost(u.host)
	if err != nil {
		return nil, err
	}
	port := u.port
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.scheme]
	}
	var hosts []string
	if strings.HasPrefix(host, "[") || isIPv4(host) {
		hosts = []string{host}
	} else {
		labels := strings.Split(host, ".")
		for i := len(labels) - 2; i >= 0; i-- {
			hosts = append(hosts, strings.Join(labels[i:], "."))
		}
	}
	canon, _ := canonicalPath(u.path)
	var segs []string
	if canon != "" {
		segs = strings.Split(canon[1:], "/")
	}
	sfx := []string{"", "/"}
	for j := 1; j <= len(segs); j++ {
		p := "/" + strings.Join(segs[:j], "/")
		sfx = append(sfx, p, p+"/")
	}
	if u.hasQuery {
		for _, base := range []string{canon + "/", canon} {
			sfx = append(sfx, base+"?"+u.query)
			if u.fragment != "" {
				sfx = append(sfx, base+"?"+u.query+"#"+u.fragment)
			}
		}
	}
	out := make([]string, 0, 2*len(hosts)*len(sfx))
	for _, h := range hosts {
		for _, hv := range []string{h, h + ":" + port} {
			for _, s := range sfx {
				out = append(out, strings.ToLower(hv+s))
			}
		}
	}
	return out, nil
}
