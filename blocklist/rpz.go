package blocklist

import (
	"fmt"
	"strings"
)

// rpzParser reads a DNS response policy zone (RPZ) in zone-file syntax
// (RFC 1035 §5; the RPZ rules are draft-vixie-dnsop-dns-rpz and BIND's
// "Response Policy Zones"), one line at a time, keeping what zone files
// carry across lines. Only QNAME triggers are read:
//
//	example.com    CNAME .               NXDOMAIN for example.com
//	*.example.com  CNAME .               NXDOMAIN for its subdomains
//	example.com    CNAME *.              NODATA
//	example.com    CNAME rpz-drop.       no answer
//	example.com    A     0.0.0.0         a local answer of the null address
//	ok.example.com CNAME rpz-passthru.   not filtered: an exception entry
//
// Each blocking record gives the trigger domain as an entry (the key
// covers the subdomains, so example.com and *.example.com give the same
// key and the second is counted as a duplicate). rpz-passthru. records are
// exception entries, applied like an AdBlock @@||d^ rule to every block
// source: RPZ exempts exactly those names from the zone's policy. rpz-tcp-only.
// records, CNAMEs to another name and other addresses (walled gardens,
// safe search) are skipped, as are IP, NSDNAME, NSIP and client-IP
// triggers ("rpz_trigger"), which are not domains.
//
// Owner names are relative to $ORIGIN (or absolute, with a trailing dot);
// the trigger is the owner name less the zone apex, which is the first
// $ORIGIN or, without one, the owner of an absolute SOA record. With
// neither, as in the zones list maintainers publish (hagezi, 1Hosts), the
// names are the triggers themselves. $TTL, SOA and NS records are zone
// structure, not entries; a record continued over lines in parentheses is
// read where it closes. A line that begins with a TTL, class or type
// continues the previous owner (leading blanks are trimmed before parsing,
// so a relative owner named like a type, "a" or "in", is read as one).
type rpzParser struct {
	origin  string // current $ORIGIN, absolute, no trailing dot; "" when unknown
	apex    string // the zone's apex, no trailing dot; "" when unknown
	owner   []byte // the last owner name, as written
	pending []string
	open    bool // inside "( … )"
}

// plain reports whether a relative owner name is its own trigger, so
// [rpzParser.fast] may read the line: no origin other than the apex, and no
// record open in parentheses.
func (p *rpzParser) plain() bool { return !p.open && p.origin == p.apex }

// isZoneDirective reports whether line is a zone-file control entry.
func isZoneDirective(line string) bool {
	for _, d := range []string{"$ORIGIN", "$TTL", "$INCLUDE", "$GENERATE"} {
		if strings.HasPrefix(line, d) && (len(line) == len(d) || line[len(d)] == ' ' || line[len(d)] == '\t') {
			return true
		}
	}
	return false
}

// looksLikeRecord reports whether line reads as a resource record with an
// upper-case type (example.com CNAME ., @ SOA …, NS ns.example.), the
// test FormatAuto uses before treating a line as a domain.
func looksLikeRecord(line string) bool {
	if strings.IndexAny(line, " \t") < 0 {
		return false // the common case in other formats: one word
	}
	var f [4]string // owner, TTL, class, type: the type is among the first four words
	n, rest := 0, line
	for n < len(f) {
		if f[n], rest = nextWord(rest); f[n] == "" {
			break
		}
		n++
	}
	i := 0
	if n > 0 && !isTTL(f[0]) && !dnsClasses[f[0]] && !rrTypes[f[0]] {
		i = 1 // an owner name
	}
	i = skipTTLAndClass(f[:n], i)
	if i >= n || !rrTypes[f[i]] {
		return false
	}
	if i+1 < n {
		return true
	}
	data, _ := nextWord(rest)
	return data != "" // the type needs data after it
}

// nextWord returns the first run of bytes other than space and tab in s
// and what follows it, or "" when there is none.
func nextWord(s string) (word, rest string) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	j := i
	for j < len(s) && s[j] != ' ' && s[j] != '\t' {
		j++
	}
	return s[i:j], s[j:]
}

// stripZoneComment removes a ";" comment outside quotes.
func stripZoneComment(line string) string {
	quoted := false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			quoted = !quoted
		case '\\':
			i++
		case ';':
			if !quoted {
				return strings.TrimSpace(line[:i])
			}
		}
	}
	return line
}

// maxPendingFields bounds a record continued over lines, so an unclosed
// "(" cannot gather a whole file.
const maxPendingFields = 64

