package pir

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// CuckooConfig describes how keyword-value rows are placed into cuckoo hash
// buckets (pir-spec §4.3, Apple CuckooTableConfig). The zero value of an
// optional field selects Apple's PIRProcessDatabase default.
type CuckooConfig struct {
	// HashFunctionCount is the number of cuckoo tables, one candidate bucket
	// per table (default 2). It is also the PIR batch size.
	HashFunctionCount int
	// MaxEvictionCount bounds one insertion's eviction chain before the
	// table grows (default 100).
	MaxEvictionCount int
	// MaxSerializedBucketSize is the largest serialized bucket in bytes
	// (required; see DefaultMaxSerializedBucketSize).
	MaxSerializedBucketSize int
	// SlotCount is the most keyword-value pairs per bucket (default 255).
	SlotCount int
	// FixedBucketCount, when positive, fixes the total bucket count (rounded
	// up to a multiple of HashFunctionCount); the build fails rather than
	// grow the table.
	FixedBucketCount int
	// TargetLoadFactor sizes the first table (default 0.9).
	TargetLoadFactor float64
	// ExpansionFactor multiplies the bucket count when the table is full
	// (default 1.1).
	ExpansionFactor float64
	// MaxExpansions bounds how often the table may grow before the build
	// fails (default 64).
	MaxExpansions int
	// Seed seeds the eviction choices, so a build is reproducible.
	Seed [32]byte
}

// DefaultMaxSerializedBucketSize is Apple's default bucket size limit for
// values of at most maxValueSize bytes and bytesPerPlaintext bytes per
// plaintext (CuckooTableConfig.defaultMaxSerializedBucketSize): half a
// plaintext, or the single-entry bucket rounded up to whole plaintexts.
func DefaultMaxSerializedBucketSize(maxValueSize, bytesPerPlaintext int) int {
	single := singleBucketSize(maxValueSize)
	if single >= bytesPerPlaintext/2 {
		return roundUp(single, bytesPerPlaintext)
	}
	return bytesPerPlaintext / 2
}

func (c CuckooConfig) withDefaults() CuckooConfig {
	if c.HashFunctionCount == 0 {
		c.HashFunctionCount = 2
	}
	if c.MaxEvictionCount == 0 {
		c.MaxEvictionCount = 100
	}
	if c.SlotCount == 0 {
		c.SlotCount = maxBucketSlots
	}
	if c.TargetLoadFactor == 0 {
		c.TargetLoadFactor = 0.9
	}
	if c.ExpansionFactor == 0 {
		c.ExpansionFactor = 1.1
	}
	if c.MaxExpansions == 0 {
		c.MaxExpansions = 64
	}
	return c
}

func (c CuckooConfig) validate() error {
	switch {
	case c.HashFunctionCount < 1 || c.HashFunctionCount > 8:
		return fmt.Errorf("pir: hash function count %d, want 1 to 8", c.HashFunctionCount)
	case c.MaxSerializedBucketSize < singleBucketSize(0):
		return fmt.Errorf("pir: max serialized bucket size %d, want at least %d", c.MaxSerializedBucketSize, singleBucketSize(0))
	case c.SlotCount < 1 || c.SlotCount > maxBucketSlots:
		return fmt.Errorf("pir: slot count %d, want 1 to %d", c.SlotCount, maxBucketSlots)
	case c.MaxEvictionCount < 0:
		return fmt.Errorf("pir: max eviction count %d is negative", c.MaxEvictionCount)
	case c.FixedBucketCount < 0:
		return fmt.Errorf("pir: bucket count %d is negative", c.FixedBucketCount)
	case !(c.TargetLoadFactor > 0 && c.TargetLoadFactor < 1):
		return fmt.Errorf("pir: target load factor %v, want in (0, 1)", c.TargetLoadFactor)
	case !(c.ExpansionFactor > 1) || math.IsInf(c.ExpansionFactor, 0):
		return fmt.Errorf("pir: expansion factor %v, want above 1", c.ExpansionFactor)
	}
	return nil
}

