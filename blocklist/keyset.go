package blocklist

import (
	"hash/maphash"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// keySet is an insertion-ordered set of keys built for lists of millions:
// the keys in one slice, their bytes packed into shared chunks ([arena]),
// and an open-addressing index of 8-byte slots. It replaces a
// map[string]struct{} whose 16-byte slots, per-key string allocations and
// second hash for insert-after-lookup cost about twice the memory and time.
//
// Remove blanks a key in place, so indexes stay valid; blank keys never
// match a lookup. A keySet is not safe for concurrent writes; concurrent
// lookups without writes are safe.
//
// Beside each key the set keeps where it came from: the fingerprint of the
// text of the line that gave it (see [lineOrigin]), or manyOrigins once
// lines with different texts gave it. $badfilter uses it to remove a key
// only when the disabled rule was its one source.
type keySet struct {
	seed    maphash.Seed
	keys    []string
	origins []uint32
	slots   []uint64 // 0 is empty; otherwise tag<<32 | (index+1)
	shift   uint     // 64 − log2(len(slots))
	arena   arena
	// bytes counts the bytes of the keys added (the arena's payload).
	bytes int
}

func newKeySet() *keySet {
	s := &keySet{seed: maphash.MakeSeed()}
	s.resize(1 << 10)
	return s
}

// resize rebuilds the index with n slots (a power of two).
func (s *keySet) resize(n int) {
	old := s.slots
	s.slots = make([]uint64, n)
	s.shift = uint(64 - bitLen(n-1))
	mask := uint64(n - 1)
	for _, v := range old {
		if v == 0 {
			continue
		}
		i := s.home(v >> 32)
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = v
	}
}

func bitLen(x int) int {
	n := 0
	for ; x > 0; x >>= 1 {
		n++
	}
	return n
}

// home is the first slot probed for a 32-bit tag (the hash's top bits,
// spread over the table by a Fibonacci multiply).
func (s *keySet) home(tag uint64) uint64 {
	return (tag * 0x9e3779b97f4a7c15) >> s.shift
}

// find returns the slot holding key, or the empty slot where it would go,
// and whether key is present.
func (s *keySet) find(key string, h uint64) (slot uint64, found bool) {
	tag := h >> 32
	mask := uint64(len(s.slots) - 1)
	for i := s.home(tag); ; i = (i + 1) & mask {
		v := s.slots[i]
		if v == 0 {
			return i, false
		}
		if v>>32 == tag && s.keys[uint32(v)-1] == key {
			return i, true
		}
	}
}

// Has reports whether key is in the set.
func (s *keySet) Has(key string) bool {
	_, ok := s.find(key, maphash.String(s.seed, key))
	return ok
}

// manyOrigins is the origin of a key given by lines of different texts,
// or of unknown text.
const manyOrigins = 0

// lineOrigin returns the origin fingerprint of a line's trimmed text: the
// top 32 bits of its hash, never manyOrigins. 32 bits keep the origins at
// 4 bytes a key; a collision matters only if a line of other text gives
// the very key a $badfilter rule targets (odds 2^-32 per such line), and
// then removes that key as if the disabled rule were its only source.
func lineOrigin(seed maphash.Seed, line []byte) uint32 {
	return max(uint32(maphash.Bytes(seed, line)>>32), 1)
}

// lineOriginString is lineOrigin for a string (the same value for the same
// bytes).
func lineOriginString(seed maphash.Seed, line string) uint32 {
	return max(uint32(maphash.String(seed, line)>>32), 1)
}

// addOrigin records that key i was given again, by a line of this origin.
func (s *keySet) addOrigin(i int, origin uint32) {
	if s.origins[i] != origin {
		s.origins[i] = manyOrigins
	}
}

// Add inserts key, copying its bytes into the arena, and reports whether
// it was new. origin is the [lineOrigin] of the line that gave it
// (manyOrigins if unknown). Add(string(b)) does not allocate when key is
// present: the conversion is only used for comparison.
func (s *keySet) Add(key string, origin uint32) bool {
	h := maphash.String(s.seed, key)
	slot, found := s.find(key, h)
	if found {
		s.addOrigin(int(uint32(s.slots[slot])-1), origin)
		return false
	}
	s.keys = append(s.keys, s.arena.copy(key))
	s.bytes += len(key)
	s.origins = append(s.origins, origin)
	s.slots[slot] = h>>32<<32 | uint64(len(s.keys))
	if len(s.keys)*4 >= len(s.slots)*3 {
		s.resize(2 * len(s.slots))
	}
	return true
}

// AddBytes is Add for a key held in a byte slice (copied only when new).
func (s *keySet) AddBytes(key []byte, origin uint32) bool {
	h := maphash.Bytes(s.seed, key)
	tag := h >> 32
	mask := uint64(len(s.slots) - 1)
	for i := s.home(tag); ; i = (i + 1) & mask {
		v := s.slots[i]
		if v == 0 {
			s.keys = append(s.keys, s.arena.copyBytes(key))
			s.bytes += len(key)
			s.origins = append(s.origins, origin)
			s.slots[i] = tag<<32 | uint64(len(s.keys))
			if len(s.keys)*4 >= len(s.slots)*3 {
				s.resize(2 * len(s.slots))
			}
			return true
		}
		if v>>32 == tag && s.keys[uint32(v)-1] == string(key) {
			s.addOrigin(int(uint32(v)-1), origin)
			return false
		}
	}
}

// Index returns the index of key in keys, or -1 when it is absent.
func (s *keySet) Index(key string) int {
	if slot, ok := s.find(key, maphash.String(s.seed, key)); ok {
		return int(uint32(s.slots[slot]) - 1)
	}
	return -1
}

// Remove deletes key if present.
func (s *keySet) Remove(key string) {
	if slot, ok := s.find(key, maphash.String(s.seed, key)); ok {
		s.keys[uint32(s.slots[slot])-1] = ""
	}
}

// Len returns the number of keys present.
func (s *keySet) Len() int {
	n := 0
	for _, k := range s.keys {
		if k != "" {
			n++
		}
	}
	return n
}

// Sorted returns the keys present in bytewise order, sorted in place. The
// set must not be used afterwards.
func (s *keySet) Sorted() []string {
	keys := slices.DeleteFunc(s.keys, func(k string) bool { return k == "" })
	s.keys, s.slots, s.origins = nil, nil, nil
	sortParallel(keys)
	return keys
}

// SortedWithOrder returns the keys present in bytewise order and, for
// each, its index in insertion order (the index of the provenance record
// made when it was added). It sorts a copy of the keys directly, which is
// much faster than sorting indexes through the keys, then finds each
// key's index through the set's hash index, on all cores. The set must not
// be used afterwards.
func (s *keySet) SortedWithOrder() ([]string, []uint32) {
	n := 0
	for _, k := range s.keys {
		if k != "" {
			n++
		}
	}
	keys := make([]string, 0, n)
	for _, k := range s.keys {
		if k != "" {
			keys = append(keys, k)
		}
	}
	sortParallel(keys)
	order := make([]uint32, len(keys))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(keys)/(1<<16)))
	chunk := (len(keys) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w * chunk; i < min(len(keys), (w+1)*chunk); i++ {
				order[i] = uint32(s.Index(keys[i]))
			}
		})
	}
	wg.Wait()
	s.keys, s.slots, s.origins = nil, nil, nil
	return keys, order
}

