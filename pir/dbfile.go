package pir

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Processed database file, Apple's ProcessedDatabase (pir-spec §7.1,
// he-spec §6.5):
//
//	u8 version = 1 | u32 LE plaintext count | per plaintext: u8 tag
//	(0 = all-zero plaintext, no payload; 1 = Eval polynomial over the
//	ciphertext moduli, packed per he-spec §6.1)
const dbFileVersion = 1

// Database is one processed keyword shard: its parameters and the Eval-form
// plaintexts of every cuckoo table, in Apple's stored order (table, chunk,
// column-major position). It is immutable once built and safe for
// concurrent use.
type Database struct {
	params *Params
	// The HashFunctionCount·ChunkCount·d0·d1 plaintexts, nil for the zero
	// plaintext. Each is (L−1)·N residues, row q_i at [i·N, (i+1)·N). When
	// every ciphertext modulus is below 2^32 they are kept as uint32 (pt32),
	// halving the memory of a served shard; otherwise as uint64 (pt64).
	pt32 [][]uint32
	pt64 [][]uint64
	// src, when set, holds the shard unpacked (fresh from processing);
	// plaintexts are computed from it on demand until materialize.
	src *packSource
	mu  sync.Mutex // guards src, whose scratch is not concurrent
	// mapped: pt32/pt64 are views of a read-only memory-mapped serve-ready
	// file (servefile.go), never written.
	mapped bool
}

// materialize packs a fresh shard's plaintexts into memory for serving.
func (db *Database) materialize() {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.src == nil {
		return
	}
	n := db.params.HashFunctionCount * db.params.layout().plaintextCount()
	src := db.src
	db.src = nil
	fresh := newDatabase(db.params, n)
	pt := make([]uint64, len(db.params.he.ctModuli())*db.params.he.n)
	for k := range n {
		if src.plaintext(k, pt) {
			fresh.set(k, slices.Clone(pt))
		}
	}
	db.pt32, db.pt64 = fresh.pt32, fresh.pt64
}

// newDatabase returns an empty database of count plaintexts for p.
func newDatabase(p *Params, count int) *Database {
	db := &Database{params: p}
	if p.he.narrow() {
		db.pt32 = make([][]uint32, count)
	} else {
		db.pt64 = make([][]uint64, count)
	}
	return db
}

// appendPlaintext adds the next plaintext (nil for zero), copying v when
// residues are kept narrow; v may then be reused.
func (db *Database) appendPlaintext(v []uint64) {
	if !db.params.he.narrow() {
		db.pt64 = append(db.pt64, v)
		return
	}
	var w []uint32
	if v != nil {
		w = make([]uint32, len(v))
		for i, x := range v {
			w[i] = uint32(x)
		}
	}
	db.pt32 = append(db.pt32, w)
}

// count is the number of plaintexts.
func (db *Database) count() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.src != nil {
		return db.params.HashFunctionCount * db.params.layout().plaintextCount()
	}
	return max(len(db.pt32), len(db.pt64))
}

// set stores plaintext k (nil for zero). When residues are kept as uint64,
// v itself is kept; otherwise it is copied and may be reused.
func (db *Database) set(k int, v []uint64) {
	if db.pt64 != nil {
		db.pt64[k] = v
		return
	}
	if v == nil {
		return
	}
	w := make([]uint32, len(v))
	for i, x := range v {
		w[i] = uint32(x)
	}
	db.pt32[k] = w
}

// plaintext returns plaintext k as uint64 residues (a copy when stored
// narrow or computed), or nil for the zero plaintext.
func (db *Database) plaintext(k int) []uint64 {
	return db.plaintextInto(k, nil)
}

// plaintextInto is plaintext that may use buf (len (L−1)·N) for the result.
func (db *Database) plaintextInto(k int, buf []uint64) []uint64 {
	db.mu.Lock()
	if src := db.src; src != nil {
		defer db.mu.Unlock()
		if buf == nil {
			buf = make([]uint64, len(db.params.he.ctModuli())*db.params.he.n)
		}
		if src.plaintext(k, buf) {
			return buf
		}
		return nil
	}
	db.mu.Unlock()
	if db.pt64 != nil {
		return db.pt64[k]
	}
	w := db.pt32[k]
	if w == nil {
		return nil
	}
	v := buf
	if v == nil {
		v = make([]uint64, len(w))
	}
	for i, x := range w {
		v[i] = uint64(x)
	}
	return v
}

// Params returns the shard's parameters.
func (db *Database) Params() *Params { return db.params }

