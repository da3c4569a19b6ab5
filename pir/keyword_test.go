package pir

import (
	"slices"
	"testing"
)

// Apple KATs from Tests/PrivateInformationRetrievalTests/HashBucketTests.swift
// and KeywordDatabaseTests.swift (pir-spec §4.1, §4.5).
func TestHashIndices(t *testing.T) {
	tests := []struct {
		kw   []byte
		n, k int
		want []int
	}{
		{[]byte{0, 1, 2, 3}, 8, 3, []int{7, 3, 0}},
		{[]byte{3, 2, 1, 0}, 2048, 5, []int{1989, 1767, 1260, 242, 1122}},
		{[]byte("www.apple.com/url-filter-test"), 1000, 2, []int{71, 357}},
		{[]byte("example.com"), 1000, 2, []int{885, 978}},
	}
	for _, tc := range tests {
		if got := HashIndices(tc.kw, tc.n, tc.k); !slices.Equal(got, tc.want) {
			t.Errorf("HashIndices(%q, %d, %d) = %v, want %v", tc.kw, tc.n, tc.k, got, tc.want)
		}
	}
	if got := KeywordHash([]byte("www.apple.com/url-filter-test")); got != 0x55f4aa357a896bd2 {
		t.Errorf("KeywordHash = %#x, want 0x55f4aa357a896bd2", got)
	}
}

func TestHashIndicesTinyTable(t *testing.T) {
	// With one bucket every retry collides; Apple keeps the duplicate.
	if got := HashIndices([]byte("x"), 1, 3); !slices.Equal(got, []int{0, 0, 0}) {
		t.Errorf("HashIndices on 1 bucket = %v, want [0 0 0]", got)
	}
}

func TestShardIndex(t *testing.T) {
	tests := []struct {
		kw     []byte
		f      ShardingFunction
		shards int
		want   int
	}{
		{[]byte{0, 0, 0, 0}, ShardingFunction{}, 41, 2},
		{[]byte{0, 0, 0, 0}, ShardingFunction{}, 1001, 635},
		{[]byte{1, 2, 3}, ShardingFunction{}, 1001, 903},
		{[]byte{3, 2, 1}, ShardingFunction{}, 1001, 842},
		{[]byte{0, 0, 0, 0}, ShardingFunction{OtherShardCount: 2000}, 41, 32},
		{[]byte{0, 0, 0, 0}, ShardingFunction{OtherShardCount: 2000}, 1001, 319},
		{[]byte{1, 2, 3}, ShardingFunction{OtherShardCount: 2000}, 1001, 922},
		{[]byte{3, 2, 1}, ShardingFunction{OtherShardCount: 2000}, 1001, 328},
	}
	for _, tc := range tests {
		got, err := tc.f.ShardIndex(tc.kw, tc.shards)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%v.ShardIndex(%x, %d) = %d, want %d", tc.f, tc.kw, tc.shards, got, tc.want)
		}
	}
	if _, err := (ShardingFunction{}).ShardIndex(nil, 0); err == nil {
		t.Error("ShardIndex with 0 shards: no error")
	}
}