// parse reads one trimmed line.
func (p *rpzParser) parse(line string) lineResult {
	line = stripZoneComment(line)
	if p.open {
		closes := strings.IndexByte(line, ')') >= 0
		p.pending = append(p.pending, strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(line))...)
		if len(p.pending) > maxPendingFields {
			p.open, p.pending = false, nil
			return lineResult{err: fmt.Errorf("zone record in parentheses runs over %d fields", maxPendingFields)}
		}
		if !closes {
			return skipped("comment") // read where the parentheses close
		}
		f := p.pending
		p.open, p.pending = false, nil
		return p.record(f)
	}
	if line == "" {
		return skipped("comment")
	}
	if line[0] == '$' {
		return p.directive(strings.Fields(line))
	}
	if o, c := strings.Count(line, "("), strings.Count(line, ")"); o > c {
		p.open = true
		p.pending = strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(line))
		return skipped("comment")
	} else if o > 0 || c > 0 {
		line = strings.NewReplacer("(", " ", ")", " ").Replace(line)
	}
	return p.record(strings.Fields(line))
}

// directive reads $ORIGIN, $TTL, $INCLUDE and $GENERATE.
func (p *rpzParser) directive(f []string) lineResult {
	switch strings.ToUpper(f[0]) {
	case "$TTL":
		return skipped("comment")
	case "$ORIGIN":
		if len(f) != 2 {
			return lineResult{err: fmt.Errorf("$ORIGIN wants one name")}
		}
		o := p.absolute(f[1])
		if p.apex == "" && p.origin == "" {
			p.apex = o
		}
		p.origin = o
		return skipped("comment")
	case "$INCLUDE":
		return skipped("rpz_include") // another file: not read
	case "$GENERATE":
		return skipped("rpz_unsupported")
	}
	return lineResult{err: fmt.Errorf("unknown zone-file directive %s", f[0])}
}

// absolute resolves a name against the current origin, without the
// trailing dot; "@" is the origin.
func (p *rpzParser) absolute(name string) string {
	switch {
	case name == "@":
		return p.origin
	case strings.HasSuffix(name, "."):
		return strings.ToLower(strings.TrimSuffix(name, "."))
	case p.origin == "":
		return strings.ToLower(name)
	}
	return strings.ToLower(name) + "." + p.origin
}

// rpzTriggerSuffixes end the owner names of triggers that are not domains.
var rpzTriggerSuffixes = []string{"rpz-ip", "rpz-nsip", "rpz-nsdname", "rpz-client-ip"}

// record reads the fields of one resource record.
func (p *rpzParser) record(f []string) lineResult {
	if len(f) == 0 {
		return skipped("comment")
	}
	var owner string
	i := 0
	if !isTTL(f[0]) && !inUpper(dnsClasses, f[0]) && !inUpper(rrTypes, f[0]) {
		owner, i = f[0], 1
		p.owner = append(p.owner[:0], owner...)
	} else {
		owner = string(p.owner) // the previous record's
	}
	if owner == "" {
		return lineResult{err: fmt.Errorf("zone record has no owner name")}
	}
	i = skipTTLAndClass(f, i)
	if i >= len(f) || !inUpper(rrTypes, f[i]) {
		return lineResult{err: fmt.Errorf("zone record has no known type")}
	}
	typ, rdata := strings.ToUpper(f[i]), f[i+1:]
	name := p.absolute(owner)
	switch typ {
	case "SOA":
		if p.apex == "" && p.origin == "" && strings.HasSuffix(owner, ".") {
			p.apex, p.origin = name, name
		}
		return skipped("comment")
	case "NS":
		return skipped("comment")
	}
	if len(rdata) == 0 {
		return lineResult{err: fmt.Errorf("zone record has no data")}
	}
	allow := false
	switch typ {
	case "CNAME":
		if len(rdata) != 1 {
			return lineResult{err: fmt.Errorf("CNAME record wants one target")}
		}
		switch t := strings.ToLower(rdata[0]); t {
		case ".", "*.", "rpz-drop.":
		case "rpz-passthru.":
			allow = true
		case "rpz-tcp-only.":
			return skipped("rpz_tcp_only")
		default:
			return skipped("dns_redirect")
		}
	case "A", "AAAA":
		if len(rdata) != 1 || !isSinkholeAddr(rdata[0]) {
			return skipped("dns_redirect")
		}
	default:
		return skipped("rpz_local_data")
	}
	trigger, ok := p.trigger(name)
	if !ok {
		return skipped("rpz_out_of_zone")
	}
	for _, s := range rpzTriggerSuffixes {
		if trigger == s || strings.HasSuffix(trigger, "."+s) {
			return skipped("rpz_trigger")
		}
	}
	entry, ok := dnsName(trigger)
	if !ok {
		return skipped("dns_wildcard")
	}
	return lineResult{entries: []string{entry}, allow: allow}
}

// trigger returns the name less the zone apex; ok is false for a name
// outside the zone.
func (p *rpzParser) trigger(name string) (string, bool) {
	if p.apex == "" {
		return name, true
	}
	if name == p.apex {
		return "", true // the apex itself: a trigger for every name
	}
	t, ok := strings.CutSuffix(name, "."+p.apex)
	return t, ok
}