// tablePlaintexts returns the plaintexts of cuckoo table i.
func (db *Database) tablePlaintexts(i int) [][]uint64 {
	n := db.params.layout().plaintextCount()
	out := make([][]uint64, n)
	for k := range out {
		out[k] = db.plaintext(i*n + k)
	}
	return out
}

// WriteTo writes the shard in Apple's `.bin` format.
func (db *Database) WriteTo(w io.Writer) (int64, error) {
	n, err := db.writeTo(w)
	if err != nil {
		return n, fmt.Errorf("pir: writing database: %w", err)
	}
	return n, nil
}

// writeTo is WriteTo with the writer's error unwrapped.
func (db *Database) writeTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	var hdr [5]byte
	hdr[0] = dbFileVersion
	binary.LittleEndian.PutUint32(hdr[1:], uint32(db.count()))
	bw.Write(hdr[:])
	written := int64(len(hdr))
	he := db.params.he
	buf := make([]byte, 0, he.polyBytes(len(he.moduli)-1))
	scratch := make([]uint64, len(he.ctModuli())*he.n)
	for k := range db.count() {
		pt := db.plaintextInto(k, scratch)
		if pt == nil {
			bw.WriteByte(0)
			written++
			continue
		}
		buf = buf[:0]
		for i, q := range he.ctModuli() {
			buf = packBits(buf, pt[i*he.n:(i+1)*he.n], ceilLog2(q))
		}
		bw.WriteByte(1)
		bw.Write(buf)
		written += 1 + int64(len(buf))
	}
	if err := bw.Flush(); err != nil {
		return written, err
	}
	return written, nil
}

// ReadDatabase reads a `.bin` shard with parameters p from r, checking the
// plaintext count against p and every residue against its modulus.
func ReadDatabase(r io.Reader, p *Params) (*Database, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var hdr [5]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("pir: database header: %w", noEOF(err))
	}
	if hdr[0] != dbFileVersion {
		return nil, fmt.Errorf("pir: database version %d, want %d", hdr[0], dbFileVersion)
	}
	count := int(binary.LittleEndian.Uint32(hdr[1:]))
	want := p.HashFunctionCount * p.layout().plaintextCount()
	if count != want {
		return nil, fmt.Errorf("pir: database has %d plaintexts, parameters %v×%d chunks×%d tables need %d",
			count, p.Dimensions, p.ChunkCount(), p.HashFunctionCount, want)
	}
	he := p.he
	ct := he.ctModuli()
	buf := make([]byte, he.polyBytes(len(ct)))
	// Grow while reading, so a header announcing more plaintexts than the
	// input holds costs nothing.
	db := &Database{params: p}
	pt := make([]uint64, len(ct)*he.n)
	for k := range count {
		tag, err := br.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("pir: database plaintext %d: %w", k, noEOF(err))
		}
		switch tag {
		case 0:
			db.appendPlaintext(nil)
			continue
		case 1:
		default:
			return nil, fmt.Errorf("pir: database plaintext %d has tag %d, want 0 or 1", k, tag)
		}
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, fmt.Errorf("pir: database plaintext %d: %w", k, noEOF(err))
		}
		if !he.narrow() {
			pt = make([]uint64, len(ct)*he.n) // kept as is
		}
		off := 0
		for i, q := range ct {
			w := ceilLog2(q)
			row := pt[i*he.n : (i+1)*he.n]
			unpackBits(row, buf[off:], he.n, w)
			off += packedLen(he.n, w)
			for j, v := range row {
				if v >= q {
					return nil, fmt.Errorf("pir: database plaintext %d residue %d is %d, not below modulus %d", k, j, v, q)
				}
			}
		}
		db.appendPlaintext(pt)
	}
	switch _, err := br.ReadByte(); {
	case err == nil:
		return nil, fmt.Errorf("pir: database has trailing bytes after %d plaintexts", count)
	case !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("pir: database after %d plaintexts: %w", count, err)
	}
	return db, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ShardPaths returns the database and parameter file names of shard i under
// dir with stem, as Apple's tools name them: `<stem>-<i>.bin` and
// `<stem>-<i>.params.txtpb`.
func ShardPaths(dir, stem string, i int) (bin, params string) {
	base := filepath.Join(dir, fmt.Sprintf("%s-%d", stem, i))
	return base + ".bin", base + ".params.txtpb"
}

// LoadDatabase reads one shard from its `.bin` and params files (Apple's
// PIRProcessDatabase output or ours).
func LoadDatabase(binPath, paramsPath string) (*Database, error) {
	p, err := ReadParamsFile(paramsPath)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(binPath)
	if err != nil {
		return nil, fmt.Errorf("pir: %w", err)
	}
	defer f.Close()
	db, err := ReadDatabase(f, p)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, binPath)
	}
	return db, nil
}

