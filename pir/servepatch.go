package pir

// Patch form of a serve-ready file: an updated shard whose few changed
// plaintexts are stored on their own, the rest read from a base file.
//
// An update of a large list touches nearly every shard (10^4 keys over
// 2,000 shards change about five plaintexts in each), but only a few of
// each shard's hundreds of plaintexts. Rewriting every updated shard whole
// is bound by writing the generation again (some 20 GB of serve-ready
// files at 10^8 keys); in patch form an update writes the changed
// plaintexts only, and the new generation links the previous one's whole
// file as its base (package generation keeps it once, in its base store),
// sharing its disk blocks and, in a server, its page-cache pages.
//
// The base is always a whole serve-ready file: a patch of a patched shard
// carries the previous patch's plaintexts over and keeps the same base, so
// opening a shard maps at most two files. When a patch would hold more
// than a quarter of its base's plaintexts (maxPatchShare), the update is
// written whole instead.
//
// Layout (little endian), the patch at `<stem>-<i>.serve`, its base at
// `<stem>-<i>.base.serve` ([ServeBasePath]) in the same directory:
//
//	offset 0   [8]byte  magic "BLPATCH1"
//	offset 8   u32      residue width in bytes (as the base)
//	offset 12  u32      plaintext count (as the base)
//	offset 16  u32      residues per plaintext (as the base)
//	offset 20  u32      plaintexts stored in the patch, P
//	offset 24  u32      plaintexts stored in the base, B (its header's)
//	offset 28  u32      zero
//	offset 32  [32]byte SHA-256 of the base file
//	offset 64  count × u32  slot of each plaintext: 0 for the zero
//	                    plaintext; s in [1, B] for the base's slot s;
//	                    patchSlot|j for the patch's j-th plaintext, j = 1,
//	                    2, … in plaintext order
//	then zero bytes up to a multiple of serveAlign
//	then P × residues × width bytes: the patch's plaintexts
//
// An open that is not verified against a manifest ([OpenDatabase]) checks
// the base's SHA-256 against the patch header, so a patch is never read
// over another shard's base.

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

const (
	patchMagic = "BLPATCH1"
	// patchSlot marks a slot that refers to the patch's own plaintexts.
	patchSlot = 1 << 31
	// maxPatchShare: a patch holds at most 1/maxPatchShare of its base's
	// stored plaintexts; a larger update is written whole.
	maxPatchShare = 4
)

// ServeBasePath returns the base file of the serve-ready file servePath
// when that file is in patch form: the same name with `.base.serve` in
// place of `.serve`.
func ServeBasePath(servePath string) string {
	return strings.TrimSuffix(servePath, ".serve") + ".base.serve"
}

// isPatch reports whether b starts like a serve-ready file in patch form.
func isPatch(b []byte) bool {
	return len(b) >= len(patchMagic) && string(b[:len(patchMagic)]) == patchMagic
}

// patchHeader is what a patch's header says besides its layout.
type patchHeader struct {
	layout     serveLayout // of the patch file itself (stored = P)
	baseStored int
	baseSum    [sha256.Size]byte
}

// parsePatchHeader checks the header and slot index of a patch of size
// bytes against p, and returns them.
func parsePatchHeader(b []byte, size int64, p *Params) (patchHeader, []byte, error) {
	if len(b) < serveHeaderSize || !isPatch(b) {
		return patchHeader{}, nil, fmt.Errorf("pir: not a serve-ready patch (magic)")
	}
	l, err := readServeShape(b, p)
	if err != nil {
		return patchHeader{}, nil, err
	}
	count, stored := l.count, l.stored
	baseStored := int(binary.LittleEndian.Uint32(b[24:]))
	if baseStored > count || binary.LittleEndian.Uint32(b[28:]) != 0 {
		return patchHeader{}, nil, fmt.Errorf("pir: serve-ready patch names a base of %d of %d plaintexts (corrupt)", baseStored, count)
	}
	if size != l.size() {
		return patchHeader{}, nil, fmt.Errorf("pir: serve-ready patch is %d bytes, its header implies %d (truncated or corrupt)", size, l.size())
	}
	if int64(len(b)) < l.dataOff {
		return patchHeader{}, nil, fmt.Errorf("pir: serve-ready patch header and index are cut short")
	}
	idx := b[serveHeaderSize : serveHeaderSize+4*count]
	next := uint32(1)
	for k := range count {
		s := binary.LittleEndian.Uint32(idx[4*k:])
		switch {
		case s == 0:
		case s&patchSlot != 0:
			if s&^patchSlot != next {
				return patchHeader{}, nil, fmt.Errorf("pir: serve-ready patch: plaintext %d has patch slot %d, want %d", k, s&^patchSlot, next)
			}
			next++
		case int(s) > baseStored:
			return patchHeader{}, nil, fmt.Errorf("pir: serve-ready patch: plaintext %d has base slot %d of %d", k, s, baseStored)
		}
	}
	if int(next-1) != stored {
		return patchHeader{}, nil, fmt.Errorf("pir: serve-ready patch: index names %d patch plaintexts, header %d", next-1, stored)
	}
	ph := patchHeader{layout: l, baseStored: baseStored}
	copy(ph.baseSum[:], b[32:64])
	return ph, idx, nil
}