// sortParallel sorts distinct keys in place on two cores without extra
// memory: it partitions them around the median of a sample, as one
// quicksort step, then sorts the two sides concurrently.
func sortParallel(keys []string) {
	if len(keys) < 1<<14 {
		slices.Sort(keys)
		return
	}
	const samples = 255
	sample := make([]string, samples)
	for i := range sample {
		sample[i] = keys[i*(len(keys)/samples)]
	}
	slices.Sort(sample)
	pivot := sample[samples/2]
	lo := 0
	for i, k := range keys {
		if k < pivot {
			keys[lo], keys[i] = k, keys[lo]
			lo++
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { slices.Sort(keys[:lo]) })
	slices.Sort(keys[lo:])
	wg.Wait()
}

// arena packs key bytes into shared 1 MiB chunks, so a key costs its
// length plus its string header instead of a separate allocation rounded up
// to a size class. Chunks are strings.Builders: a Builder never changes
// bytes it has handed out in String, and a full chunk is replaced rather
// than grown, so every returned string stays valid without unsafe.
type arena struct {
	cur strings.Builder
}

const arenaChunkBytes = 1 << 20

func (a *arena) reserve(n int) {
	if a.cur.Cap()-a.cur.Len() < n {
		a.cur = strings.Builder{}
		a.cur.Grow(max(arenaChunkBytes, n))
	}
}

func (a *arena) copy(s string) string {
	a.reserve(len(s))
	start := a.cur.Len()
	a.cur.WriteString(s)
	return a.cur.String()[start:]
}

func (a *arena) copyBytes(b []byte) string {
	a.reserve(len(b))
	start := a.cur.Len()
	a.cur.Write(b)
	return a.cur.String()[start:]
}
