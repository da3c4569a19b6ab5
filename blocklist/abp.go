package blocklist

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// The reasons an AdBlock network rule gives no key, as counted in
// [Report.Dropped] and [RuleTally.Dropped], and, for the three rule classes
// a policy decides ([ABPPartyRules], [ABPTypeRules]), in
// [RuleTally.Converted] when the rule became a key anyway.
const (
	// ReasonABPParty: a whole-domain rule whose only options are party
	// options ($third-party, $3p, $~third-party, $1p, $strict3p, …),
	// besides options that do not narrow it. A device cannot tell first
	// from third party; by default the rule blocks the domain, as AdGuard's
	// HostlistCompiler does when it makes DNS filters from these lists.
	ReasonABPParty = "abp_party_option"
	// ReasonABPType: a whole-domain rule limited to resource types
	// ($script, $image, $xmlhttprequest, …, or their negations). Dropped by
	// default: such rules name domains that also serve what the rule
	// leaves alone (google-analytics.com$script).
	ReasonABPType = "abp_resource_type"
	// ReasonABPPopup: a whole-domain rule limited to pages opened as popups
	// ($popup, $popunder). Dropped by default: the device cannot tell a
	// popup from a visit, and popup rules name landing pages a user may
	// also open on purpose (casino.betsson.com^$popup); converted with the
	// resource types, as ABP counts popup among them.
	ReasonABPPopup = "abp_popup"
	// ReasonABPPathOption: a rule with a path and party, type or popup
	// options: the author kept the site's own use of the path, which the
	// device cannot.
	ReasonABPPathOption = "abp_path_option"
	// ReasonABPModifier: options that narrow the rule to a context the
	// device does not see ($domain=, $denyallow=, $redirect=, $csp=, …).
	ReasonABPModifier = "abp_modifier"
	// ReasonABPOpenHost: the host ends in "*" (||google.*/ads), or in "."
	// with nothing after it (||adservice.google.): any top-level domain or
	// longer name, not a key. A dot before "^", "/" or ":" ends a fully
	// qualified name (||tracker.ru.^) and is dropped.
	ReasonABPOpenHost = "abp_open_host"
	// ReasonABPPartialSegment: the path ends inside a segment
	// (||yimg.com/rx/ev/lib/comscore-, ||example.com/deals/?cid=): the
	// device's sub-URLs end at segment boundaries (client-spec §3.2), so
	// such a key would never match.
	ReasonABPPartialSegment = "abp_partial_segment"
	// ReasonABPUnanchored: a rule matched anywhere in the URL (.ashx?AdID=,
	// -120x600., /fbevents.js): well-formed, but no key expresses it.
	ReasonABPUnanchored = "abp_unanchored"
	// ReasonABPWildcard: a "*" or "^" inside the host or path.
	ReasonABPWildcard = "abp_wildcard"
)

// ABPPartyRules says what [Compile] does with whole-domain rules whose only
// options are party options ([ReasonABPParty]).
type ABPPartyRules int

const (
	// BlockPartyRules, the default, blocks the domain.
	BlockPartyRules ABPPartyRules = iota
	// DropPartyRules drops the rules.
	DropPartyRules
)

// ABPTypeRules says what [Compile] does with whole-domain rules limited to
// resource types ([ReasonABPType]) or popups ([ReasonABPPopup]).
type ABPTypeRules int

const (
	// DropTypeRules, the default, drops the rules.
	DropTypeRules ABPTypeRules = iota
	// BlockTypeRules blocks the domain for every kind of load.
	BlockTypeRules
)

// abpNonNarrowing are options that do not narrow where a rule applies, so
// ||domain^$option is still the whole domain.
var abpNonNarrowing = map[string]bool{"important": true, "all": true, "document": true, "doc": true}

// abpPartyOptions are the party options, each also negatable with "~".
var abpPartyOptions = map[string]bool{
	"third-party": true, "3p": true, "first-party": true, "1p": true,
	"strict1p": true, "strict3p": true, "strict-first-party": true, "strict-third-party": true,
}

// abpTypeOptions are the resource-type options (ABP, uBlock Origin and
// AdGuard names), each also negatable with "~".
var abpTypeOptions = map[string]bool{
	"script": true, "image": true, "stylesheet": true, "css": true, "object": true, "object-subrequest": true,
	"xmlhttprequest": true, "xhr": true, "subdocument": true, "frame": true, "ping": true, "beacon": true,
	"websocket": true, "webrtc": true, "media": true, "font": true, "other": true, "webbundle": true,
}

