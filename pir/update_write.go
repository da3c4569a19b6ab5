package pir

// Writing an updated shard: the new `.serve` and `.bin` are composed from
// byte ranges of the previous files and the re-encoded plaintexts.

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// nonZero reports whether plaintext k of the updated shard is stored
// (not the zero plaintext), and its new residues when it changed.
func (u *ShardUpdate) nonZero(k int) (stored bool, changed bool, pt []uint64) {
	if pt, ok := u.changed[k]; ok {
		return pt != nil, true, pt
	}
	return u.prev.stored(k), false, nil
}

// segmentWriter composes a file from new bytes and byte ranges copied from
// a previous file. Copies go through (*os.File).ReadFrom with a limited
// *os.File source, which Linux serves with copy_file_range (no copy through
// this process); elsewhere it is an ordinary copy.
type segmentWriter struct {
	dst, src *os.File
	buf      []byte
	// a pending copy of src [copyOff, copyOff+copyLen), merged with the
	// next one when contiguous
	copyOff, copyLen int64
}

func (w *segmentWriter) write(b []byte) error {
	if err := w.flushCopy(); err != nil {
		return err
	}
	w.buf = append(w.buf, b...)
	if len(w.buf) >= 1<<16 {
		return w.flushBuf()
	}
	return nil
}

func (w *segmentWriter) copyRange(off, n int64) error {
	if n == 0 {
		return nil
	}
	if w.copyLen > 0 && w.copyOff+w.copyLen == off {
		w.copyLen += n
		return nil
	}
	if err := w.flushCopy(); err != nil {
		return err
	}
	w.copyOff, w.copyLen = off, n
	return nil
}

func (w *segmentWriter) flushBuf() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.dst.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}

func (w *segmentWriter) flushCopy() error {
	if w.copyLen == 0 {
		return nil
	}
	if err := w.flushBuf(); err != nil {
		return err
	}
	if _, err := w.src.Seek(w.copyOff, io.SeekStart); err != nil {
		return err
	}
	n, err := w.dst.ReadFrom(&io.LimitedReader{R: w.src, N: w.copyLen})
	if err != nil {
		return err
	}
	if n != w.copyLen {
		return fmt.Errorf("previous file ends %d bytes early", w.copyLen-n)
	}
	w.copyLen = 0
	return nil
}

func (w *segmentWriter) close() error {
	if err := w.flushCopy(); err != nil {
		return err
	}
	return w.flushBuf()
}

// WriteServe writes the updated shard's serve-ready file to path (see
// [WriteServeFile]: temporary file, fsync, rename, mode 0644), copying
// every unchanged plaintext from prevPath, the previous shard's
// serve-ready file, whose header must match the previous shard.
func (u *ShardUpdate) WriteServe(path, prevPath string) error {
	src, err := os.Open(prevPath)
	if err != nil {
		return fmt.Errorf("pir: %w", err)
	}
	defer src.Close()
	p := u.prev.params
	fi, err := src.Stat()
	if err != nil {
		return fmt.Errorf("pir: %w", err)
	}
	count := p.HashFunctionCount * p.layout().plaintextCount()
	head := make([]byte, newServeLayout(4, count, 0, 0).dataOff)
	if _, err := io.ReadFull(src, head); err != nil {
		return fmt.Errorf("pir: reading %s: %w", prevPath, noEOF(err))
	}
	old, idx, err := parseServeHeader(head, fi.Size(), p)
	if err != nil {
		return fmt.Errorf("%w (in %s)", err, prevPath)
	}
	slots := make([]uint32, count)
	stored := 0
	for k := range slots {
		s, changed, _ := u.nonZero(k)
		if oldStored := binary.LittleEndian.Uint32(idx[4*k:]) != 0; !changed && s != oldStored {
			return fmt.Errorf("pir: %s does not belong to the previous shard (plaintext %d)", prevPath, k)
		}
		if s {
			stored++
			slots[k] = uint32(stored)
		}
	}
	l := newServeLayout(old.width, count, old.rowLen, stored)
	rowBytes := int64(old.rowLen * old.width)
	return writeFileAtomicFile(path, func(f *os.File) error {
		w := &segmentWriter{dst: f, src: src}
		if err := w.write(appendServeHead(nil, serveMagic, l, slots)); err != nil {
			return err
		}
		row := make([]byte, rowBytes)
		for k := range count {
			s, changed, pt := u.nonZero(k)
			switch {
			case !s:
			case changed:
				if err := w.write(encodeResidues(row, pt, old.width)); err != nil {
					return err
				}
			default:
				slot := int64(binary.LittleEndian.Uint32(idx[4*k:]) - 1)
				if err := w.copyRange(old.dataOff+slot*rowBytes, rowBytes); err != nil {
					return err
				}
			}
		}
		return w.close()
	})
}

