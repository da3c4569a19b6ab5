package blocklist

import (
	"fmt"
	"net/netip"
	"strings"
)

// This file reads the blocklist formats of DNS resolvers: dnsmasq
// configuration, Unbound local zones and response policy zones (RPZ). Each
// blocking rule names a domain whose whole subtree the resolver blocks, so
// each gives the domain as an entry, exactly as a plain domain or an
// AdBlock ||domain^ rule does: the device tests every parent domain of a
// visited host, so the key example.com covers sub.example.com too.
//
// Answers that redirect rather than block (an address other than the
// unspecified or loopback one, a CNAME to another name) are skipped as
// "dns_redirect": safe-search lists are written this way, and blocking
// www.google.com because a list points it at forcesafesearch.google.com
// would be wrong. Rules that exempt a name from a broader rule (dnsmasq
// server=/d/#, Unbound transparent zones, RPZ rpz-passthru.) are exception
// entries, applied like an AdBlock @@||d^ rule: parent-aware, to the keys of
// every block source.

// isSinkholeAddr reports whether a DNS answer of this address blocks rather
// than redirects: the unspecified address (0.0.0.0, ::) or a loopback one
// (127.0.0.0/8, ::1), as hosts files use them.
func isSinkholeAddr(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && (a.IsUnspecified() || a.IsLoopback())
}

// dnsName turns a domain pattern of a DNS format into an entry: a leading
// "*." (the subdomains, which the device's parent walk covers through the
// domain itself) and a trailing root dot are syntax, not part of the name.
// A pattern that matches names the key space cannot express (every name,
// or a label that only ends in the pattern) gives ok false.
func dnsName(pattern string) (name string, ok bool) {
	name = strings.TrimSuffix(pattern, ".")
	name = strings.TrimPrefix(name, "*.")
	if name == "" || name == "*" || name == "#" || strings.Contains(name, "*") {
		return "", false
	}
	return name, true
}

// parseDnsmasqLine reads one line of a dnsmasq configuration file
// (dnsmasq(8), --address and --server). Blocking rules:
//
//	address=/example.com/            NXDOMAIN for example.com and its subdomains
//	address=/example.com/#           the null addresses 0.0.0.0 and ::
//	address=/example.com/0.0.0.0     (or ::, 127.0.0.1, ::1)
//	server=/example.com/             answered locally only: NXDOMAIN
//	local=/example.com/              local is a synonym of server
//
// Several domains may share one rule (address=/a.com/b.net/#). A leading
// dot (/.example.com/) is the old spelling of the same rule, and
// /*.example.com/ matches the subdomains. server=/d/# sends d back to the
// ordinary upstream servers, exempting it from a broader rule: an
// exception entry. Rules that forward (server=/d/192.0.2.1), redirect
// (address=/d/192.0.2.1), or match every domain (/#/) or a partial label
// (/*example.com/) are skipped; other directives are counted as
// "dnsmasq_directive". As in dnsmasq, "#" starts a comment only at the
// start of a line.
func parseDnsmasqLine(line string) lineResult {
	if line == "" || line[0] == '#' {
		return skipped("comment")
	}
	key, val, _ := strings.Cut(line, "=")
	key = strings.TrimSpace(key)
	if key != "address" && key != "server" && key != "local" || !strings.HasPrefix(val, "/") {
		return skipped("dnsmasq_directive")
	}
	if strings.ContainsAny(val, " \t") {
		return lineResult{err: fmt.Errorf("dnsmasq %s rule contains whitespace", key)}
	}
	parts := strings.Split(val[1:], "/")
	if len(parts) < 2 {
		return lineResult{err: fmt.Errorf("dnsmasq %s rule has no closing '/'", key)}
	}
	target, domains := parts[len(parts)-1], parts[:len(parts)-1]
	allow := false
	switch {
	case target == "":
	case key == "address" && (target == "#" || isSinkholeAddr(target)):
	case key == "address":
		return skipped("dns_redirect")
	case target == "#":
		allow = true // server=/d/#: use the standard servers
	default:
		return skipped("dnsmasq_forward")
	}
	res := lineResult{allow: allow, entries: make([]string, 0, len(domains))}
	for _, d := range domains {
		name, ok := dnsName(strings.TrimPrefix(d, "."))
		if !ok {
			return skipped("dns_wildcard")
		}
		res.entries = append(res.entries, name)
	}
	return res
}

