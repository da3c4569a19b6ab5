package blocklist

import (
	"fmt"
	"net/url"
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
// The strings are lowercased (matching is case-insensitive by default) and
// hosts Punycoded, as keys from [Normalize] are. Public suffixes are not treated
// specially, and for http the port 80 is an inference (client-spec §3.2
// lists both as unknowns).
func SubURLs(visited string) ([]string, error) {
	u, err := url.Parse(visited)
	if err != nil {
		return nil, fmt.Errorf("blocklist: parsing URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("blocklist: URL %q needs an http or https scheme", visited)
	}
	hn := u.Hostname()
	if strings.Contains(hn, ":") {
		hn = "[" + hn + "]"
	}
	host, _, err := NormalizeHost(hn)
	if err != nil {
		return nil, err
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	var hosts []string
	if strings.Contains(host, ":") || isIPv4(host) {
		hosts = []string{host}
	} else {
		labels := strings.Split(host, ".")
		for i := len(labels) - 2; i >= 0; i-- {
			hosts = append(hosts, strings.Join(labels[i:], "."))
		}
	}
	var segs []string
	for s := range strings.SplitSeq(u.EscapedPath(), "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	sfx := []string{"", "/"}
	for j := 1; j <= len(segs); j++ {
		p := "/" + strings.Join(segs[:j], "/")
		sfx = append(sfx, p, p+"/")
	}
	if u.RawQuery != "" || u.ForceQuery {
		full := "/" + strings.Join(segs, "/")
		if len(segs) == 0 {
			full = ""
		}
		for _, base := range []string{full + "/", full} {
			sfx = append(sfx, base+"?"+u.RawQuery)
			if u.Fragment != "" {
				sfx = append(sfx, base+"?"+u.RawQuery+"#"+u.EscapedFragment())
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
