package blocklist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"

	"github.com/blindlist/blindlist/internal/pargzip"
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
// compactly: 16 bytes a key (where it came from, and its position before
// sorting), plus the text of each rule line that is not
// the key with a common prefix and suffix ("0.0.0.0 "+key, "||"+key+"^"),
// stored once ([ruleTexts]).
type Provenance struct {
	keys []string
	// order[i] is the insertion index of keys[i], the index of its record
	// in b.
	order []uint32
	b     *provBuilder
}

const (
	locLineBits = 40
	builtIn     = ^uint64(0)
)

// Len returns the number of keys.
func (p *Provenance) Len() int { return len(p.keys) }

// Origin returns the origin of key i (as in [Result.Keys]).
func (p *Provenance) Origin(i int) Origin {
	loc, ref := p.b.loc.at(int(p.order[i])), p.b.text.at(int(p.order[i]))
	if loc == builtIn {
		return Origin{}
	}
	return Origin{Source: p.b.docs[loc>>locLineBits], Line: int(loc & (1<<locLineBits - 1)),
		Rule: string(p.b.texts.appendText(nil, ref, p.keys[i]))}
}

// ruleTexts stores the texts of the rule lines that gave keys. A reference
// (uint32) is 0 when the text is the key itself (domain lists);
// affixRef|id when it is pairs[id] around the key ("0.0.0.0 "+key,
// "||"+key+"^$third-party"): most lines of a list share a few such pairs;
// otherwise 1 + chunk<<textChunkBits + position of a uvarint length and
// the bytes in chunks, filled one after the other (allocation grows
// linearly, not by copying a slice that doubles). Past 2 GiB of
// texts or 2^31 pairs the key stands in for the text (reference 0).
type ruleTexts struct {
	chunks [][]byte
	pairs  [][2]string
	ids    map[string]uint32 // uvarint len(prefix), prefix, suffix → index in pairs
	idKey  []byte
	// last is the pair used last: almost every line of a document has the
	// same one, so it is found without a map lookup.
	last    [2]string
	lastID  uint32
	hasLast bool
}

const (
	affixRef      = 1 << 31
	textChunkBits = 20 // 1 MiB chunks, 2^11 of them below affixRef
)

// storeText returns a reference to text, the rule line that gave key.
func storeText[T ~string | ~[]byte](t *ruleTexts, text, key T) uint32 {
	if len(text) == len(key) && string(text) == string(key) {
		return 0
	}
	if id, ok := affixID(t, text, key); ok {
		return affixRef | id
	}
	need := binary.MaxVarintLen64 + len(text)
	if n := len(t.chunks); n == 0 || cap(t.chunks[n-1])-len(t.chunks[n-1]) < need {
		if n >= affixRef>>textChunkBits-1 {
			return 0
		}
		t.chunks = append(t.chunks, make([]byte, 0, max(1<<textChunkBits, need)))
	}
	n := len(t.chunks) - 1
	c := t.chunks[n]
	ref := uint32(1 + n<<textChunkBits + len(c))
	c = binary.AppendUvarint(c, uint64(len(text)))
	t.chunks[n] = append(c, text...)
	return ref
}

// affixID returns the index in t.pairs of the prefix and suffix text
// holds around key, adding the pair if it is new, and false when key is
// not in text (or the pairs are full).
func affixID[T ~string | ~[]byte](t *ruleTexts, text, key T) (uint32, bool) {
	i := indexOf(text, key)
	if i < 0 {
		return 0, false
	}
	pre, suf := text[:i], text[i+len(key):]
	if t.hasLast && string(pre) == t.last[0] && string(suf) == t.last[1] {
		return t.lastID, true
	}
	t.idKey = binary.AppendUvarint(t.idKey[:0], uint64(len(pre)))
	t.idKey = append(append(t.idKey, pre...), suf...)
	id, ok := t.ids[string(t.idKey)] // no allocation for the lookup
	if !ok && len(t.pairs) < affixRef-1 {
		if t.ids == nil {
			t.ids = map[string]uint32{}
		}
		id, ok = uint32(len(t.pairs)), true
		t.pairs = append(t.pairs, [2]string{string(pre), string(suf)})
		t.ids[string(t.idKey)] = id
	}
	if ok {
		t.last, t.lastID, t.hasLast = t.pairs[id], id, true
	}
	return id, ok
}

