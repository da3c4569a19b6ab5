package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/blindlist/blindlist/internal/store/s3"
)

// Object is the store for evaluation keys at scale: every entry is one
// object in an S3-compatible bucket, so the keys of millions of devices
// cost object-store bytes instead of RAM, and every replica sees them.
// Put returns once the object store acknowledged the whole object.
//
// Each object is framed as
//
//	"blo1" || expiry (8 bytes, big-endian Unix nanoseconds, 0: none) ||
//	SHA-256(expiry || payload) || payload
//
// and Get returns the payload only when the frame is whole and its digest
// matches: an object that was cut short or altered reads as absent
// ([ErrNotFound]), so the service tells the device to upload its key
// again, and never parses part of a key. Expiry is checked on every read;
// a lifecycle rule on the bucket (expire after TTL days) deletes the dead
// objects ([docs/deploy.md]).
//
// Object has no spent-token set: token spends need an atomic
// check-and-set, which belongs in Redis or bbolt.
type Object struct {
	c      *s3.Client
	prefix string
	// now is the clock; tests replace it.
	now func() time.Time
}

// objectMagic starts every framed object (version 1 of the frame).
const objectMagic = "blo1"

// objectHeaderBytes is the frame header: magic, expiry, digest.
const objectHeaderBytes = len(objectMagic) + 8 + sha256.Size

// NewObject returns a store on the bucket of c whose object names all
// start with prefix (for example "blindlist/"), so one bucket can serve
// several deployments.
func NewObject(c *s3.Client, prefix string) *Object {
	return &Object{c: c, prefix: prefix, now: time.Now}
}

// Ping checks that the bucket answers and the credentials are accepted.
func (o *Object) Ping(ctx context.Context) error {
	if err := o.c.HeadBucket(ctx); err != nil {
		return objectError("ping", err)
	}
	return nil
}

// Check is the readiness check: the bucket answers (see [Object.Ping]).
func (o *Object) Check(ctx context.Context) error { return o.Ping(ctx) }