// abpClass is what a rule's options leave of it, from widest to narrowest.
type abpClass int

const (
	abpPlain     abpClass = iota // no options, or only non-narrowing ones
	abpParty                     // party options
	abpTypes                     // resource types (and maybe party options)
	abpPopup                     // $popup
	abpNarrowing                 // anything else
)

// classifyABPOptions reads the option list of a network rule (the text after
// its "$").
func classifyABPOptions(opts string) abpClass {
	class := abpPlain
	for opt := range strings.SplitSeq(opts, ",") {
		opt = strings.ToLower(strings.TrimSpace(opt))
		name := strings.TrimPrefix(opt, "~")
		switch {
		case abpNonNarrowing[opt]:
		case abpPartyOptions[name]:
			class = max(class, abpParty)
		case abpTypeOptions[name]:
			class = max(class, abpTypes)
		case opt == "popup" || opt == "popunder":
			class = max(class, abpPopup)
		default:
			return abpNarrowing
		}
	}
	return class
}

// abpOptionsStart returns the index of the "$" that starts a network
// rule's options, or -1. Options follow the last "$" (uBlock Origin,
// AdGuard), so a "$" in a path stays part of it.
func abpOptionsStart(rule string) int {
	return strings.LastIndexByte(rule, '$')
}

// parseABPLine reads an AdBlock Plus / uBlock Origin / AdGuard line. Only
// network rules that block a whole domain, or a path below it that ends at a
// segment boundary, become entries; every other rule is skipped with the
// reason it cannot be a key (the Reason constants above). An exception
// rule (@@) of the same shape, without narrowing options, gives allow
// entries; any other is skipped as "abp_exception". A rule with the
// $badfilter option names the rule it disables (uBlock Origin, AdGuard: the
// same text without badfilter).
func parseABPLine(line string) lineResult {
	if target, ok := badfilterTarget(line); ok {
		return lineResult{badfilter: target}
	}
	if rest, ok := strings.CutPrefix(line, "@@"); ok {
		if strings.HasPrefix(rest, "@@") || len(strings.Fields(rest)) != 1 {
			return skipped("abp_exception") // "@@0.0.0.0 host" is no rule
		}
		if res := parseABPLine(rest); len(res.entries) > 0 && res.policy == "" {
			res.allow = true
			return res
		}
		return skipped("abp_exception")
	}
	switch {
	case line == "" || line[0] == '!' || line[0] == '[':
		return skipped("comment")
	case isABPCosmetic(line):
		return skipped("abp_cosmetic")
	case line[0] == '#':
		return skipped("comment")
	case line[0] == '/' && abpIsRegex(line):
		return skipped("abp_regex")
	}
	if f := strings.Fields(line); len(f) >= 2 {
		if _, err := netip.ParseAddr(f[0]); err == nil {
			return parseHostsLine(line) // AdGuard accepts hosts syntax in filter lists
		}
	}
	rule, class := line, abpPlain
	if i := abpOptionsStart(rule); i >= 0 {
		if class = classifyABPOptions(rule[i+1:]); class == abpNarrowing {
			return skipped(ReasonABPModifier) // $csp= values may hold spaces
		}
		rule = rule[:i]
	}
	if strings.ContainsAny(rule, " \t") {
		return lineResult{err: fmt.Errorf("rule contains whitespace")}
	}
	entry, whole, reason := abpPattern(rule)
	if reason != "" {
		return skipped(reason)
	}
	res := lineResult{entries: []string{entry}}
	switch {
	case class == abpPlain:
	case !whole:
		return skipped(ReasonABPPathOption)
	case class == abpParty:
		res.policy = ReasonABPParty
	case class == abpTypes:
		res.policy = ReasonABPType
	case class == abpPopup:
		res.policy = ReasonABPPopup
	}
	return res
}

// abpIsRegex reports whether a rule that starts with "/" is a regular
// expression rule (/…/ with optional options) rather than a path.
func abpIsRegex(line string) bool {
	if i := abpOptionsStart(line); i > 0 && line[i-1] == '/' {
		line = line[:i]
	}
	return len(line) > 1 && strings.HasSuffix(line, "/")
}

