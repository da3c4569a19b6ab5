package pir

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// HashBucket byte format (pir-spec §4.2, Apple HashBucket.swift):
//
//	byte 0: slot count (≤ 255)
//	per slot: 8-byte keyword hash (LE), 2-byte value length (LE), value bytes
//
// Trailing bytes (zero padding up to the entry size) are ignored.
const (
	maxBucketSlots    = 255
	maxBucketValueLen = 65535
	bucketSlotHeader  = 8 + 2
)

// bucketSlot is one keyword-value pair inside a hash bucket; only the 64-bit
// keyword hash is stored.
type bucketSlot struct {
	hash  uint64
	value []byte
}

// singleBucketSize is the serialized size of a bucket holding one value of
// valueLen bytes.
func singleBucketSize(valueLen int) int { return 1 + bucketSlotHeader + valueLen }

// appendBucket appends the serialization of slots to dst.
func appendBucket(dst []byte, slots []bucketSlot) ([]byte, error) {
	if len(slots) > maxBucketSlots {
		return dst, fmt.Errorf("pir: hash bucket has %d slots, at most %d fit", len(slots), maxBucketSlots)
	}
	dst = append(dst, byte(len(slots)))
	for _, s := range slots {
		if len(s.value) > maxBucketValueLen {
			return dst, fmt.Errorf("pir: value of %d bytes, at most %d fit a hash bucket", len(s.value), maxBucketValueLen)
		}
		dst = binary.LittleEndian.AppendUint64(dst, s.hash)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(s.value)))
		dst = append(dst, s.value...)
	}
	return dst, nil
}

var errEmptyBucket = errors.New("pir: hash bucket is empty")

// lookupBucket parses the serialized bucket b and returns the value of the first
// slot whose hash is h. The returned slice aliases b.
func lookupBucket(b []byte, h uint64) (value []byte, found bool, err error) {
	if len(b) == 0 {
		return nil, false, errEmptyBucket
	}
	n := int(b[0])
	off := 1
	for i := range n {
		if len(b)-off < bucketSlotHeader {
			return nil, false, fmt.Errorf("pir: hash bucket slot %d is truncated", i)
		}
		sh := binary.LittleEndian.Uint64(b[off:])
		vl := int(binary.LittleEndian.Uint16(b[off+8:]))
		off += bucketSlotHeader
		if len(b)-off < vl {
			return nil, false, fmt.Errorf("pir: hash bucket slot %d value is truncated", i)
		}
		if !found && sh == h {
			value, found = b[off:off+vl], true
		}
		off += vl
	}
	return value, found, nil
}
