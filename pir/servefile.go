package pir

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// Serve-ready shard file (`<stem>-<i>.serve`): the plaintexts of a
// [Database] as the answer loop reads them, so a server maps the file into
// memory instead of unpacking Apple's bit-packed `.bin` into its heap. The
// pages then belong to the page cache: start-up time and anonymous memory
// do not grow with the database, and generations that hard-link one file
// share its pages. Our own format, never sent to a device; the `.bin` stays
// the interchange file. All integers little endian:
//
//	offset 0   [8]byte  magic "BLSERVE1"
//	offset 8   u32      residue width in bytes: 4 when every ciphertext
//	                    modulus is below 2^32 (as the heap keeps it), else 8
//	offset 12  u32      plaintext count (as the `.bin` header)
//	offset 16  u32      residues per plaintext, (L−1)·N
//	offset 20  u32      stored (non-zero) plaintexts S
//	offset 24  [40]byte zero
//	offset 64  count × u32  slot of each plaintext: 0 for the zero
//	                    plaintext, else 1 + its index among the stored ones
//	then zero bytes up to a multiple of serveAlign
//	then S × residues × width bytes: the stored plaintexts, row q_i of each
//	at [i·N, (i+1)·N) as in memory, each starting on a serveAlign boundary
//	(residues·width is a multiple of serveAlign for every preset, N ≥ 1024)
//
// The file's size follows from its header; a reader checks it and every
// residue against its modulus before serving, so a truncated or foreign
// file is refused instead of read as data. The digest that ties the file to
// its build is the caller's (a generation's manifest).
const (
	serveMagic      = "BLSERVE1"
	serveHeaderSize = 64
	// serveAlign is the alignment of the plaintext area: a cache line, and
	// the widest vector load (64 bytes), so kernels may assume it.
	serveAlign = 64
	// maxServeFileBytes is the largest file a process can map or read
	// whole: its address space (math.MaxInt bytes).
	maxServeFileBytes = math.MaxInt
)

// ServePath returns the serve-ready file of the shard whose `.bin` is
// binPath: the same name with `.serve` in place of `.bin`.
func ServePath(binPath string) string {
	return strings.TrimSuffix(binPath, ".bin") + ".serve"
}

// serveLayout is the geometry of a serve-ready file.
type serveLayout struct {
	width   int // bytes per residue, 4 or 8
	count   int // plaintexts
	rowLen  int // residues per plaintext
	stored  int // non-zero plaintexts
	dataOff int64
}

// size is the exact file size the layout implies.
func (l serveLayout) size() int64 {
	return l.dataOff + int64(l.stored)*int64(l.rowLen)*int64(l.width)
}

func newServeLayout(width, count, rowLen, stored int) serveLayout {
	idxEnd := int64(serveHeaderSize) + 4*int64(count)
	return serveLayout{width: width, count: count, rowLen: rowLen, stored: stored,
		dataOff: (idxEnd + serveAlign - 1) / serveAlign * serveAlign}
}

// WriteServeFile writes db's serve-ready file to path (see [ServePath]),
// through a temporary file that is fsynced and renamed into place, mode
// 0644. A freshly processed shard is packed into memory first (as
// [NewServer] does), so its plaintexts are computed once for this file and
// for a `.bin` written after it, instead of once per pass.
func WriteServeFile(path string, db *Database) error {
	return writeFileAtomic(path, func(w io.Writer) error { return db.writeServe(w) })
}

// writeServe writes the serve-ready encoding of db to w.
func (db *Database) writeServe(w io.Writer) error {
	db.materialize() // two passes below: compute each plaintext once
	width, _, rowLen := serveShape(db.params)
	count := db.count()
	scratch := make([]uint64, rowLen)
	slots := make([]uint32, count)
	stored := 0
	for k := range count {
		if db.plaintextInto(k, scratch) != nil {
			stored++
			slots[k] = uint32(stored)
		}
	}
	l := newServeLayout(width, count, rowLen, stored)
	return writeWholeServe(w, l, slots, func(k int) []uint64 { return db.plaintextInto(k, scratch) })
}

