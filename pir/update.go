package pir

// Updating a processed shard in place of reprocessing it.
//
// A shard that gains or loses a few rows differs from its previous version
// in a few cuckoo buckets only, so [UpdateShard] edits the previous shard's
// table instead of building a new one: the table is recovered lazily from
// the previous shard's own plaintexts (each bucket stores the 64-bit
// keyword hash and the value of its rows, and a row's candidate buckets
// follow from that hash, pir-spec §4.1-§4.3), so no sidecar is needed and
// a shard processed by any earlier build (or by Apple's tool) can be
// updated. Only the plaintexts that hold a changed bucket are decoded and
// re-encoded; [ShardUpdate.WriteBin] and [ShardUpdate.WriteServe] copy
// every other byte range from the previous files (copy_file_range on
// Linux, so the bytes never pass through this process) and write only the
// changed plaintexts.
//
// The parameters do not change (same bucket count, entry size and
// dimensions), so the shard's params file, and the config_id devices
// cache, stay the same. The result may differ byte-wise from processing
// the new rows from scratch (the cuckoo placement depends on the order
// rows arrived in), but it is deterministic: a function of the previous
// shard and the change (the eviction choices are seeded from the change).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/blindlist/blindlist/pir/he/ring"
)

// ShardChange is what changed in one shard's rows since it was processed.
type ShardChange struct {
	// Add are the rows to add; their keywords must not be in the shard.
	Add []Row
	// Remove are the keywords to remove; each must be in the shard.
	Remove [][]byte
}

// UpdateOptions tune [UpdateShard]. The zero value selects Apple's
// PIRProcessDatabase defaults, which `blindlist build` also uses.
type UpdateOptions struct {
	// MaxEvictionCount bounds one insertion's eviction chain (default 100).
	MaxEvictionCount int
	// SlotCount is the most rows per bucket (default and at most 255).
	SlotCount int
}

// ErrUpdateFull reports that an added row does not fit the previous
// shard's cuckoo table (every eviction chain ended at full buckets, or its
// bucket would exceed the entry size). The caller reprocesses the shard,
// which may give it new parameters.
var ErrUpdateFull = errors.New("pir: the change does not fit the shard's cuckoo table")

// ShardUpdate is a shard updated from its previous version: the previous
// shard's plaintexts with the changed ones replaced. Write it with
// [ShardUpdate.WriteServe] and [ShardUpdate.WriteBin]; its parameters are
// the previous shard's, so the previous params file stays valid.
type ShardUpdate struct {
	prev    *Database
	changed map[int][]uint64 // plaintext index -> new Eval residues; nil: zero
	// ChangedBuckets is the number of cuckoo buckets whose contents
	// changed (the added and removed rows' buckets and the eviction
	// chains').
	ChangedBuckets int
	// ChangedPlaintexts is the number of plaintexts re-encoded and written;
	// every other plaintext is copied from the previous files.
	ChangedPlaintexts int
	// Evictions counts the rows moved to make room for added ones.
	Evictions int
}

// Params returns the shard's parameters (the previous shard's).
func (u *ShardUpdate) Params() *Params { return u.prev.params }

