package blocklist

import (
	"encoding/csv"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Format is the syntax of a list source.
type Format int

// The formats [Compile] reads. FormatAuto decides per line (hosts line,
// AdBlock rule, dnsmasq or Unbound directive, RPZ record, or a single
// domain/URL) and switches to FormatURLhausCSV when the source looks like
// URLhaus's CSV export; a directory or a tar archive is read as FormatUT1.
const (
	FormatAuto       Format = iota
	FormatHosts             // "0.0.0.0 ads.example.com other.example.net"
	FormatDomains           // one domain per line
	FormatABP               // AdBlock Plus / AdGuard: ||example.com^
	FormatURLs              // one URL per line, scheme optional
	FormatURLhausCSV        // abuse.ch URLhaus CSV; only url_status "online"
	FormatUT1               // a directory tree or tar archive of "domains" and "urls" files
	FormatDnsmasq           // dnsmasq: address=/example.com/, local=/example.com/
	FormatUnbound           // Unbound: local-zone: "example.com." always_nxdomain
	FormatRPZ               // DNS response policy zone: example.com CNAME .
)

var formatNames = map[Format]string{
	FormatAuto: "auto", FormatHosts: "hosts", FormatDomains: "domains", FormatABP: "abp",
	FormatURLs: "urls", FormatURLhausCSV: "urlhaus", FormatUT1: "ut1",
	FormatDnsmasq: "dnsmasq", FormatUnbound: "unbound", FormatRPZ: "rpz",
}

// String returns the format's name as [ParseSource] accepts it.
func (f Format) String() string {
	if n, ok := formatNames[f]; ok {
		return n
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat returns the format with the given name.
func ParseFormat(name string) (Format, bool) {
	for f, n := range formatNames {
		if n == name {
			return f, true
		}
	}
	return 0, false
}

// lineResult is what a line parser found: entries to normalise, or a reason
// to skip the line (comment, unsupported rule), or a syntax error.
type lineResult struct {
	entries []string
	skip    string // "" when entries or err apply; "comment" is not counted as a drop
	err     error
	// boilerplate counts names of a hosts line that only describe the
	// machine itself (localhost, broadcasthost, …).
	boilerplate int
	// allow marks entries of an AdBlock exception rule (@@||example.com^):
	// they unblock rather than block.
	allow bool
	// badfilter is the text of the rule a "$badfilter" rule disables: its
	// own text without the badfilter option.
	badfilter string
	// policy, when set, names the class of an AdBlock rule whose entries
	// become keys only if the compiler's options say so (ReasonABPParty,
	// ReasonABPType, ReasonABPPopup); it is the drop reason otherwise.
	policy string
}

// hostsBoilerplate are the names hosts files list for the local machine.
var hostsBoilerplate = map[string]bool{
	"localhost": true, "localhost.localdomain": true, "local": true, "broadcasthost": true,
	"ip6-localhost": true, "ip6-loopback": true, "ip6-localnet": true, "ip6-mcastprefix": true,
	"ip6-allnodes": true, "ip6-allrouters": true, "ip6-allhosts": true, "0.0.0.0": true,
}

func skipped(reason string) lineResult { return lineResult{skip: reason} }

// stripComment removes a "#" comment that starts the line or follows
// whitespace, so URL fragments (example.com/a#b) survive.
func stripComment(line string) string {
	if strings.HasPrefix(line, "#") {
		return ""
	}
	for i := 1; i < len(line); i++ {
		if line[i] == '#' && (line[i-1] == ' ' || line[i-1] == '\t') {
			return strings.TrimSpace(line[:i])
		}
	}
	return line
}

// parseHostsLine reads "IP name [name...]". As in hosts(5), a "#" anywhere
// starts a comment. Names that only describe the machine itself
// (localhost, …) and names that are IP addresses are boilerplate.
func parseHostsLine(line string) lineResult {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return skipped("comment")
	}
	if _, err := netip.ParseAddr(f[0]); err != nil {
		return lineResult{err: fmt.Errorf("hosts line does not start with an IP address")}
	}
	if len(f) == 1 {
		return lineResult{err: fmt.Errorf("hosts line has an address but no name")}
	}
	res := lineResult{entries: f[1:]}
	for _, name := range f[1:] {
		if isHostsBoilerplate(name) {
			res.boilerplate++
		}
	}
	if res.boilerplate > 0 {
		res.entries = make([]string, 0, len(f)-1)
		for _, name := range f[1:] {
			if !isHostsBoilerplate(name) {
				res.entries = append(res.entries, name)
			}
		}
	}
	return res
}

// isHostsBoilerplate reports whether a hosts-file name only describes the
// local machine or is an address ("0.0.0.0 0.0.0.0", "0.0.0.0 127.0.0.1").
func isHostsBoilerplate(name string) bool {
	if hostsBoilerplate[strings.ToLower(strings.TrimSuffix(name, "."))] {
		return true
	}
	if name == "" || !(name[0] >= '0' && name[0] <= '9' || name[0] == ':' || name[0] == '[') {
		return false // the fast answer for ordinary names
	}
	_, err := netip.ParseAddr(strings.Trim(name, "[]"))
	return err == nil
}

// parseSingleLine reads one domain or URL, with an optional trailing
// comment.
func parseSingleLine(line string) lineResult {
	if strings.HasPrefix(line, "!") {
		return skipped("comment")
	}
	line = stripComment(line)
	if line == "" {
		return skipped("comment")
	}
	f := strings.Fields(line)
	if len(f) != 1 {
		return lineResult{err: fmt.Errorf("expected one domain or URL, found %d fields", len(f))}
	}
	return lineResult{entries: f}
}

// abpCosmeticMarkers separate a domain list from a cosmetic, scriptlet or
// HTML-filtering rule (AdGuard "Cosmetic rules", "HTML filtering rules";
// ABP "Element hiding"). Such rules never block a request.
var abpCosmeticMarkers = []string{"##", "#@#", "#?#", "#@?#", "#$#", "#@$#", "#%#", "#@%#", "#$?#", "#@$?#", "$$", "$@$"}

// isABPCosmetic reports whether line is a cosmetic or HTML-filtering rule:
// whether it contains one of abpCosmeticMarkers.
func isABPCosmetic[T ~string | ~[]byte](line T) bool {
	for i := 0; i < len(line); i++ {
		if c := line[i]; c != '#' && c != '$' {
			continue
		}
		for _, m := range abpCosmeticMarkers {
			if hasPrefixAt(line, i, m) {
				return true
			}
		}
	}
	return false
}

// hasPrefixAt reports whether s[i:] starts with prefix.
func hasPrefixAt[T ~string | ~[]byte](s T, i int, prefix string) bool {
	if len(s)-i < len(prefix) {
		return false
	}
	for j := 0; j < len(prefix); j++ {
		if s[i+j] != prefix[j] {
			return false
		}
	}
	return true
}

// badfilterTarget returns, for a network rule with the $badfilter option,
// the rule it disables: the same text with badfilter removed from the
// option list (and the "$" when no option is left).
func badfilterTarget(line string) (string, bool) {
	i := strings.LastIndexByte(line, '$')
	if i < 0 || isABPCosmetic(line) {
		return "", false
	}
	opts := strings.Split(line[i+1:], ",")
	j := slices.IndexFunc(opts, func(o string) bool { return strings.TrimSpace(o) == "badfilter" })
	if j < 0 {
		return "", false
	}
	opts = slices.Delete(opts, j, j+1)
	if len(opts) == 0 {
		return line[:i], true
	}
	return line[:i+1] + strings.Join(opts, ","), true
}

// docParser reads the lines of one document in order. The RPZ parser
// keeps state across lines ($ORIGIN, the last owner name, records continued
// in parentheses), so every document gets its own docParser; the other
// formats are read line by line.
type docParser struct {
	format Format
	rpz    rpzParser // FormatRPZ, and RPZ records met in FormatAuto
	// abp is set in FormatAuto once the document shows it is a filter
	// list (an [Adblock Plus 2.0] header, a "!" comment, a cosmetic rule):
	// from then on, lines that would be read as a domain or URL are read as
	// AdBlock rules, so unanchored rules (-120x600., _stat.php/?referer=)
	// are not taken for hosts. ||domain^ alone does not set it: hosts-style
	// and mixed lists use it too.
	abp bool
}

func newDocParser(f Format) *docParser { return &docParser{format: f} }

// parse reads one trimmed line.
func (p *docParser) parse(line string) lineResult {
	switch p.format {
	case FormatHosts:
		return parseHostsLine(line)
	case FormatABP:
		return parseABPLine(line)
	case FormatDomains, FormatURLs:
		return parseSingleLine(line)
	case FormatURLhausCSV:
		return parseURLhausLine(line)
	case FormatDnsmasq:
		return parseDnsmasqLine(line)
	case FormatUnbound:
		return parseUnboundLine(line)
	case FormatRPZ:
		return p.rpz.parse(line)
	default:
		return p.parseAuto(line)
	}
}

// fast is [fastLine] for the document's format; RPZ lines take it only
// while relative names need no origin.
func (p *docParser) fast(line []byte, names [][]byte) [][]byte {
	switch {
	case p.format == FormatRPZ:
		return p.rpz.fast(line, names)
	case p.format == FormatAuto && p.abp:
		return fastLine(FormatABP, line, names)
	}
	return fastLine(p.format, line, names)
}

// directiveSeparator returns '=' for a line that starts like a dnsmasq
// option ("address=", "cache-size="), ':' for one that starts like an
// Unbound directive ("local-zone:", "server:", "verbosity: 1"), and 0
// otherwise. No domain, URL, hosts line or AdBlock rule starts with a
// lower-case word of letters, digits and hyphens followed by '=', or by
// ':' and a blank.
func directiveSeparator(line string) byte {
	if line == "" || line[0] < 'a' || line[0] > 'z' {
		return 0
	}
	for i := 1; i < len(line); i++ {
		switch c := line[i]; {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-':
		case c == '=':
			return '='
		case c == ':' && (i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\t'):
			return ':'
		default:
			return 0
		}
	}
	return 0
}

// lineParser returns a fresh line parser for format f.
func lineParser(f Format) func(string) lineResult { return newDocParser(f).parse }

// parseAuto classifies one line of an unknown format.
func (p *docParser) parseAuto(line string) lineResult {
	if line == "" {
		return skipped("comment")
	}
	if !p.abp && showsFilterList(line) {
		p.abp = true
	}
	if p.abp {
		return parseABPLine(line) // it reads hosts lines too
	}
	if p.rpz.open || line[0] == ';' || isZoneDirective(line) {
		return p.rpz.parse(line)
	}
	switch directiveSeparator(line) {
	case '=':
		return parseDnsmasqLine(line)
	case ':':
		return parseUnboundLine(line)
	}
	switch line[0] {
	case '!', '[', '|', '/':
		return parseABPLine(line)
	case '@':
		if strings.HasPrefix(line, "@@") {
			return parseABPLine(line)
		}
	case '#':
		if strings.HasPrefix(line, "##") || strings.HasPrefix(line, "#@#") {
			return parseABPLine(line)
		}
		return skipped("comment")
	case '"':
		return parseURLhausLine(line)
	}
	if looksLikeRecord(line) {
		return p.rpz.parse(line)
	}
	if line[0] == '@' {
		return parseABPLine(line)
	}
	if strings.ContainsAny(line, "^$") || isABPCosmetic(line) {
		return parseABPLine(line)
	}
	if strings.HasPrefix(line, "id,dateadded,") {
		return skipped("comment") // an unquoted URLhaus CSV header
	}
	if f := strings.Fields(line); len(f) >= 2 {
		if _, err := netip.ParseAddr(f[0]); err == nil {
			return parseHostsLine(line)
		}
	}
	return parseSingleLine(line)
}

// parseURLhausLine reads one row of URLhaus's CSV export:
// "id","dateadded","url","url_status","last_online","threat","tags",
// "urlhaus_link","reporter". Only rows whose url_status is "online" are
// kept.
func parseURLhausLine(line string) lineResult {
	if line == "" || line[0] == '#' {
		return skipped("comment")
	}
	r := csv.NewReader(strings.NewReader(line))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	rec, err := r.Read()
	if err != nil {
		return lineResult{err: fmt.Errorf("bad CSV row: %v", err)}
	}
	if len(rec) < 4 {
		return lineResult{err: fmt.Errorf("URLhaus row has %d columns, want at least 4", len(rec))}
	}
	if rec[0] == "id" {
		return skipped("comment") // a header row
	}
	if rec[3] != "online" {
		return skipped("urlhaus_offline")
	}
	if rec[2] == "" || strings.ContainsAny(rec[2], " \t") {
		return lineResult{err: fmt.Errorf("URLhaus row has an empty url or one with whitespace")}
	}
	return lineResult{entries: []string{rec[2]}}
}

// showsFilterList reports whether a line only occurs in AdBlock filter
// lists: an "!" comment, an [Adblock Plus 2.0] style header, or a cosmetic
// rule (not a "#####" banner of a hosts file).
func showsFilterList(line string) bool {
	switch {
	case line[0] == '!':
		return true
	case line[0] == '[':
		l := strings.ToLower(line)
		return strings.HasPrefix(l, "[adblock") || strings.HasPrefix(l, "[adguard") || strings.HasPrefix(l, "[ublock")
	case line[0] == '#':
		return len(line) > 2 && line[1] == '#' && line[2] != '#' && line[2] != ' ' && line[2] != '\t'
	}
	return isABPCosmetic(line)
}
