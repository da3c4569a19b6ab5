package pir

import (
	"bytes"
	"testing"
)

func TestBucketRoundTrip(t *testing.T) {
	slots := []bucketSlot{
		{KeywordHash([]byte("Hello")), []byte("World")},
		{KeywordHash([]byte("a")), nil},
		{KeywordHash([]byte("b")), bytes.Repeat([]byte{7}, 300)},
	}
	b, err := appendBucket(nil, slots)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + 3*10 + 5 + 300; len(b) != want {
		t.Fatalf("bucket size %d, want %d", len(b), want)
	}
	// Apple's rawBucket example starts: count 3, hash("Hello") LE 18 5f 8d b3 22 71 fe 25, len 5, "World".
	wantPrefix := []byte{3, 0x18, 0x5f, 0x8d, 0xb3, 0x22, 0x71, 0xfe, 0x25, 5, 0, 'W', 'o', 'r', 'l', 'd'}
	if !bytes.HasPrefix(b, wantPrefix) {
		t.Errorf("bucket prefix %x, want %x", b[:len(wantPrefix)], wantPrefix)
	}
	padded := append(b, make([]byte, 40)...)
	for _, s := range slots {
		v, ok, err := lookupBucket(padded, s.hash)
		if err != nil || !ok || !bytes.Equal(v, s.value) {
			t.Errorf("lookup %#x = %x, %v, %v; want %x", s.hash, v, ok, err, s.value)
		}
	}
	if _, ok, err := lookupBucket(padded, 12345); ok || err != nil {
		t.Errorf("lookup of absent hash: found %v, err %v", ok, err)
	}
	if _, ok, err := lookupBucket([]byte{0, 0, 0}, 0); ok || err != nil {
		t.Errorf("lookup in empty bucket: found %v, err %v", ok, err)
	}
}

func TestBucketBadInput(t *testing.T) {
	good, _ := appendBucket(nil, []bucketSlot{{1, []byte("abc")}})
	for i := range len(good) - 1 {
		if _, _, err := lookupBucket(good[:i], 1); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
	if _, err := appendBucket(nil, make([]bucketSlot, 256)); err == nil {
		t.Error("256 slots: no error")
	}
	if _, err := appendBucket(nil, []bucketSlot{{1, make([]byte, 65536)}}); err == nil {
		t.Error("65536-byte value: no error")
	}
}

func FuzzLookupBucket(f *testing.F) {
	good, _ := appendBucket(nil, []bucketSlot{{1, []byte("abc")}, {2, nil}})
	f.Add(good, uint64(1))
	f.Add([]byte{0}, uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, h uint64) {
		v, ok, err := lookupBucket(b, h)
		if err != nil && ok {
			t.Fatal("found with error")
		}
		if ok && len(v) > len(b) {
			t.Fatal("value longer than bucket")
		}
	})
}
