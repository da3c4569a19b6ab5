package blocklist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Source is one list to read: a file, a directory (read as [FormatUT1]), an
// http(s) URL, or in-memory Data (Location is then only its name).
type Source struct {
	Location string
	Format   Format
	Data     []byte
}

// ParseSource reads a command-line source "[FORMAT:]LOCATION", where FORMAT
// is one of auto, hosts, domains, abp, urls, urlhaus, ut1 (default auto),
// e.g. "abp:lists/oisd.txt" or "https://urlhaus.abuse.ch/downloads/csv_online/".
func ParseSource(arg string) (Source, error) {
	if arg == "" {
		return Source{}, errors.New("blocklist: empty source")
	}
	if name, loc, ok := strings.Cut(arg, ":"); ok {
		if f, known := ParseFormat(name); known {
			if loc == "" {
				return Source{}, fmt.Errorf("blocklist: source %q has a format but no location", arg)
			}
			return Source{Location: loc, Format: f}, nil
		}
	}
	return Source{Location: arg}, nil
}

func (s Source) String() string {
	if s.Format == FormatAuto {
		return s.Location
	}
	return s.Format.String() + ":" + s.Location
}

func isURL(loc string) bool {
	return strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://")
}

// document is one stream of lines: a file, a response body, or one file of
// a UT1 directory.
type document struct {
	name   string
	format Format
	open   func() (io.ReadCloser, error)
}

// documents lists what a source holds. Directories are walked in lexical
// order, so builds are reproducible.
func (c *compiler) documents(ctx context.Context, src Source, rep *SourceReport) ([]document, error) {
	if src.Data != nil {
		data := src.Data
		return []document{{src.Location, src.Format, func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}}}, nil
	}
	if isURL(src.Location) {
		return []document{{src.Location, src.Format, func() (io.ReadCloser, error) { return c.fetch(ctx, src.Location) }}}, nil
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
		return []document{{src.Location, format, func() (io.ReadCloser, error) { return os.Open(src.Location) }}}, nil
	}
	if src.Format != FormatAuto && src.Format != FormatUT1 {
		return nil, fmt.Errorf("blocklist: source %s is a directory; only the ut1 format reads directories", src.Location)
	}
	var docs []document
	err = filepath.WalkDir(src.Location, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		var f Format
		switch strings.TrimSuffix(d.Name(), ".gz") {
		case "domains":
			f = FormatDomains
		case "urls":
			f = FormatURLs
		default:
			rep.SkippedFiles++
			return nil
		}
		docs = append(docs, document{p, f, func() (io.ReadCloser, error) { return os.Open(p) }})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("blocklist: walking %s: %w", src.Location, err)
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

// openLines returns a reader of the decompressed document (gzip is detected
// by its magic bytes) capped at max bytes, past a UTF-8 byte order mark.
// UTF-16 text and zip archives are refused with a clear error rather than
// read as lines of garbage.
func openLines(r io.Reader, max int64) (*bufio.Reader, *cappedReader, func() error, error) {
	br := bufio.NewReaderSize(r, maxLineBytes)
	closeFn := func() error { return nil }
	var inner io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("blocklist: gzip: %w", err)
		}
		inner, closeFn = zr, zr.Close
	}
	cr := &cappedReader{r: inner, left: max}
	lr := bufio.NewReaderSize(&lineEndReader{r: cr}, maxLineBytes)
	head, _ := lr.Peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0xef, 0xbb, 0xbf}):
		lr.Discard(3)
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		closeFn()
		return nil, nil, nil, errors.New("blocklist: the text is UTF-16; convert it to UTF-8")
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		closeFn()
		return nil, nil, nil, errors.New("blocklist: the source is a zip archive; unzip it and pass the list inside")
	}
	return lr, cr, closeFn, nil
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
