package api

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// Store key layout. A user's evaluation key for one key configuration is
// stored under two entries:
//
//	'k' || d  →  the serialized EvaluationKey, verbatim as uploaded
//	'm' || d  →  8-byte big-endian metadata.timestamp
//
// where d = SHA-256("blindlist/evaluation-key/v1" || uvarint(len(user)) ||
// user || identifier). Hashing keeps User-Identifiers out of the store (a
// dump or a Redis MONITOR shows no identifiers), gives fixed-length keys with
// no separator ambiguity, and the length prefix makes (user, identifier)
// pairs map to distinct digests. The small 'm' entry lets /config report
// KeyStatus without reading a 0.3-0.7 MB key. The key entry is written before
// the timestamp entry, so a reader that sees a timestamp finds the key it
// describes (or a newer one, whose newer timestamp follows).
const keyDigestDomain = "blindlist/evaluation-key/v1"

// keyDigest derives the store key digest d for (user, identifier).
func keyDigest(user string, identifier []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(keyDigestDomain))
	h.Write(binary.AppendUvarint(nil, uint64(len(user))))
	h.Write([]byte(user))
	h.Write(identifier)
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

func storeKey(prefix byte, d [sha256.Size]byte) []byte {
	return append([]byte{prefix}, d[:]...)
}

// keyVault reads and writes evaluation keys in a [store.KV] (bbolt for one
// process, Redis for replicas; the store applies the TTL and size caps).
type keyVault struct {
	store       store.KV
	maxKeyBytes int64
	// stored keeps serialized keys read from a [store.VersionedKV] for
	// revalidation ([storedKeyCache]); nil for other stores.
	stored *storedKeyCache
}

// put stores one uploaded key (already checked: metadata and key present).
func (kv *keyVault) put(ctx context.Context, user string, k *apipb.EvaluationKey) error {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(k)
	if err != nil {
		return fmt.Errorf("api: encoding evaluation key: %w", err)
	}
	if int64(len(b)) > kv.maxKeyBytes {
		return newHTTPError(400, catTooLarge, fmt.Sprintf("Evaluation key is %d bytes, larger than the %d allowed", len(b), kv.maxKeyBytes))
	}
	d := keyDigest(user, k.GetMetadata().GetIdentifier())
	if kv.stored != nil {
		kv.stored.drop(d)
	}
	if err := kv.store.Put(ctx, storeKey('k', d), b); errors.Is(err, store.ErrTooLarge) {
		return newHTTPError(400, catTooLarge, "Evaluation key is larger than the store accepts")
	} else if err != nil {
		return storeError("storing evaluation key", err)
	}
	ts := binary.BigEndian.AppendUint64(nil, k.GetMetadata().GetTimestamp())
	if err := kv.store.Put(ctx, storeKey('m', d), ts); err != nil {
		return storeError("storing evaluation key timestamp", err)
	}
	return nil
}

// timestamp returns the metadata timestamp of the stored key, 0 when there
// is none (KeyStatus semantics: 0 = the server has no key).
func (kv *keyVault) timestamp(ctx context.Context, user string, identifier []byte) (uint64, error) {
	b, err := kv.store.Get(ctx, storeKey('m', keyDigest(user, identifier)))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, storeError("reading evaluation key timestamp", err)
	case len(b) != 8:
		return 0, fmt.Errorf("api: stored evaluation key timestamp has %d bytes, want 8", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// get returns the stored serialized EvaluationKey, or an error wrapping
// [ErrKeyNotFound].
//
// A missing key whose timestamp entry is still there (the key expired a
// moment before it, Redis evicted it under memory pressure, or a crash came
// between the two writes of put) has its timestamp entry removed, so the
// next /config reports timestamp 0 and the device uploads a new key, instead
// of /config saying "you have a key" to a device whose every query fails.
func (kv *keyVault) get(ctx context.Context, user string, identifier []byte) ([]byte, error) {
	d := keyDigest(user, identifier)
	var b []byte
	var err error
	if vs, ok := kv.store.(store.VersionedKV); ok && kv.stored != nil {
		b, err = kv.getVersioned(ctx, vs, d)
	} else {
		b, err = kv.store.Get(ctx, storeKey('k', d))
	}
	if errors.Is(err, store.ErrNotFound) {
		if err := kv.store.Delete(ctx, storeKey('m', d)); err != nil {
			return nil, storeError("removing a lost evaluation key's timestamp", err)
		}
		return nil, ErrKeyNotFound
	}
	if err != nil {
		return nil, storeError("reading evaluation key", err)
	}
	return b, nil
}

// storeError marks a store failure: 503 for the client (the store may be
// briefly unreachable), category "store" for metrics.
func storeError(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("api: %s: %w", what, err)
	}
	return &httpError{status: 503, category: catStore, message: "Service Unavailable", err: fmt.Errorf("%s: %w", what, err)}
}
