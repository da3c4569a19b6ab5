package blocklist

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options tune [Compile]. The zero value is usable.
type Options struct {
	// MaxBytes caps each source document after decompression
	// (0 means DefaultMaxBytes). In a tar archive it caps each member.
	MaxBytes int64
	// MaxArchiveBytes caps a tar archive (UT1's blacklists.tar.gz) after
	// decompression, members not read included (0 means
	// DefaultMaxArchiveBytes).
	MaxArchiveBytes int64
	// HTTPClient fetches http(s) sources (nil means a client with a
	// 10-minute timeout). Cancel the context to stop a fetch.
	HTTPClient *http.Client
	// AllowRemovesParents removes a blocked parent when an allow entry lies
	// below it (allowing sub.example.com unblocks example.com). Otherwise
	// the parent stays and the conflict is only reported.
	AllowRemovesParents bool
	// KeepCovered keeps keys that a parent key covers (sub.example.com
	// beside example.com). The default drops them, which is right for the
	// default URL parsing, where the device tests every parent domain and
	// path prefix. A device whose configuration does not walk the domain
	// hierarchy (iOS 27 ParsingConfiguration enumerateHierarchy false, seen
	// on configurations saved by iOS 26 SDK builds; client-spec §3.3) asks
	// only for the exact host, and needs them.
	KeepCovered bool
	// PublicSuffixes says what to do with keys whose host is a public
	// suffix (com, co.uk, github.io); the zero value drops them. See
	// [SuffixPolicy].
	PublicSuffixes SuffixPolicy
	// TestIdentity adds Apple's onboarding test keys ([TestIdentityKeys]).
	TestIdentity bool
	// ABPPartyRules decides whole-domain AdBlock rules whose only options
	// are party options ($third-party, …); the zero value blocks the
	// domain ([ReasonABPParty]).
	ABPPartyRules ABPPartyRules
	// ABPTypeRules decides whole-domain AdBlock rules limited to resource
	// types or popups; the zero value drops them ([ReasonABPType],
	// [ReasonABPPopup]).
	ABPTypeRules ABPTypeRules
	// Progress, if set, is called about every 256k lines and at the end of
	// each document with the document name, lines and bytes read so far.
	Progress func(doc string, lines int, bytes int64)
	// SpillDir, if set, lets Compile hold the block keys outside memory
	// once they would need more than SpillBudget bytes: it then routes
	// them to partition files in a temporary directory it makes inside
	// SpillDir, resolves each partition in memory, and returns the keys as
	// [SpilledKeys] instead of [Result.Keys] (see spill.go). Empty: the
	// whole key set stays in memory, whatever its size.
	SpillDir string
	// SpillBudget bounds the bytes of the in-memory block key set before
	// it spills (an estimate: spillKeyBytes a key plus its bytes). Zero
	// means DefaultSpillBudget.
	SpillBudget int64

	// testingOnlySequentialLines reads documents on one goroutine, for
	// tests that compare it with the parallel reader.
	testingOnlySequentialLines bool
	// Stagef, if set, receives one line per step of a spilled compile
	// (spill started, partitions resolved with an ETA, keys merged).
	Stagef func(format string, args ...any)
}

// DefaultMaxBytes is the default per-document cap: 1 GiB of list text.
const DefaultMaxBytes = 1 << 30

// DefaultMaxArchiveBytes is the default cap of a whole tar archive: 4 GiB,
// about ten times UT1's full blacklists.tar.gz unpacked.
const DefaultMaxArchiveBytes = 4 << 30

// TestIdentityKeys are the keys Apple's relay onboarding looks up
// (client-spec §3.4 rule 4): the documented www form, which PIR is asked
// for directly, and the bare form a device derives after stripping www.
var TestIdentityKeys = []string{"apple.com/url-filter-test", "www.apple.com/url-filter-test"}

// maxProblems, maxConflicts and maxExamples bound the report.
const (
	maxProblems  = 200
	maxConflicts = 200
	maxExamples  = 5
)

// Result is the output of [Compile].
type Result struct {
	// Keys are the final keys, sorted bytewise, without duplicates. Nil
	// when the compile spilled (Spilled holds them).
	Keys   []string
	Report *Report
	// Provenance gives, for each key, the source line that first gave it.
	// Nil when the compile spilled.
	Provenance *Provenance
	// Spilled holds the keys and their provenance on disk when the block
	// keys outgrew Options.SpillBudget; nil otherwise. The caller writes
	// them with [SpilledKeys.Write] and must call [SpilledKeys.Remove].
	Spilled *SpilledKeys
}

