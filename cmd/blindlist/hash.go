package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/blindlist/blindlist/bloom"
	"github.com/blindlist/blindlist/generation"
)

const hashUsage = `Usage: blindlist hash [--seed S] [--bits M] [--hashes K] [--prefilter DIR] [--json] STRING...

Print, for each STRING (hashed as its UTF-8 bytes, exactly as given), the 32-bit FNV-1a hash,
the MurmurHash3 x86_32 hash with seed S, and the K bit indices
((fnv + i*murmur) mod 2^32) mod M that the prefilter sets, for checking another implementation.
The defaults are the SimpleURLFilter sample's known answer: seed 1267652889, 144 bits, 10 hashes.

Flags:
  --seed S         Murmur3 seed (default 1267652889)
  --bits M         bit count (default 144)
  --hashes K       hash count (default 10)
  --prefilter DIR  take M, K and S from a built prefilter (prefilter.json or bloom_filter.plist);
                   not with --seed, --bits or --hashes
  --json           print JSON

Example:
  blindlist hash example.com apple.com/url-filter-test
`

type hashLine struct {
	Key     string   `json:"key"`
	FNV1a32 string   `json:"fnv1a32"`
	Murmur3 string   `json:"murmur3"`
	Indices []uint32 `json:"indices"`
	// Byte and bit locate each index: byte index/8, bit index%8 from the LSB.
}

func runHash(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("hash", flag.ContinueOnError)
	seedFlag := fs.String("seed", "1267652889", "")
	bits := fs.Uint64("bits", 144, "")
	hashes := fs.Uint64("hashes", 10, "")
	prefilter := fs.String("prefilter", "", "")
	asJSON := fs.Bool("json", false, "")
	pos, code, ok := parseArgs(e, fs, hashUsage, args)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return e.usagef("hash", "no string given")
	}
	if *prefilter != "" {
		var both []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "seed" || f.Name == "bits" || f.Name == "hashes" {
				both = append(both, "--"+f.Name)
			}
		})
		if len(both) > 0 {
			return e.usagef("hash", "--prefilter sets the seed, bits and hashes; do not also give %s", strings.Join(both, ", "))
		}
	}
	seed, err := parseSeed(*seedFlag)
	if err != nil {
		return e.usagef("hash", "%v", err)
	}
	if *bits == 0 || *bits > 1<<32-1 {
		return e.usagef("hash", "--bits %d is outside 1..4294967295", *bits)
	}
	if *hashes == 0 || *hashes > 1<<16 {
		return e.usagef("hash", "--hashes %d is outside 1..65536", *hashes)
	}
	p := bloom.Params{BitCount: uint32(*bits), HashCount: uint32(*hashes), Seed: seed}
	if *prefilter != "" {
		gdir, err := generation.Resolve(*prefilter) // a build's current generation
		if err != nil {
			return e.errorf("%v", err)
		}
		f, err := bloom.ReadDir(gdir)
		if err != nil {
			return e.errorf("%v", err)
		}
		p = f.Params()
	}
	var out []hashLine
	for _, key := range pos {
		out = append(out, hashLine{
			Key:     key,
			FNV1a32: fmt.Sprintf("%08x", bloom.FNV1a32(key)),
			Murmur3: fmt.Sprintf("%08x", bloom.Murmur3(key, p.Seed)),
			Indices: bloom.Indices(nil, key, p.BitCount, p.HashCount, p.Seed),
		})
	}
	if *asJSON {
		b, _ := json.MarshalIndent(struct {
			Params bloom.Params `json:"params"`
			Keys   []hashLine   `json:"keys"`
		}{p, out}, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", b)
		return 0
	}
	fmt.Fprintf(e.stdout, "seed %d, %d bits, %d hashes\n", p.Seed, p.BitCount, p.HashCount)
	for _, l := range out {
		idx := make([]string, len(l.Indices))
		for i, v := range l.Indices {
			idx[i] = strconv.FormatUint(uint64(v), 10)
		}
		fmt.Fprintf(e.stdout, "%s fnv1a32=%s murmur3=%s indices=%s\n", strconv.Quote(l.Key), l.FNV1a32, l.Murmur3, strings.Join(idx, ","))
	}
	return 0
}
