package api

import (
	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// ParsedKeyBytes estimates the heap held by one parsed evaluation key of
// configuration kc after it has answered a request, which is what an entry
// of the server's key cache costs: [pir.EvaluationKeyHeapBytes], an upper
// bound within a few percent of the measured heap on Apple's vector sets
// (TestParsedKeyBytesMatchesHeap; docs/sizing.md §3), 0 when kc names no
// key-switching key. For the URL-filter preset a 100 000-key shard's key
// (7 Galois elements + relinearization, 681 KB on the wire) holds 6.3 MB
// with AVX-512 IFMA or the portable kernels and 3.2 MB on an AVX2-only CPU,
// whose key switching reads the residues as they are (no second form).
func ParsedKeyBytes(kc *hepb.EvaluationKeyConfig) int64 {
	return pir.EvaluationKeyHeapBytes(kc)
}