// appendText appends the text a reference names for key.
func (t *ruleTexts) appendText(dst []byte, ref uint32, key string) []byte {
	switch {
	case ref == 0:
		return append(dst, key...)
	case ref&affixRef != 0:
		p := t.pairs[ref&^affixRef]
		return append(append(append(dst, p[0]...), key...), p[1]...)
	}
	c, pos := t.chunks[(ref-1)>>textChunkBits], (ref-1)&(1<<textChunkBits-1)
	n, w := binary.Uvarint(c[pos:])
	return append(dst, c[int(pos)+w:int(pos)+w+int(n)]...)
}

// indexOf returns the first index of sub in s, or -1 (strings.Index for
// both strings and byte slices, without converting either).
func indexOf[T ~string | ~[]byte](s, sub T) int {
	if len(sub) == 0 {
		return -1
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i] == sub[0] && hasAt(s, sub, i) {
			return i
		}
	}
	return -1
}

func hasAt[T ~string | ~[]byte](s, sub T, i int) bool {
	if i+len(sub) > len(s) {
		return false
	}
	for j := 0; j < len(sub); j++ {
		if s[i+j] != sub[j] {
			return false
		}
	}
	return true
}

// provBuilder records origins while keys are added to the blocked set, one
// record per new key, in insertion order.
type provBuilder struct {
	docs  []string
	loc   chunked[uint64]
	text  chunked[uint32]
	texts ruleTexts
	// last is the loc of the line stored last and lastText its reference,
	// so a hosts line with several names stores its text once.
	last     uint64
	lastText uint32
}

// addDoc registers a block document and returns its index.
func (b *provBuilder) addDoc(name string) int {
	b.docs = append(b.docs, name)
	return len(b.docs) - 1
}

// addOrigin records in b the origin of the key just added: line n of
// document doc, whose trimmed text is text.
func addOrigin[T ~string | ~[]byte](b *provBuilder, doc, n int, text, key T) {
	loc := uint64(doc)<<locLineBits | uint64(n)&(1<<locLineBits-1)
	b.loc.add(loc)
	if loc == b.last && b.lastText != 0 && b.lastText&affixRef == 0 {
		b.text.add(b.lastText) // the same hosts line, stored in full
		return
	}
	ref := storeText(&b.texts, text, key)
	b.text.add(ref)
	b.last, b.lastText = loc, ref
}

// addBuiltIn records a key the compiler added itself.
func (b *provBuilder) addBuiltIn() {
	b.loc.add(builtIn)
	b.text.add(0)
}

// finish returns the provenance of the sorted keys; order[i] is the
// insertion index of keys[i]. The builder must not be used afterwards.
func (b *provBuilder) finish(keys []string, order []uint32) *Provenance {
	own := *b // not a pointer into the compiler, which the result must not keep alive
	own.texts.ids, own.texts.idKey = nil, nil
	return &Provenance{keys: keys, order: order, b: &own}
}

// chunked is an append-only sequence in fixed chunks, so appending never
// copies what is there (a slice grown by append allocates about five times
// its final size in all, and holds old and new arrays at once).
type chunked[T any] struct {
	chunks [][]T
}

const chunkedBits = 16

func (c *chunked[T]) add(v T) {
	if n := len(c.chunks); n == 0 || len(c.chunks[n-1]) == 1<<chunkedBits {
		c.chunks = append(c.chunks, make([]T, 0, 1<<chunkedBits))
	}
	n := len(c.chunks) - 1
	c.chunks[n] = append(c.chunks[n], v)
}

func (c *chunked[T]) at(i int) T { return c.chunks[i>>chunkedBits][i&(1<<chunkedBits-1)] }