// WriteBin writes the updated shard's `.bin` (Apple's format, as
// [WriteShardFiles] writes it, through a temporary file that is fsynced and
// renamed into place) to path, copying every unchanged plaintext from
// prevPath, the previous shard's `.bin`, whose size and plaintext tags
// must match the previous shard.
func (u *ShardUpdate) WriteBin(path, prevPath string) error {
	src, err := os.Open(prevPath)
	if err != nil {
		return fmt.Errorf("pir: %w", err)
	}
	defer src.Close()
	p := u.prev.params
	he := p.he
	count := p.HashFunctionCount * p.layout().plaintextCount()
	payload := int64(he.polyBytes(len(he.ctModuli())))
	// Offsets of the previous file's plaintexts, from the previous shard.
	offs := make([]int64, count+1)
	offs[0] = 5
	for k := range count {
		offs[k+1] = offs[k] + 1
		if u.prev.stored(k) {
			offs[k+1] += payload
		}
	}
	fi, err := src.Stat()
	if err != nil {
		return fmt.Errorf("pir: %w", err)
	}
	if fi.Size() != offs[count] {
		return fmt.Errorf("pir: %s is %d bytes, the previous shard's .bin has %d", prevPath, fi.Size(), offs[count])
	}
	var hdr [5]byte
	if _, err := src.ReadAt(hdr[:], 0); err != nil {
		return fmt.Errorf("pir: reading %s: %w", prevPath, err)
	}
	if hdr[0] != dbFileVersion || int(binary.LittleEndian.Uint32(hdr[1:])) != count {
		return fmt.Errorf("pir: %s does not belong to the previous shard (header)", prevPath)
	}
	// Each plaintext's tag must say what the previous shard holds (one
	// small read per plaintext; the payloads are copied unread).
	var tag [1]byte
	for k := range count {
		if _, err := src.ReadAt(tag[:], offs[k]); err != nil {
			return fmt.Errorf("pir: reading %s: %w", prevPath, err)
		}
		want := byte(0)
		if offs[k+1]-offs[k] > 1 {
			want = 1
		}
		if tag[0] != want {
			return fmt.Errorf("pir: %s does not belong to the previous shard (plaintext %d)", prevPath, k)
		}
	}
	return writeFileAtomicFile(path, func(f *os.File) error {
		w := &segmentWriter{dst: f, src: src}
		if err := w.write(hdr[:]); err != nil {
			return err
		}
		buf := make([]byte, 0, 1+payload)
		for k := range count {
			s, changed, pt := u.nonZero(k)
			if !changed {
				if err := w.copyRange(offs[k], offs[k+1]-offs[k]); err != nil {
					return err
				}
				continue
			}
			buf = append(buf[:0], 0)
			if s {
				buf[0] = 1
				for i, q := range he.ctModuli() {
					buf = packBits(buf, pt[i*he.n:(i+1)*he.n], ceilLog2(q))
				}
			}
			if err := w.write(buf); err != nil {
				return err
			}
		}
		return w.close()
	})
}
