package pir

// Streaming readers of keyword databases: Apple's pir.v1.KeywordDatabase in
// protobuf text or binary form (pir-spec §7.3, PIRProcessDatabase's
// inputDatabase) and plain key lists, read row by row so that a database
// of any size is never held whole in memory. Each reader gives exactly the
// rows (same order, same bytes) that unmarshalling the whole file gives,
// and fails where that fails (FuzzReadKeywordRows checks both).

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

// KeywordFormat is the encoding of a keyword database file.
type KeywordFormat int

const (
	// KeyLines is a plain key list: one keyword per line, trimmed of
	// surrounding white space, empty lines skipped; every row gets the
	// same value.
	KeyLines KeywordFormat = iota
	// KeywordTextProto is a pir.v1.KeywordDatabase in protobuf text format
	// (.txtpb).
	KeywordTextProto
	// KeywordBinaryProto is a pir.v1.KeywordDatabase in protobuf binary
	// format (.binpb, .pb).
	KeywordBinaryProto
)

// maxKeywordRowBytes bounds one encoded row (and one text chunk's
// overshoot): a value has at most 65535 bytes, so a larger row is not a
// keyword-PIR row; the bound keeps a hostile length prefix from allocating
// without limit.
const maxKeywordRowBytes = 16 << 20

// textChunkBytes is how much text is parsed at once: whole top-level
// fields, at least this many bytes per chunk.
const textChunkBytes = 1 << 20

// ReadKeywordRows reads the keyword database r in format f and calls fn
// with each row in file order; value is the value of every row of a
// [KeyLines] list. A row's slices are valid only during its call. It stops
// at fn's first error and returns it.
func ReadKeywordRows(r io.Reader, f KeywordFormat, value []byte, fn func(Row) error) error {
	switch f {
	case KeyLines:
		return readKeyLines(r, value, fn)
	case KeywordTextProto:
		return readKeywordText(r, textChunkBytes, fn)
	case KeywordBinaryProto:
		return readKeywordBinary(r, fn)
	}
	return fmt.Errorf("pir: unknown keyword database format %d", f)
}

func readKeyLines(r io.Reader, value []byte, fn func(Row) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("pir: reading key list: %w", err)
		}
		if kw := bytes.TrimSpace(line); len(kw) > 0 {
			if ferr := fn(Row{Keyword: kw[:len(kw):len(kw)], Value: value}); ferr != nil {
				return ferr
			}
		}
		if err != nil {
			return nil
		}
	}
}

// readKeywordBinary reads KeywordDatabase's fields one at a time: each
// field 1 (rows, length-delimited) is a KeywordDatabaseRow; every other
// field, and field 1 with another wire type, is skipped as proto.Unmarshal
// skips unknown fields.
func readKeywordBinary(r io.Reader, fn func(Row) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var buf []byte
	row := &pirpb.KeywordDatabaseRow{}
	for n := 0; ; n++ {
		tag, err := binary.ReadUvarint(br)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("pir: KeywordDatabase field %d: %w", n, noEOF(err))
		}
		num, typ := protowire.DecodeTag(tag)
		if num < protowire.MinValidNumber || num > protowire.MaxValidNumber {
			return fmt.Errorf("pir: KeywordDatabase field %d: invalid field number", n)
		}
		if num != 1 || typ != protowire.BytesType {
			if err := skipField(br, num, typ, 0); err != nil {
				return fmt.Errorf("pir: KeywordDatabase field %d: %w", n, err)
			}
			continue
		}
		size, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("pir: KeywordDatabase row %d: %w", n, noEOF(err))
		}
		if size > maxKeywordRowBytes {
			return fmt.Errorf("pir: KeywordDatabase row %d has %d bytes, at most %d", n, size, maxKeywordRowBytes)
		}
		if cap(buf) < int(size) {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(br, buf); err != nil {
			return fmt.Errorf("pir: KeywordDatabase row %d: %w", n, noEOF(err))
		}
		row.Reset()
		if err := proto.Unmarshal(buf, row); err != nil {
			return fmt.Errorf("pir: KeywordDatabase row %d: %w", n, err)
		}
		if err := fn(Row{Keyword: row.GetKeyword(), Value: row.GetValue()}); err != nil {
			return err
		}
	}
}