// writeWholeServe writes a whole serve-ready file of layout l to w: the
// header and slot index, then plaintext(k) for every k with a slot, in
// order (slots are 1, 2, … in plaintext order, 0 for the zero plaintext).
func writeWholeServe(w io.Writer, l serveLayout, slots []uint32, plaintext func(k int) []uint64) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(appendServeHead(nil, serveMagic, l, slots))
	row := make([]byte, l.rowLen*l.width)
	for k, s := range slots {
		if s != 0 {
			bw.Write(encodeResidues(row, plaintext(k), l.width))
		}
	}
	return bw.Flush()
}

// appendServeHead appends to b the first l.dataOff bytes of a serve-ready
// file of layout l: magic, width, count, residues per plaintext and stored
// count (the rest of the header zero), then the slot index, zero-padded.
func appendServeHead(b []byte, magic string, l serveLayout, slots []uint32) []byte {
	var hdr [serveHeaderSize]byte
	copy(hdr[:], magic)
	binary.LittleEndian.PutUint32(hdr[8:], uint32(l.width))
	binary.LittleEndian.PutUint32(hdr[12:], uint32(l.count))
	binary.LittleEndian.PutUint32(hdr[16:], uint32(l.rowLen))
	binary.LittleEndian.PutUint32(hdr[20:], uint32(l.stored))
	b = append(b, hdr[:]...)
	for _, s := range slots {
		b = binary.LittleEndian.AppendUint32(b, s)
	}
	return append(b, make([]byte, l.dataOff-serveHeaderSize-4*int64(len(slots)))...)
}

// encodeResidues writes pt into row, width bytes per residue, little
// endian, and returns row.
func encodeResidues(row []byte, pt []uint64, width int) []byte {
	for i, v := range pt {
		if width == 4 {
			binary.LittleEndian.PutUint32(row[4*i:], uint32(v))
		} else {
			binary.LittleEndian.PutUint64(row[8*i:], v)
		}
	}
	return row
}

// readServeShape reads the shape a serve-ready header (whole or patch)
// gives, checks it against p and returns its layout.
func readServeShape(b []byte, p *Params) (serveLayout, error) {
	width := int(binary.LittleEndian.Uint32(b[8:]))
	count := int(binary.LittleEndian.Uint32(b[12:]))
	rowLen := int(binary.LittleEndian.Uint32(b[16:]))
	stored := int(binary.LittleEndian.Uint32(b[20:]))
	if err := checkServeShape(width, count, rowLen, stored, p); err != nil {
		return serveLayout{}, err
	}
	return newServeLayout(width, count, rowLen, stored), nil
}

// parseServeHeader checks the header and index of a serve-ready file of
// size bytes against p and returns its layout and slots.
func parseServeHeader(b []byte, size int64, p *Params) (serveLayout, []byte, error) {
	if len(b) < serveHeaderSize || string(b[:8]) != serveMagic {
		return serveLayout{}, nil, fmt.Errorf("pir: not a serve-ready shard file (magic)")
	}
	l, err := readServeShape(b, p)
	if err != nil {
		return serveLayout{}, nil, err
	}
	count, stored := l.count, l.stored
	if size != l.size() {
		return serveLayout{}, nil, fmt.Errorf("pir: serve-ready file is %d bytes, its header implies %d (truncated or corrupt)", size, l.size())
	}
	idx := b[serveHeaderSize : serveHeaderSize+4*count]
	next := uint32(1)
	for k := range count {
		switch s := binary.LittleEndian.Uint32(idx[4*k:]); s {
		case 0:
		case next:
			next++
		default:
			return serveLayout{}, nil, fmt.Errorf("pir: serve-ready file: plaintext %d has slot %d, want 0 or %d", k, s, next)
		}
	}
	if int(next-1) != stored {
		return serveLayout{}, nil, fmt.Errorf("pir: serve-ready file: index names %d stored plaintexts, header %d", next-1, stored)
	}
	return l, idx, nil
}

// serveShape returns the shape of a serve-ready file for the parameters
// p: bytes per residue (4 when every ciphertext modulus is below 2^32, as
// the heap keeps them, else 8), plaintext count, residues per plaintext.
func serveShape(p *Params) (width, count, rowLen int) {
	width = 8
	if p.he.narrow() {
		width = 4
	}
	return width, p.HashFunctionCount * p.layout().plaintextCount(), len(p.he.ctModuli()) * p.he.n
}

