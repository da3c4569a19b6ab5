package blocklist

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// tarBlockSize is the size of a tar header block (POSIX.1-2001 ustar).
const tarBlockSize = 512

// maxArchiveLists bounds the domains and urls files read from one archive:
// UT1 has about 100 categories, and a crafted archive of millions of empty
// lists would otherwise take minutes of work without ever reaching the
// size caps.
const maxArchiveLists = 10_000

// isTarHeader reports whether block is a ustar or GNU tar header: the
// "ustar" magic at offset 257 and a matching header checksum (the sum of
// the header's bytes with the 8-byte checksum field at 148 read as spaces,
// stored in octal), so a text that happens to hold "ustar" there is not
// taken for an archive.
func isTarHeader(block []byte) bool {
	if len(block) < tarBlockSize || !bytes.Equal(block[257:262], []byte("ustar")) {
		return false
	}
	field := strings.Trim(string(block[148:156]), " \x00")
	want, err := strconv.ParseUint(field, 8, 32)
	if err != nil {
		return false
	}
	var sum uint64
	for i, b := range block[:tarBlockSize] {
		if i >= 148 && i < 156 {
			b = ' '
		}
		sum += uint64(b)
	}
	return sum == want
}

// safeMemberName returns a tar member's name without "./" elements, or
// false when it is absolute or holds "..", a backslash or NUL: names an
// extracting tool could be tricked by. Nothing is ever written to disk;
// such members are refused all the same.
func safeMemberName(name string) (string, bool) {
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\\x00") {
		return "", false
	}
	var elems []string
	for e := range strings.SplitSeq(name, "/") {
		switch e {
		case "..":
			return "", false
		case ".", "":
		default:
			elems = append(elems, e)
		}
	}
	if len(elems) == 0 {
		return "", false
	}
	return strings.Join(elems, "/"), true
}

// readArchive streams the members of a tar archive (UT1's
// blacklists.tar.gz, or one category's <category>.tar.gz) from the
// decompressed in: every regular file named domains or urls (optionally
// gzipped) whose category (the directory holding it) is selected is read
// as a list, in archive order; other files count as skipped, links and
// special files are refused and counted, and nothing is written to disk.
// Each member is capped at [Options.MaxBytes], the archive at
// [Options.MaxArchiveBytes]. It returns the number of members read.
func (c *compiler) readArchive(ctx context.Context, name string, in io.Reader, src Source, set *keySet, sr *SourceReport, isBlock bool) (int, error) {
	capped := &cappedReader{r: in, left: c.opts.MaxArchiveBytes}
	tail := &zeroTailReader{r: capped}
	tr := tar.NewReader(tail)
	cats := newCategoryFilter(src.Categories)
	bufs := newReadBuffers() // the members'; c.bufs hold the archive's stream
	docs := 0
	for {
		if err := ctx.Err(); err != nil {
			return docs, fmt.Errorf("blocklist: %s: %w", name, err)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			if tail.zeros < 2*tarBlockSize {
				// archive/tar takes an end of input at a header for the
				// end of the archive; a download cut there must not pass
				// for a complete list.
				return docs, fmt.Errorf("blocklist: %s: tar: archive ends without its end-of-archive blocks (truncated)", name)
			}
			break
		}
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return docs, fmt.Errorf("blocklist: %s: %w (archive over %d bytes)", name, ErrTooLarge, c.opts.MaxArchiveBytes)
			}
			return docs, fmt.Errorf("blocklist: %s: tar: %w", name, err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // PAX metadata for the archive (git archive writes one)
		}
		member, ok := safeMemberName(hdr.Name)
		switch {
		case !ok:
			c.refuse(sr, "unsafe_name", name, hdr.Name)
			continue
		case hdr.Typeflag == tar.TypeDir:
			continue
		case hdr.Typeflag == tar.TypeSymlink || hdr.Typeflag == tar.TypeLink:
			if hdr.Typeflag == tar.TypeSymlink && !strings.Contains(hdr.Linkname, "/") {
				cats.links[path.Base(member)] = hdr.Linkname // a category alias: ads -> publicite
			}
			c.refuse(sr, "link", name, hdr.Name+" -> "+hdr.Linkname)
			continue
		case hdr.Typeflag != tar.TypeReg:
			c.refuse(sr, "special", name, hdr.Name)
			continue
		}
		format, isList := ut1ListFormat(path.Base(member))
		switch {
		case !isList:
			sr.SkippedFiles++
			continue
		case !cats.take(path.Base(path.Dir(member))):
			sr.UnselectedFiles++
			continue
		case hdr.Size > c.opts.MaxBytes:
			return docs, fmt.Errorf("blocklist: %s:%s: %w (%d bytes, cap %d)", name, member, ErrTooLarge, hdr.Size, c.opts.MaxBytes)
		}
		if docs == maxArchiveLists {
			return docs, fmt.Errorf("blocklist: %s: more than %d domains and urls files", name, maxArchiveLists)
		}
		in, closeZ, err := decompress(tr, bufs)
		if err != nil {
			return docs, fmt.Errorf("blocklist: %s:%s: %w", name, member, err)
		}
		err = c.readLines(name+":"+member, format, in, bufs, set, sr, isBlock)
		if cerr := closeZ(); err == nil && cerr != nil {
			err = fmt.Errorf("blocklist: reading %s:%s: %w", name, member, cerr)
		}
		if err != nil {
			if errors.Is(err, ErrTooLarge) && capped.left <= 0 {
				return docs, fmt.Errorf("blocklist: %s: %w (archive over %d bytes)", name, ErrTooLarge, c.opts.MaxArchiveBytes)
			}
			return docs, err
		}
		docs++
	}
	if err := cats.check(name); err != nil {
		return docs, err
	}
	if docs == 0 {
		return 0, fmt.Errorf("blocklist: archive %s has no domains or urls files", name)
	}
	return docs, nil
}

// zeroTailReader counts the zero bytes that end what was read so far: a
// complete tar archive ends in two zero blocks.
type zeroTailReader struct {
	r     io.Reader
	zeros int64
}

func (z *zeroTailReader) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	i := n
	for i > 0 && p[i-1] == 0 {
		i--
	}
	if i == 0 {
		z.zeros += int64(n)
	} else {
		z.zeros = int64(n - i)
	}
	return n, err
}

// refuse counts an archive member not read for safety.
func (c *compiler) refuse(sr *SourceReport, reason, archive, member string) {
	if sr.RefusedMembers == nil {
		sr.RefusedMembers = map[string]int{}
	}
	sr.RefusedMembers[reason]++
	c.example("archive_"+reason, archive+": "+member)
}

// peekTar reports whether the buffered stream starts with a tar header.
func peekTar(in *bufio.Reader) bool {
	head, _ := in.Peek(tarBlockSize)
	return isTarHeader(head)
}
