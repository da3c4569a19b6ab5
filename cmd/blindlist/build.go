package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/bloom"
	"github.com/blindlist/blindlist/internal/atomicfile"
	"github.com/blindlist/blindlist/pir/pb"
)

const buildUsage = `Usage: blindlist build [--source [FORMAT:]LOCATION]... [--allow [FORMAT:]LOCATION]... [--out DIR] [flags]

Compile blocklists into the key set Apple's NEURLFilter looks up, then write in one pass:
  DIR/prefilter.bin        the Bloom prefilter bits (NEURLFilterPrefilter data)
  DIR/bloom_filter.plist   the same filter as the SimpleURLFilter sample's plist
  DIR/prefilter.json       bit count, hash count, seed, tag (SHA-256 of the bits)
  DIR/keys.txt             the normalised keys, one per line (the PIR input)
  DIR/input.txtpb          the keys as a KeywordDatabase text proto, value "1" (for PIRProcessDatabase)
  DIR/manifest.json        what was read, rewritten and dropped, by reason
  DIR/url-N.bin, DIR/url-N.params.txtpb
                           the keyword-PIR shards of the same keys, value "1", in the layout of
                           Apple's PIRProcessDatabase ('blindlist serve --db DIR' serves them)
  DIR/evaluation_key_config.txtpb
                           the evaluation-key config devices generate keys for
  DIR/pir-manifest.json    settings, config_id, per shard its key count, key digest and file SHA-256

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
  --max-bytes N            size cap per source after decompression (default 1 GiB)
  --timeout D              overall time limit for reading sources (default 10m)
  --workers N              goroutines for the Bloom build and PIR shards (default: all cores)
  --progress               print progress to stderr (default: only on a terminal)
  --json                   print the manifest summary as JSON on stdout

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

// parseArgs parses flags that may appear before, between or after the
// positional arguments, which it returns. On -h it prints usage to stdout
// and returns code 0; on a bad flag, usage to stderr and code 2.
func parseArgs(e *env, fs *flag.FlagSet, usage string, args []string) (pos []string, code int, ok bool) {
	fs.SetOutput(e.stderr)
	fs.Usage = func() {}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(e.stdout, usage)
				return nil, 0, false
			}
			fmt.Fprint(e.stderr, usage)
			return nil, 2, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// postBuildStep is a later stage of 'blindlist build' that works from the
// final keys, such as writing PIR shards into the same directory.
type postBuildStep func(ctx context.Context, e *env, keys []string, outDir string) error

// buildSteps lists the stages run after the prefilter and key list are
// written. Add one line per stage.
func buildSteps(pirFlags *pirBuildFlags) []postBuildStep {
	return []postBuildStep{
		pirFlags.step(), // PIR shards, build_pir.go
	}
}

// buildManifest is DIR/manifest.json.
type buildManifest struct {
	Tool  string `json:"tool"`
	Built string `json:"built"`
	// KeepCovered records --keep-covered: keys below a listed parent were
	// kept, for devices that do not walk the domain hierarchy.
	KeepCovered bool              `json:"keep_covered"`
	Keys        int               `json:"keys"`
	KeysFile    string            `json:"keys_file"`
	PIRInput    string            `json:"pir_input"`
	Sizing      buildSizing       `json:"sizing"`
	Prefilter   bloom.Manifest    `json:"prefilter"`
	Report      *blocklist.Report `json:"report"`
}

type buildSizing struct {
	Tolerance      float64 `json:"per_key_tolerance"`
	VisitRate      float64 `json:"per_visit_rate,omitempty"`
	SubURLs        int     `json:"suburls_per_visit,omitempty"`
	SeedDerived    bool    `json:"seed_derived_from_keys"`
	PlistAndBits   string  `json:"files"`
	ExpectedFPRate float64 `json:"expected_per_key_rate"`
}

func runBuild(ctx context.Context, e *env, args []string) int {
	return runBuildHooked(ctx, e, args, nil)
}

// runBuildHooked is runBuild with testingOnlyShardDone handed to the PIR
// step (see pirBuilder); nil in production.
func runBuildHooked(ctx context.Context, e *env, args []string, testingOnlyShardDone func(shard int) error) int {
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
	maxBytes := fs.Int64("max-bytes", blocklist.DefaultMaxBytes, "")
	timeout := fs.Duration("timeout", 10*time.Minute, "")
	workers := fs.Int("workers", 0, "")
	progress := fs.Bool("progress", false, "")
	asJSON := fs.Bool("json", false, "")
	pirFlags := pirBuildFlags{testingOnlyShardDone: testingOnlyShardDone}
	pirFlags.register(fs)
	pos, code, ok := parseArgs(e, fs, buildUsage, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprint(e.stderr, buildUsage)
		return 2
	}
	if err := pirFlags.check(fs); err != nil {
		return e.errorf("%v", err)
	}
	suffixes, err := blocklist.ParseSuffixPolicy(*suffixFlag)
	if err != nil {
		return e.errorf("%v", err)
	}
	pirFlags.workers, pirFlags.progress = *workers, *progress || isTerminal(e.stderr)
	p := *tolerance
	if *visitRate != 0 {
		if p, err = bloom.ToleranceForVisit(*visitRate, *subURLs); err != nil {
			return e.errorf("%v", err)
		}
	}
	if !(p > 0 && p < 1) {
		return e.errorf("tolerance %v is outside (0, 1)", p)
	}

	var block, allow []blocklist.Source
	for _, s := range sources {
		src, err := blocklist.ParseSource(s)
		if err != nil {
			return e.errorf("%v", err)
		}
		block = append(block, src)
	}
	if len(block) == 0 {
		block = []blocklist.Source{blocklist.DemoSource()}
		e.hintf("no --source given: building the built-in demo list")
	}
	for _, s := range allows {
		src, err := blocklist.ParseSource(s)
		if err != nil {
			return e.errorf("%v", err)
		}
		allow = append(allow, src)
	}
	opts := blocklist.Options{
		MaxBytes:            *maxBytes,
		AllowRemovesParents: *allowParents,
		KeepCovered:         *keepCovered,
		PublicSuffixes:      suffixes,
		TestIdentity:        !*noTestID,
	}
	if *progress || isTerminal(e.stderr) {
		opts.Progress = progressPrinter(e.stderr)
	}
	rctx, cancel := context.WithTimeout(ctx, *timeout)
	res, err := blocklist.Compile(rctx, block, allow, opts)
	cancel()
	if err != nil {
		return e.errorf("%v", err)
	}
	for i, pr := range res.Report.Problems {
		if i == 5 {
			e.hintf("%d malformed lines in all; see %s", res.Report.ProblemCount, filepath.Join(*out, "manifest.json"))
			break
		}
		fmt.Fprintf(e.stderr, "blindlist: warning: %s\n", pr)
	}
	warnSuffixKeys(e, res.Report, *out)
	if len(res.Keys) == 0 {
		return e.errorf("the sources gave no keys")
	}

	seed, derived := uint32(0), *seedFlag == ""
	if derived {
		seed = seedFromKeys(res.Keys)
	} else if seed, err = parseSeed(*seedFlag); err != nil {
		return e.errorf("%v", err)
	}
	f, err := bloom.Build(res.Keys, p, seed, *workers)
	if err != nil {
		return e.errorf("%v", err)
	}
	man := buildManifest{
		Tool:        "blindlist build",
		Built:       time.Now().UTC().Format(time.RFC3339),
		KeepCovered: *keepCovered,
		Keys:        len(res.Keys),
		KeysFile:    "keys.txt",
		PIRInput:    "input.txtpb",
		Prefilter:   f.Manifest(bloom.BitsFile),
		Report:      res.Report,
		Sizing: buildSizing{
			Tolerance: p, VisitRate: *visitRate, SeedDerived: derived,
			PlistAndBits:   strings.Join([]string{bloom.BitsFile, bloom.PlistFile, bloom.ManifestFile}, " "),
			ExpectedFPRate: bloom.FalsePositiveRate(f.Params().BitCount, f.Params().HashCount, len(res.Keys)),
		},
	}
	if *visitRate != 0 {
		man.Sizing.SubURLs = *subURLs
	}
	mj, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return e.errorf("encoding manifest: %v", err)
	}
	write := func(dir string) error {
		if err := f.WriteDir(dir); err != nil {
			return err
		}
		if err := writeKeyFiles(dir, res.Keys); err != nil {
			return err
		}
		return writeFileAtomic(filepath.Join(dir, buildManifestFile), append(mj, '\n'))
	}
	if err := writeBuildOutput(ctx, e, *out, res.Keys, write, buildSteps(&pirFlags)); err != nil {
		return e.errorf("%v", err)
	}
	if *asJSON {
		sum, _ := json.MarshalIndent(struct {
			Keys      int            `json:"keys"`
			Out       string         `json:"out"`
			Prefilter bloom.Manifest `json:"prefilter"`
			Dropped   map[string]int `json:"dropped"`
		}{len(res.Keys), *out, man.Prefilter, res.Report.Dropped}, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", sum)
		return 0
	}
	pp := f.Params()
	fmt.Fprintf(e.stdout, "%d keys from %d entries -> %s\n", len(res.Keys), res.Report.Entries, *out)
	fmt.Fprintf(e.stdout, "prefilter: %d bits, %d hashes, seed %d, %d bytes, tag %s\n",
		pp.BitCount, pp.HashCount, pp.Seed, f.ByteCount(), f.Tag())
	fmt.Fprintf(e.stdout, "dropped: %s\n", formatCounts(res.Report.Dropped))
	return 0
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

// seedFromKeys derives the Murmur3 seed from the sorted keys (the first
// four bytes of SHA-256 over the keys, one per line), so the same list
// always gives the same filter. The seed is public in the prefilter anyway.
func seedFromKeys(keys []string) uint32 {
	h := sha256.New()
	for _, k := range keys {
		io.WriteString(h, k)
		h.Write([]byte{'\n'})
	}
	return binary.BigEndian.Uint32(h.Sum(nil))
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

// Files of the prefilter stage, besides bloom's own. They are written to a
// staging directory and moved into the output directory only after every
// later stage succeeded (see writeBuildOutput).
const (
	buildManifestFile  = "manifest.json"
	buildStagingPrefix = ".build-staging-"
)

// buildStagedFiles are the files the prefilter stage stages, in the order
// they are moved into place: the Bloom bits and plist before the
// prefilter.json that describes them, the build manifest last.
var buildStagedFiles = []string{
	bloom.BitsFile, bloom.PlistFile, bloom.ManifestFile, "keys.txt", "input.txtpb", buildManifestFile,
}

// writeBuildOutput makes the output directory consistent: write stages the
// prefilter and key files in a staging directory inside out, then the
// post-build steps run (the PIR step stages and commits its own shards), and
// only when all succeeded are the staged files renamed over the old ones. A
// failure anywhere leaves the previous prefilter, key list and manifest
// untouched, so out never pairs a new prefilter with old shards.
//
// The order is also the safe one if the process dies between the two
// commits: new PIR shards with the old prefilter only delay new blocks (the
// old filter lacks them) and a removed key still answered by the old filter
// is then refused by PIR (client-spec §7 item 3: add to PIR before the
// filter, remove from PIR whenever).
func writeBuildOutput(ctx context.Context, e *env, out string, keys []string, write func(dir string) error, steps []postBuildStep) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("creating output directory: %w", err)
	}
	old, _ := filepath.Glob(filepath.Join(out, buildStagingPrefix+"*"))
	for _, d := range old {
		if err := os.RemoveAll(d); err == nil {
			fmt.Fprintf(e.stderr, "blindlist: removed %s left by an interrupted build\n", filepath.Base(d))
		}
	}
	staging, err := os.MkdirTemp(out, buildStagingPrefix)
	if err != nil {
		return fmt.Errorf("creating staging directory: %w", err)
	}
	defer os.RemoveAll(staging)
	if err := write(staging); err != nil {
		return err
	}
	for _, step := range steps {
		if err := step(ctx, e, keys, out); err != nil {
			return err
		}
	}
	for _, name := range buildStagedFiles {
		if err := os.Rename(filepath.Join(staging, name), filepath.Join(out, name)); err != nil {
			return fmt.Errorf("moving %s into %s: %w", name, out, err)
		}
	}
	return atomicfile.SyncDir(out)
}

// writeKeyFiles writes keys.txt and input.txtpb, both streamed through a
// buffered writer, so neither file is ever held whole in memory (at 1M keys
// keys.txt is about 30 MB, and building it in memory then copying it set the
// build's peak RSS).
func writeKeyFiles(dir string, keys []string) error {
	if err := writeWith(filepath.Join(dir, "keys.txt"), func(w io.Writer) error { return writeKeyList(w, keys) }); err != nil {
		return err
	}
	return writeWith(filepath.Join(dir, "input.txtpb"), func(w io.Writer) error { return writeKeywordDB(w, keys) })
}

// writeKeyList writes keys one per line, each ended by a newline.
func writeKeyList(w io.Writer, keys []string) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	for _, k := range keys {
		bw.WriteString(k)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// writeKeywordDB writes keys as Apple's pir.v1.KeywordDatabase in protobuf
// text format, one row per key with value "1", in the layout
// PIRProcessDatabase reads (shared/vectors/pir/A/input.txtpb).
func writeKeywordDB(w io.Writer, keys []string) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var quoted []byte
	for _, k := range keys {
		quoted = pb.AppendTextString(quoted[:0], k)
		bw.WriteString("rows {\n  keyword: ")
		bw.Write(quoted)
		bw.WriteString("\n  value: \"1\"\n}\n")
	}
	return bw.Flush()
}

// outputFileMode is the permission of the files build writes: public data
// that a server running as another user must be able to read.
const outputFileMode = 0o644

// writeWith streams a file through fn (given a buffered writer) and replaces
// path with it atomically and durably, mode 0644.
func writeWith(path string, fn func(io.Writer) error) error {
	return atomicfile.WriteFile(path, outputFileMode, fn)
}

// writeFileAtomic replaces path with data atomically and durably, mode 0644.
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.WriteBytes(path, outputFileMode, data)
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