// provenanceMagic starts a provenance file; provenanceMagicV1 started
// the files of earlier versions, which LookupOrigin still reads.
const (
	provenanceMagic   = "blindlist-provenance 2"
	provenanceMagicV1 = "blindlist-provenance 1"
)

// WriteTo writes the provenance as gzip-compressed text (a series of gzip
// members of 1 MiB of text each, compressed on all cores): a header line,
// the key count, one "S name" line per source document, then one line per
// key in key order (the order of keys.txt): "DOC LINE" when the rule is
// the key itself, "DOC LINE @P" when it is affix pair P around the key,
// "DOC LINE =RULE" for any other rule, and "- 0" for keys the compiler
// added. Pair P is defined, before its first use, by a line
// "P LEN PREFIXSUFFIX" (LEN the prefix's length in bytes); pairs are
// numbered from 0 in the order of first use. A hosts file thus costs
// "0 123 @0" a key instead of the whole line ("0.0.0.0 " + key) that the
// first version stored. [LookupOrigin] reads both versions.
func (p *Provenance) WriteTo(w io.Writer) (int64, error) {
	pw := newProvWriter(w, p.b.docs, p.b.texts.pairs, len(p.keys))
	var text, key []byte
	for i := range p.keys {
		loc, ref := p.b.loc.at(int(p.order[i])), p.b.text.at(int(p.order[i]))
		switch {
		case loc == builtIn:
			pw.builtIn()
		case ref == 0:
			pw.key(loc)
		case ref&affixRef != 0:
			pw.affix(loc, ref&^affixRef)
		default:
			text = p.b.texts.appendText(text[:0], ref, p.keys[i])
			key = append(key[:0], p.keys[i]...)
			pw.inline(loc, text, key)
		}
	}
	return pw.close()
}

// provWriter writes a provenance file: [Provenance.WriteTo] and
// [SpilledKeys.Write] give the same bytes for the same keys. A record's
// form depends only on its rule text and key (how the compile stored the
// text does not show): the key itself, else the pair around the first
// occurrence of the key in the text, else the text.
type provWriter struct {
	cw     *countWriter
	bw     *pargzip.Writer
	pairs  [][2]string       // the compile's affix pairs
	byID   []int32           // compile pair -> number in the file, -1 while unused
	byText map[string]uint32 // uvarint len(prefix), prefix, suffix -> number in the file
	rec    []byte
	pkey   []byte
}

// provBlockBytes is the input of one gzip member of a provenance file: the
// members are compressed on all cores (a 10^8-key provenance text is some
// gigabytes), and at 1 MiB the members cost well under 0.1 % of the size.
const provBlockBytes = 1 << 20

// newProvWriter writes the header: magic, key count, source documents.
// pairs are the compile's affix pairs, which records refer to.
func newProvWriter(w io.Writer, docs []string, pairs [][2]string, keys int) *provWriter {
	cw := &countWriter{w: w}
	bw, _ := pargzip.NewWriter(cw, gzip.BestSpeed, provBlockBytes, runtime.GOMAXPROCS(0)) // a valid level
	fmt.Fprintf(bw, "%s\n%d\n", provenanceMagic, keys)
	for _, d := range docs {
		io.WriteString(bw, "S ")
		io.WriteString(bw, oneLine(d))
		bw.Write([]byte{'\n'})
	}
	return &provWriter{cw: cw, bw: bw, pairs: pairs, byText: map[string]uint32{}}
}

// oneLine replaces line breaks by spaces.
func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

// location appends "DOC LINE".
func (pw *provWriter) location(loc uint64) {
	pw.rec = strconv.AppendUint(pw.rec[:0], loc>>locLineBits, 10)
	pw.rec = append(pw.rec, ' ')
	pw.rec = strconv.AppendUint(pw.rec, loc&(1<<locLineBits-1), 10)
}

func (pw *provWriter) end() {
	pw.rec = append(pw.rec, '\n')
	pw.bw.Write(pw.rec)
}

