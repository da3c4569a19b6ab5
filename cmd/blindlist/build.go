package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/bloom"
	"github.com/blindlist/blindlist/generation"
	"github.com/blindlist/blindlist/internal/atomicfile"
)

const buildUsage = `Usage: blindlist build [--source [FORMAT:]LOCATION]... [--allow [FORMAT:]LOCATION]... [--out DIR] [flags]

Compile blocklists into the key set Apple's NEURLFilter looks up, then write in one pass a
new generation, DIR/generations/<ID>/ (below, GEN), published by switching the link
DIR/current to it in one atomic step; a build killed at any point leaves the previous
generation served whole. Unchanged shards are linked from the previous generation.
  GEN/prefilter.bin        the Bloom prefilter bits (NEURLFilterPrefilter data)
  GEN/bloom_filter.plist   the same filter as the SimpleURLFilter sample's plist
  GEN/prefilter.json       bit count, hash count, seed, tag (SHA-256 of the bits)
  GEN/keys.txt             the normalised keys, one per line (the PIR input)
  GEN/input.txtpb          the keys as a KeywordDatabase text proto, value "1" (for PIRProcessDatabase)
  GEN/manifest.json        what was read, rewritten and dropped, by reason
  GEN/provenance.txt.gz    per key, the source line that gave it ('blindlist check' prints it)
  GEN/url-N.bin, GEN/url-N.params.txtpb
                           the keyword-PIR shards of the same keys, value "1", in the layout of
                           Apple's PIRProcessDatabase ('blindlist serve --db DIR' serves them)
  GEN/url-N.serve          the same shard as the server memory-maps it: a link to its whole file,
                           kept once in DIR/bases/; a shard updated in place has only this, as a
                           patch over GEN/url-N.base.serve (a link to an earlier whole file), and
                           no .bin (--pir-rebuild writes them all)
  GEN/evaluation_key_config.txtpb
                           the evaluation-key config devices generate keys for
  GEN/pir-manifest.json    settings, config_id, per shard its key count, key digest and file SHA-256
  GEN/generation.json      id, key count (+added -removed), shard count, settings and the size and
                           SHA-256 of every file: 'serve' refuses a generation that does not match

Unlike 'blindlist bloom', build normalises entries to the device's key space (no scheme,
lowercase, Punycode, no leading www., canonical path), removes duplicates and keys covered
by a parent key (unless --keep-covered), and applies allow lists after normalisation. With
no --source it builds a small built-in demo list.

LOCATION is a file, a directory or tar archive in the UT1 layout (blacklists.tar.gz, local
or http(s): every 'domains' and 'urls' file, read without unpacking), or an http(s) URL;
gzip and bzip2 are detected; lines may end in LF, CRLF or CR. FORMAT is auto (default),
hosts, domains, abp, urls, urlhaus, ut1, dnsmasq, unbound or rpz; ut1=CAT,CAT:LOCATION
reads only those UT1 categories. AdBlock exception rules (@@||domain^) in a block list, and
the passthrough rules of dnsmasq (server=/d/#), Unbound (transparent zones) and RPZ
(rpz-passthru.), unblock like --allow entries, for every block list; a rule with $badfilter
disables the rule with the same text.

AdBlock / uBlock Origin / AdGuard lists compile to everything a device can enforce: whole-domain
rules (||d^, also with $important, $all, $document, and by default with only party options such
as $third-party, since a device cannot tell first from third party) and paths that end at a
segment boundary (||d/path/, ||d/file.js, ||d/path/* gives d/path). Every other rule is dropped
under a named reason in manifest.json: context options ($domain=, $redirect=, …), resource
types and $popup (a device cannot tell a script from a page, nor a popup from a visit), paths
ending inside a segment (||d/banner-), hosts ending in '.' or '*', wildcards, unanchored rules.

Flags:
  --source SRC             block list source (repeatable)
  --allow SRC              allow list source (repeatable)
  --out DIR                output directory, created if needed (default "out")
  --tolerance P            per-key false-positive rate (default 0.001)
  --visit-rate R           size for a false-positive rate R per visited URL instead
  --suburls S              sub-URLs the device tests per visit, for --visit-rate (default 24)
  --seed N                 Murmur3 seed (default: derived from the keys, so builds are reproducible)
  --allow-removes-parents  an allowed key below a blocked parent removes the parent
  --public-suffix P        keys whose host is a public suffix (co.uk, or www.co.uk once www. is
                           stripped; github.io), which the device would find for every site
                           under it: drop (default), keep-private (drop ICANN suffixes such as
                           co.uk, keep private ones such as github.io) or keep; each is warned
  --keep-covered           keep keys a listed parent already covers (sub.example.com beside
                           example.com), for devices that test only the exact host: an app built
                           with the iOS 26 SDK, running on iOS 27 without saving a
                           urlParsingConfiguration, does not walk parent domains
  --no-test-identity       do not add Apple's onboarding key apple.com/url-filter-test
  --abp-drop-party         drop whole-domain AdBlock rules whose only options are party options
                           (||hotjar.com^$third-party) instead of blocking the domain
  --abp-block-types        block the domain of whole-domain AdBlock rules limited to resource
                           types or popups (||google-analytics.com^$script, ||d^$popup), which
                           are dropped by default
  --max-bytes SIZE         size cap per source after decompression (e.g. 8GiB; default 1GiB)
  --timeout D              overall time limit for reading sources (default 10m)
  --workers N              goroutines for the Bloom build and PIR shards (default: all cores)
  --memory-budget SIZE     memory for the compile stage's key set (e.g. 512MiB, 2GiB; default 1/48
                           of RAM, 256 MiB to 2 GiB); a list that outgrows it is compiled out of
                           memory, through sorted runs on disk, with the same output; the heap
                           peaks near twice the budget. 0: the default; "unlimited": all in memory
  --temp-dir DIR           where those runs go (default: a temporary directory inside --out,
                           removed after the build); needs about 50 bytes per list entry
  --progress               print progress to stderr (default: only on a terminal)
  --json                   print the manifest summary as JSON on stdout
  --cpuprofile FILE        write a CPU profile of the build to FILE ('go tool pprof FILE')
  --keep N                 generations to keep, the new one included (default 5); see
                           'blindlist generations'

PIR flags (a rebuild into the same DIR with the same settings and shard count reprocesses
only the shards whose keys changed, keeping their parameters when the keys fit):
  --no-pir                 write the prefilter and key list only
  --pir-rebuild            reprocess every shard, ignoring the previous build (same files as a
                           build into an empty directory)
  --shards N               number of PIR shards
  --entries-per-shard N    keys per shard instead: max(keys/N, 1) shards (default 50000)
  --preset NAME            rlwe preset (default n_4096_logq_27_28_28_logt_5)
  --hash-functions K       cuckoo hash functions (default 2)
  --stem NAME              shard file stem (default url)
  --symmetric-key FILE     symmetric PIR (Apple's OPRF_P384_AES_GCM_192_NONCE_96_TAG_128): devices
                           learn only the rows they ask for. Uses the key in FILE (Apple's hex
                           format), created with mode 0600 if missing; serve it with the usecase's
                           symmetricPirArguments.databaseEncryptionKeyFilePath. Keep it secret and
                           outside DIR

Examples:
  blindlist build --out out/ && blindlist serve --db out/ --usecase com.example.app.url.filtering
  blindlist build --source https://raw.githubusercontent.com/StevenBlack/hosts/master/hosts \
      --source abp:lists/oisd_small.txt --allow allow.txt --visit-rate 0.001 --out out/
  blindlist build --source ut1=phishing,malware:https://dsi.ut-capitole.fr/blacklists/download/blacklists.tar.gz \
      --source rpz:lists/hagezi-pro.rpz --symmetric-key spir.key --out out/
`

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runBuild(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	var sources, allows multiFlag
	fs.Var(&sources, "source", "")
	fs.Var(&allows, "allow", "")
	out := fs.String("out", "out", "")
	tolerance := fs.Float64("tolerance", 0.001, "")
	visitRate := fs.Float64("visit-rate", 0, "")
	subURLs := fs.Int("suburls", 24, "")
	seedFlag := fs.String("seed", "", "")
	allowParents := fs.Bool("allow-removes-parents", false, "")
	keepCovered := fs.Bool("keep-covered", false, "")
	suffixFlag := fs.String("public-suffix", blocklist.DropSuffixes.String(), "")
	noTestID := fs.Bool("no-test-identity", false, "")
	abpDropParty := fs.Bool("abp-drop-party", false, "")
	abpBlockTypes := fs.Bool("abp-block-types", false, "")
	maxBytes := newSizeFlag(fs, "max-bytes", blocklist.DefaultMaxBytes)
	timeout := fs.Duration("timeout", 10*time.Minute, "")
	workers := fs.Int("workers", 0, "")
	progress := fs.Bool("progress", false, "")
	cpuProfile := fs.String("cpuprofile", "", "")
	asJSON := fs.Bool("json", false, "")
	keep := fs.Int("keep", generation.DefaultKeep, "")
	memBudget := fs.String("memory-budget", "0", "")
	tempDir := fs.String("temp-dir", "", "")
	var pirFlags pirBuildFlags
	pirFlags.register(fs)
	pos, code, ok := parseArgs(e, fs, buildUsage, args)
	if !ok {
		return code
	}
	if code, ok := e.noArgs("build", pos); !ok {
		return code
	}
	if err := pirFlags.check(fs); err != nil {
		return e.usagef("build", "%v", err)
	}
	if *keep < 1 {
		return e.errorf("--keep %d: want at least 1", *keep)
	}
	suffixes, err := blocklist.ParseSuffixPolicy(*suffixFlag)
	if err != nil {
		return e.usagef("build", "%v", err)
	}
	budget, err := parseMemoryBudget(*memBudget)
	if err != nil {
		return e.usagef("build", "%v", err)
	}
	showProgress := *progress || isTerminal(e.stderr)
	p := *tolerance
	if *visitRate != 0 {
		if p, err = bloom.ToleranceForVisit(*visitRate, *subURLs); err != nil {
			return e.errorf("%v", err)
		}
	}
	if !(p > 0 && p < 1) {
		return e.usagef("build", "tolerance %v is outside (0, 1)", p)
	}

	cfg := generation.Config{
		Compile: blocklist.Options{
			MaxBytes:            *maxBytes,
			AllowRemovesParents: *allowParents,
			KeepCovered:         *keepCovered,
			PublicSuffixes:      suffixes,
			TestIdentity:        !*noTestID,
		},
		ReadTimeout:  *timeout,
		Tolerance:    p,
		VisitRate:    *visitRate,
		SubURLs:      *subURLs,
		Workers:      *workers,
		Keep:         *keep,
		MemoryBudget: budget,
		TempDir:      *tempDir,
		PIR:          pirFlags.config(),
		Logf:         func(format string, args ...any) { fmt.Fprintf(e.stderr, "blindlist: "+format+"\n", args...) },
	}
	for _, s := range sources {
		src, err := blocklist.ParseSource(s)
		if err != nil {
			return e.usagef("build", "%v", err)
		}
		cfg.Block = append(cfg.Block, src)
	}
	if len(cfg.Block) == 0 {
		cfg.Block = []blocklist.Source{blocklist.DemoSource()}
		e.hintf("no --source given: building the built-in demo list")
	}
	for _, s := range allows {
		src, err := blocklist.ParseSource(s)
		if err != nil {
			return e.usagef("build", "%v", err)
		}
		cfg.Allow = append(cfg.Allow, src)
	}
	if *abpDropParty {
		cfg.Compile.ABPPartyRules = blocklist.DropPartyRules
	}
	if *abpBlockTypes {
		cfg.Compile.ABPTypeRules = blocklist.BlockTypeRules
	}
	if showProgress {
		cfg.Compile.Progress = progressPrinter(e.stderr)
		cfg.Progressf = cfg.Logf
	}
	if *seedFlag != "" {
		seed, err := parseSeed(*seedFlag)
		if err != nil {
			return e.errorf("%v", err)
		}
		cfg.Seed = &seed
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return e.errorf("%v", err)
		}
		defer stop()
	}
	res, err := generation.Build(ctx, *out, cfg)
	if res != nil && res.Report != nil {
		for i, pr := range res.Report.Problems {
			if i == 5 {
				e.hintf("%d malformed lines in all; see %s", res.Report.ProblemCount, filepath.Join(*out, "manifest.json"))
				break
			}
			fmt.Fprintf(e.stderr, "blindlist: warning: %s\n", pr)
		}
		warnSuffixKeys(e, res.Report, *out)
		warnOverriddenAllows(e, res.Report, *out)
	}
	if errors.Is(err, generation.ErrNoKeys) {
		return e.errorf("the sources gave no keys")
	}
	if errors.Is(err, blocklist.ErrTooLarge) {
		return e.errorf("%v (raise the cap with --max-bytes, e.g. --max-bytes 8GiB)", err)
	}
	if err != nil {
		return e.errorf("%v", err)
	}
	f, man := res.Filter, res.Manifest
	fpKey := man.Sizing.ExpectedFPRate
	fpVisit := 1 - math.Pow(1-fpKey, float64(*subURLs))
	overridden := overriddenAllows(res.Report)
	if *asJSON {
		sum, _ := json.MarshalIndent(struct {
			Keys      int            `json:"keys"`
			Out       string         `json:"out"`
			Prefilter bloom.Manifest `json:"prefilter"`
			Dropped   map[string]int `json:"dropped"`
			// FPPerKey is the prefilter's false-positive rate per
			// sub-URL looked up; FPPerVisit for a visit of SubURLs.
			FPPerKey   float64 `json:"false_positive_rate_per_key"`
			FPPerVisit float64 `json:"false_positive_rate_per_visit"`
			SubURLs    int     `json:"suburls_per_visit"`
			// OverriddenAllows counts allow entries below a blocked
			// parent that stays blocked: the device still denies them.
			OverriddenAllows int `json:"overridden_allows"`
		}{res.KeyCount, *out, man.Prefilter, res.Report.Dropped, fpKey, fpVisit, *subURLs, overridden}, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", sum)
		return 0
	}
	pp := f.Params()
	fmt.Fprintf(e.stdout, "%d keys from %d entries -> %s\n", res.KeyCount, res.Report.Entries, *out)
	fmt.Fprintf(e.stdout, "prefilter: %d bits, %d hashes, seed %d, %d bytes, tag %s\n",
		pp.BitCount, pp.HashCount, pp.Seed, f.ByteCount(), f.Tag())
	fmt.Fprintf(e.stdout, "false-positive rate: %.3g per sub-URL looked up, %.3g per visit of %d sub-URLs\n", fpKey, fpVisit, *subURLs)
	if overridden > 0 {
		fmt.Fprintf(e.stdout, "allow entries overridden by a blocked parent (still denied): %d\n", overridden)
	}
	fmt.Fprintf(e.stdout, "dropped: %s\n", formatCounts(res.Report.Dropped))
	if c := res.Report.Rules.Converted; len(c) > 0 {
		fmt.Fprintf(e.stdout, "blocked as whole domains, options ignored: %s\n", formatCounts(c))
	}
	return 0
}