// unboundBlockingZones are the Unbound local-zone types that answer every
// name in the zone without resolving it (unbound.conf(5), local-zone):
// with no answer, REFUSED, NXDOMAIN, NODATA or the null address.
var unboundBlockingZones = map[string]bool{
	"deny": true, "refuse": true, "static": true, "inform_deny": true,
	"always_refuse": true, "always_nxdomain": true, "always_null": true, "always_deny": true, "always_nodata": true,
}

// unboundPassZones resolve the zone normally: below a blocking zone they
// exempt it, so in a block list they are exception entries.
var unboundPassZones = map[string]bool{
	"transparent": true, "typetransparent": true, "always_transparent": true, "inform": true,
}

// unboundOtherZones neither block nor exempt: redirect and inform_redirect
// answer with the zone's local-data (read from its own lines), block_a
// only hides IPv4, nodefault and noview only switch defaults off.
var unboundOtherZones = map[string]bool{
	"redirect": true, "inform_redirect": true, "block_a": true, "nodefault": true, "noview": true,
}

// parseUnboundLine reads one line of an Unbound configuration
// (unbound.conf(5)):
//
//	local-zone: "example.com." always_nxdomain   (or refuse, static, deny, always_null, …)
//	local-data: "example.com. A 0.0.0.0"         (A or AAAA, unspecified or loopback)
//
// A blocking zone covers its subdomains, as the key does. local-data
// answers for the one name only, but its key covers the subdomains as a
// hosts-file entry's does. Zones of type transparent, typetransparent,
// always_transparent and inform are exception entries; redirect zones take
// their answer from their local-data lines, which are read on their own.
// The server: clause header is a comment; other directives are counted as
// "unbound_directive". "#" starts a comment outside quotes.
func parseUnboundLine(line string) lineResult {
	line = stripUnboundComment(line)
	if line == "" {
		return skipped("comment")
	}
	key, val, ok := strings.Cut(line, ":")
	if !ok {
		return lineResult{err: fmt.Errorf("unbound line is not 'name: value'")}
	}
	val = strings.TrimSpace(val)
	switch strings.TrimSpace(key) {
	case "server", "remote-control", "forward-zone", "stub-zone", "auth-zone", "view", "rpz":
		if val == "" {
			return skipped("comment") // a clause header
		}
		return skipped("unbound_directive")
	case "local-zone":
		return parseUnboundZone(val)
	case "local-data":
		return parseUnboundData(val)
	case "local-data-ptr":
		return skipped("unbound_local_data")
	}
	return skipped("unbound_directive")
}

// parseUnboundZone reads the value of a local-zone directive.
func parseUnboundZone(val string) lineResult {
	zone, rest, err := unboundField(val)
	if err != nil {
		return lineResult{err: err}
	}
	f := strings.Fields(rest)
	if zone == "" || len(f) != 1 || strings.ContainsAny(zone, " \t") {
		return lineResult{err: fmt.Errorf("unbound local-zone wants a zone and a type")}
	}
	typ := strings.ToLower(f[0])
	allow := false
	switch {
	case unboundBlockingZones[typ]:
	case unboundPassZones[typ]:
		allow = true
	case unboundOtherZones[typ]:
		return skipped("unbound_nonblocking_zone")
	default:
		return lineResult{err: fmt.Errorf("unbound local-zone type %q is unknown", f[0])}
	}
	name, ok := dnsName(zone)
	if !ok {
		return skipped("dns_wildcard")
	}
	return lineResult{entries: []string{name}, allow: allow}
}