// builtIn writes the line of a key the compiler added.
func (pw *provWriter) builtIn() { pw.bw.Write([]byte("- 0\n")) }

// key writes the line of a key whose rule is the key itself.
func (pw *provWriter) key(loc uint64) {
	pw.location(loc)
	pw.end()
}

// affix writes the line of a key whose rule is the compile's pair id
// around it.
func (pw *provWriter) affix(loc uint64, id uint32) {
	for int(id) >= len(pw.byID) {
		pw.byID = append(pw.byID, -1)
	}
	n := pw.byID[id]
	if n < 0 {
		p := pw.pairs[id]
		n = int32(pairNumber(pw, p[0], p[1]))
		pw.byID[id] = n
	}
	pw.affixRecord(loc, uint32(n))
}

// pairNumber returns the file's number for the pair (prefix, suffix),
// writing its definition line first when it is new.
func pairNumber[T ~string | ~[]byte](pw *provWriter, prefix, suffix T) uint32 {
	pw.pkey = binary.AppendUvarint(pw.pkey[:0], uint64(len(prefix)))
	pw.pkey = append(append(pw.pkey, prefix...), suffix...)
	if n, ok := pw.byText[string(pw.pkey)]; ok {
		return n
	}
	n := uint32(len(pw.byText))
	pw.byText[string(pw.pkey)] = n
	pw.rec = strconv.AppendInt(append(pw.rec[:0], "P "...), int64(len(prefix)), 10)
	pw.rec = append(append(append(pw.rec, ' '), prefix...), suffix...)
	pw.end()
	return n
}

func (pw *provWriter) affixRecord(loc uint64, n uint32) {
	pw.location(loc)
	pw.rec = strconv.AppendUint(append(pw.rec, " @"...), uint64(n), 10)
	pw.end()
}

// inline writes the line of key, whose rule is text.
func (pw *provWriter) inline(loc uint64, text []byte, key []byte) {
	switch i := indexOf(text, key); {
	case len(text) == len(key) && i == 0:
		pw.key(loc)
	case i >= 0:
		pw.affixRecord(loc, pairNumber(pw, text[:i], text[i+len(key):]))
	default:
		pw.location(loc)
		pw.rec = append(append(pw.rec, " ="...), text...)
		pw.end()
	}
}

// close flushes and ends the gzip stream.
func (pw *provWriter) close() (int64, error) {
	if err := pw.bw.Close(); err != nil {
		return pw.cw.n, fmt.Errorf("blocklist: writing provenance: %w", err)
	}
	return pw.cw.n, nil
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
	h, ok := line()
	if !ok || (h != provenanceMagic && h != provenanceMagicV1) {
		return bad("not a blindlist provenance file (version 1 or 2)")
	}
	v2 := h == provenanceMagic
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
	var pairs [][2]string // version 2: the affix pairs defined so far
	for i := 0; ok; l, ok = line() {
		if v2 && strings.HasPrefix(l, "P ") {
			lenField, text, _ := strings.Cut(l[2:], " ")
			k, err := strconv.Atoi(lenField)
			if err != nil || k < 0 || k > len(text) {
				return bad("bad affix pair")
			}
			pairs = append(pairs, [2]string{text[:k], text[k:]})
			continue
		}
		if i++; i <= index {
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
		switch {
		case rule == "":
			rule = key
		case !v2:
		case rule[0] == '=':
			rule = rule[1:]
		case rule[0] == '@':
			p, err := strconv.Atoi(rule[1:])
			if err != nil || p < 0 || p >= len(pairs) {
				return bad(fmt.Sprintf("bad affix pair for key %d", index))
			}
			rule = pairs[p][0] + key + pairs[p][1]
		default:
			return bad(fmt.Sprintf("bad record for key %d", index))
		}
		return Origin{Source: docs[d], Line: ln, Rule: rule}, nil
	}
	return bad(fmt.Sprintf("ends before key %d of %d", index, n))
}
