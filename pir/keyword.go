package pir

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// maxHashRetries is the number of extra counters HashIndices tries when a
// candidate bucket repeats an earlier one (Apple's HashKeyword.maxRetries).
const maxHashRetries = 10

// KeywordHash returns the 64-bit hash Apple stores in hash buckets and uses for
// sharding: the first 8 bytes of SHA-256(keyword), little-endian
// (pir-spec §4.1).
func KeywordHash(keyword []byte) uint64 {
	d := sha256.Sum256(keyword)
	return binary.LittleEndian.Uint64(d[:8])
}

// bucketIndex is uint64_le(SHA-256(uint64_be(h) || counter)[0:8]) mod n
// (pir-spec §4.1).
func bucketIndex(h uint64, n int, counter byte) int {
	var in [9]byte
	binary.BigEndian.PutUint64(in[:8], h)
	in[8] = counter
	d := sha256.Sum256(in[:])
	return int(binary.LittleEndian.Uint64(d[:8]) % uint64(n))
}

// HashIndices returns the candidate bucket of keyword in each of the k cuckoo
// tables of n buckets each (pir-spec §4.1): candidate i lives in table i. A
// candidate equal to an earlier one is rehashed with counters 1..10; if all
// retries collide the duplicate is kept, as Apple does. n must be positive.
func HashIndices(keyword []byte, n, k int) []int {
	h := KeywordHash(keyword)
	cands := make([]int, 0, k)
	for range k {
		c := byte(0)
		x := bucketIndex(h, n, c)
		for contains(cands, x) && c < maxHashRetries {
			c++
			x = bucketIndex(h, n, c)
		}
		cands = append(cands, x)
	}
	return cands
}

func contains(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// ShardingFunction routes a keyword to a shard (pir-spec §4.5). The zero value
// is SHA-256 sharding.
type ShardingFunction struct {
	// OtherShardCount selects double-mod sharding when non-zero: the shard is
	// (hash mod OtherShardCount) mod shardCount. Zero selects plain SHA-256
	// sharding: hash mod shardCount.
	OtherShardCount uint32
}

// String names the function as Apple's JSON config does.
func (f ShardingFunction) String() string {
	if f.OtherShardCount == 0 {
		return "sha256"
	}
	return fmt.Sprintf("doubleMod(%d)", f.OtherShardCount)
}

// ShardIndex returns the shard of keyword among shardCount shards.
func (f ShardingFunction) ShardIndex(keyword []byte, shardCount int) (int, error) {
	if shardCount <= 0 {
		return 0, fmt.Errorf("pir: shard count %d, want at least 1", shardCount)
	}
	h := KeywordHash(keyword)
	if f.OtherShardCount != 0 {
		h %= uint64(f.OtherShardCount)
	}
	return int(h % uint64(shardCount)), nil
}