// Len returns the number of keys, in memory or spilled.
func (r *Result) Len() int {
	if r.Spilled != nil {
		return r.Spilled.Len()
	}
	return len(r.Keys)
}

// Report accounts for every entry [Compile] read. It is meant to be written
// as JSON beside the build.
type Report struct {
	Sources      []*SourceReport `json:"sources"`
	AllowSources []*SourceReport `json:"allow_sources,omitempty"`
	// Entries is the number of entries read from block sources;
	// Keys the final key count.
	Entries   int `json:"entries"`
	AllowKeys int `json:"allow_keys"`
	Keys      int `json:"keys"`
	// Rewritten counts normalisation changes by [Rewrite] name (one entry
	// may count under several names).
	Rewritten map[string]int `json:"rewritten"`
	// Rules accounts for every line of the block sources: each is a
	// comment, a rule that gave entries, an exception, a $badfilter rule,
	// or dropped for a named reason ([Report.Balance] checks the sums).
	Rules RuleTally `json:"rules"`
	// Dropped counts entries and rules of the block sources that did not
	// become keys, by reason (allow sources: AllowDropped):
	// syntax ("invalid_line", "line_too_long"), unsupported rules
	// ("abp_exception", "abp_modifier", …), normalisation failures
	// ("invalid_host", "single_label", …), "urlhaus_offline", "duplicate",
	// "covered_by_parent", "allowlisted", "allow_conflict_parent_removed",
	// keys an AdBlock exception rule in a block list unblocked
	// ("abp_exception_allowlisted"), keys and exception rules whose only
	// rule a $badfilter rule disabled ("badfiltered",
	// "badfiltered_exception"),
	// keys on a public suffix ("public_suffix" for the ICANN section,
	// "private_suffix" for the private one; see [SuffixPolicy]), and the
	// rules of the resolver formats that do not block a domain
	// ("dns_redirect", "dns_wildcard", "dnsmasq_forward",
	// "dnsmasq_directive", "unbound_directive", "unbound_local_data",
	// "unbound_nonblocking_zone", "rpz_trigger", "rpz_tcp_only",
	// "rpz_local_data", "rpz_out_of_zone", "rpz_include",
	// "rpz_unsupported"); AdBlock rules a device cannot enforce, by the
	// Reason constants ("abp_unanchored", "abp_partial_segment", …).
	Dropped map[string]int `json:"dropped"`
	// AllowDropped counts the lines and entries of allow sources that gave
	// no allow key, by the same reasons.
	AllowDropped map[string]int `json:"allow_dropped,omitempty"`
	// ExceptionEntriesDropped counts the entries of exception rules that
	// could not be normalised (also counted in Dropped by reason).
	ExceptionEntriesDropped int `json:"exception_entries_dropped,omitempty"`
	// Examples holds the first few lines dropped for each reason.
	Examples      map[string][]string `json:"examples,omitempty"`
	Conflicts     []Conflict          `json:"conflicts,omitempty"`
	ConflictCount int                 `json:"conflict_count"`
	// Problems lists the first malformed lines with source and line.
	Problems         []Problem `json:"problems,omitempty"`
	ProblemCount     int       `json:"problem_count"`
	TestIdentityKeys []string  `json:"test_identity_keys,omitempty"`
	// ABPExceptions counts the entries of exception rules read from block
	// sources: AdBlock @@||example.com^, and their resolver counterparts
	// dnsmasq server=/example.com/#, Unbound transparent zones and RPZ
	// rpz-passthru. records. They are applied like allow entries, after
	// normalisation and parent-aware, to the keys of every block source;
	// unsupported AdBlock exceptions count as dropped "abp_exception".
	ABPExceptions int `json:"abp_exceptions,omitempty"`
	// Badfilters counts the $badfilter rules read from block sources;
	// BadfilterKept the keys a disabled rule gave that other lines give too,
	// which therefore stay.
	Badfilters    int `json:"badfilters,omitempty"`
	BadfilterKept int `json:"badfilter_kept,omitempty"`
	// SuffixKeys lists the first keys whose host is a public suffix,
	// dropped or kept ([Options.PublicSuffixes]); SuffixKeyCount counts
	// them all, SuffixKeysKept those kept.
	SuffixKeys     []SuffixKey `json:"public_suffix_keys,omitempty"`
	SuffixKeyCount int         `json:"public_suffix_key_count,omitempty"`
	SuffixKeysKept int         `json:"public_suffix_keys_kept,omitempty"`
	// SuffixPathKeys counts keys with a path on a public-suffix host
	// (cloudfront.net/public/ct): kept, as they block exactly what the rule
	// says, that path on every site under the suffix.
	SuffixPathKeys int `json:"public_suffix_path_keys,omitempty"`
}