// databaseFromPatch builds a Database over a patch held in b and its base
// in base (mapped or read). With checkRes (an open not verified against a
// manifest) the base must hash to the patch header's SHA-256 and every
// plaintext's residues are checked.
func databaseFromPatch(b, base []byte, p *Params, checkRes bool) (*Database, error) {
	ph, idx, err := parsePatchHeader(b, int64(len(b)), p)
	if err != nil {
		return nil, err
	}
	bl, _, err := parseServeHeader(base, int64(len(base)), p)
	if err != nil {
		return nil, fmt.Errorf("%w (the patch's base)", err)
	}
	switch {
	case bl.width != ph.layout.width || bl.rowLen != ph.layout.rowLen || bl.count != ph.layout.count:
		return nil, fmt.Errorf("pir: serve-ready patch and its base differ in shape")
	case bl.stored != ph.baseStored:
		return nil, fmt.Errorf("pir: serve-ready patch was written over a base of %d plaintexts, the base holds %d", ph.baseStored, bl.stored)
	}
	if checkRes && sha256.Sum256(base) != ph.baseSum {
		return nil, fmt.Errorf("pir: the serve-ready patch's base is not the file it was written over (SHA-256)")
	}
	he := p.he
	moduli := he.ctModuli()
	db := newDatabase(p, ph.layout.count)
	rowBytes := ph.layout.rowLen * ph.layout.width
	pdata, bdata := b[ph.layout.dataOff:], base[bl.dataOff:]
	for k := range ph.layout.count {
		s := binary.LittleEndian.Uint32(idx[4*k:])
		var raw []byte
		switch {
		case s == 0:
			continue
		case s&patchSlot != 0:
			j := int(s&^patchSlot) - 1
			raw = pdata[j*rowBytes : (j+1)*rowBytes]
		default:
			raw = bdata[int(s-1)*rowBytes : int(s)*rowBytes]
		}
		if err := db.setRaw(k, raw, ph.layout.width, moduli, he.n, checkRes); err != nil {
			return nil, err
		}
	}
	return db, nil
}

// setRaw points plaintext k at the residues in raw (width bytes each),
// checking them against their moduli first when check is set.
func (db *Database) setRaw(k int, raw []byte, width int, moduli []uint64, n int, check bool) error {
	if width == 4 {
		pt := residues32(raw)
		if check {
			if err := checkResidues(pt, moduli, n, k); err != nil {
				return err
			}
		}
		db.pt32[k] = pt
		return nil
	}
	pt := residues64(raw)
	if check {
		if err := checkResidues(pt, moduli, n, k); err != nil {
			return err
		}
	}
	db.pt64[k] = pt
	return nil
}

