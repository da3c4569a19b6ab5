package blocklist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Origin is where a key came from: the first line of a block source that
// gave it.
type Origin struct {
	// Source names the document: a file or URL as given, or
	// "archive:member" inside a tar archive. It is empty for keys the
	// compiler adds itself (Apple's test identity, [Options.TestIdentity]).
	Source string `json:"source,omitempty"`
	// Line is the 1-based line number (0 with an empty Source).
	Line int `json:"line,omitempty"`
	// Rule is the line's text, trimmed.
	Rule string `json:"rule,omitempty"`
}

// String formats the origin as check prints it:
// "easyprivacy.txt:1234 '||taboola.com^$third-party'".
func (o Origin) String() string {
	if o.Source == "" {
		return "the build itself (Apple's onboarding test identity)"
	}
	return fmt.Sprintf("%s:%d '%s'", o.Source, o.Line, o.Rule)
}

// Provenance holds the [Origin] of every key of a [Result], in key order,
// compactly: 12 bytes a key plus the text of each line that gave a key,
// stored once, and not at all when the line is the key itself (domain
// lists).
type Provenance struct {
	keys []string
	docs []string
	loc  []uint64 // doc<<locLineBits | line; builtIn for compiler-added keys
	text []uint32 // 1 + offset of the line's text in buf; 0: the text is the key
	buf  []byte   // uvarint length, then the bytes
}

const (
	locLineBits = 40
	builtIn     = ^uint64(0)
)

// Len returns the number of keys.
func (p *Provenance) Len() int { return len(p.keys) }

// Origin returns the origin of key i (as in [Result.Keys]).
func (p *Provenance) Origin(i int) Origin {
	if p.loc[i] == builtIn {
		return Origin{}
	}
	o := Origin{Source: p.docs[p.loc[i]>>locLineBits], Line: int(p.loc[i] & (1<<locLineBits - 1)), Rule: p.keys[i]}
	if t := p.text[i]; t != 0 {
		n, w := binary.Uvarint(p.buf[t-1:])
		o.Rule = string(p.buf[int(t-1)+w : int(t-1)+w+int(n)])
	}
	return o
}

// provBuilder records origins while keys are added to the blocked set, one
// record per new key, in insertion order.
type provBuilder struct {
	docs []string
	loc  []uint64
	text []uint32
	buf  []byte
	// last is the loc of the line stored last and lastText its text
	// offset, so a hosts line with several names stores its text once.
	last     uint64
	lastText uint32
}

// addDoc registers a block document and returns its index.
func (b *provBuilder) addDoc(name string) int {
	b.docs = append(b.docs, name)
	return len(b.docs) - 1
}

// addOrigin records in b the origin of the key just added: line n of
// document doc, whose trimmed text is text; same says the text is the key
// itself.
func addOrigin[T ~string | ~[]byte](b *provBuilder, doc, n int, text T, same bool) {
	loc := uint64(doc)<<locLineBits | uint64(n)&(1<<locLineBits-1)
	b.loc = append(b.loc, loc)
	switch {
	case same:
		b.text = append(b.text, 0)
	case loc == b.last && b.lastText != 0:
		b.text = append(b.text, b.lastText)
	default:
		if len(b.buf)+len(text)+binary.MaxVarintLen64 >= 1<<32-1 {
			b.text = append(b.text, 0) // beyond 4 GiB of rule text: the key stands in
			return
		}
		off := uint32(len(b.buf)) + 1
		b.buf = binary.AppendUvarint(b.buf, uint64(len(text)))
		b.buf = append(b.buf, text...)
		b.text = append(b.text, off)
		b.last, b.lastText = loc, off
	}
}

// addBuiltIn records a key the compiler added itself.
func (b *provBuilder) addBuiltIn() {
	b.loc = append(b.loc, builtIn)
	b.text = append(b.text, 0)
}

// finish returns the provenance of the sorted keys; order[i] is the
// insertion index of keys[i].
func (b *provBuilder) finish(keys []string, order []uint32) *Provenance {
	p := &Provenance{keys: keys, docs: b.docs, buf: b.buf,
		loc: make([]uint64, len(keys)), text: make([]uint32, len(keys))}
	for i, j := range order {
		p.loc[i], p.text[i] = b.loc[j], b.text[j]
	}
	b.loc, b.text = nil, nil
	return p
}