// RuleTally accounts for the lines of the block sources.
type RuleTally struct {
	// Lines counts the non-blank lines read.
	Lines int `json:"lines"`
	// Comments counts comments, headers and zone structure.
	Comments int `json:"comments"`
	// WithEntries counts rules that gave entries (each entry then becomes
	// a key or is dropped by reason: Report.Entries).
	WithEntries int `json:"with_entries"`
	// Exceptions counts exception rules (their entries: ABPExceptions).
	Exceptions int `json:"exceptions"`
	// Badfilters counts $badfilter rules.
	Badfilters int `json:"badfilters"`
	// Dropped counts rules that gave nothing, by reason (also in
	// Report.Dropped).
	Dropped map[string]int `json:"dropped"`
	// Converted counts rules among WithEntries that became keys only
	// because a policy strips their options ([ReasonABPParty] by default;
	// [ReasonABPType] and [ReasonABPPopup] with [BlockTypeRules]).
	Converted map[string]int `json:"converted,omitempty"`
}

// SourceReport is what one source contributed.
type SourceReport struct {
	Source    string `json:"source"`
	Documents int    `json:"documents"`
	// SkippedFiles counts the files of a UT1 directory or archive that are
	// not domains or urls lists (usage, README); UnselectedFiles the lists
	// of categories [Source.Categories] did not select.
	SkippedFiles    int `json:"skipped_files,omitempty"`
	UnselectedFiles int `json:"unselected_files,omitempty"`
	// RefusedMembers counts the tar archive members not read, for safety,
	// by reason: "link" (symbolic or hard link, never followed),
	// "special" (device, FIFO, …), "unsafe_name" (absolute, "..", a
	// backslash or NUL in the name). The first few are listed in
	// [Report.Examples] under "archive_" + reason.
	RefusedMembers map[string]int `json:"refused_members,omitempty"`
	Bytes          int64          `json:"bytes"`
	Lines          int            `json:"lines"`
	Entries        int            `json:"entries"`
}

