package pir

import (
	"slices"
	"testing"
)

// Apple KATs, MulPirTests.swift (pir-spec §3.1).
func TestMulPirDimensions(t *testing.T) {
	tests := []struct {
		perChunk, batch int
		even, uneven    [2]int
	}{
		{9, 1, [2]int{3, 3}, [2]int{5, 2}},
		{20, 1, [2]int{5, 4}, [2]int{10, 2}},
		{100, 1, [2]int{10, 10}, [2]int{25, 4}},
		{72, 1, [2]int{9, 8}, [2]int{24, 3}},
		{100, 3, [2]int{10, 10}, [2]int{13, 8}},
	}
	for _, tc := range tests {
		if got := mulPirDimensions(tc.perChunk, tc.batch, false); got != tc.even {
			t.Errorf("even dims(%d, %d) = %v, want %v", tc.perChunk, tc.batch, got, tc.even)
		}
		if got := mulPirDimensions(tc.perChunk, tc.batch, true); got != tc.uneven {
			t.Errorf("uneven dims(%d, %d) = %v, want %v", tc.perChunk, tc.batch, got, tc.uneven)
		}
	}
}

func TestIsqrt(t *testing.T) {
	for x := range 100000 {
		r := isqrt(x)
		if r*r > x || (r+1)*(r+1) <= x {
			t.Fatalf("isqrt(%d) = %d", x, r)
		}
	}
}

// Apple KATs, MulPirTests.swift and he-spec §5.4 (pir-spec §3.2).
func TestMulPirKeyConfig(t *testing.T) {
	tests := []struct {
		e, n int
		c    KeyCompression
		want []uint32
	}{
		{32, 4096, NoCompression, []uint32{257, 513, 1025, 2049, 4097}},
		{32, 4096, HybridCompression, []uint32{257, 1025}},
		{32, 4096, MaxCompression, []uint32{257}},
		{1024, 4096, HybridCompression, []uint32{9, 17, 33, 65, 129, 1025}},
		{1024, 4096, MaxCompression, []uint32{9, 17, 33, 65, 129}},
		{2, 4096, NoCompression, []uint32{4097}},
		{100, 4096, NoCompression, []uint32{65, 129, 257, 513, 1025, 2049, 4097}},
		{100, 4096, MaxCompression, []uint32{65, 129}},
		{100, 4096, HybridCompression, []uint32{65, 129, 1025}},
	}
	for _, tc := range tests {
		got := mulPirKeyConfig(tc.e, tc.n, tc.c)
		if !slices.Equal(got.GaloisElements, tc.want) || !got.Relin {
			t.Errorf("keyConfig(%d, %d, %v) = %v, want %v + relin", tc.e, tc.n, tc.c, got, tc.want)
		}
	}
}

func TestStoredIndex(t *testing.T) {
	l := layout{dims: [2]int{3, 2}}
	// stored[s·d0 + r] = plain[r·d1 + s]
	seen := map[int]bool{}
	for r := range 3 {
		for s := range 2 {
			if got, want := l.storedIndex(r*2+s), s*3+r; got != want {
				t.Errorf("storedIndex(%d) = %d, want %d", r*2+s, got, want)
			}
			seen[l.storedIndex(r*2+s)] = true
		}
	}
	if len(seen) != 6 {
		t.Errorf("storedIndex is not a permutation: %v", seen)
	}
}
