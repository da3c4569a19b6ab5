package pir

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// Apple KAT, CoefficientPackingTests.swift (pir-spec §2.3).
func TestBytesToCoefficientsKAT(t *testing.T) {
	in := []byte{3, 24, 95, 141, 179, 34, 113}
	want := []uint64{0, 3, 1, 8, 5, 15, 8, 13, 11, 3, 2, 2, 7, 1}
	got := make([]uint64, len(want))
	unpackBits(got, in, len(want), 4)
	if !slices.Equal(got, want) {
		t.Errorf("unpack = %v, want %v", got, want)
	}
	if back := packBits(nil, got, 4); !bytes.Equal(back, in) {
		t.Errorf("pack = %v, want %v", back, in)
	}
}

func TestBitPackRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, width := range []int{1, 3, 4, 7, 8, 13, 16, 27, 28, 33, 55, 60, 64} {
		for _, n := range []int{1, 2, 7, 8, 33, 4096} {
			vals := make([]uint64, n)
			for i := range vals {
				vals[i] = r.Uint64()
				if width < 64 {
					vals[i] &= 1<<width - 1
				}
			}
			b := packBits(nil, vals, width)
			if len(b) != packedLen(n, width) {
				t.Fatalf("width %d n %d: %d bytes, want %d", width, n, len(b), packedLen(n, width))
			}
			got := make([]uint64, n)
			unpackBits(got, b, n, width)
			if !slices.Equal(got, vals) {
				t.Fatalf("width %d n %d: round trip differs", width, n)
			}
		}
	}
}
