package blocklist

// Compiling lists larger than memory. Compile keeps the block keys in one
// in-memory set (keySet) while they fit Options.SpillBudget. When they
// outgrow it, it spills: every key so far, and every block entry read
// after, goes as a record to one of spillPartitions partition files, chosen
// by a hash of the key's host group (groupBounds). All keys that can cover
// one another on a device (a key and its [ancestors]: parent hosts down to
// two labels, with and without the port, path prefixes) share a host
// group, so each partition is resolved alone, in memory, by the same code
// as a small list: dedupe, $badfilter, the public-suffix check, the
// allow lists (parent-aware), covered keys, Apple's test keys. Each
// resolved partition is written as one sorted run, and a k-way merge of
// the runs gives the keys in byte order, with their provenance, to the
// writer ([SpilledKeys.Write]): the same keys, report and files as the
// in-memory path (spill_test.go compares them byte for byte).
//
// Memory: the in-memory set up to the budget before the spill; then one
// partition at a time (the keys of its host groups, about 1/256 of the
// list, unless one group, say one registrable domain, holds a large share
// of the whole list), the allow sets, and 256 write buffers. The allow
// lists and the exception rules stay in memory in either mode.

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"strconv"
)

// DefaultSpillBudget is the spill budget when Options.SpillBudget is zero:
// 512 MiB of live key set, about 6 million keys of 20 to 30 bytes.
const DefaultSpillBudget = 512 << 20

// spillKeyBytes estimates the live bytes of one key of the in-memory block
// set besides its text: its string header (16), origin (4), index slot (8
// at a load factor between 3/8 and 3/4, so 16 on average), provenance
// record (12: location 8, text reference 4), and, at the end, its sorted
// copy (16) and insertion index (4): 68, rounded up to 72.
const spillKeyBytes = 72

// spillPartitions is the number of partition files. At 10^8 keys a
// partition holds about 400,000 (some 40 MB while it is resolved); the
// open writers buffer 256 × spillBufBytes = 16 MiB.
const (
	spillPartitions = 256
	spillBufBytes   = 64 << 10
)

// Text modes of a spill record: the rule is the key itself, the rule is
// stored inline, or the rule is an affix pair (ruleTexts.pairs) around the
// key (mode spillTextAffix + pair index).
const (
	spillTextKey = iota
	spillTextInline
	spillTextAffix
)

// spillWriter routes block entries to the partition files.
type spillWriter struct {
	dir     string
	seed    maphash.Seed
	parts   []spillPart
	seq     uint64 // insertion sequence of the next entry
	records int64
	rec     []byte
	group   []byte
}

type spillPart struct {
	f *os.File
	w *bufio.Writer
}

// newSpillWriter creates the spill directory inside parent and the
// partition files.
func newSpillWriter(parent string) (*spillWriter, error) {
	dir, err := os.MkdirTemp(parent, ".compile-spill-")
	if err != nil {
		return nil, fmt.Errorf("blocklist: creating spill directory: %w", err)
	}
	sw := &spillWriter{dir: dir, seed: maphash.MakeSeed(), parts: make([]spillPart, spillPartitions)}
	for i := range sw.parts {
		f, err := os.OpenFile(sw.inPath(i), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			sw.abort()
			return nil, fmt.Errorf("blocklist: creating spill file: %w", err)
		}
		sw.parts[i] = spillPart{f: f, w: bufio.NewWriterSize(f, spillBufBytes)}
	}
	return sw, nil
}

// inPath is partition p's file of entries; runPath its sorted run.
func (sw *spillWriter) inPath(p int) string {
	return filepath.Join(sw.dir, "in-"+strconv.Itoa(p))
}

func (sw *spillWriter) runPath(p int) string {
	return filepath.Join(sw.dir, "run-"+strconv.Itoa(p))
}

// closeWriters flushes and closes the partition files.
func (sw *spillWriter) closeWriters() error {
	var first error
	for i := range sw.parts {
		pt := &sw.parts[i]
		if pt.f == nil {
			continue
		}
		err := pt.w.Flush()
		if cerr := pt.f.Close(); err == nil {
			err = cerr
		}
		pt.f, pt.w = nil, nil
		if err != nil && first == nil {
			first = fmt.Errorf("blocklist: writing spill file: %w", err)
		}
	}
	return first
}

// abort closes the files and removes the spill directory.
func (sw *spillWriter) abort() {
	sw.closeWriters()
	os.RemoveAll(sw.dir)
}

// partitionOf returns the partition of key: a hash of its host group.
func partitionOf[T ~string | ~[]byte](sw *spillWriter, key T) int {
	a, b := groupBounds(key)
	sw.group = append(sw.group[:0], key[a:b]...)
	return int(maphash.Bytes(sw.seed, sw.group) % spillPartitions)
}

