package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blindlist/blindlist/bloom"
	"github.com/blindlist/blindlist/generation"
)

const bloomUsage = `Usage: blindlist bloom [-t TOLERANCE] [-f PLIST_OUT] [-d TXTPB_OUT] [--bits-out FILE] [--seed N] [--json] INPUT

A drop-in replacement for the BloomFilterTool of Apple's SimpleURLFilter sample: reads one key
per line from INPUT ('-' for stdin; gzip is detected) and writes the sample's bloom_filter.plist
and the PIR input input.txtpb (KeywordDatabase text proto, value "1" per key).

Input rules are Apple's: surrounding whitespace is trimmed, empty lines are skipped, keys are
hashed as their UTF-8 bytes with no normalisation and no de-duplication (a repeated line counts
in the sizing and appears twice in input.txtpb). Lines that are not valid UTF-8 are an error.
Use 'blindlist build' to normalise and de-duplicate real blocklists.

Flags:
  -t, --false-positive-tolerance P   per-key false-positive rate, 0 < P < 1 (default 0.001)
  -f, --filter-output-file FILE      plist output (default bloom_filter.plist)
  -d, --pir-data-output-file FILE    text proto output (default input.txtpb)
  --bits-out FILE                    also write the raw bit array (NEURLFilterPrefilter data)
  --seed N                           Murmur3 seed (default: random from crypto/rand; always printed)
  --workers N                        goroutines (default: all cores; the bits do not depend on it)
  --max-bytes SIZE                   refuse larger input, after gzip (e.g. 2GiB; default 1GiB)
  --json                             print a JSON summary (counts, seed, SHA-256 of the bits)
  -v, --verbose                      print file names to stderr

Example:
  blindlist bloom -t 0.0001 --seed 42 --bits-out prefilter.bin urls.txt
`

func runBloom(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("bloom", flag.ContinueOnError)
	tolerance := 0.001
	plistOut, txtpbOut := bloom.PlistFile, "input.txtpb"
	fs.Float64Var(&tolerance, "t", tolerance, "")
	fs.Float64Var(&tolerance, "false-positive-tolerance", tolerance, "")
	fs.StringVar(&plistOut, "f", plistOut, "")
	fs.StringVar(&plistOut, "filter-output-file", plistOut, "")
	fs.StringVar(&txtpbOut, "d", txtpbOut, "")
	fs.StringVar(&txtpbOut, "pir-data-output-file", txtpbOut, "")
	bitsOut := fs.String("bits-out", "", "")
	seedFlag := fs.String("seed", "", "")
	workers := fs.Int("workers", 0, "")
	maxBytes := newSizeFlag(fs, "max-bytes", 1<<30)
	asJSON := fs.Bool("json", false, "")
	var verbose bool
	fs.BoolVar(&verbose, "v", false, "")
	fs.BoolVar(&verbose, "verbose", false, "")
	pos, code, ok := parseArgs(e, fs, bloomUsage, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return e.usagef("bloom", "want one key file, got %d arguments", len(pos))
	}
	if !(tolerance > 0 && tolerance < 1) {
		return e.usagef("bloom", "tolerance %v is outside (0, 1)", tolerance)
	}
	var seed uint32
	if *seedFlag != "" {
		var err error
		if seed, err = parseSeed(*seedFlag); err != nil {
			return e.errorf("%v", err)
		}
	} else {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return e.errorf("drawing a seed: %v", err)
		}
		seed = binary.BigEndian.Uint32(b[:])
	}

	if *maxBytes <= 0 {
		return e.errorf("--max-bytes %d must be positive", *maxBytes)
	}
	data, err := readInput(e, pos[0], *maxBytes)
	if err != nil {
		return e.errorf("%v", err)
	}
	keys, err := appleKeys(data)
	if err != nil {
		return e.errorf("%s: %v", pos[0], err)
	}
	if len(keys) == 0 {
		return e.errorf("%s has no keys (every line is empty)", pos[0])
	}
	f, err := bloom.Build(keys, tolerance, seed, *workers)
	if err != nil {
		return e.errorf("%v", err)
	}
	pl, err := f.MarshalPlist()
	if err != nil {
		return e.errorf("%v", err)
	}
	if err := writeFileAtomic(plistOut, pl); err != nil {
		return e.errorf("%v", err)
	}
	if err := writeWith(txtpbOut, func(w io.Writer) error { return generation.WriteKeywordDB(w, keys) }); err != nil {
		return e.errorf("%v", err)
	}
	if *bitsOut != "" {
		if err := writeFileAtomic(*bitsOut, f.Bits()); err != nil {
			return e.errorf("%v", err)
		}
	}
	if verbose {
		fmt.Fprintf(e.stderr, "blindlist: read %d keys from %s; wrote %s and %s\n", len(keys), pos[0], plistOut, txtpbOut)
	}
	p := f.Params()
	if *asJSON {
		b, _ := json.MarshalIndent(f.Manifest(*bitsOut), "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", b)
		return 0
	}
	fmt.Fprintf(e.stdout, "%d keys, tolerance %v: %d bits, %d hashes, %d bytes, seed %d\n",
		f.ItemCount(), tolerance, p.BitCount, p.HashCount, f.ByteCount(), p.Seed)
	fmt.Fprintf(e.stdout, "sha256 %s\n", f.Tag())
	return 0
}

// readInput reads a file or stdin ("-"), decompressing gzip, and refuses
// more than maxBytes bytes before or after decompression (a gzip bomb
// stops at the cap instead of exhausting memory).
func readInput(e *env, name string, maxBytes int64) ([]byte, error) {
	r := e.stdin
	if name != "-" {
		fh, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("reading input: %w", err)
		}
		defer fh.Close()
		r = fh
	}
	data, err := readCapped(r, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("reading input: %w", err)
	}
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("reading gzip input: %w", err)
		}
		if data, err = readCapped(zr, maxBytes); err != nil {
			return nil, fmt.Errorf("reading gzip input: %w", err)
		}
	}
	return data, nil
}

// readCapped reads r to the end, failing once it holds more than max bytes.
func readCapped(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("input exceeds --max-bytes %d", max)
	}
	return data, nil
}

// appleKeys applies the input rules of Apple's BloomFilterTool: lines end at
// \n, \r\n or \r; Unicode whitespace around each line is trimmed; empty
// lines are skipped; duplicates are kept. The keys are substrings of one
// copy of data.
func appleKeys(data []byte) ([]string, error) {
	s := string(data)
	var keys []string
	for lineNo := 1; len(s) > 0; lineNo++ {
		var line string
		i := strings.IndexAny(s, "\r\n")
		switch {
		case i < 0:
			line, s = s, ""
		case s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n':
			line, s = s[:i], s[i+2:]
		default:
			line, s = s[:i], s[i+1:]
		}
		line = strings.TrimFunc(line, unicode.IsSpace)
		if line == "" {
			continue
		}
		if !utf8.ValidString(line) {
			return nil, fmt.Errorf("line %d is not valid UTF-8", lineNo)
		}
		keys = append(keys, line)
	}
	return keys, nil
}