// UpdateShard applies change to prev, a shard opened with [OpenDatabase]
// or [LoadDatabase] (or built by [ProcessShard]): it removes the removed
// keywords from their buckets, then inserts the added rows in keyword
// order with the cuckoo rule of processing (first candidate bucket with
// room, else evict a random row of a candidate bucket into one of its
// other candidates, at most MaxEvictionCount times), and re-encodes the
// plaintexts whose buckets changed. A bucket may grow up to the shard's
// entry size. It returns [ErrUpdateFull] (wrapped) when an added row does
// not fit; an added keyword already in the shard, or a removed one that is
// not, is an error too. prev is only read. For a symmetric-PIR shard, pass
// rows and keywords already transformed by [SymmetricRows].
func UpdateShard(ctx context.Context, prev *Database, change ShardChange, opts UpdateOptions) (*ShardUpdate, error) {
	if opts.MaxEvictionCount == 0 {
		opts.MaxEvictionCount = 100
	}
	if opts.SlotCount == 0 {
		opts.SlotCount = maxBucketSlots
	}
	if opts.MaxEvictionCount < 0 || opts.SlotCount < 1 || opts.SlotCount > maxBucketSlots {
		return nil, fmt.Errorf("pir: update options: max eviction count %d, slot count %d", opts.MaxEvictionCount, opts.SlotCount)
	}
	t, err := newLiveTable(prev, opts)
	if err != nil {
		return nil, err
	}
	t.rng = rand.New(rand.NewChaCha8(changeSeed(change)))
	for _, kw := range change.Remove {
		if err := t.remove(kw); err != nil {
			return nil, err
		}
	}
	add := slices.Clone(change.Add)
	slices.SortFunc(add, func(a, b Row) int { return bytes.Compare(a.Keyword, b.Keyword) })
	for i, r := range add {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if i > 0 && bytes.Equal(r.Keyword, add[i-1].Keyword) {
			return nil, fmt.Errorf("pir: update adds keyword %q twice", r.Keyword)
		}
		if err := t.insert(r); err != nil {
			return nil, err
		}
	}
	return t.finish()
}

// changeSeed derives the eviction seed from the change, so an update is a
// function of the previous shard and the change alone.
func changeSeed(c ShardChange) [32]byte {
	h := sha256.New()
	h.Write([]byte("blindlist pir shard update v1\x00"))
	var b [8]byte
	hashes := make([]uint64, 0, len(c.Remove))
	for _, kw := range c.Remove {
		hashes = append(hashes, KeywordHash(kw))
	}
	slices.Sort(hashes)
	for _, x := range hashes {
		h.Write(binary.LittleEndian.AppendUint64(b[:0], x))
	}
	h.Write([]byte{0xff})
	hashes = hashes[:0]
	for _, r := range c.Add {
		hashes = append(hashes, KeywordHash(r.Keyword))
	}
	slices.Sort(hashes)
	for _, x := range hashes {
		h.Write(binary.LittleEndian.AppendUint64(b[:0], x))
	}
	var seed [32]byte
	h.Sum(seed[:0])
	return seed
}

// liveBucket is one decoded bucket of a table being updated.
type liveBucket struct {
	slots []bucketSlot
	size  int // serialized bytes
	dirty bool
}

// liveTable is a previous shard's cuckoo table, decoded bucket by bucket
// as the update touches it.
type liveTable struct {
	prev    *Database
	p       *Params
	l       layout
	basis   ring.Basis
	opts    UpdateOptions
	shape   cuckooTable // bucketsPerTable and tables, for candidateBuckets
	plain   map[int][]byte
	orig    map[int][]byte // decoded bytes of each touched plaintext before the update
	buckets map[int]*liveBucket
	rng     *rand.Rand
	evicted int
	// scratch
	cands  []int
	coeffs []uint64
	pt     []uint64
}

func newLiveTable(prev *Database, opts UpdateOptions) (*liveTable, error) {
	p := prev.params
	basis, err := ring.NewBasis(p.he.n, p.he.ctModuli())
	if err != nil {
		return nil, fmt.Errorf("pir: internal error: %w", err)
	}
	return &liveTable{
		prev: prev, p: p, l: p.layout(), basis: basis, opts: opts,
		shape:   cuckooTable{bucketsPerTable: p.EntryCount, tables: p.HashFunctionCount},
		plain:   map[int][]byte{},
		orig:    map[int][]byte{},
		buckets: map[int]*liveBucket{},
		coeffs:  make([]uint64, p.he.n),
		pt:      make([]uint64, len(p.he.ctModuli())*p.he.n),
	}, nil
}

// span is the part of a bucket's entry held by one plaintext.
type span struct {
	k        int // plaintext index in the shard (table, chunk, stored position)
	off, n   int // bytes [off, off+n) of the plaintext
	entryOff int // ... hold bytes [entryOff, entryOff+n) of the entry
}