// LoadShards loads shards 0, 1, … of stem from dir until the next index has
// no params file, each with [OpenDatabase] (its serve-ready file when
// there is one, which an updated shard may have without a `.bin`). It fails when shard 0 is missing, when shards disagree on
// encryption parameters or sharding, or when ctx is done.
func LoadShards(ctx context.Context, dir, stem string) ([]*Database, error) {
	var dbs []*Database
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("pir: loading shards: %w", err)
		}
		bin, params := ShardPaths(dir, stem, i)
		if _, err := os.Stat(params); err != nil {
			if i == 0 {
				return nil, fmt.Errorf("pir: no shard files %s-0.params.txtpb in %s", stem, dir)
			}
			if _, berr := os.Stat(bin); berr == nil {
				return nil, fmt.Errorf("pir: %s exists without its params file", bin)
			}
			break
		}
		db, err := OpenDatabase(bin, params)
		if err != nil {
			return nil, fmt.Errorf("pir: loading shard %d: %w", i, err)
		}
		if i > 0 {
			p0, p := dbs[0].params, db.params
			if !p.he.equal(p0.he) || p.Sharding != p0.Sharding || p.HashFunctionCount != p0.HashFunctionCount {
				return nil, fmt.Errorf("pir: shard %d has other encryption, sharding or hash parameters than shard 0", i)
			}
		}
		dbs = append(dbs, db)
	}
	return dbs, nil
}

// WriteShard writes db as `<stem>-<i>.bin` and `<stem>-<i>.params.txtpb`
// under dir.
func WriteShard(dir, stem string, i int, db *Database) error {
	bin, params := ShardPaths(dir, stem, i)
	return WriteShardFiles(bin, params, db)
}

// shardFileMode is the permission of written shard files: they are public
// data that a server running as another user must be able to read.
const shardFileMode = 0o644

// testingOnlySynced, when set, is told every path writeFileAtomic fsyncs
// (the temporary file, then the directory), so tests can check the order.
var testingOnlySynced func(path string)

// writeFileAtomic writes path through a temporary file in its directory:
// the file is fsynced before it is renamed into place and the directory
// after, so a crash leaves the old file or the complete new one, never an
// empty or partial one. On error the temporary file is removed.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	return writeFileAtomicFile(path, func(f *os.File) error { return write(f) })
}

// writeFileAtomicFile is writeFileAtomic handing write the temporary file
// itself (for copy_file_range).
func writeFileAtomicFile(path string, write func(*os.File) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("pir: writing %s: %w", path, err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(shardFileMode); err != nil {
		return fmt.Errorf("pir: writing %s: %w", path, err)
	}
	if err := write(f); err != nil {
		return fmt.Errorf("pir: writing %s: %w", path, err)
	}
	if err := syncFile(f, tmp); err != nil {
		return fmt.Errorf("pir: writing %s: %w", path, err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fmt.Errorf("pir: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("pir: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("pir: syncing directory of %s: %w", path, err)
	}
	err = syncFile(d, dir)
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pir: syncing directory of %s: %w", path, err)
	}
	return nil
}

// syncFile fsyncs f, opened from path.
func syncFile(f *os.File, path string) error {
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	if testingOnlySynced != nil {
		testingOnlySynced(path)
	}
	return nil
}

// WriteShardFiles writes db to the given `.bin` path and its parameters to
// paramsPath (text format when it ends in .txtpb, binary otherwise), each
// through a temporary file that is fsynced and renamed into place, with
// mode 0644. The `.bin` is replaced first.
func WriteShardFiles(binPath, paramsPath string, db *Database) error {
	if err := writeFileAtomic(binPath, func(w io.Writer) error { _, err := db.writeTo(w); return err }); err != nil {
		return err
	}
	b, err := marshalParams(db.params, strings.HasSuffix(paramsPath, ".txtpb"))
	if err != nil {
		return fmt.Errorf("pir: encoding params: %w", err)
	}
	return writeFileAtomic(paramsPath, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// stored reports whether plaintext k is not the zero plaintext, without
// copying it when the shard is packed.
func (db *Database) stored(k int) bool {
	db.mu.Lock()
	src := db.src
	db.mu.Unlock()
	if src != nil {
		return db.plaintextInto(k, nil) != nil
	}
	if db.pt64 != nil {
		return db.pt64[k] != nil
	}
	return db.pt32[k] != nil
}
