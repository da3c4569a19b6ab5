package pir

import (
	"slices"

	"github.com/blindlist/blindlist/pir/he/ring"
)

// packTable turns the serialized buckets of one cuckoo table into its
// Eval-form plaintexts in Apple's stored order (pir-spec §3.3): entries are
// zero-padded to the entry size, packed entriesPerPlaintext to a plaintext
// (or split into chunkCount plaintexts each when larger than a plaintext),
// converted to log2(t)-bit coefficients MSB-first, centered-lifted into the
// ciphertext moduli and NTT'd. All-zero plaintexts are nil.
func packTable(he heParams, basis ring.Basis, l layout, entries [][]byte) [][]uint64 {
	out := make([][]uint64, l.plaintextCount())
	packTableFunc(he, basis, l, entries, func(k int, pt []uint64) { out[k] = slices.Clone(pt) })
	return out
}

// packTableFunc is packTable handing each non-zero plaintext k to emit in a
// buffer that is reused after emit returns.
func packTableFunc(he heParams, basis ring.Basis, l layout, entries [][]byte, emit func(k int, pt []uint64)) {
	B := l.bytesPerPlaintext
	perChunk := l.perChunk()
	buf := make([]byte, B)
	coeffs := make([]uint64, he.n)
	pt := make([]uint64, len(he.ctModuli())*he.n)
	if l.chunkCount() == 1 {
		epp := l.entriesPerPlaintext()
		for p := 0; p*epp < len(entries); p++ {
			clear(buf)
			for j := range epp {
				if e := p*epp + j; e < len(entries) {
					copy(buf[j*l.entrySize:], entries[e])
				}
			}
			if encodePlaintext(he, basis, buf, coeffs, pt) {
				emit(l.storedIndex(p), pt)
			}
		}
		return
	}
	for c := range l.chunkCount() {
		for e, entry := range entries {
			lo := c * B
			if lo >= len(entry) {
				continue
			}
			clear(buf)
			copy(buf, entry[lo:])
			if encodePlaintext(he, basis, buf, coeffs, pt) {
				emit(c*perChunk+l.storedIndex(e), pt)
			}
		}
	}
}

// encodePlaintext writes the Eval-form lift of the bytes b (≤ B bytes) to
// pt and reports whether it is non-zero (a zero plaintext is stored as nil).
func encodePlaintext(he heParams, basis ring.Basis, b []byte, coeffs, pt []uint64) bool {
	bitsPer := he.plaintextBits()
	unpackBits(coeffs, b, he.n, bitsPer)
	zero := true
	for _, v := range coeffs {
		if v != 0 {
			zero = false
			break
		}
	}
	if zero {
		return false
	}
	ct := he.ctModuli()
	half := (he.t + 1) / 2
	for i, q := range ct {
		row := pt[i*he.n : (i+1)*he.n]
		for j, v := range coeffs {
			if v >= half {
				v = q - (he.t - v) // v − t, centered
			}
			row[j] = v
		}
		basis[i].Forward(row)
	}
	return true
}

// unpackTable inverts packTable for one table: it returns the bytes of each
// of the entryCount entries (entrySize bytes each). Used by tests and by
// tools that inspect Apple's databases.
func unpackTable(he heParams, basis ring.Basis, l layout, pts [][]uint64) [][]byte {
	B := l.bytesPerPlaintext
	entries := make([][]byte, l.entryCount)
	for e := range entries {
		entries[e] = make([]byte, l.entrySize)
	}
	coeffs := make([]uint64, he.n)
	plainBytes := func(pt []uint64) []byte {
		out := make([]byte, B)
		if pt != nil {
			decodePlaintext(he, basis, pt, coeffs, out)
		}
		return out
	}
	if l.chunkCount() == 1 {
		epp := l.entriesPerPlaintext()
		for p := 0; p*epp < l.entryCount; p++ {
			b := plainBytes(pts[l.storedIndex(p)])
			for j := range epp {
				if e := p*epp + j; e < l.entryCount {
					copy(entries[e], b[j*l.entrySize:])
				}
			}
		}
		return entries
	}
	for c := range l.chunkCount() {
		for e := range entries {
			b := plainBytes(pts[c*l.perChunk()+l.storedIndex(e)])
			if c*B < l.entrySize {
				copy(entries[e][c*B:], b)
			}
		}
	}
	return entries
}

// packSource holds a processed shard before packing: its serialized buckets.
// It computes any stored plaintext on demand, so a shard can be written to
// its `.bin` without ever holding all its plaintexts (pir-spec §3.3).
type packSource struct {
	he      heParams
	basis   ring.Basis
	l       layout
	buckets [][]byte // all tables, bucket (table i, index x) at i·EntryCount + x
	buf     []byte
	coeffs  []uint64
}

func newPackSource(he heParams, basis ring.Basis, l layout, buckets [][]byte) *packSource {
	return &packSource{he: he, basis: basis, l: l, buckets: buckets,
		buf: make([]byte, l.bytesPerPlaintext), coeffs: make([]uint64, he.n)}
}

// plaintext writes stored plaintext k (tables, chunks, column-major
// positions, as in the `.bin`) to pt and reports whether it is non-zero.
// It is not safe for concurrent use.
func (ps *packSource) plaintext(k int, pt []uint64) bool {
	l := ps.l
	perTable, perChunk := l.plaintextCount(), l.perChunk()
	table, within := k/perTable, k%perTable
	c, st := within/perChunk, within%perChunk
	// stored position st = col·d0 + row holds logical plaintext row·d1 + col.
	p := (st%l.dims[0])*l.dims[1] + st/l.dims[0]
	entries := ps.buckets[table*l.entryCount : (table+1)*l.entryCount]
	clear(ps.buf)
	if l.chunkCount() == 1 {
		epp := l.entriesPerPlaintext()
		for j := range epp {
			if e := p*epp + j; e < len(entries) {
				copy(ps.buf[j*l.entrySize:], entries[e])
			}
		}
	} else if p < len(entries) && c*l.bytesPerPlaintext < len(entries[p]) {
		copy(ps.buf, entries[p][c*l.bytesPerPlaintext:])
	}
	return encodePlaintext(ps.he, ps.basis, ps.buf, ps.coeffs, pt)
}