// overriddenAllows counts the allow entries that lie below a blocked parent
// which stays blocked: the device tests the parent too, so it still denies
// them.
func overriddenAllows(rep *blocklist.Report) int {
	// Conflicts lists the first few of ConflictCount; ParentRemoved is the
	// same for all (--allow-removes-parents).
	if rep == nil || len(rep.Conflicts) == 0 || rep.Conflicts[0].ParentRemoved {
		return 0
	}
	return rep.ConflictCount
}

// warnOverriddenAllows names the first allow entries a blocked parent
// overrides, and how to unblock them.
func warnOverriddenAllows(e *env, rep *blocklist.Report, out string) {
	shown := 0
	for _, c := range rep.Conflicts {
		if c.ParentRemoved {
			continue
		}
		if shown == 5 {
			e.hintf("%d such allow entries in all; see conflicts in %s", overriddenAllows(rep), filepath.Join(out, "manifest.json"))
			break
		}
		fmt.Fprintf(e.stderr, "blindlist: warning: allow entry %s is below blocked %s: the device still denies it\n", c.Allow, c.BlockedParent)
		shown++
	}
	if shown > 0 {
		e.hintf("--allow-removes-parents unblocks the parents of allow entries, or remove the parent from the block lists")
	}
}

// warnSuffixKeys prints the first keys on a public suffix, dropped or kept.
func warnSuffixKeys(e *env, rep *blocklist.Report, out string) {
	for i, sk := range rep.SuffixKeys {
		if i == 5 {
			e.hintf("%d keys on a public suffix in all; see %s", rep.SuffixKeyCount, filepath.Join(out, "manifest.json"))
			break
		}
		fmt.Fprintf(e.stderr, "blindlist: warning: %s\n", sk)
	}
	if rep.SuffixKeyCount > rep.SuffixKeysKept {
		e.hintf("--public-suffix keep-private or keep keeps such keys, for lists that mean to block every site under a suffix")
	}
}

