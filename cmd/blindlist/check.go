package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/bloom"
	"github.com/blindlist/blindlist/generation"
)

const checkUsage = `Usage: blindlist check [--prefilter DIR] [--json] URL...

Expand each visited URL into the sub-URLs the device tests (Apple's default URL parsing:
parent domains without www., with and without the port, every path prefix, query and
fragment) and test each against the prefilter in DIR. When DIR also holds keys.txt (as
'blindlist build' writes it), say which hits are listed keys (the PIR lookup would answer
"blocked") and which are false positives (a PIR lookup that answers "allowed"), and, from
provenance.txt.gz, the source line that put the key in the list.

Flags:
  --prefilter DIR  directory with prefilter.json + prefilter.bin, or bloom_filter.plist (default "out")
  --json           print JSON

Example:
  blindlist check https://www.ads.example.com/banner?id=1 --prefilter out/
`

type checkSub struct {
	SubURL string `json:"sub_url"`
	Hit    bool   `json:"prefilter_hit"`
	Listed *bool  `json:"listed,omitempty"`
}

type checkResult struct {
	URL     string   `json:"url"`
	Verdict string   `json:"verdict"`
	Matched []string `json:"matched,omitempty"`
	// Origin is where the first matched key came from (provenance.txt.gz).
	Origin *blocklist.Origin `json:"origin,omitempty"`
	Subs   []checkSub        `json:"sub_urls"`
}

func runCheck(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	dir := fs.String("prefilter", "out", "")
	asJSON := fs.Bool("json", false, "")
	pos, code, ok := parseArgs(e, fs, checkUsage, args)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return e.usagef("check", "no URL given")
	}
	gdir, err := generation.Resolve(*dir) // a build's current generation
	if err != nil {
		return e.errorf("%v", err)
	}
	f, err := bloom.ReadDir(gdir)
	if err != nil {
		return e.errorf("%v", err)
	}
	keys, err := readKeySet(filepath.Join(gdir, generation.KeysFile))
	if err != nil {
		return e.errorf("%v", err)
	}
	provPath := filepath.Join(gdir, generation.ProvenanceFile)
	var results []checkResult
	for _, u := range pos {
		if !strings.Contains(u, "://") {
			u = "https://" + u
		}
		subs, err := blocklist.SubURLs(u)
		if err != nil {
			return e.errorf("%v", err)
		}
		r := checkResult{URL: u, Verdict: "allowed: no sub-URL is in the prefilter, no PIR lookup"}
		hits := 0
		for _, s := range subs {
			cs := checkSub{SubURL: s, Hit: f.TestString(s)}
			if cs.Hit {
				hits++
				if keys != nil {
					_, listed := keys[s]
					cs.Listed = &listed
					if listed {
						r.Matched = append(r.Matched, s)
					}
				}
			}
			r.Subs = append(r.Subs, cs)
		}
		switch {
		case len(r.Matched) > 0:
			r.Verdict = "blocked: listed key " + r.Matched[0]
			o, err := keyOrigin(provPath, keys, r.Matched[0])
			switch {
			case err != nil:
				fmt.Fprintf(e.stderr, "blindlist: warning: %v\n", err)
			case o != nil:
				r.Origin = o
				r.Verdict = fmt.Sprintf("blocked: key %s from %s", r.Matched[0], o)
			}
		case hits > 0 && keys != nil:
			r.Verdict = fmt.Sprintf("allowed: %d prefilter false positive(s), the device makes a PIR lookup that finds nothing", hits)
		case hits > 0:
			r.Verdict = fmt.Sprintf("maybe blocked: %d sub-URL(s) in the prefilter (no keys.txt to tell listed keys from false positives)", hits)
		}
		results = append(results, r)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(results, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", b)
		return 0
	}
	for _, r := range results {
		fmt.Fprintf(e.stdout, "%s\n", r.URL)
		for _, s := range r.Subs {
			mark := "-"
			switch {
			case s.Listed != nil && *s.Listed:
				mark = "LISTED"
			case s.Listed != nil:
				mark = "false-positive"
			case s.Hit:
				mark = "hit"
			}
			fmt.Fprintf(e.stdout, "  %-14s %s\n", mark, s.SubURL)
		}
		fmt.Fprintf(e.stdout, "%s\n", r.Verdict)
	}
	return 0
}

// keyOrigin returns where key came from, read from the provenance file at
// path; nil without error when the build wrote none (an older build).
func keyOrigin(path string, keys map[string]int, key string) (*blocklist.Origin, error) {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	o, err := blocklist.LookupOrigin(bufio.NewReader(fh), keys[key], len(keys), key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &o, nil
}

// readKeySet loads keys.txt as a map from key to its line index, or returns
// nil if it does not exist.
func readKeySet(path string) (map[string]int, error) {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	set := make(map[string]int)
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sc.Split(scanAnyLine)
	for sc.Scan() {
		if k := sc.Text(); k != "" {
			set[k] = len(set)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return set, nil
}

// scanAnyLine is bufio.ScanLines that also ends a line at a bare CR
// (classic Mac OS line endings), so a keys.txt edited with such a tool is
// still read one key per line. CRLF is one line break.
func scanAnyLine(data []byte, atEOF bool) (advance int, token []byte, err error) {
	i := bytes.IndexAny(data, "\r\n")
	switch {
	case len(data) == 0:
		return 0, nil, nil
	case i < 0 && atEOF:
		return len(data), data, nil // the last line, without a line break
	case i < 0:
		return 0, nil, nil
	case data[i] == '\n':
		return i + 1, data[:i], nil
	case i+1 < len(data) && data[i+1] == '\n':
		return i + 2, data[:i], nil
	case i+1 < len(data) || atEOF:
		return i + 1, data[:i], nil
	default:
		return 0, nil, nil // a CR at the end of data: CRLF or not?
	}
}
