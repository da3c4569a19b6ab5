package blocklist

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Source is one list to read: a file, a directory or tar archive (read as
// [FormatUT1]), an http(s) URL, or in-memory Data (Location is then only
// its name).
type Source struct {
	Location string
	Format   Format
	Data     []byte
	// Categories, if set, selects the UT1 categories to read from a
	// directory or archive: the names of the directories that hold the
	// domains and urls files (adult, phishing, …). A selected category
	// the source lacks is an error. Nil reads every category.
	Categories []string
}

// ParseSource reads a command-line source "[FORMAT:]LOCATION", where FORMAT
// is one of auto, hosts, domains, abp, urls, urlhaus, ut1, dnsmasq, unbound,
// rpz (default auto), e.g. "abp:lists/oisd.txt" or
// "https://urlhaus.abuse.ch/downloads/csv_online/". The ut1 format takes
// an optional category selection, "ut1=phishing,malware:blacklists.tar.gz".
func ParseSource(arg string) (Source, error) {
	if arg == "" {
		return Source{}, errors.New("blocklist: empty source")
	}
	if name, loc, ok := strings.Cut(arg, ":"); ok {
		name, cats, hasCats := strings.Cut(name, "=")
		if f, known := ParseFormat(name); known {
			if loc == "" {
				return Source{}, fmt.Errorf("blocklist: source %q has a format but no location", arg)
			}
			src := Source{Location: loc, Format: f}
			if hasCats {
				if f != FormatUT1 {
					return Source{}, fmt.Errorf("blocklist: source %q: only the ut1 format takes categories", arg)
				}
				for c := range strings.SplitSeq(cats, ",") {
					if c == "" || strings.ContainsAny(c, `/\`) || c == "." || c == ".." {
						return Source{}, fmt.Errorf("blocklist: source %q: bad category %q", arg, c)
					}
					src.Categories = append(src.Categories, c)
				}
			}
			return src, nil
		}
		if isFormatWord(name) && name != "http" && name != "https" {
			return Source{}, fmt.Errorf("blocklist: source %q: unknown format %s (one of %s); write a file whose name has a colon as ./%s",
				arg, name, strings.Join(FormatNames(), ", "), arg)
		}
	}
	return Source{Location: arg}, nil
}

// isFormatWord reports whether s looks like a format name (a word of two or
// more letters and digits) rather than part of a path; one letter is a
// Windows drive ("C:list").
func isFormatWord(s string) bool {
	if len(s) < 2 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// FormatNames returns the names [ParseSource] accepts, in the order of the
// Format constants.
func FormatNames() []string {
	names := make([]string, 0, len(formatNames))
	for f := FormatAuto; ; f++ {
		n, ok := formatNames[f]
		if !ok {
			return names
		}
		names = append(names, n)
	}
}

func (s Source) String() string {
	if s.Format == FormatAuto && s.Categories == nil {
		return s.Location
	}
	if s.Categories != nil {
		return s.Format.String() + "=" + strings.Join(s.Categories, ",") + ":" + s.Location
	}
	return s.Format.String() + ":" + s.Location
}

func isURL(loc string) bool {
	return strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://")
}

// document is one stream of lines: a file, a response body, or one file of
// a UT1 directory. A document that is a whole source (archive true) may
// turn out to be a tar archive, read as UT1.
type document struct {
	name    string
	format  Format
	open    func() (io.ReadCloser, error)
	archive bool
}

// categoryFilter selects UT1 categories, the same way for directories and
// archives: a list file's category is the name of the directory holding it.
type categoryFilter struct {
	want  map[string]bool // nil: every category
	seen  map[string]bool
	links map[string]string // archive symlinks: alias → target
}

func newCategoryFilter(cats []string) *categoryFilter {
	f := &categoryFilter{seen: map[string]bool{}, links: map[string]string{}}
	if cats != nil {
		f.want = map[string]bool{}
		for _, c := range cats {
			f.want[c] = true
		}
	}
	return f
}

// take records a list file's category and reports whether it is selected.
func (f *categoryFilter) take(category string) bool {
	f.seen[category] = true
	return f.want == nil || f.want[category]
}

// check fails when a selected category was not in the source.
func (f *categoryFilter) check(src string) error {
	var missing []string
	for c := range f.want {
		if !f.seen[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	for _, m := range missing {
		if t, ok := f.links[m]; ok {
			return fmt.Errorf("blocklist: %s: category %q is a symbolic link to %q, which is not followed; select %q", src, m, t, t)
		}
	}
	seen := slices.Sorted(maps.Keys(f.seen))
	if len(seen) > 20 {
		seen = append(seen[:20], "…")
	}
	return fmt.Errorf("blocklist: %s has no category %s (it has: %s)", src, strings.Join(missing, ", "), strings.Join(seen, ", "))
}

// ut1ListFormat returns the format of a UT1 list file by its name
// ("domains", "urls", optionally gzipped), or false for any other file.
func ut1ListFormat(name string) (Format, bool) {
	switch strings.TrimSuffix(name, ".gz") {
	case "domains":
		return FormatDomains, true
	case "urls":
		return FormatURLs, true
	}
	return 0, false
}

// documents lists what a source holds. Directories are walked in lexical
// order, so builds are reproducible.
func (c *compiler) documents(ctx context.Context, src Source, rep *SourceReport) ([]document, error) {
	if src.Data != nil {
		data := src.Data
		return []document{{src.Location, src.Format, func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}, true}}, nil
	}
	if isURL(src.Location) {
		return []document{{src.Location, src.Format, func() (io.ReadCloser, error) { return c.fetch(ctx, src.Location) }, true}}, nil
	}
	fi, err := os.Stat(src.Location)
	if err != nil {
		return nil, fmt.Errorf("blocklist: source %s: %w", src.Location, err)
	}
	if !fi.IsDir() {
		format := src.Format
		if format == FormatAuto && (strings.HasSuffix(src.Location, ".csv") || strings.HasSuffix(src.Location, ".csv.gz")) {
			format = FormatURLhausCSV
		}
		return []document{{src.Location, format, func() (io.ReadCloser, error) { return os.Open(src.Location) }, true}}, nil
	}
	if src.Format != FormatAuto && src.Format != FormatUT1 {
		return nil, fmt.Errorf("blocklist: source %s is a directory; only the ut1 format reads directories", src.Location)
	}
	cats := newCategoryFilter(src.Categories)
	var docs []document
	err = filepath.WalkDir(src.Location, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		f, ok := ut1ListFormat(d.Name())
		switch {
		case !ok:
			rep.SkippedFiles++
		case !cats.take(filepath.Base(filepath.Dir(p))):
			rep.UnselectedFiles++
		default:
			docs = append(docs, document{p, f, func() (io.ReadCloser, error) { return os.Open(p) }, false})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("blocklist: walking %s: %w", src.Location, err)
	}
	if err := cats.check(src.Location); err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("blocklist: directory %s has no domains or urls files", src.Location)
	}
	return docs, nil
}

func (c *compiler) fetch(ctx context.Context, url string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("blocklist: %w", err)
	}
	req.Header.Set("User-Agent", "blindlist (+https://github.com/blindlist/blindlist)")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("blocklist: fetching %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("blocklist: fetching %s: status %s", url, resp.Status)
	}
	return resp.Body, nil
}

// ErrTooLarge reports a source longer than [Options.MaxBytes] after
// decompression.
var ErrTooLarge = errors.New("blocklist: source exceeds the size limit")

// cappedReader fails with ErrTooLarge once more than max bytes were read.
type cappedReader struct {
	r    io.Reader
	left int64
	read int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	c.read += int64(n)
	if c.left <= 0 && err == nil {
		// Only an error if there is more to read.
		var one [1]byte
		if m, _ := c.r.Read(one[:]); m > 0 {
			return n, ErrTooLarge
		}
	}
	return n, err
}

// maxLineBytes bounds one line; longer lines are reported and skipped.
const maxLineBytes = 64 << 10

// readBuffers are the buffered readers of one document, reset for the
// next, so a source of many small documents (a UT1 archive) does not
// allocate 64 KiB buffers for each.
type readBuffers struct {
	raw, unzipped, lines *bufio.Reader
}

func newReadBuffers() *readBuffers {
	return &readBuffers{bufio.NewReaderSize(nil, maxLineBytes), bufio.NewReaderSize(nil, maxLineBytes),
		bufio.NewReaderSize(nil, maxLineBytes)}
}

// ctxReader fails once ctx is done, so reading a large local file or
// archive stops at cancellation as an HTTP body does.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// decompress returns a buffered reader (one of bufs) of r's content, decompressed when
// it starts with the magic bytes of gzip (RFC 1952) or bzip2 ("BZh", the
// block size, then the block magic 0x314159265359), and the function that
// closes the decompressor. xz and Zstandard, which the standard library
// cannot read, are refused with an error.
func decompress(r io.Reader, bufs *readBuffers) (*bufio.Reader, func() error, error) {
	br := bufs.raw
	br.Reset(r)
	magic, _ := br.Peek(10)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("blocklist: gzip: %w", err)
		}
		bufs.unzipped.Reset(zr)
		return bufs.unzipped, zr.Close, nil
	case len(magic) == 10 && bytes.HasPrefix(magic, []byte("BZh")) && magic[3] >= '1' && magic[3] <= '9' &&
		bytes.Equal(magic[4:], []byte("1AY&SY")):
		bufs.unzipped.Reset(bzip2.NewReader(br))
		return bufs.unzipped, func() error { return nil }, nil
	case bytes.HasPrefix(magic, []byte("\xfd7zXZ\x00")):
		return nil, nil, errors.New("blocklist: the source is xz-compressed; decompress it or use gzip")
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return nil, nil, errors.New("blocklist: the source is Zstandard-compressed; decompress it or use gzip")
	}
	return br, func() error { return nil }, nil
}

// openLines returns a line reader (bufs.lines) of the decompressed
// document in (see [decompress]) capped at max bytes, past a UTF-8 byte order mark. UTF-16
// text and zip archives are refused with a clear error rather than read as
// lines of garbage.
func openLines(in *bufio.Reader, max int64, bufs *readBuffers) (*bufio.Reader, *cappedReader, error) {
	cr := &cappedReader{r: in, left: max}
	lr := bufs.lines
	lr.Reset(&lineEndReader{r: cr})
	head, _ := lr.Peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0xef, 0xbb, 0xbf}):
		lr.Discard(3)
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return nil, nil, errors.New("blocklist: the text is UTF-16; convert it to UTF-8")
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return nil, nil, errors.New("blocklist: the source is a zip archive; unzip it and pass the list inside")
	}
	return lr, cr, nil
}

// lineEndReader turns every line ending into "\n": CRLF (DOS, Windows)
// becomes LF, and a bare CR (classic Mac OS, some exports) becomes LF too,
// so a file with CR line endings is read as lines rather than as one line
// over the length limit.
type lineEndReader struct {
	r       io.Reader
	afterCR bool // the last byte read was a CR, already turned into LF
}

func (l *lineEndReader) Read(p []byte) (int, error) {
	for {
		n, err := l.r.Read(p)
		i := bytes.IndexByte(p[:n], '\r')
		if i < 0 && !(l.afterCR && n > 0 && p[0] == '\n') {
			if n > 0 {
				l.afterCR = false
			}
			return n, err // the common case: no CR in this chunk
		}
		w := 0
		for _, c := range p[:n] {
			switch {
			case c == '\n' && l.afterCR: // the LF of a CRLF, ended by its CR
			case c == '\r':
				p[w] = '\n'
				w++
			default:
				p[w] = c
				w++
			}
			l.afterCR = c == '\r'
		}
		if w > 0 || err != nil || n == 0 {
			return w, err
		}
		// The chunk was only the LF of a CRLF: read on rather than
		// return 0, nil.
	}
}

// eachLine calls fn with every line of r (without the line ending) and its
// 1-based number. Lines over maxLineBytes are passed to tooLong instead.
func eachLine(r *bufio.Reader, fn func(line []byte, n int), tooLong func(n int)) error {
	n := 0
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 || err == nil {
			n++
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			tooLong(n)
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			continue
		}
		if len(line) > 0 {
			fn(line, n)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
