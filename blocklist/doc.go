// Package blocklist compiles public blocklists into the key strings Apple's
// NEURLFilter looks up: the list both the Bloom prefilter (package bloom)
// and the PIR keyword database are built from.
//
// For most uses, call [Compile] with the block and allow [Source]s; it
// returns the sorted keys and a [Report] that counts every dropped or
// rewritten entry by reason. [SubURLs] expands a visited URL into the
// strings the device tests, for checking what a built list blocks.
//
// # Formats
//
// Hosts files (0.0.0.0 name...), plain domain lists, AdBlock Plus / uBlock
// Origin / AdGuard filter lists (see AdBlock rules below), plain URL lists, URLhaus CSV (online entries only), UT1
// category lists and the blocklist formats of DNS resolvers. Sources are
// files, directories or http(s) URLs, optionally gzip- or bzip2-compressed,
// read with a size cap. Lines may end in LF, CRLF or a bare CR (classic Mac
// OS). A UTF-8 byte order mark is skipped; UTF-16 text, zip archives and xz or
// Zstandard compression are refused with an error. A malformed line is
// reported with its source and line number; it never stops the build.
// [ParseSource] reads the command-line form "[FORMAT:]LOCATION" that blindlist
// build --source takes; FormatAuto (the default) recognises every line format
// below on its own.
//
// UT1 (Université Toulouse Capitole) lists are read from a directory (every
// domains and urls file below it) or straight from the published
// blacklists.tar.gz or one category's <category>.tar.gz, local or over
// http(s): the archive is recognised by its tar header (under gzip, bzip2 or
// none), streamed and never extracted. [Source.Categories] (on the command
// line "ut1=phishing,malware:LOCATION") selects categories by the name of the
// directory holding the lists, the same way in both forms; naming a category
// the source lacks is an error. Archive members that are links (UT1 ships
// aliases such as ads -> publicite, which are not followed: select the
// target), devices or FIFOs, or whose names are absolute or hold "..", are
// refused and counted in [SourceReport.RefusedMembers]. Each member is capped
// at [Options.MaxBytes], the whole archive at [Options.MaxArchiveBytes]; an
// archive that ends without its end-of-archive blocks is refused as truncated.
//
// DNS resolver formats, as hagezi, OISD and 1Hosts publish them: dnsmasq
// (address=/example.com/ with no address, #, 0.0.0.0 or ::; server= and
// local=/example.com/), Unbound (local-zone: "example.com." always_nxdomain,
// refuse, static, deny, always_null, …; local-data with a null A or AAAA
// record) and response policy zones (example.com CNAME . and *.example.com
// CNAME ., rpz-drop., NODATA and null-address records; relative names follow
// $ORIGIN, and SOA, NS and $TTL lines are zone structure). A resolver blocks
// the named domain and everything below it, which is what the key example.com
// means on the device, so each rule gives the key a plain domain or
// ||example.com^ gives. Rules that redirect instead (another address, a CNAME
// to another name: safe-search lists) are skipped as "dns_redirect"; rules
// that exempt a name (dnsmasq server=/d/#, Unbound transparent and
// always_transparent zones, RPZ rpz-passthru.) are exceptions, applied like
// @@||d^. RPZ triggers on IP addresses and name servers are skipped
// ("rpz_trigger"); $INCLUDE is not followed.
//
// Lines are read one at a time and keys are packed into shared chunks, so
// memory follows the number of distinct keys, not the size of the input;
// lines that hold only canonical hosts (the bulk of hosts files, domain
// lists, ||domain^ rules, and of dnsmasq, Unbound and RPZ lists as hagezi
// publishes them) are read without allocating.
//
// # AdBlock rules
//
// A filter list compiles to everything a device can enforce, and every rule
// it cannot is dropped under a named reason ([ReasonABPUnanchored] and the
// other Reason constants). Whole-domain rules (||domain^, also with $all,
// $important, $document) block the domain. Whole-domain rules whose only
// options are party options (||hotjar.com^$third-party) block it too by
// default, since a device cannot tell first from third party
// ([ABPPartyRules]); rules limited to resource types or popups
// (||google-analytics.com^$script, ||ads.example^$popup) are dropped unless
// [ABPTypeRules] says to block the domain. Options that narrow a rule to a
// context ($domain=, $denyallow=, $redirect=, $csp=, …), and party, type
// or popup options on a rule with a path, drop it. A path becomes its
// prefix key when it ends at a segment boundary (the device's sub-URLs end
// there: client-spec §3.2): before "^", "|", after "/" or "?", with any
// trailing "*" dropped (||snap.licdn.com/li.lms-analytics/*), or after a
// letter or digit (||example.com/gpt.js); a path ending inside a segment
// (||yimg.com/rx/ev/lib/comscore-) is dropped. Hosts ending in "." or "*"
// (||adservice.google., ||google.*/ads) and wildcards inside a host or
// path are dropped. Unanchored rules (-120x600., /fbevents.js) are dropped
// as such, not reported as malformed; an unanchored host name under a
// known top-level domain is read as that domain, as AdGuard does. In the
// auto format a document that shows it is a filter list (an [Adblock Plus
// 2.0] header, "!" comments, cosmetic rules) is read this way throughout.
// Exception rules @@||domain^ in a block list are applied like allow
// entries to every block list, and a $badfilter rule disables the rule with
// its text, as uBlock Origin and AdGuard do. [Report.Rules] accounts for
// every line and [Report.Balance] checks that the counts add up.
//
// # Provenance
//
// [Result.Provenance] keeps, per key, the source and line that first gave
// it and the line's text ([Origin]), in 16 bytes a key plus the text of
// the lines that are not the key with a prefix and suffix most lines of
// the list share ("0.0.0.0 "+key, "||"+key+"^"). [Provenance.WriteTo] writes it as
// a small gzip-compressed file beside the keys, in key order, and
// [LookupOrigin] answers "why is this key listed?" from that file.
//
// # Key space
//
// [Normalize] maps an entry to the device's key space
// (shared/spec/client-spec.md §3.4): no scheme, lowercase, Punycode host
// (golang.org/x/net/idna), no leading "www.", no default port, canonical
// path (no empty or dot segments, no trailing slash), path, query and
// fragment percent-encoded as a browser sends them (UTF-8 and the WHATWG
// component sets), fragment kept only after a query. [SubURLs] splits and
// encodes visited URLs with the same code, so the two agree. Because the device also tests every parent domain and path
// prefix of a URL, a key covered by another key (sub.example.com under
// example.com, example.com/a/b under example.com/a) is redundant and is
// dropped. Allow entries are normalised the same way and applied after
// normalisation, parent-aware: an allowed key removes itself and everything
// below it. An allowed key below a blocked parent cannot be expressed (the
// device would still find the parent); it is reported as a conflict and, if
// [Options.AllowRemovesParents] is set, the parent is removed.
//
// A key whose host is a public suffix (co.uk, github.io; Public Suffix List,
// golang.org/x/net/publicsuffix) would be found for every site under it: by
// default it is dropped and reported ([SuffixPolicy]). Keys with a path on
// such a host (cloudfront.net/public/ct) are kept: they block what the rule
// says, that path on every site under the suffix. The device's own
// parent walk does not consult the list (client-spec §3.2 leaves it open).
//
// Not supported: the iOS 27 ParsingConfiguration variants (excluded
// components, levels, regular expressions); keys follow the default
// configuration, with [Options.KeepCovered] for devices that do not walk the
// domain hierarchy.
package blocklist
