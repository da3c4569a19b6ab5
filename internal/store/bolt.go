package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bolt is the embedded store: one bbolt file holding one bucket per
// namespace. Every write is one bbolt transaction, committed with fsync
// before the call returns, so a crash or restart loses nothing acknowledged.
// Only one process may open the file at a time.
//
// Each value is stored as an 8-byte big-endian expiry (Unix nanoseconds, 0 for
// none) followed by the payload. Expired entries are invisible at once and
// are removed by [BoltKV.Sweep] and [BoltSpentSet.Sweep].
type Bolt struct {
	db *bolt.DB
	// now is the clock; tests replace it.
	now func() time.Time
}

// lockTimeout bounds the wait for the file lock held by another process.
const lockTimeout = 2 * time.Second

// OpenBolt opens (creating when absent) the bbolt file at path. It fails
// after a short wait when another process holds the file.
func OpenBolt(path string) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("store: opening %s: file is locked by another process", path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	return &Bolt{db: db, now: time.Now}, nil
}

// Close closes the file.
func (b *Bolt) Close() error {
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("store: closing: %w", err)
	}
	return nil
}

// bucket creates the named bucket when absent and returns its name.
func (b *Bolt) bucket(kind, name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	bn := []byte(kind + "/" + name)
	err := b.db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bn)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: creating bucket %s: %w", bn, err)
	}
	return bn, nil
}

// SpentSet returns the spent-key set named name, whose entries live for ttl
// (zero: forever).
func (b *Bolt) SpentSet(name string, ttl time.Duration) (*BoltSpentSet, error) {
	if ttl < 0 {
		return nil, fmt.Errorf("store: negative TTL %v", ttl)
	}
	bn, err := b.bucket("spent", name)
	if err != nil {
		return nil, err
	}
	return &BoltSpentSet{b: b, bucket: bn, ttl: ttl}, nil
}

// KV returns the key/value namespace named name with the given limits.
func (b *Bolt) KV(name string, l Limits) (*BoltKV, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	bn, err := b.bucket("kv", name)
	if err != nil {
		return nil, err
	}
	return &BoltKV{b: b, bucket: bn, limits: l}, nil
}

// expiry returns the encoded expiry for an entry written now.
func (b *Bolt) expiry(ttl time.Duration) uint64 {
	if ttl == 0 {
		return 0
	}
	return uint64(b.now().Add(ttl).UnixNano())
}

// live reports whether the stored entry v (expiry prefix included) is
// well formed and not expired.
func (b *Bolt) live(v []byte) bool {
	if len(v) < 8 {
		return false
	}
	exp := binary.BigEndian.Uint64(v)
	return exp == 0 || uint64(b.now().UnixNano()) < exp
}

// sweep deletes the expired entries of bucket bn.
func (b *Bolt) sweep(ctx context.Context, bn []byte) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: sweep: %w", err)
	}
	removed := 0
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bn)
		// Collect first: deleting under a cursor makes it skip entries.
		var expired [][]byte
		c := bk.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if !b.live(v) {
				expired = append(expired, append([]byte(nil), k...))
			}
		}
		for _, k := range expired {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		removed = len(expired)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: sweep %s: %w", bn, err)
	}
	return removed, nil
}

// BoltSpentSet is a [SpentSet] in a [Bolt] file.
type BoltSpentSet struct {
	b      *Bolt
	bucket []byte
	ttl    time.Duration
}

// MarkSpent implements [SpentSet] in one write transaction.
func (s *BoltSpentSet) MarkSpent(ctx context.Context, key []byte) (bool, error) {
	if err := checkSpentKey(key); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("store: mark spent: %w", err)
	}
	spent := false
	err := s.b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(s.bucket)
		if s.b.live(bk.Get(key)) {
			spent = true
			return nil
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], s.b.expiry(s.ttl))
		return bk.Put(key, v[:])
	})
	if err != nil {
		return false, fmt.Errorf("store: mark spent: %w", err)
	}
	return spent, nil
}

// Sweep removes expired entries and returns how many it removed.
func (s *BoltSpentSet) Sweep(ctx context.Context) (int, error) { return s.b.sweep(ctx, s.bucket) }

// BoltKV is a [KV] in a [Bolt] file.
type BoltKV struct {
	b      *Bolt
	bucket []byte
	limits Limits
}

// Get implements [KV].
func (s *BoltKV) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := s.limits.checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: get: %w", err)
	}
	var out []byte
	err := s.b.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(s.bucket).Get(key)
		if !s.b.live(v) {
			return ErrNotFound
		}
		// bbolt's slice is valid only inside the transaction.
		out = append([]byte(nil), v[8:]...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: get: %w", err)
	}
	return out, nil
}

// Put implements [KV].
func (s *BoltKV) Put(ctx context.Context, key, value []byte) error {
	if err := s.limits.checkKey(key); err != nil {
		return err
	}
	if len(value) > s.limits.MaxValueBytes {
		return fmt.Errorf("store: value of %d bytes, limit %d: %w", len(value), s.limits.MaxValueBytes, ErrTooLarge)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: put: %w", err)
	}
	v := make([]byte, 8+len(value))
	binary.BigEndian.PutUint64(v, s.b.expiry(s.limits.TTL))
	copy(v[8:], value)
	err := s.b.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(s.bucket).Put(key, v) })
	if err != nil {
		return fmt.Errorf("store: put: %w", err)
	}
	return nil
}

// Delete implements [KV].
func (s *BoltKV) Delete(ctx context.Context, key []byte) error {
	if err := s.limits.checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: delete: %w", err)
	}
	err := s.b.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(s.bucket).Delete(key) })
	if err != nil {
		return fmt.Errorf("store: delete: %w", err)
	}
	return nil
}

// Sweep removes expired entries and returns how many it removed.
func (s *BoltKV) Sweep(ctx context.Context) (int, error) { return s.b.sweep(ctx, s.bucket) }
