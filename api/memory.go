package api

import (
	"fmt"

	"github.com/blindlist/blindlist/generation"
	"github.com/blindlist/blindlist/pir"
)

// MemoryHeadroomBytes is the fixed part of [AutoMemoryLimit]: the Go
// runtime and the requests in flight beyond the key cache (a query is
// about 30 KB, its expansion about 1 MB; an answer whose key is not
// cached, or was evicted while in use, holds it too: up to 6.3 MB at
// N = 4096, [ParsedKeyBytes]). Keys are parsed only inside a compute slot,
// so that last term is at most one key per concurrent answer, never per
// call waiting. It fits a few answers at once; on machines with many
// cores, raise limits.memoryLimitBytes by about 8 MB per concurrent
// answer (limits.maxConcurrentAnswers).
const MemoryHeadroomBytes = 32 << 20

// ShardBytes returns what loading the shards of every usecase of fc puts
// in the Go heap ([pir.ShardHeapBytes]): the size of each `<stem>-<i>.bin`
// read into memory, nothing for a shard served from its memory-mapped
// serve-ready file (page cache, not heap).
func ShardBytes(fc *FileConfig) (int64, error) {
	var total int64
	for _, v := range fc.Vendors {
		for _, uc := range v.Usecases {
			dir, err := generation.Resolve(uc.Directory) // a build's current generation
			if err != nil {
				return 0, fmt.Errorf("api: usecase %q: %w", uc.Name, err)
			}
			for i := range uc.ShardCount {
				bin, _ := pir.ShardPaths(dir, uc.FileStem, i)
				n, err := pir.ShardHeapBytes(bin)
				if err != nil {
					return 0, fmt.Errorf("api: usecase %q: %w", uc.Name, err)
				}
				total += n
			}
		}
	}
	return total, nil
}

// AutoMemoryLimit is the soft memory limit (runtime/debug.SetMemoryLimit)
// for a process serving shardBytes of databases with a parsed-key cache of
// keyCacheBytes ([Server.KeyCacheBytes], [LimitsConfig.KeyCacheBudget]):
// twice shardBytes, since a reload holds the new databases beside the old
// ones (and versionCount 2 keeps the previous configuration answerable),
// plus the full cache budget, plus [MemoryHeadroomBytes]. Near the limit
// the garbage collector runs more often instead of letting the heap double
// (GOGC=100), which keeps the resident size close to the live data; a
// limit below the live data would make it run all the time, so the cache
// budget is counted whole.
func AutoMemoryLimit(shardBytes, keyCacheBytes int64) int64 {
	return 2*shardBytes + max(keyCacheBytes, 0) + MemoryHeadroomBytes
}