// objectError wraps an object-store failure, with [ErrUnavailable] when
// the server could not be reached or failed (the caller fails closed with
// 503 and the device retries).
func objectError(op string, err error) error {
	if errors.Is(err, s3.ErrUnavailable) {
		return fmt.Errorf("store: object %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("store: object %s: %w", op, err)
}

// KV returns the key/value namespace named name with the given limits.
func (o *Object) KV(name string, l Limits) (*ObjectKV, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	return &ObjectKV{o: o, prefix: o.prefix + "kv/" + name + "/", limits: l}, nil
}

// ObjectKV is a [KV] in an S3-compatible bucket.
type ObjectKV struct {
	o      *Object
	prefix string
	limits Limits
}

// objectName is the prefix plus the key in lowercase hex (keys are bytes).
func (s *ObjectKV) objectName(key []byte) string { return s.prefix + hex.EncodeToString(key) }

// Get implements [KV].
func (s *ObjectKV) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := s.limits.checkKey(key); err != nil {
		return nil, err
	}
	b, err := s.o.c.Get(ctx, s.objectName(key), int64(objectHeaderBytes+s.limits.MaxValueBytes))
	if errors.Is(err, s3.ErrNotFound) {
		return nil, fmt.Errorf("store: object get: %w", ErrNotFound)
	}
	if err != nil {
		return nil, objectError("get", err)
	}
	payload, exp, err := unframe(b)
	if err != nil {
		return nil, fmt.Errorf("store: object get: %v, read as absent: %w", err, ErrNotFound)
	}
	if exp != 0 && uint64(s.o.now().UnixNano()) >= exp {
		return nil, fmt.Errorf("store: object get: expired: %w", ErrNotFound)
	}
	return payload, nil
}

// GetIfChanged implements [VersionedKV] with a conditional GET
// (If-None-Match on the object's ETag): an unchanged object costs one
// request and its headers, not its bytes. The version holds the ETag and
// the frame's expiry, so an unchanged object is still checked for expiry.
// A replaced object (a device's new key, written through any replica)
// has a new ETag and is read in full.
func (s *ObjectKV) GetIfChanged(ctx context.Context, key []byte, version string) ([]byte, string, error) {
	if err := s.limits.checkKey(key); err != nil {
		return nil, "", err
	}
	var etag string
	var exp uint64
	if version != "" {
		e, tag, ok := strings.Cut(version, "/")
		n, err := strconv.ParseUint(e, 16, 64)
		if !ok || err != nil || tag == "" {
			return nil, "", fmt.Errorf("store: object get: malformed version %q", version)
		}
		exp, etag = n, tag
	}
	b, tag, err := s.o.c.GetIfChanged(ctx, s.objectName(key), etag, int64(objectHeaderBytes+s.limits.MaxValueBytes))
	switch {
	case errors.Is(err, s3.ErrNotModified):
		if exp != 0 && uint64(s.o.now().UnixNano()) >= exp {
			return nil, "", fmt.Errorf("store: object get: expired: %w", ErrNotFound)
		}
		return nil, version, fmt.Errorf("store: object get: %w", ErrUnchanged)
	case errors.Is(err, s3.ErrNotFound):
		return nil, "", fmt.Errorf("store: object get: %w", ErrNotFound)
	case err != nil:
		return nil, "", objectError("get", err)
	}
	payload, exp, err := unframe(b)
	if err != nil {
		return nil, "", fmt.Errorf("store: object get: %v, read as absent: %w", err, ErrNotFound)
	}
	if exp != 0 && uint64(s.o.now().UnixNano()) >= exp {
		return nil, "", fmt.Errorf("store: object get: expired: %w", ErrNotFound)
	}
	newVersion := ""
	if tag != "" {
		newVersion = strconv.FormatUint(exp, 16) + "/" + tag
	}
	return payload, newVersion, nil
}

// Put implements [KV].
func (s *ObjectKV) Put(ctx context.Context, key, value []byte) error {
	if err := s.limits.checkKey(key); err != nil {
		return err
	}
	if len(value) > s.limits.MaxValueBytes {
		return fmt.Errorf("store: value of %d bytes, limit %d: %w", len(value), s.limits.MaxValueBytes, ErrTooLarge)
	}
	var exp uint64
	if s.limits.TTL != 0 {
		exp = uint64(s.o.now().Add(s.limits.TTL).UnixNano())
	}
	if err := s.o.c.Put(ctx, s.objectName(key), frame(value, exp)); err != nil {
		return objectError("put", err)
	}
	return nil
}

// Delete implements [KV].
func (s *ObjectKV) Delete(ctx context.Context, key []byte) error {
	if err := s.limits.checkKey(key); err != nil {
		return err
	}
	if err := s.o.c.Delete(ctx, s.objectName(key)); err != nil {
		return objectError("delete", err)
	}
	return nil
}

// frame builds a framed object (see [Object]).
func frame(payload []byte, expiry uint64) []byte {
	b := make([]byte, objectHeaderBytes, objectHeaderBytes+len(payload))
	copy(b, objectMagic)
	binary.BigEndian.PutUint64(b[len(objectMagic):], expiry)
	b = append(b, payload...)
	h := sha256.New()
	h.Write(b[len(objectMagic) : len(objectMagic)+8])
	h.Write(payload)
	copy(b[len(objectMagic)+8:], h.Sum(nil))
	return b
}

// unframe checks a framed object and returns its payload and expiry.
func unframe(b []byte) (payload []byte, expiry uint64, err error) {
	if len(b) < objectHeaderBytes || string(b[:len(objectMagic)]) != objectMagic {
		return nil, 0, fmt.Errorf("object of %d bytes has no %q frame", len(b), objectMagic)
	}
	expBytes := b[len(objectMagic) : len(objectMagic)+8]
	payload = b[objectHeaderBytes:]
	h := sha256.New()
	h.Write(expBytes)
	h.Write(payload)
	if !bytes.Equal(h.Sum(nil), b[len(objectMagic)+8:objectHeaderBytes]) {
		return nil, 0, errors.New("object fails its SHA-256 check")
	}
	return payload, binary.BigEndian.Uint64(expBytes), nil
}

var _ VersionedKV = (*ObjectKV)(nil)
