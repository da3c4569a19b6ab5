package api

import (
	"fmt"
	"os"

	"github.com/blindlist/blindlist/pir"
)

// MemoryHeadroomBytes is the fixed part of [AutoMemoryLimit]: the Go
// runtime, the evaluation-key cache, and the requests in flight (a query
// is about 30 KB, an expanded evaluation key about 1.6 MB at N = 4096).
const MemoryHeadroomBytes = 32 << 20

// ShardBytes returns the total size of the processed shard files
// (`<stem>-<i>.bin`) of every usecase of fc: what loading them puts in
// memory.
func ShardBytes(fc *FileConfig) (int64, error) {
	var total int64
	for _, v := range fc.Vendors {
		for _, uc := range v.Usecases {
			for i := range uc.ShardCount {
				bin, _ := pir.ShardPaths(uc.Directory, uc.FileStem, i)
				st, err := os.Stat(bin)
				if err != nil {
					return 0, fmt.Errorf("api: usecase %q: %w", uc.Name, err)
				}
				total += st.Size()
			}
		}
	}
	return total, nil
}

// AutoMemoryLimit is the soft memory limit (runtime/debug.SetMemoryLimit)
// for a process serving shardBytes of databases: twice that, since a
// reload holds the new databases beside the old ones (and versionCount 2
// keeps the previous configuration answerable), plus
// [MemoryHeadroomBytes]. Near the limit the garbage collector runs more
// often instead of letting the heap double (GOGC=100), which keeps the
// resident size close to the live data.
func AutoMemoryLimit(shardBytes int64) int64 {
	return 2*shardBytes + MemoryHeadroomBytes
}