// provenanceMagic starts a provenance file.
const provenanceMagic = "blindlist-provenance 1"

// WriteTo writes the provenance as gzip-compressed text: a header line,
// the key count, one "S name" line per source document, then one line per
// key in key order (the order of keys.txt): "DOC LINE RULE", where RULE is
// empty when the rule is the key itself, and "- 0" for keys the compiler
// added. [LookupOrigin] reads it.
func (p *Provenance) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw, _ := gzip.NewWriterLevel(cw, gzip.BestSpeed)
	bw := bufio.NewWriterSize(zw, 1<<16)
	fmt.Fprintf(bw, "%s\n%d\n", provenanceMagic, len(p.keys))
	for _, d := range p.docs {
		bw.WriteString("S ")
		bw.WriteString(strings.NewReplacer("\n", " ", "\r", " ").Replace(d))
		bw.WriteByte('\n')
	}
	var num []byte
	for i := range p.keys {
		if p.loc[i] == builtIn {
			bw.WriteString("- 0\n")
			continue
		}
		num = strconv.AppendUint(num[:0], p.loc[i]>>locLineBits, 10)
		num = append(num, ' ')
		num = strconv.AppendUint(num, p.loc[i]&(1<<locLineBits-1), 10)
		bw.Write(num)
		if t := p.text[i]; t != 0 {
			n, w := binary.Uvarint(p.buf[t-1:])
			bw.WriteByte(' ')
			bw.Write(p.buf[int(t-1)+w : int(t-1)+w+int(n)])
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("blocklist: writing provenance: %w", err)
	}
	if err := zw.Close(); err != nil {
		return cw.n, fmt.Errorf("blocklist: writing provenance: %w", err)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// ErrNoOrigin is returned by [LookupOrigin] for an index past the file's
// keys.
var ErrNoOrigin = errors.New("blocklist: no such key in the provenance file")

// LookupOrigin reads a provenance file written by [Provenance.WriteTo] and
// returns the origin of key number index (0-based, in key order) of a list
// of keyCount keys, whose text is key. A file written for another number of
// keys is an error (it belongs to another build). It streams the file and
// holds one line at a time.
func LookupOrigin(r io.Reader, index, keyCount int, key string) (Origin, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Origin{}, fmt.Errorf("blocklist: reading provenance: %w", err)
	}
	defer zr.Close()
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes+64)
	line := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		return sc.Text(), true
	}
	bad := func(what string) (Origin, error) {
		if err := sc.Err(); err != nil {
			return Origin{}, fmt.Errorf("blocklist: reading provenance: %w", err)
		}
		return Origin{}, fmt.Errorf("blocklist: provenance file: %s", what)
	}
	if h, ok := line(); !ok || h != provenanceMagic {
		return bad("not a blindlist provenance file (version 1)")
	}
	cnt, ok := line()
	n, err := strconv.Atoi(cnt)
	if !ok || err != nil || n < 0 {
		return bad("bad key count")
	}
	if n != keyCount {
		return Origin{}, fmt.Errorf("blocklist: provenance file is for %d keys, the key list has %d: it belongs to another build", n, keyCount)
	}
	if index < 0 || index >= n {
		return Origin{}, ErrNoOrigin
	}
	var docs []string
	l, ok := line()
	for ; ok && strings.HasPrefix(l, "S "); l, ok = line() {
		docs = append(docs, l[2:])
	}
	for i := 0; ok; i, ok = i+1, sc.Scan() {
		if i > 0 {
			l = sc.Text()
		}
		if i < index {
			continue
		}
		if l == "- 0" {
			return Origin{}, nil
		}
		docField, rest, _ := strings.Cut(l, " ")
		lineField, rule, _ := strings.Cut(rest, " ")
		d, err1 := strconv.Atoi(docField)
		ln, err2 := strconv.Atoi(lineField)
		if err1 != nil || err2 != nil || d < 0 || d >= len(docs) {
			return bad(fmt.Sprintf("bad record for key %d", index))
		}
		if rule == "" {
			rule = key
		}
		return Origin{Source: docs[d], Line: ln, Rule: rule}, nil
	}
	return bad(fmt.Sprintf("ends before key %d of %d", index, n))
}
