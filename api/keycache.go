package api

import (
	"container/list"
	"crypto/sha256"
	"sync"

	"github.com/blindlist/blindlist/pir"
)

// keyCacheID names a parsed key: SHA-256 of the serialized EvaluationKey
// (metadata and key, as stored) followed by the usecase's key-config hash.
// Content addressing keeps the cache right when a device uploads a new key
// (new bytes, new entry) and across replicas sharing one store; including
// the key-config hash ties the entry to the encryption parameters and the
// shape check it passed.
type keyCacheID [2 * sha256.Size]byte

func newKeyCacheID(serialized, keyConfigHash []byte) keyCacheID {
	var id keyCacheID
	d := sha256.Sum256(serialized)
	copy(id[:sha256.Size], d[:])
	h := sha256.Sum256(keyConfigHash) // fixed length whatever the hash length
	copy(id[sha256.Size:], h[:])
	return id
}

// keyCache is a least-recently-used cache of parsed evaluation keys.
// Parsing (seed expansion, NTTs) costs more than a PIR answer's share of
// work, and a device sends several calls with the same key. Safe for
// concurrent use.
type keyCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recent; values are *keyCacheEntry
	byID  map[keyCacheID]*list.Element
}

type keyCacheEntry struct {
	id  keyCacheID
	key *pir.EvaluationKey
}

func newKeyCache(max int) *keyCache {
	return &keyCache{max: max, order: list.New(), byID: map[keyCacheID]*list.Element{}}
}

func (c *keyCache) get(id keyCacheID) (*pir.EvaluationKey, bool) {
	if c.max == 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*keyCacheEntry).key, true
}

func (c *keyCache) put(id keyCacheID, k *pir.EvaluationKey) {
	if c.max == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.byID[id] = c.order.PushFront(&keyCacheEntry{id: id, key: k})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byID, last.Value.(*keyCacheEntry).id)
	}
}

func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