// Row is one keyword-value pair of a keyword database.
type Row struct {
	Keyword []byte
	Value   []byte
}

// ErrCuckooFull reports that the rows could not all be placed within the
// configured bucket count or expansion budget.
var ErrCuckooFull = errors.New("pir: cuckoo table cannot hold all rows")

// cuckooTable is a built table: bucketsPerTable buckets in each of
// hashFunctionCount tables, bucket (table i, index x) at i*bucketsPerTable+x.
type cuckooTable struct {
	bucketsPerTable int
	tables          int
	buckets         [][]int32 // row indices per bucket
	sizes           []int     // serialized size per bucket
	cands           []int32   // candidate buckets, tables per row
	expansions      int
}

// buildCuckoo places every row into one of its candidate buckets. It never
// drops a row: a row that cannot be placed grows the table and restarts the
// placement (allowed sizes only), and the result is verified before it is
// returned. rows must have distinct keywords.
func buildCuckoo(rows []Row, hashes []uint64, cfg CuckooConfig) (*cuckooTable, error) {
	k := cfg.HashFunctionCount
	for i, r := range rows {
		if singleBucketSize(len(r.Value)) > cfg.MaxSerializedBucketSize {
			return nil, fmt.Errorf("pir: row %d has a %d-byte value; its bucket (%d bytes) exceeds the max serialized bucket size %d",
				i, len(r.Value), singleBucketSize(len(r.Value)), cfg.MaxSerializedBucketSize)
		}
	}
	var total int
	if cfg.FixedBucketCount > 0 {
		total = roundUp(cfg.FixedBucketCount, k)
	} else {
		minSize := 1
		for _, r := range rows {
			minSize += bucketSlotHeader + len(r.Value)
		}
		minBuckets := ceilDiv(minSize, cfg.MaxSerializedBucketSize)
		total = roundUp(int(math.Ceil(float64(minBuckets)/cfg.TargetLoadFactor)), k)
	}
	rng := rand.New(rand.NewChaCha8(cfg.Seed))
	for expansions := 0; ; expansions++ {
		tab, ok := tryCuckoo(rows, hashes, cfg, total/k, rng)
		if ok {
			tab.expansions = expansions
			if err := tab.verify(rows, hashes); err != nil {
				return nil, err
			}
			return tab, nil
		}
		if cfg.FixedBucketCount > 0 {
			return nil, fmt.Errorf("%w: %d rows do not fit %d fixed buckets; raise the bucket count or allow expansion",
				ErrCuckooFull, len(rows), total)
		}
		if expansions >= cfg.MaxExpansions {
			return nil, fmt.Errorf("%w: %d rows still do not fit after %d expansions to %d buckets",
				ErrCuckooFull, len(rows), expansions, total)
		}
		total = roundUp(int(math.Ceil(float64(total)*cfg.ExpansionFactor)), k)
	}
}