// abpPattern turns the pattern of a network rule (options removed) into the
// entry a key is made from, and reports whether it names a whole domain, or
// gives the reason it cannot be a key.
//
// Shapes that become entries: ||host^ (and ||host, ||host|, ||*.host^),
// ||host:port^, ||host/path where the path ends at a segment boundary,
// |http(s)://host/path, and the same without the leading || when the host
// is a name under a known top-level domain or an IPv4 address. A path ends
// at a boundary when it is followed by "^" (a separator or the end), by "|"
// (the end), ends in "/" or "?" (a trailing "*" or "^" after it is dropped:
// ||snap.licdn.com/li.lms-analytics/* gives snap.licdn.com/li.lms-analytics),
// or ends in a letter or digit, read as the end of a file or directory
// name (||example.com/gpt.js; the key then blocks that name, where the
// rule would also match longer names starting with it). A path ending in
// any other character (-, _, ., =, &, …) ends inside a segment.
func abpPattern(rule string) (entry string, whole bool, reason string) {
	scheme, anchored := "", true
	switch {
	case strings.HasPrefix(rule, "||"):
		rule = rule[2:]
	case strings.HasPrefix(rule, "|http://"), strings.HasPrefix(rule, "|https://"):
		i := strings.Index(rule, "://") + 3
		scheme, rule = rule[1:i], rule[i:]
	case strings.HasPrefix(rule, "|"):
		return "", false, "abp_unsupported"
	case strings.HasPrefix(rule, "http://"), strings.HasPrefix(rule, "https://"):
		i := strings.Index(rule, "://") + 3
		scheme, rule = rule[:i], rule[i:] // an unanchored URL: its host and path are a subset
	default:
		anchored = false
	}
	exactEnd := strings.HasSuffix(rule, "|")
	rule = strings.TrimSuffix(rule, "|")
	hostEnd := strings.IndexAny(rule, "/^?:|")
	if hostEnd < 0 {
		hostEnd = len(rule)
	}
	host, tail := rule[:hostEnd], rule[hostEnd:]
	if !anchored && !abpHostLike(host) {
		return "", false, ReasonABPUnanchored
	}
	host = strings.TrimPrefix(host, "*.")
	switch {
	case host == "":
		return "", false, ReasonABPWildcard
	case host[len(host)-1] == '*', host[len(host)-1] == '.' && (tail == "" || tail[0] == '|'):
		// A dot before "^", "/" or ":" ends a fully qualified name
		// (||tracker.ru.^, used against blockers), which Normalize strips.
		return "", false, ReasonABPOpenHost
	case strings.IndexByte(host, '*') >= 0:
		return "", false, ReasonABPWildcard
	}
	port := ""
	if strings.HasPrefix(tail, ":") {
		j := 1
		for j < len(tail) && tail[j] >= '0' && tail[j] <= '9' {
			j++
		}
		if j == 1 {
			return "", false, ReasonABPWildcard
		}
		port, tail = tail[:j], tail[j:]
	}
	sep := false
	for tail != "" && (tail[len(tail)-1] == '^' || tail[len(tail)-1] == '*') {
		sep = sep || tail[len(tail)-1] == '^'
		tail = tail[:len(tail)-1]
	}
	switch {
	case strings.ContainsAny(tail, "*^|"):
		return "", false, ReasonABPWildcard
	case tail == "":
		return scheme + host + port, port == "", ""
	case tail[0] != '/' && tail[0] != '?':
		return "", false, ReasonABPWildcard
	}
	switch last := tail[len(tail)-1]; {
	case last == '?':
		tail = tail[:len(tail)-1] // the path with any query: "?" is a separator
	case sep || exactEnd || last == '/' || isAlnum(last):
	default:
		return "", false, ReasonABPPartialSegment
	}
	return scheme + host + port + tail, false, ""
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// abpHostLike reports whether the start of an unanchored rule is a host
// name (letters, digits, "-", "_" and dots, under a top-level domain the
// Public Suffix List knows, or with non-ASCII letters left to [Normalize])
// or an IPv4 address: a plain domain in a filter list, which AdGuard and
// DNS blockers read as that domain. Anything else (.ashx?AdID=, -120x600.,
// banner.gif, /fbevents.js) is a substring rule.
func abpHostLike(host string) bool {
	if host == "" || !isAlnum(host[0]) || !isAlnum(host[len(host)-1]) && host[len(host)-1] < 0x80 {
		return false
	}
	ascii := true
	for i := 0; i < len(host); i++ {
		switch c := host[i]; {
		case isAlnum(c) || c == '-' || c == '_' || c == '.':
		case c >= 0x80:
			ascii = false
		default:
			return false
		}
	}
	if !ascii || isIPv4(host) {
		return true
	}
	if strings.IndexByte(host, '.') < 0 {
		return false
	}
	ps, icann := publicsuffix.PublicSuffix(strings.ToLower(host))
	return icann || strings.IndexByte(ps, '.') >= 0
}