// parseUnboundData reads the value of a local-data directive: one resource
// record in zone-file syntax, "name [TTL] [class] type rdata".
func parseUnboundData(val string) lineResult {
	rr, rest, err := unboundField(val)
	if err != nil {
		return lineResult{err: err}
	}
	if strings.TrimSpace(rest) != "" {
		return lineResult{err: fmt.Errorf("unbound local-data has text after the record")}
	}
	f := strings.Fields(rr)
	if len(f) < 3 {
		return lineResult{err: fmt.Errorf("unbound local-data wants a name, a type and data")}
	}
	i := skipTTLAndClass(f, 1)
	if i >= len(f)-1 || !inUpper(rrTypes, f[i]) {
		return lineResult{err: fmt.Errorf("unbound local-data has no known record type")}
	}
	switch strings.ToUpper(f[i]) {
	case "A", "AAAA":
		if len(f) != i+2 || !isSinkholeAddr(f[i+1]) {
			return skipped("dns_redirect")
		}
	default:
		return skipped("unbound_local_data")
	}
	name, ok := dnsName(f[0])
	if !ok {
		return skipped("dns_wildcard")
	}
	return lineResult{entries: []string{name}}
}

// unboundField returns the first value of an Unbound directive, quoted
// ("…" or '…') or a bare word, and the text after it.
func unboundField(val string) (field, rest string, err error) {
	if val == "" {
		return "", "", nil
	}
	if q := val[0]; q == '"' || q == '\'' {
		end := strings.IndexByte(val[1:], q)
		if end < 0 {
			return "", "", fmt.Errorf("unbound value has an unterminated quote")
		}
		return strings.TrimSpace(val[1 : 1+end]), val[2+end:], nil
	}
	if i := strings.IndexAny(val, " \t"); i >= 0 {
		return val[:i], val[i:], nil
	}
	return val, "", nil
}

// stripUnboundComment removes a "#" comment outside quotes.
func stripUnboundComment(line string) string {
	var quote byte
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			return strings.TrimSpace(line[:i])
		}
	}
	return line
}

// rrTypes are the resource-record types a zone file or local-data line may
// name; any other word in the type position makes the line invalid.
var rrTypes = map[string]bool{
	"A": true, "AAAA": true, "CNAME": true, "DNAME": true, "NS": true, "SOA": true, "TXT": true, "MX": true,
	"PTR": true, "SRV": true, "CAA": true, "HTTPS": true, "SVCB": true, "NAPTR": true, "DS": true, "DNSKEY": true,
	"RRSIG": true, "NSEC": true, "NSEC3": true, "NSEC3PARAM": true, "TLSA": true, "SSHFP": true, "HINFO": true,
	"LOC": true, "SPF": true, "ZONEMD": true, "URI": true, "CERT": true, "OPENPGPKEY": true, "SMIMEA": true,
}

// dnsClasses are the classes a resource record may name (RFC 1035 §3.2.4,
// plus ANY).
var dnsClasses = map[string]bool{"IN": true, "CH": true, "HS": true, "CS": true, "ANY": true}

// isTTL reports whether s is a zone-file TTL: decimal seconds, or BIND's
// units (1h30m, 2w).
func isTTL(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i] | 0x20; {
		case s[i] >= '0' && s[i] <= '9':
		case c == 's' || c == 'm' || c == 'h' || c == 'd' || c == 'w':
		default:
			return false
		}
	}
	return true
}

// skipTTLAndClass returns the index of the first field at or after i that
// is neither a TTL nor a class; zone files allow both, in either order.
func skipTTLAndClass(f []string, i int) int {
	for n := 0; n < 2 && i < len(f) && (isTTL(f[i]) || inUpper(dnsClasses, f[i])); n++ {
		i++
	}
	return i
}

// inUpper reports whether s, in upper case, is a key of m (whose keys are
// short upper-case words), without allocating: zone files write types and
// classes in either case, and most fields looked up are long domain names.
func inUpper(m map[string]bool, s string) bool {
	var buf [12]byte
	if len(s) > len(buf) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return m[string(buf[:len(s)])]
}