// tryCuckoo attempts one placement with bpt buckets per table.
func tryCuckoo(rows []Row, hashes []uint64, cfg CuckooConfig, bpt int, rng *rand.Rand) (*cuckooTable, bool) {
	k := cfg.HashFunctionCount
	tab := &cuckooTable{
		bucketsPerTable: bpt,
		tables:          k,
		buckets:         make([][]int32, bpt*k),
		sizes:           make([]int, bpt*k),
	}
	for i := range tab.sizes {
		tab.sizes[i] = 1
	}
	// Candidate buckets of every row at this table size, computed once.
	tab.cands = make([]int32, len(rows)*k)
	var tmp []int
	for r, h := range hashes {
		tmp = tab.candidateBuckets(tmp, h)
		for i, b := range tmp {
			tab.cands[r*k+i] = int32(b)
		}
	}
	type swap struct{ bucket, slot int }
	var swaps []swap
	for r := range rows {
		cur := int32(r)
		placed := false
		for evictions := 0; ; evictions++ {
			cands := tab.cands[int(cur)*k : int(cur+1)*k]
			need := bucketSlotHeader + len(rows[cur].Value)
			placed = false
			for _, b := range cands {
				if len(tab.buckets[b]) < cfg.SlotCount && tab.sizes[b]+need <= cfg.MaxSerializedBucketSize {
					tab.buckets[b] = append(tab.buckets[b], cur)
					tab.sizes[b] += need
					placed = true
					break
				}
			}
			if placed || evictions >= cfg.MaxEvictionCount {
				break
			}
			swaps = swaps[:0]
			for _, b := range cands {
				for s, other := range tab.buckets[b] {
					if tab.sizes[b]-len(rows[other].Value)+len(rows[cur].Value) <= cfg.MaxSerializedBucketSize {
						swaps = append(swaps, swap{int(b), s})
					}
				}
			}
			if len(swaps) == 0 {
				break
			}
			sw := swaps[rng.IntN(len(swaps))]
			out := tab.buckets[sw.bucket][sw.slot]
			tab.buckets[sw.bucket][sw.slot] = cur
			tab.sizes[sw.bucket] += len(rows[cur].Value) - len(rows[out].Value)
			cur = out
		}
		if !placed {
			return nil, false
		}
	}
	return tab, true
}

// candidateBuckets returns the global indices of the candidate buckets of a
// keyword hash: candidate i in table i (pir-spec §4.1).
func (tab *cuckooTable) candidateBuckets(dst []int, h uint64) []int {
	dst = dst[:0]
	for i := range tab.tables {
		c := byte(0)
		x := bucketIndex(h, tab.bucketsPerTable, c)
		for containsLocal(dst, tab.bucketsPerTable, x) && c < maxHashRetries {
			c++
			x = bucketIndex(h, tab.bucketsPerTable, c)
		}
		dst = append(dst, i*tab.bucketsPerTable+x)
	}
	return dst
}

// containsLocal reports whether local index x equals the in-table index of
// any global index in dst.
func containsLocal(dst []int, bpt, x int) bool {
	for _, g := range dst {
		if g%bpt == x {
			return true
		}
	}
	return false
}

// verify checks that every row sits in exactly one bucket, and that this
// bucket is one of its candidates.
func (tab *cuckooTable) verify(rows []Row, hashes []uint64) error {
	seen := make([]bool, len(rows))
	placed := 0
	k := tab.tables
	for b, bucket := range tab.buckets {
		for _, r := range bucket {
			if seen[r] {
				return fmt.Errorf("pir: internal error: row %d placed twice", r)
			}
			seen[r] = true
			placed++
			if !slices.Contains(tab.cands[int(r)*k:int(r+1)*k], int32(b)) {
				return fmt.Errorf("pir: internal error: row %d placed in bucket %d, not a candidate", r, b)
			}
		}
	}
	if placed != len(rows) {
		return fmt.Errorf("pir: internal error: %d of %d rows placed", placed, len(rows))
	}
	return nil
}

// serializeBuckets returns the HashBucket bytes of every bucket, in global
// order, and the largest size.
func (tab *cuckooTable) serializeBuckets(rows []Row, hashes []uint64) ([][]byte, int, error) {
	out := make([][]byte, len(tab.buckets))
	maxSize := 0
	slots := make([]bucketSlot, 0, 16)
	for b, bucket := range tab.buckets {
		slots = slots[:0]
		for _, r := range bucket {
			slots = append(slots, bucketSlot{hashes[r], rows[r].Value})
		}
		buf, err := appendBucket(make([]byte, 0, tab.sizes[b]), slots)
		if err != nil {
			return nil, 0, err
		}
		out[b] = buf
		maxSize = max(maxSize, len(buf))
	}
	return out, maxSize, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, m int) int { return ceilDiv(a, m) * m }
