package api

import (
	"container/list"
	"context"
	"crypto/sha256"
	"errors"
	"sync"

	"github.com/blindlist/blindlist/internal/store"
)

// storedKeyCache keeps the serialized evaluation keys last read from a
// [store.VersionedKV] (the object store) with their versions, so a
// replica that already holds a device's key revalidates it with a
// conditional read (one request, no body: 304) instead of reading the
// whole 0.3-0.7 MB object on every /queries call. The parsed-key cache
// ([keyCache]) is keyed by the digest of these bytes, so a hit here is
// also a hit there. A key re-uploaded through any replica has a new
// version and is read in full; a store that does not answer fails the
// call closed (503), as without this cache.
//
// It is bounded by bytes and entries, least recently used first out. A
// serialized key is about 1/9 of its parsed form, so the default byte
// bound (1/8 of the parsed-key budget) holds the serialized keys of every
// parsed key the other cache can hold. Safe for concurrent use.
type storedKeyCache struct {
	mu         sync.Mutex
	maxEntries int
	maxBytes   int64
	bytes      int64
	order      *list.List // front = most recent; values are *storedKeyEntry
	byDigest   map[[sha256.Size]byte]*list.Element
}

type storedKeyEntry struct {
	d       [sha256.Size]byte
	version string
	raw     []byte // never modified once stored
}

// newStoredKeyCache returns a cache of at most maxEntries keys and
// maxBytes bytes, or nil (no cache) when either is 0 or less.
func newStoredKeyCache(maxEntries int, maxBytes int64) *storedKeyCache {
	if maxEntries <= 0 || maxBytes <= 0 {
		return nil
	}
	return &storedKeyCache{maxEntries: maxEntries, maxBytes: maxBytes, order: list.New(),
		byDigest: map[[sha256.Size]byte]*list.Element{}}
}

// get returns the cached version and bytes for d ("" and nil when absent).
func (c *storedKeyCache) get(d [sha256.Size]byte) (string, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byDigest[d]
	if !ok {
		return "", nil
	}
	c.order.MoveToFront(e)
	v := e.Value.(*storedKeyEntry)
	return v.version, v.raw
}

// put stores raw at version for d, replacing any older entry and
// evicting the least recently used until both bounds hold.
func (c *storedKeyCache) put(d [sha256.Size]byte, version string, raw []byte) {
	if version == "" || int64(len(raw)) > c.maxBytes {
		c.drop(d)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(d)
	for c.order.Len() > 0 && (c.order.Len() >= c.maxEntries || c.bytes+int64(len(raw)) > c.maxBytes) {
		c.removeLocked(c.order.Back().Value.(*storedKeyEntry).d)
	}
	c.byDigest[d] = c.order.PushFront(&storedKeyEntry{d: d, version: version, raw: raw})
	c.bytes += int64(len(raw))
}

// drop removes the entry for d, if any.
func (c *storedKeyCache) drop(d [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(d)
}

func (c *storedKeyCache) removeLocked(d [sha256.Size]byte) {
	if e, ok := c.byDigest[d]; ok {
		c.order.Remove(e)
		delete(c.byDigest, d)
		c.bytes -= int64(len(e.Value.(*storedKeyEntry).raw))
	}
}

// getVersioned is [keyVault.get] on a store that can revalidate: the
// cached bytes when the store says they are current, else the stored
// key read in full (and cached).
func (kv *keyVault) getVersioned(ctx context.Context, vs store.VersionedKV, d [sha256.Size]byte) ([]byte, error) {
	version, cached := kv.stored.get(d)
	b, newVersion, err := vs.GetIfChanged(ctx, storeKey('k', d), version)
	switch {
	case errors.Is(err, store.ErrUnchanged) && cached != nil:
		return cached, nil
	case errors.Is(err, store.ErrUnchanged):
		// Cannot happen: a version is only sent with its bytes.
		kv.stored.drop(d)
		return kv.store.Get(ctx, storeKey('k', d))
	case err != nil:
		kv.stored.drop(d)
		return nil, err
	}
	kv.stored.put(d, newVersion, b)
	return b, nil
}