// skipField skips the value of an unknown field of wire type typ (groups
// up to their end tag, nested at most 100 deep, as the protobuf runtime
// allows).
func skipField(br *bufio.Reader, num protowire.Number, typ protowire.Type, depth int) error {
	var err error
	switch typ {
	case protowire.VarintType:
		_, err = binary.ReadUvarint(br)
	case protowire.Fixed32Type:
		_, err = br.Discard(4)
	case protowire.Fixed64Type:
		_, err = br.Discard(8)
	case protowire.BytesType:
		var n uint64
		if n, err = binary.ReadUvarint(br); err == nil {
			if n > 1<<62 {
				return errors.New("length out of range")
			}
			_, err = io.CopyN(io.Discard, br, int64(n))
		}
	case protowire.StartGroupType:
		if depth >= 100 {
			return errors.New("groups nested too deep")
		}
		for {
			tag, err := binary.ReadUvarint(br)
			if err != nil {
				return noEOF(err)
			}
			n, t := protowire.DecodeTag(tag)
			if n < protowire.MinValidNumber || n > protowire.MaxValidNumber {
				return errors.New("invalid field number")
			}
			if t == protowire.EndGroupType {
				if n != num {
					return errors.New("mismatched end group")
				}
				return nil
			}
			if err := skipField(br, n, t, depth+1); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("invalid wire type %d", typ)
	}
	return noEOF(err)
}

// readKeywordText parses the text format in chunks of whole top-level
// fields: a scanner that knows strings, comments and brackets finds where
// each top-level field ends, and each chunk is unmarshalled with prototext
// as a KeywordDatabase of its own; its rows are the rows of those fields,
// since the only field of KeywordDatabase is repeated.
//
// chunkBytes is the least size of a chunk (tests cut after every field).
func readKeywordText(r io.Reader, chunkBytes int, fn func(Row) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var chunk []byte
	line, chunkLine := 1, 1
	depth := 0
	var quote byte // inside a string: its quote character
	escaped, comment := false, false
	flush := func() error {
		m := &pirpb.KeywordDatabase{}
		if err := prototext.Unmarshal(chunk, m); err != nil {
			return fmt.Errorf("pir: KeywordDatabase text in the field starting on line %d: %w", chunkLine, err)
		}
		for _, row := range m.GetRows() {
			if err := fn(Row{Keyword: row.GetKeyword(), Value: row.GetValue()}); err != nil {
				return err
			}
		}
		chunk, chunkLine = chunk[:0], line
		return nil
	}
	for {
		c, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("pir: reading KeywordDatabase text: %w", err)
		}
		chunk = append(chunk, c)
		if c == '\n' {
			line++
		}
		switch {
		case comment:
			comment = c != '\n'
		case quote != 0:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == quote || c == '\n':
				quote = 0 // a newline ends an (invalid) string: prototext fails there too
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			comment = true
		case c == '{' || c == '<' || c == '[':
			depth++
		case c == '}' || c == '>' || c == ']':
			depth--
			if depth < 0 {
				return fmt.Errorf("pir: KeywordDatabase text line %d: unbalanced %q", line, c)
			}
			if depth == 0 && len(chunk) >= chunkBytes {
				// Cut after this field and its optional separator.
				if err := takeSeparator(br, &chunk, &line); err != nil {
					return err
				}
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if depth > 0 && len(chunk) > chunkBytes+maxKeywordRowBytes {
			return fmt.Errorf("pir: KeywordDatabase text: a field starting on line %d exceeds %d bytes", chunkLine, maxKeywordRowBytes)
		}
	}
	return flush()
}

// takeSeparator moves white space, comments and at most one ',' or ';'
// that follow a field into chunk, so the next chunk starts at a field.
func takeSeparator(br *bufio.Reader, chunk *[]byte, line *int) error {
	sep := false
	for {
		c, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("pir: reading KeywordDatabase text: %w", err)
		}
		switch {
		case c == '\n':
			*line++
		case c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f':
		case c == '#':
			*chunk = append(*chunk, c)
			for c != '\n' {
				if c, err = br.ReadByte(); err != nil {
					return nil // EOF inside the comment: the document ends
				}
				*chunk = append(*chunk, c)
			}
			*line++
			continue
		case (c == ',' || c == ';') && !sep:
			sep = true
		default:
			return br.UnreadByte()
		}
		*chunk = append(*chunk, c)
	}
}