// Problem is one malformed line.
type Problem struct {
	Source  string `json:"source"`
	Line    int    `json:"line"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d: %s", p.Source, p.Line, p.Message)
}

// Conflict is an allow entry below a blocked parent key.
type Conflict struct {
	Allow         string `json:"allow"`
	BlockedParent string `json:"blocked_parent"`
	ParentRemoved bool   `json:"parent_removed"`
	// Exception is true when the allow entry came from an AdBlock
	// exception rule in a block list rather than from an allow source.
	Exception bool `json:"abp_exception,omitempty"`
}

type compiler struct {
	opts Options
	// sequentialLines reads every document on the compiler's goroutine
	// (Options.testingOnlySequentialLines).
	sequentialLines bool
	client          *http.Client
	rep             *Report
	// exceptions holds the entries of AdBlock exception rules in block
	// sources; badfilters the rule texts $badfilter rules disable.
	exceptions *keySet
	badfilters []string
	// originSeed hashes line texts into key origins ([lineOrigin]).
	originSeed maphash.Seed
	// prov records where each key of the blocked set came from; doc is
	// the index of the block document being read.
	prov provBuilder
	doc  int
	// bufs are the readers of the document being read.
	bufs *readBuffers
	// spill receives the block keys once the in-memory set outgrew the
	// budget (nil before); spillErr is its first write error.
	spill    *spillWriter
	spillErr error
}

func newCompiler(opts Options) *compiler {
	c := &compiler{opts: opts, client: opts.HTTPClient, rep: &Report{
		Rewritten: map[string]int{}, Dropped: map[string]int{}, AllowDropped: map[string]int{}, Examples: map[string][]string{},
		Rules: RuleTally{Dropped: map[string]int{}, Converted: map[string]int{}},
	}, exceptions: newKeySet(), originSeed: maphash.MakeSeed(), bufs: newReadBuffers(),
		sequentialLines: opts.testingOnlySequentialLines}
	if c.client == nil {
		c.client = &http.Client{Timeout: 10 * time.Minute}
	}
	return c
}

func (c *compiler) dropped(reason string, n int) {
	c.rep.Dropped[reason] += n
}

// droppedIn counts n entries of a block (isBlock) or allow source dropped
// for reason.
func (c *compiler) droppedIn(isBlock bool, reason string, n int) {
	if isBlock {
		c.rep.Dropped[reason] += n
	} else {
		c.rep.AllowDropped[reason] += n
	}
}

// ruleDropped counts a rule line of a block or allow source that gave
// nothing.
func (c *compiler) ruleDropped(isBlock bool, reason string) {
	c.droppedIn(isBlock, reason, 1)
	if isBlock {
		c.rep.Rules.Dropped[reason]++
	}
}

func (c *compiler) example(reason, where string) {
	if ex := c.rep.Examples[reason]; len(ex) < maxExamples {
		c.rep.Examples[reason] = append(ex, where)
	}
}

func (c *compiler) problem(p Problem) {
	c.rep.ProblemCount++
	if len(c.rep.Problems) < maxProblems {
		c.rep.Problems = append(c.rep.Problems, p)
	}
}

// Compile reads the block and allow sources, normalises every entry, applies
// the allow list, drops duplicates and keys covered by a parent, and returns
// the sorted keys. A malformed line is counted and reported, never fatal; a
// source that cannot be read (missing file, HTTP error, over the size cap)
// is an error. Compile with no block sources returns an error.
func Compile(ctx context.Context, block, allow []Source, opts Options) (*Result, error) {
	if len(block) == 0 {
		return nil, errors.New("blocklist: no block sources")
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxArchiveBytes <= 0 {
		opts.MaxArchiveBytes = DefaultMaxArchiveBytes
	}
	c := newCompiler(opts)
	blocked := newKeySet()
	defer func() {
		if c.spill != nil {
			c.spill.abort()
		}
	}()
	for _, s := range block {
		sr, err := c.read(ctx, s, blocked, true)
		if err != nil {
			return nil, err
		}
		c.rep.Sources = append(c.rep.Sources, sr)
	}
	allowed := newKeySet()
	for _, s := range allow {
		sr, err := c.read(ctx, s, allowed, false)
		if err != nil {
			return nil, err
		}
		c.rep.AllowSources = append(c.rep.AllowSources, sr)
	}
	c.rep.AllowKeys = allowed.Len()
	if c.spill != nil {
		return c.finishSpilled(ctx, allowed)
	}
	c.applyBadfilters(blocked)
	// Before compress: a dropped co.uk must not take bbc.co.uk with it.
	c.checkSuffixes(blocked)
	c.applyAllow(blocked, c.exceptions, sortedKeys(c.exceptions), true, &c.rep.Conflicts)
	c.applyAllow(blocked, allowed, sortedKeys(allowed), false, &c.rep.Conflicts)
	if !opts.KeepCovered {
		c.compress(blocked)
	}
	if opts.TestIdentity {
		c.addTestIdentity(blocked, func() { c.prov.addBuiltIn() })
	}
	keys, order := blocked.SortedWithOrder()
	c.rep.Keys = len(keys)
	return &Result{Keys: keys, Report: c.rep, Provenance: c.prov.finish(keys, order)}, nil
}

// addTestIdentity adds Apple's test keys to blocked, calling builtIn for
// each one that was not there.
func (c *compiler) addTestIdentity(blocked *keySet, builtIn func()) {
	for _, k := range TestIdentityKeys {
		if blocked.Add(k, manyOrigins) {
			builtIn()
			c.rep.TestIdentityKeys = append(c.rep.TestIdentityKeys, k)
		}
	}
}

// sortedKeys returns the keys present in s, sorted, leaving s as it is.
func sortedKeys(s *keySet) []string {
	keys := slices.DeleteFunc(slices.Clone(s.keys), func(k string) bool { return k == "" })
	slices.Sort(keys)
	return keys
}

// read adds the normalised entries of one source to set.
func (c *compiler) read(ctx context.Context, src Source, set *keySet, isBlock bool) (*SourceReport, error) {
	sr := &SourceReport{Source: src.String()}
	docs, err := c.documents(ctx, src, sr)
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("blocklist: %w", err)
		}
		n, err := c.readDocument(ctx, d, src, set, sr, isBlock)
		if err != nil {
			return nil, err
		}
		sr.Documents += n
	}
	if isBlock {
		c.rep.Entries += sr.Entries
	}
	return sr, nil
}

// readDocument reads one document, or the members of a tar archive when a
// whole source turns out to be one, and returns how many documents it
// read.
func (c *compiler) readDocument(ctx context.Context, d document, src Source, set *keySet, sr *SourceReport, isBlock bool) (int, error) {
	rc, err := d.open()
	if err != nil {
		return 0, fmt.Errorf("blocklist: opening %s: %w", d.name, err)
	}
	defer rc.Close()
	in, closeZ, err := decompress(ctxReader{ctx, rc}, c.bufs)
	if err != nil {
		return 0, fmt.Errorf("blocklist: %s: %w", d.name, err)
	}
	defer closeZ()
	if d.archive && (d.format == FormatAuto || d.format == FormatUT1) {
		if peekTar(in) {
			return c.readArchive(ctx, d.name, in, src, set, sr, isBlock)
		}
		if d.format == FormatUT1 {
			return 0, fmt.Errorf("blocklist: %s is neither a directory nor a tar archive; ut1 reads those", d.name)
		}
	}
	if src.Categories != nil && d.archive {
		return 0, fmt.Errorf("blocklist: %s: categories select only in a UT1 directory or archive", d.name)
	}
	err = c.readLines(d.name, d.format, in, c.bufs, set, sr, isBlock)
	if cerr := closeZ(); err == nil && cerr != nil {
		err = fmt.Errorf("blocklist: reading %s: %w", d.name, cerr)
	}
	return 1, err
}

// readLines reads the lines of one decompressed document.
func (c *compiler) readLines(name string, format Format, in *bufio.Reader, bufs *readBuffers, set *keySet, sr *SourceReport, isBlock bool) error {
	lr, capped, err := openLines(in, c.opts.MaxBytes, bufs)
	if err != nil {
		return fmt.Errorf("blocklist: %s: %w", name, err)
	}
	p := newDocParser(format)
	if isBlock {
		c.doc = c.prov.addDoc(name)
	}
	lines := 0
	if p.format != FormatRPZ && runtime.GOMAXPROCS(0) > 1 && !c.sequentialLines {
		lines, err = c.readLinesParallel(name, lr, capped, p, set, sr, isBlock)
	} else {
		lines, err = c.readLinesSequential(name, lr, capped, p, set, sr, isBlock)
	}
	sr.Lines += lines
	sr.Bytes += capped.read
	if c.spillErr != nil {
		return c.spillErr
	}
	if c.opts.Progress != nil {
		c.opts.Progress(name, lines, capped.read)
	}
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return fmt.Errorf("blocklist: %s: %w (%d bytes)", name, ErrTooLarge, c.opts.MaxBytes)
		}
		return fmt.Errorf("blocklist: reading %s: %w", name, err)
	}
	return nil
}

// readLinesSequential reads the lines of a document on the compiler's
// goroutine and returns the number of the last line read.
func (c *compiler) readLinesSequential(name string, lr *bufio.Reader, capped *cappedReader, p *docParser, set *keySet, sr *SourceReport, isBlock bool) (int, error) {
	lines := 0
	namesBuf := make([][]byte, 0, 16) // reused by the fast path
	err := eachLine(lr, func(raw []byte, n int) {
		lines = n
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			return
		}
		if isBlock {
			c.rep.Rules.Lines++
		}
		if c.opts.Progress != nil && n%(1<<18) == 0 {
			defer c.opts.Progress(name, n, capped.read)
		}
		if names := p.fast(raw, namesBuf[:0]); len(names) > 0 {
			namesBuf = names[:0]
			c.addFast(names, lineOrigin(c.originSeed, raw), raw, n, set, sr, isBlock)
			return
		}
		c.parseLine(p.parse, string(raw), name, n, set, sr, isBlock)
	}, func(n int) { c.lineTooLong(name, n, isBlock) })
	return lines, err
}

// lineTooLong counts and reports line n of document name, longer than
// maxLineBytes (both line readers).
func (c *compiler) lineTooLong(name string, n int, isBlock bool) {
	if isBlock {
		c.rep.Rules.Lines++
	}
	c.ruleDropped(isBlock, "line_too_long")
	c.problem(Problem{name, n, "line_too_long", fmt.Sprintf("line longer than %d bytes", maxLineBytes)})
}

// addFast adds the keys of a line the fast path read (names, which alias
// raw; origin is lineOrigin of raw) to set, or to the spill files.
func (c *compiler) addFast(names [][]byte, origin uint32, raw []byte, n int, set *keySet, sr *SourceReport, isBlock bool) {
	if isBlock {
		c.rep.Rules.WithEntries++
	}
	for _, name := range names {
		sr.Entries++
		switch {
		case isBlock && c.spill != nil:
			spillAdd(c, name, origin, n, raw)
		case set.AddBytes(name, origin):
			if isBlock {
				addOrigin(&c.prov, c.doc, n, raw, name)
				c.maybeSpill(set)
			}
		case isBlock:
			c.dropped("duplicate", 1)
		}
	}
}

// parseLine is the general path for one trimmed, non-empty line: the
// format's parser, then [Normalize] for each entry, counting every skip,
// drop and rewrite.
func (c *compiler) parseLine(parse func(string) lineResult, line, doc string, n int, set *keySet, sr *SourceReport, isBlock bool) {
	res := parse(line)
	if res.policy != "" && !c.converts(res.policy) {
		res = skipped(res.policy)
	}
	switch {
	case res.err != nil:
		c.ruleDropped(isBlock, "invalid_line")
		c.problem(Problem{doc, n, "invalid_line", res.err.Error()})
		return
	case res.skip == "comment":
		if isBlock {
			c.rep.Rules.Comments++
		}
		return
	case res.skip != "":
		c.ruleDropped(isBlock, res.skip)
		c.example(res.skip, fmt.Sprintf("%s:%d: %s", doc, n, line))
		return
	case res.badfilter != "" && !isBlock:
		c.ruleDropped(isBlock, "abp_badfilter_in_allow_source")
		c.example("abp_badfilter_in_allow_source", fmt.Sprintf("%s:%d: %s", doc, n, line))
		return
	case res.badfilter != "":
		c.rep.Badfilters++
		c.rep.Rules.Badfilters++
		c.badfilters = append(c.badfilters, res.badfilter)
		return
	}
	origin := lineOriginString(c.originSeed, line)
	exception := res.allow && isBlock
	switch {
	case exception:
		set = c.exceptions
		c.rep.Rules.Exceptions++
	case isBlock:
		c.rep.Rules.WithEntries++
		if res.policy != "" {
			c.rep.Rules.Converted[res.policy]++
			c.example("converted_"+res.policy, fmt.Sprintf("%s:%d: %s", doc, n, line))
		}
	}
	if res.boilerplate > 0 {
		c.droppedIn(isBlock, "hosts_boilerplate", res.boilerplate)
	}
	for _, e := range res.entries {
		if exception {
			c.rep.ABPExceptions++
		} else {
			sr.Entries++
		}
		key, rw, err := Normalize(e)
		if err != nil {
			de := &DropError{Reason: "invalid_entry", Detail: err.Error()}
			errors.As(err, &de)
			reason := de.Reason
			c.droppedIn(isBlock, reason, 1)
			if exception {
				c.rep.ExceptionEntriesDropped++
			}
			c.example(reason, fmt.Sprintf("%s:%d: %s", doc, n, e))
			if reason == "invalid_host" || reason == "invalid_port" || reason == "invalid_character" {
				c.problem(Problem{doc, n, reason, de.Detail})
			}
			continue
		}
		for i := range rewriteCount {
			if rw&(1<<i) != 0 {
				c.rep.Rewritten[rewriteNames[i]]++
			}
		}
		switch {
		case isBlock && !exception && c.spill != nil:
			spillAdd(c, key, origin, n, line)
		case set.Add(key, origin):
			if isBlock && !exception {
				addOrigin(&c.prov, c.doc, n, line, key)
				c.maybeSpill(set)
			}
		case isBlock && !exception:
			c.dropped("duplicate", 1)
		}
	}
}

// converts reports whether the options say rules of this policy class
// become keys.
func (c *compiler) converts(policy string) bool {
	switch policy {
	case ReasonABPParty:
		return c.opts.ABPPartyRules == BlockPartyRules
	case ReasonABPType, ReasonABPPopup:
		return c.opts.ABPTypeRules == BlockTypeRules
	}
	return false
}

// applyBadfilters removes the keys (and exception entries) that only a
// rule named by a $badfilter rule gave: a key another line also gave stays
// (counted in Report.BadfilterKept), as a filter engine would still block
// it through that other rule.
func (c *compiler) applyBadfilters(blocked *keySet) {
	for _, t := range c.badfilterTargets() {
		set := blocked
		if t.exception {
			set = c.exceptions
		}
		c.reportBadfilter(t, resolveBadfilter(set, t))
	}
}

// bfTarget is one key a $badfilter rule disables: text is the
// disabled rule, origin its [lineOrigin], exception whether it is an
// exception rule (its key is in compiler.exceptions).
type bfTarget struct {
	text, key string
	origin    uint32
	exception bool
}

// badfilterOutcome is what a target did: nothing (its key is in no list),
// kept (other lines give the key too) or removed.
type badfilterOutcome uint8

const (
	badfilterAbsent badfilterOutcome = iota
	badfilterKept
	badfilterRemoved
)

// badfilterTargets returns the keys of the rules $badfilter rules disable,
// in the order they are applied (each distinct rule text once).
func (c *compiler) badfilterTargets() []bfTarget {
	var targets []bfTarget
	seen := map[string]bool{}
	for _, t := range c.badfilters {
		if seen[t] {
			continue
		}
		seen[t] = true
		res := parseABPLine(t)
		origin := lineOriginString(c.originSeed, t)
		for _, e := range res.entries {
			key, _, err := Normalize(e)
			if err != nil {
				continue
			}
			targets = append(targets, bfTarget{text: t, key: key, origin: origin, exception: res.allow})
		}
	}
	return targets
}

// resolveBadfilter applies one target to the set holding its key.
func resolveBadfilter(set *keySet, t bfTarget) badfilterOutcome {
	i := set.Index(t.key)
	switch {
	case i < 0: // the disabled rule is in no list
		return badfilterAbsent
	case set.origins[i] != t.origin:
		return badfilterKept
	}
	set.keys[i] = ""
	return badfilterRemoved
}

// reportBadfilter counts what a target did.
func (c *compiler) reportBadfilter(t bfTarget, o badfilterOutcome) {
	reason := "badfiltered"
	if t.exception {
		reason = "badfiltered_exception"
	}
	switch o {
	case badfilterKept:
		c.rep.BadfilterKept++
		c.example("badfilter_kept", t.text)
	case badfilterRemoved:
		c.dropped(reason, 1)
		c.example(reason, t.text)
	}
}

// applyAllow removes blocked keys equal to or below an allowed key and
// reports allowed keys that lie below a blocked parent, appending the
// first of them to conflicts (up to maxConflicts in all). allowKeys are
// the allowed keys whose parents to check, sorted. exception says the
// allowed keys came from AdBlock exception rules in block sources.
func (c *compiler) applyAllow(blocked, allowed *keySet, allowKeys []string, exception bool, conflicts *[]Conflict) {
	if allowed.Len() == 0 {
		return
	}
	reason := "allowlisted"
	if exception {
		reason = "abp_exception_allowlisted"
	}
	for i, k := range blocked.keys {
		if k == "" {
			continue
		}
		hit := allowed.Has(k)
		if !hit {
			ancestors(k, func(a string) bool {
				hit = allowed.Has(a)
				return hit
			})
		}
		if hit {
			blocked.keys[i] = ""
			c.dropped(reason, 1)
		}
	}
	for _, a := range allowKeys {
		ancestors(a, func(p string) bool {
			if !blocked.Has(p) {
				return false
			}
			c.rep.ConflictCount++
			conf := Conflict{Allow: a, BlockedParent: p, ParentRemoved: c.opts.AllowRemovesParents, Exception: exception}
			if len(*conflicts) < maxConflicts {
				*conflicts = append(*conflicts, conf)
			}
			if c.opts.AllowRemovesParents {
				blocked.Remove(p)
				c.dropped("allow_conflict_parent_removed", 1)
			}
			return false
		})
	}
}

// compress drops keys that a parent key already covers. The lookups only
// read the set, so they run on all cores; the removals follow.
func (c *compiler) compress(blocked *keySet) {
	covered := parallelIndexes(blocked.keys, func(k string) bool { return hasBlockedAncestor(blocked, k) })
	for _, i := range covered {
		blocked.keys[i] = ""
	}
	c.dropped("covered_by_parent", len(covered))
}

// parallelIndexes returns, in increasing order, the indexes of the
// non-blank keys for which pred is true, calling pred on all cores for
// large inputs. pred must only read shared state.
func parallelIndexes(keys []string, pred func(string) bool) []int {
	workers := max(1, min(runtime.GOMAXPROCS(0), len(keys)/(1<<16)))
	found := make([][]int, workers)
	chunk := (len(keys) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w * chunk; i < min(len(keys), (w+1)*chunk); i++ {
				if k := keys[i]; k != "" && pred(k) {
					found[w] = append(found[w], i)
				}
			}
		})
	}
	wg.Wait()
	return slices.Concat(found...)
}

// hasBlockedAncestor reports whether a key covering key (see [ancestors])
// is in set. Host-only keys, the bulk of every list, walk their parent
// domains directly.
func hasBlockedAncestor(set *keySet, key string) bool {
	if strings.IndexAny(key, ":/?#[") < 0 {
		if isIPv4(key) {
			return false
		}
		for h := key; ; {
			i := strings.IndexByte(h, '.')
			if i < 0 || strings.IndexByte(h[i+1:], '.') < 0 {
				return false // the next parent would be a bare TLD
			}
			h = h[i+1:]
			if set.Has(h) {
				return true
			}
		}
	}
	found := false
	ancestors(key, func(a string) bool {
		found = set.Has(a)
		return found
	})
	return found
}

// ancestors calls visit with every key that covers key on the device
// (client-spec §3.2) other than key itself, until visit returns true: the
// same and parent hosts (down to two labels), with and without key's port,
// combined with every path prefix; for keys with a query, the bare path;
// for keys with a fragment, the key without it. Keys are as [Normalize]
// returns them.
func ancestors(key string, visit func(string) bool) {
	hpEnd := strings.IndexAny(key, "/?#")
	if hpEnd < 0 {
		hpEnd = len(key)
	}
	hostport, rest := key[:hpEnd], key[hpEnd:]
	host, port := hostport, ""
	if !strings.HasPrefix(hostport, "[") {
		if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
			host, port = hostport[:i], hostport[i:]
		}
	} else if i := strings.LastIndex(hostport, "]:"); i >= 0 {
		host, port = hostport[:i+1], hostport[i+1:]
	}
	path, tail := rest, ""
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		path, tail = rest[:i], rest[i:]
	}
	// Path prefixes, shortest first: "", "/a", "/a/b", …, the full path,
	// and "path?query" under "path?query#f". The key itself is skipped.
	prefixes := make([]int, 1, 16) // lengths into rest, starting with 0
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			prefixes = append(prefixes, i)
		}
	}
	if path != "" && path != "/" {
		prefixes = append(prefixes, len(path))
	}
	if tail != "" {
		if j := strings.IndexByte(tail, '#'); j > 0 {
			prefixes = append(prefixes, len(path)+j)
		}
	}
	isIP := strings.HasPrefix(host, "[") || isIPv4(host)
	for start := 0; start <= len(host); {
		h := host[start:]
		for _, n := range prefixes {
			cand := key[start : hpEnd+n] // this host with key's port, if any
			if cand != key && visit(cand) {
				return
			}
			if port != "" {
				if visit(h + rest[:n]) {
					return
				}
			}
		}
		if isIP {
			return
		}
		next := strings.IndexByte(h, '.')
		if next < 0 || strings.IndexByte(h[next+1:], '.') < 0 {
			return // the next parent would be a bare TLD
		}
		start += next + 1
	}
}

func isIPv4[T ~string | ~[]byte](h T) bool {
	dots := 0
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			return false
		}
	}
	return dots == 3
}

// Balance checks that the report accounts for every line and entry of the
// block sources: the lines read are the comments, the rules that gave
// entries, the exceptions, the $badfilter rules and the rules dropped by
// reason; and the entries read (with hosts boilerplate names) are the keys
// (without the test identity) plus the entries dropped by reason. It
// returns an error naming the sums that differ.
func (r *Report) Balance() error {
	t := r.Rules
	rulesDropped := 0
	for _, n := range t.Dropped {
		rulesDropped += n
	}
	var errs []error
	if got := t.Comments + t.WithEntries + t.Exceptions + t.Badfilters + rulesDropped; got != t.Lines {
		errs = append(errs, fmt.Errorf("blocklist: %d lines read, but %d comments + %d rules with entries + %d exceptions + %d badfilters + %d rules dropped = %d",
			t.Lines, t.Comments, t.WithEntries, t.Exceptions, t.Badfilters, rulesDropped, got))
	}
	entriesDropped := -rulesDropped - r.ExceptionEntriesDropped - r.Dropped["badfiltered_exception"]
	for _, n := range r.Dropped {
		entriesDropped += n
	}
	listKeys := r.Keys - len(r.TestIdentityKeys)
	if in := r.Entries + r.Dropped["hosts_boilerplate"]; in != listKeys+entriesDropped {
		errs = append(errs, fmt.Errorf("blocklist: %d entries read (%d hosts boilerplate names included), but %d keys + %d entries dropped = %d",
			in, r.Dropped["hosts_boilerplate"], listKeys, entriesDropped, listKeys+entriesDropped))
	}
	return errors.Join(errs...)
}