// checkServeShape checks the shape a serve-ready file's header (whole or
// patch) gives against the parameters p.
func checkServeShape(width, count, rowLen, stored int, p *Params) error {
	wantWidth, wantCount, wantRow := serveShape(p)
	switch {
	case width != wantWidth:
		return fmt.Errorf("pir: serve-ready file has %d-byte residues, parameters need %d", width, wantWidth)
	case count != wantCount:
		return fmt.Errorf("pir: serve-ready file has %d plaintexts, parameters need %d", count, wantCount)
	case rowLen != wantRow:
		return fmt.Errorf("pir: serve-ready file has %d residues per plaintext, parameters need %d", rowLen, wantRow)
	case stored > count:
		return fmt.Errorf("pir: serve-ready file stores %d of %d plaintexts", stored, count)
	}
	return nil
}

// checkResidues fails when a stored residue is not below its modulus.
func checkResidues[T uint32 | uint64](pt []T, moduli []uint64, n, k int) error {
	for i, q := range moduli {
		for j, v := range pt[i*n : (i+1)*n] {
			if uint64(v) >= q {
				return fmt.Errorf("pir: serve-ready plaintext %d residue %d is %d, not below modulus %d", k, i*n+j, v, q)
			}
		}
	}
	return nil
}

// OpenDatabase opens one shard for serving: from its serve-ready file
// ([ServePath] of binPath), memory-mapped where the platform allows, when
// that file exists; otherwise by reading the `.bin` into memory
// ([LoadDatabase]). A serve-ready file that does not match the parameters,
// is truncated or holds a residue not below its modulus is an error, never
// served.
func OpenDatabase(binPath, paramsPath string) (*Database, error) {
	return openDatabase(binPath, paramsPath, true)
}

// OpenVerifiedDatabase is [OpenDatabase] for a shard whose files the caller
// has checked byte for byte against digests recorded when [WriteServeFile]
// wrote them (package generation verifies a generation against its
// manifest before serving it). Such a file holds the reduced residues
// WriteServeFile wrote, so they are not read again: opening costs the
// header and slot index, O(plaintext count), instead of a read of every
// page (some 45 GB at 10^8 keys), and data pages are read when answers
// touch them. The file's size is still checked against its header before
// it is mapped, so a truncated file is refused, never read past its end.
// A file not so verified must go through OpenDatabase.
func OpenVerifiedDatabase(binPath, paramsPath string) (*Database, error) {
	return openDatabase(binPath, paramsPath, false)
}

// openDatabase is OpenDatabase; checkRes says whether every stored residue
// of a serve-ready file is checked against its modulus.
func openDatabase(binPath, paramsPath string, checkRes bool) (*Database, error) {
	sp := ServePath(binPath)
	if _, err := os.Stat(sp); err != nil {
		if os.IsNotExist(err) {
			return LoadDatabase(binPath, paramsPath)
		}
		return nil, fmt.Errorf("pir: %w", err)
	}
	p, err := ReadParamsFile(paramsPath)
	if err != nil {
		return nil, err
	}
	db, err := openServeFile(sp, p, checkRes)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, sp)
	}
	return db, nil
}

// Mapped reports whether the shard's plaintexts are read from a
// memory-mapped file rather than held in the heap.
func (db *Database) Mapped() bool { return db.mapped }

// databaseFromServe builds a Database over the plaintext area of a
// serve-ready file held in b (mapped or read), checking every residue when
// checkRes is set (see OpenVerifiedDatabase for when it need not be).
func databaseFromServe(b []byte, p *Params, checkRes bool) (*Database, error) {
	l, idx, err := parseServeHeader(b, int64(len(b)), p)
	if err != nil {
		return nil, err
	}
	he := p.he
	moduli := he.ctModuli()
	db := newDatabase(p, l.count)
	data := b[l.dataOff:]
	rowBytes := l.rowLen * l.width
	for k := range l.count {
		s := binary.LittleEndian.Uint32(idx[4*k:])
		if s == 0 {
			continue
		}
		if err := db.setRaw(k, data[int(s-1)*rowBytes:int(s)*rowBytes], l.width, moduli, he.n, checkRes); err != nil {
			return nil, err
		}
	}
	return db, nil
}