// spans returns where global bucket b lives: table b / EntryCount, entry
// b mod EntryCount, laid out as packTableFunc and packSource.plaintext do.
func (t *liveTable) spans(b int) []span {
	l := t.l
	table, e := b/l.entryCount, b%l.entryCount
	base := table * l.plaintextCount()
	if l.chunkCount() == 1 {
		epp := l.entriesPerPlaintext()
		return []span{{k: base + l.storedIndex(e/epp), off: (e % epp) * l.entrySize, n: l.entrySize}}
	}
	B := l.bytesPerPlaintext
	out := make([]span, 0, l.chunkCount())
	for c := range l.chunkCount() {
		out = append(out, span{k: base + c*l.perChunk() + l.storedIndex(e), n: min(B, l.entrySize-c*B), entryOff: c * B})
	}
	return out
}

// plaintextBytes returns the decoded bytes of plaintext k (cached).
func (t *liveTable) plaintextBytes(k int) []byte {
	if b, ok := t.plain[k]; ok {
		return b
	}
	b := make([]byte, t.l.bytesPerPlaintext)
	if pt := t.prev.plaintextInto(k, t.pt); pt != nil {
		decodePlaintext(t.p.he, t.basis, pt, t.coeffs, b)
	}
	t.plain[k] = b
	t.orig[k] = slices.Clone(b)
	return b
}

// decodePlaintext writes the bytes an Eval-form plaintext pt encodes to
// out (bytesPerPlaintext bytes): the inverse of encodePlaintext, read from
// the first ciphertext modulus (centered lift back to [0, t)).
func decodePlaintext(he heParams, basis ring.Basis, pt, coeffs []uint64, out []byte) {
	copy(coeffs, pt[:he.n])
	basis[0].Inverse(coeffs)
	q := he.moduli[0]
	for j, v := range coeffs {
		if v > q/2 {
			coeffs[j] = he.t - (q - v)
		}
	}
	packed := packBits(out[:0:len(out)], coeffs, he.plaintextBits())
	if len(packed) > len(out) {
		// packBits grew a new slice: the coefficient bits past the
		// plaintext's bytes are zero padding (encodePlaintext reads them
		// as zero), so the first len(out) bytes are the content.
		copy(out, packed)
	}
}

// bucket returns global bucket b, decoding it on first use.
func (t *liveTable) bucket(b int) (*liveBucket, error) {
	if lb, ok := t.buckets[b]; ok {
		return lb, nil
	}
	entry := make([]byte, t.l.entrySize)
	for _, s := range t.spans(b) {
		copy(entry[s.entryOff:s.entryOff+s.n], t.plaintextBytes(s.k)[s.off:s.off+s.n])
	}
	lb := &liveBucket{size: 1}
	n := int(entry[0])
	off := 1
	for i := range n {
		if len(entry)-off < bucketSlotHeader {
			return nil, fmt.Errorf("pir: previous shard: bucket %d slot %d is truncated", b, i)
		}
		h := binary.LittleEndian.Uint64(entry[off:])
		vl := int(binary.LittleEndian.Uint16(entry[off+8:]))
		off += bucketSlotHeader
		if len(entry)-off < vl {
			return nil, fmt.Errorf("pir: previous shard: bucket %d slot %d value is truncated", b, i)
		}
		lb.slots = append(lb.slots, bucketSlot{hash: h, value: entry[off : off+vl : off+vl]})
		lb.size += bucketSlotHeader + vl
		off += vl
	}
	t.buckets[b] = lb
	return lb, nil
}

// candidates returns the candidate buckets of keyword hash h.
func (t *liveTable) candidates(h uint64) []int {
	t.cands = t.shape.candidateBuckets(t.cands, h)
	return t.cands
}

// remove deletes the row of kw from its bucket.
func (t *liveTable) remove(kw []byte) error {
	h := KeywordHash(kw)
	for _, b := range t.candidates(h) {
		lb, err := t.bucket(b)
		if err != nil {
			return err
		}
		for s, slot := range lb.slots {
			if slot.hash == h {
				lb.slots = slices.Delete(lb.slots, s, s+1)
				lb.size -= bucketSlotHeader + len(slot.value)
				lb.dirty = true
				return nil
			}
		}
	}
	return fmt.Errorf("pir: update removes keyword %q, which is not in the shard", kw)
}

