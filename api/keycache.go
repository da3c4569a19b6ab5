package api

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/blindlist/blindlist/pir"
)

// keyCacheID names a parsed key: SHA-256 of the serialized EvaluationKey
// (metadata and key, as stored) followed by the usecase's key-config hash.
// Content addressing keeps the cache right when a device uploads a new key
// (new bytes, new entry) and across replicas sharing one store; including
// the key-config hash ties the entry to the encryption parameters and to
// the part of the key that configuration uses (fitKey).
type keyCacheID [2 * sha256.Size]byte

func newKeyCacheID(serialized, keyConfigHash []byte) keyCacheID {
	var id keyCacheID
	d := sha256.Sum256(serialized)
	copy(id[:sha256.Size], d[:])
	h := sha256.Sum256(keyConfigHash) // fixed length whatever the hash length
	copy(id[sha256.Size:], h[:])
	return id
}

// keyCache is a least-recently-used cache of parsed evaluation keys,
// bounded by the estimated bytes of its entries ([ParsedKeyBytes]) and by
// their number. Parsing (seed expansion, NTTs) costs more than a PIR
// answer's share of work, and a device sends several calls with the same
// key; but a parsed key that has answered is several MB (6.3 MB for a
// 100 000-key shard of the URL-filter preset), so the memory, not the
// count, is what must be bounded. Safe for concurrent use.
//
// A key is charged its full estimate when it is put, although package bfv
// builds half of it (the cached second form of the residues) on the key's first use, so the
// charge never grows behind the cache's back. Keys evicted while an
// answer still uses them stay in memory until that answer ends: that is
// part of the per-answer headroom (one key per compute slot, like the keys
// parsed on a miss, [keysInUse]), not of the budget.
type keyCache struct {
	mu         sync.Mutex
	maxEntries int        // 0 (and maxBytes 0): nothing is cached
	maxBytes   int64      // 0 (and maxEntries 0): nothing is cached
	bytes      int64      // sum of the entries' sizes
	order      *list.List // front = most recent; values are *keyCacheEntry
	byID       map[keyCacheID]*list.Element
	m          keyCacheMetrics
}

type keyCacheEntry struct {
	id    keyCacheID
	key   *pir.EvaluationKey
	bytes int64
}

// keyCacheMetrics are the cache's collectors (see newMetrics). Labels are
// fixed: lookups by result (hit, miss), evictions by bound (bytes,
// entries).
type keyCacheMetrics struct {
	hits, misses            prometheus.Counter
	evictBytes, evictCount  prometheus.Counter
	tooLarge                prometheus.Counter
	bytes, entries, maxSize prometheus.Gauge
}

// newKeyCache returns a cache holding at most maxEntries keys and
// maxBytes estimated bytes; either being 0 disables it (and sets both to
// 0).
func newKeyCache(maxEntries int, maxBytes int64, m keyCacheMetrics) *keyCache {
	if maxEntries <= 0 || maxBytes <= 0 {
		maxEntries, maxBytes = 0, 0
	}
	m.maxSize.Set(float64(maxBytes))
	return &keyCache{maxEntries: maxEntries, maxBytes: maxBytes, order: list.New(),
		byID: map[keyCacheID]*list.Element{}, m: m}
}

// get returns the cached key with this id and marks it most recently used.
func (c *keyCache) get(id keyCacheID) (*pir.EvaluationKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	if !ok {
		c.m.misses.Inc()
		return nil, false
	}
	c.m.hits.Inc()
	c.order.MoveToFront(e)
	return e.Value.(*keyCacheEntry).key, true
}

// put caches k, whose parsed form takes size bytes, evicting the least
// recently used keys until both bounds hold. A key larger than the whole
// byte budget is not cached (and evicts nothing): it would only flush the
// cache and be evicted by the next put.
func (c *keyCache) put(id keyCacheID, k *pir.EvaluationKey, size int64) {
	if c.maxEntries == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		// Two calls parsed the same key at once; keep the first.
		c.order.MoveToFront(e)
		return
	}
	if size > c.maxBytes {
		c.m.tooLarge.Inc()
		return
	}
	for c.order.Len() > 0 && (c.order.Len() >= c.maxEntries || c.bytes+size > c.maxBytes) {
		if c.order.Len() >= c.maxEntries {
			c.m.evictCount.Inc()
		} else {
			c.m.evictBytes.Inc()
		}
		last := c.order.Back()
		c.order.Remove(last)
		old := last.Value.(*keyCacheEntry)
		delete(c.byID, old.id)
		c.bytes -= old.bytes
	}
	c.byID[id] = c.order.PushFront(&keyCacheEntry{id: id, key: k, bytes: size})
	c.bytes += size
	c.m.bytes.Set(float64(c.bytes))
	c.m.entries.Set(float64(c.order.Len()))
}

// len returns the number of cached keys.
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// size returns the sum of the cached keys' estimated sizes.
func (c *keyCache) size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// keysInUse counts the parsed keys that answers in flight hold outside the
// cache's accounting: keys parsed on a cache miss, from the parse to the
// end of their answer (whether or not the cache then kept them). They are
// parsed inside a compute slot and dropped with it, so the count never
// exceeds limits.maxConcurrentAnswers; peak records the highest count seen,
// which tests compare with that bound. Safe for concurrent use.
type keysInUse struct {
	n, peak atomic.Int64
	gauge   prometheus.Gauge
}

// hold counts one more parsed key in use.
func (k *keysInUse) hold() {
	n := k.n.Add(1)
	k.gauge.Set(float64(n))
	for {
		p := k.peak.Load()
		if n <= p || k.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// drop counts one parsed key fewer in use.
func (k *keysInUse) drop() { k.gauge.Set(float64(k.n.Add(-1))) }