// groupBounds returns the bounds in key of its host group: the last two
// labels of its host, or the whole host for an IP address or a one-label
// host. Every key [ancestors] visits for key has the same group: it stops
// at two labels, keeps IP hosts, and only drops the port and path.
func groupBounds[T ~string | ~[]byte](key T) (int, int) {
	end := len(key)
	for i := 0; i < len(key); i++ {
		if c := key[i]; c == '/' || c == '?' || c == '#' {
			end = i
			break
		}
	}
	if end > 0 && key[0] == '[' {
		for i := end - 1; i > 0; i-- {
			if key[i] == ']' {
				return 0, i + 1
			}
		}
		return 0, end
	}
	for i := end - 1; i >= 0; i-- {
		if key[i] == ':' {
			end = i
			break
		}
	}
	if isIPv4(key[:end]) {
		return 0, end
	}
	dots := 0
	for i := end - 1; i >= 0; i-- {
		if key[i] == '.' {
			if dots++; dots == 2 {
				return i + 1, end
			}
		}
	}
	return 0, end
}

// spillRecord appends one entry to its partition: uvarint len(key), key,
// u32le origin, uvarint seq, uvarint loc, then the rule text: uvarint
// mode (spillTextKey, spillTextInline + uvarint len + text, or
// spillTextAffix + pair index).
func spillRecord[T ~string | ~[]byte](c *compiler, key T, origin uint32, seq, loc uint64, mode uint64, text T) {
	sw := c.spill
	r := binary.AppendUvarint(sw.rec[:0], uint64(len(key)))
	r = append(r, key...)
	r = binary.LittleEndian.AppendUint32(r, origin)
	r = binary.AppendUvarint(r, seq)
	r = binary.AppendUvarint(r, loc)
	r = binary.AppendUvarint(r, mode)
	if mode == spillTextInline {
		r = binary.AppendUvarint(r, uint64(len(text)))
		r = append(r, text...)
	}
	sw.rec = r
	sw.records++
	if _, err := sw.parts[partitionOf(sw, key)].w.Write(r); err != nil && c.spillErr == nil {
		c.spillErr = fmt.Errorf("blocklist: writing spill file: %w", err)
	}
}

// spillAdd sends an entry of a block source, line n of the current
// document whose trimmed text is text, to its partition.
func spillAdd[T ~string | ~[]byte](c *compiler, key T, origin uint32, n int, text T) {
	if c.spillErr != nil {
		return
	}
	loc := uint64(c.doc)<<locLineBits | uint64(n)&(1<<locLineBits-1)
	mode := uint64(spillTextInline)
	switch {
	case len(text) == len(key) && string(text) == string(key):
		mode = spillTextKey
	default:
		if id, ok := affixID(&c.prov.texts, text, key); ok {
			mode = spillTextAffix + uint64(id)
		}
	}
	spillRecord(c, key, origin, c.spill.seq, loc, mode, text)
	c.spill.seq++
}

// maybeSpill starts spilling when the in-memory block set outgrew the
// budget (never without Options.SpillDir).
func (c *compiler) maybeSpill(set *keySet) {
	if c.opts.SpillDir == "" || c.spill != nil {
		return
	}
	budget := c.opts.SpillBudget
	if budget <= 0 {
		budget = DefaultSpillBudget
	}
	if int64(len(set.keys))*spillKeyBytes+int64(set.bytes) < budget {
		return
	}
	sw, err := newSpillWriter(c.opts.SpillDir)
	if err != nil {
		c.spillErr, c.opts.SpillDir = err, ""
		return
	}
	c.spill = sw
	var text []byte
	for i, k := range set.keys {
		loc, ref := c.prov.loc.at(i), c.prov.text.at(i)
		mode := uint64(spillTextKey)
		switch {
		case ref == 0:
		case ref&affixRef != 0:
			mode = spillTextAffix + uint64(ref&^affixRef)
		default:
			mode, text = spillTextInline, c.prov.texts.appendText(text[:0], ref, k)
		}
		spillRecord(c, k, set.origins[i], uint64(i), loc, mode, string(text))
	}
	sw.seq = uint64(len(set.keys))
	c.stagef("compile: %d keys reached the memory budget (%d MiB): spilling to %s", len(set.keys), budget>>20, sw.dir)
	// The set and the records are on disk now; only the rule-text pairs
	// and document names stay.
	*set = keySet{}
	c.prov.loc, c.prov.text, c.prov.texts.chunks = chunked[uint64]{}, chunked[uint32]{}, nil
}

func (c *compiler) stagef(format string, args ...any) {
	if c.opts.Stagef != nil {
		c.opts.Stagef(format, args...)
	}
}