// insert places r, evicting rows into their other candidates as
// tryCuckoo does.
func (t *liveTable) insert(r Row) error {
	maxSize := t.l.entrySize
	if singleBucketSize(len(r.Value)) > maxSize {
		return fmt.Errorf("%w: a %d-byte value does not fit a %d-byte entry", ErrUpdateFull, len(r.Value), maxSize)
	}
	h := KeywordHash(r.Keyword)
	for _, b := range t.candidates(h) {
		lb, err := t.bucket(b)
		if err != nil {
			return err
		}
		for _, s := range lb.slots {
			if s.hash == h {
				return fmt.Errorf("pir: update adds keyword %q, whose 64-bit hash is already in the shard", r.Keyword)
			}
		}
	}
	type swap struct {
		lb   *liveBucket
		slot int
	}
	var swaps []swap
	cur := bucketSlot{hash: h, value: r.Value}
	for evictions := 0; ; evictions++ {
		need := bucketSlotHeader + len(cur.value)
		var cbs []*liveBucket
		for _, b := range t.candidates(cur.hash) {
			lb, err := t.bucket(b)
			if err != nil {
				return err
			}
			if len(lb.slots) < t.opts.SlotCount && lb.size+need <= maxSize {
				lb.slots = append(lb.slots, cur)
				lb.size += need
				lb.dirty = true
				return nil
			}
			cbs = append(cbs, lb)
		}
		if evictions >= t.opts.MaxEvictionCount {
			break
		}
		swaps = swaps[:0]
		for _, lb := range cbs {
			for s, other := range lb.slots {
				if lb.size-len(other.value)+len(cur.value) <= maxSize {
					swaps = append(swaps, swap{lb, s})
				}
			}
		}
		if len(swaps) == 0 {
			break
		}
		sw := swaps[t.rng.IntN(len(swaps))]
		out := sw.lb.slots[sw.slot]
		sw.lb.slots[sw.slot] = cur
		sw.lb.size += len(cur.value) - len(out.value)
		sw.lb.dirty = true
		cur = out
		t.evicted++
	}
	return fmt.Errorf("%w: no room for keyword %q after %d evictions", ErrUpdateFull, r.Keyword, t.opts.MaxEvictionCount)
}

// finish serializes the changed buckets into their plaintexts and
// re-encodes the plaintexts whose bytes changed.
func (t *liveTable) finish() (*ShardUpdate, error) {
	u := &ShardUpdate{prev: t.prev, changed: map[int][]uint64{}, Evictions: t.evicted}
	ids := make([]int, 0, len(t.buckets))
	for b, lb := range t.buckets {
		if lb.dirty {
			ids = append(ids, b)
		}
	}
	slices.Sort(ids)
	entry := make([]byte, 0, t.l.entrySize)
	for _, b := range ids {
		lb := t.buckets[b]
		var err error
		if entry, err = appendBucket(entry[:0], lb.slots); err != nil {
			return nil, err
		}
		if len(entry) > t.l.entrySize {
			return nil, fmt.Errorf("pir: internal error: bucket %d is %d bytes, entry size %d", b, len(entry), t.l.entrySize)
		}
		entry = entry[:t.l.entrySize] // zero padding (cap is entrySize)
		clear(entry[lb.size:])
		for _, s := range t.spans(b) {
			copy(t.plaintextBytes(s.k)[s.off:s.off+s.n], entry[s.entryOff:s.entryOff+s.n])
		}
		u.ChangedBuckets++
	}
	ks := make([]int, 0, len(t.plain))
	for k := range t.plain {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		if bytes.Equal(t.plain[k], t.orig[k]) {
			continue
		}
		pt := make([]uint64, len(t.pt))
		if !encodePlaintext(t.p.he, t.basis, t.plain[k], t.coeffs, pt) {
			pt = nil
		}
		u.changed[k] = pt
	}
	u.ChangedPlaintexts = len(u.changed)
	return u, nil
}