// WriteServeUpdate writes the updated shard's serve-ready file to path
// (temporary file, fsync, rename, mode 0644), in patch form when the patch
// stays small: the plaintexts this update changed, and those a patched
// previous shard had already changed, over the previous shard's base.
// prevPath is the previous shard's serve-ready file, whole or in patch
// form; prevSHA256 is its SHA-256 in hex as the caller recorded it (used
// when that file becomes the base).
//
// It returns the base the patch refers to: prevPath itself when that was
// whole, else prevPath's own base. The caller puts that file (a hard
// link) at [ServeBasePath](path) before the shard is opened. It returns ""
// when it wrote the file whole (a change over a quarter of the base's
// plaintexts), which needs no base.
func (u *ShardUpdate) WriteServeUpdate(path, prevPath, prevSHA256 string) (base string, err error) {
	src, err := os.Open(prevPath)
	if err != nil {
		return "", fmt.Errorf("pir: %w", err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return "", fmt.Errorf("pir: %w", err)
	}
	p := u.prev.params
	count := p.HashFunctionCount * p.layout().plaintextCount()
	head := make([]byte, newServeLayout(4, count, 0, 0).dataOff)
	if _, err := io.ReadFull(src, head); err != nil {
		return "", fmt.Errorf("pir: reading %s: %w", prevPath, noEOF(err))
	}
	var (
		prev       serveLayout // the previous file's own layout
		prevIdx    []byte
		baseStored int
		baseSum    [sha256.Size]byte
	)
	if isPatch(head) {
		ph, idx, err := parsePatchHeader(head, fi.Size(), p)
		if err != nil {
			return "", fmt.Errorf("%w (in %s)", err, prevPath)
		}
		prev, prevIdx, baseStored, baseSum, base = ph.layout, idx, ph.baseStored, ph.baseSum, ServeBasePath(prevPath)
	} else {
		l, idx, err := parseServeHeader(head, fi.Size(), p)
		if err != nil {
			return "", fmt.Errorf("%w (in %s)", err, prevPath)
		}
		sum, err := hex.DecodeString(prevSHA256)
		if err != nil || len(sum) != sha256.Size {
			return "", fmt.Errorf("pir: %q is not a SHA-256 in hex (of %s)", prevSHA256, prevPath)
		}
		prev, prevIdx, baseStored, base = l, idx, l.stored, prevPath
		copy(baseSum[:], sum)
	}
	// The new slot of every plaintext, and where the patch's come from.
	slots := make([]uint32, count)
	stored := 0
	for k := range slots {
		s, changed, _ := u.nonZero(k)
		old := binary.LittleEndian.Uint32(prevIdx[4*k:])
		if !changed && s != (old != 0) {
			return "", fmt.Errorf("pir: %s does not belong to the previous shard (plaintext %d)", prevPath, k)
		}
		switch {
		case !s:
		case changed || old&patchSlot != 0:
			stored++
			slots[k] = patchSlot | uint32(stored)
		default:
			slots[k] = old
		}
	}
	if stored*maxPatchShare > baseStored {
		if base == prevPath {
			return "", u.WriteServe(path, prevPath)
		}
		return "", u.writeServeWhole(path)
	}
	l := newServeLayout(prev.width, count, prev.rowLen, stored)
	rowBytes := int64(prev.rowLen * prev.width)
	return base, writeFileAtomicFile(path, func(f *os.File) error {
		w := &segmentWriter{dst: f, src: src}
		head := appendServeHead(nil, patchMagic, l, slots)
		binary.LittleEndian.PutUint32(head[24:], uint32(baseStored))
		copy(head[32:serveHeaderSize], baseSum[:])
		if err := w.write(head); err != nil {
			return err
		}
		row := make([]byte, rowBytes)
		for k, s := range slots {
			if s&patchSlot == 0 {
				continue
			}
			if _, changed, pt := u.nonZero(k); changed {
				if err := w.write(encodeResidues(row, pt, prev.width)); err != nil {
					return err
				}
				continue
			}
			// Changed by an earlier update: carried over from the
			// previous patch.
			old := int64(binary.LittleEndian.Uint32(prevIdx[4*k:])&^patchSlot) - 1
			if err := w.copyRange(prev.dataOff+old*rowBytes, rowBytes); err != nil {
				return err
			}
		}
		return w.close()
	})
}

// writeServeWhole writes the updated shard's serve-ready file whole from
// the previous shard's plaintexts as opened (a patched previous shard has
// no single file to copy ranges from).
func (u *ShardUpdate) writeServeWhole(path string) error {
	width, count, rowLen := serveShape(u.prev.params)
	slots := make([]uint32, count)
	stored := 0
	for k := range count {
		if s, _, _ := u.nonZero(k); s {
			stored++
			slots[k] = uint32(stored)
		}
	}
	l := newServeLayout(width, count, rowLen, stored)
	prev := make([]uint64, rowLen)
	return writeFileAtomic(path, func(w io.Writer) error {
		return writeWholeServe(w, l, slots, func(k int) []uint64 {
			if _, changed, pt := u.nonZero(k); changed {
				return pt
			}
			return u.prev.plaintextInto(k, prev)
		})
	})
}