func parseSeed(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("seed %q is not a number in 0..4294967295", s)
	}
	return uint32(n), nil
}

func formatCounts(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

func sortedKeys(m map[string]int) []string {
	return slices.Sorted(maps.Keys(m))
}

// writeWith streams a file through fn (given a buffered writer) and replaces
// path with it atomically and durably, mode 0644.
func writeWith(path string, fn func(io.Writer) error) error {
	return atomicfile.WriteFile(path, 0o644, fn)
}

// writeFileAtomic replaces path with data atomically and durably, mode 0644.
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.WriteBytes(path, 0o644, data)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressPrinter prints at most one progress line per second.
func progressPrinter(w io.Writer) func(doc string, lines int, n int64) {
	var last time.Time
	return func(doc string, lines int, n int64) {
		if now := time.Now(); now.Sub(last) >= time.Second {
			last = now
			fmt.Fprintf(w, "blindlist: reading %s: %d lines, %.1f MB\n", doc, lines, float64(n)/1e6)
		}
	}
}

// startCPUProfile writes a CPU profile to path until the returned function
// is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// parseMemoryBudget reads --memory-budget: a size ([parseSize]), 0 for the
// default, or "unlimited" (-1: never spill).
func parseMemoryBudget(s string) (int64, error) {
	if s == "unlimited" {
		return -1, nil
	}
	n, err := parseSize(s)
	if err != nil {
		return 0, fmt.Errorf("--memory-budget %q: want a size such as 512MiB or 2GiB, 0 for the default, or unlimited", s)
	}
	return n, nil
}

// parseSize reads a byte count with an optional KiB, MiB, GiB (or KB, MB,
// GB: also powers of 1024) or B suffix.
func parseSize(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (a byte count, or with KiB, MiB or GiB)", s)
	}
	return n * mult, nil
}

// sizeFlag is a flag.Value holding a byte count given as [parseSize]
// reads it (--max-bytes 8GiB, or a plain byte count).
type sizeFlag int64

func (f *sizeFlag) String() string { return strconv.FormatInt(int64(*f), 10) }

func (f *sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*f = sizeFlag(n)
	return nil
}

// newSizeFlag defines a size flag with default def.
func newSizeFlag(fs *flag.FlagSet, name string, def int64) *int64 {
	f := sizeFlag(def)
	fs.Var(&f, name, "")
	return (*int64)(&f)
}
