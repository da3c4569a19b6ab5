package pir

import (
	"fmt"
	"math/bits"
	"slices"
)

// KeyCompression selects which Galois elements a MulPIR evaluation key holds
// (pir-spec §3.2, Apple PirKeyCompressionStrategy). Fewer elements make the
// key smaller and query expansion slower.
type KeyCompression int

// The key-compression modes, numbered as the KeyCompressionStrategy proto enum.
const (
	NoCompression     KeyCompression = 0
	MaxCompression    KeyCompression = 1
	HybridCompression KeyCompression = 2
)

// Bounds on shapes read from outside, far above any real shard (a
// plaintext is 28 KB at N = 4096, so maxPlaintexts is 470 GB of shard).
const (
	maxDimensionLength = 1 << 24
	maxPlaintexts      = 1 << 24
)

// String returns Apple's JSON name of the mode.
func (c KeyCompression) String() string {
	switch c {
	case NoCompression:
		return "noCompression"
	case MaxCompression:
		return "maxCompression"
	case HybridCompression:
		return "hybridCompression"
	}
	return fmt.Sprintf("KeyCompression(%d)", int(c))
}

// ParseKeyCompression parses Apple's JSON name of a key-compression mode.
func ParseKeyCompression(s string) (KeyCompression, error) {
	for _, c := range []KeyCompression{NoCompression, MaxCompression, HybridCompression} {
		if c.String() == s {
			return c, nil
		}
	}
	return 0, fmt.Errorf("pir: unknown key compression %q, want noCompression, hybridCompression or maxCompression", s)
}

// KeyConfig is the evaluation-key configuration a shard needs: Galois
// elements (sorted, distinct) and whether a relinearization key is required
// (Apple EvaluationKeyConfig).
type KeyConfig struct {
	GaloisElements []uint32
	Relin          bool
}

// union returns the sorted union of two key configs.
func (k KeyConfig) union(o KeyConfig) KeyConfig {
	g := append(slices.Clone(k.GaloisElements), o.GaloisElements...)
	slices.Sort(g)
	return KeyConfig{GaloisElements: slices.Compact(g), Relin: k.Relin || o.Relin}
}

// contains reports whether k provides every key o asks for.
func (k KeyConfig) contains(o KeyConfig) bool {
	if o.Relin && !k.Relin {
		return false
	}
	for _, g := range o.GaloisElements {
		if !slices.Contains(k.GaloisElements, g) {
			return false
		}
	}
	return true
}

// mulPirKeyConfig returns the key config MulPIR needs for expandedCount query
// slots at ring degree n (pir-spec §3.2, Apple MulPir.evaluationKeyConfig).
func mulPirKeyConfig(expandedCount, n int, c KeyCompression) KeyConfig {
	logN := bits.Len(uint(n)) - 1
	depth := ceilLog2(uint64(min(expandedCount, n)))
	lo := logN - depth + 1
	hi := logN
	if c != NoCompression {
		hi = max(lo, (logN+2)/2) // ceil((logN+1)/2)
	}
	var g []uint32
	for k := lo; k <= hi; k++ {
		g = append(g, uint32(1)<<k+1)
	}
	if c == HybridCompression {
		x := max(hi, (logN+hi+1)/2)
		if e := uint32(1)<<x + 1; !slices.Contains(g, e) {
			g = append(g, e)
		}
	}
	slices.Sort(g)
	return KeyConfig{GaloisElements: g, Relin: true}
}

// isqrt returns floor(sqrt(x)).
func isqrt(x int) int {
	if x < 2 {
		return x
	}
	r := 1 << ((bits.Len(uint(x)) + 1) / 2) // ≥ sqrt(x)
	for {
		s := (r + x/r) / 2
		if s >= r {
			return r
		}
		r = s
	}
}

// mulPirDimensions returns Apple's 2-D MulPIR dimensions for perChunk
// plaintexts per chunk and batch queries (pir-spec §3.1,
// MulPir.generateParameter with dimensionCount 2).
func mulPirDimensions(perChunk, batch int, uneven bool) [2]int {
	d := isqrt(perChunk)
	dims := [2]int{d, d}
	for i := range dims {
		if dims[0]*dims[1] < perChunk {
			dims[i]++
		} else {
			break
		}
	}
	if !uneven {
		return dims
	}
	limit := nextPow2((dims[0] + dims[1]) * batch)
	nd := dims
	for nextPow2((nd[0]+nd[1])*batch) <= limit {
		dims = nd
		if nd[1] == 1 {
			break
		}
		nd = [2]int{ceilDiv(perChunk, nd[1]-1), nd[1] - 1}
	}
	return dims
}

func nextPow2(x int) int {
	if x <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(x-1))
}

// layout is the MulPIR packing of one database (one cuckoo table) of
// entryCount entries of entrySize bytes into plaintexts of
// bytesPerPlaintext bytes (pir-spec §3.1, §3.3).
type layout struct {
	entryCount, entrySize int
	dims                  [2]int
	bytesPerPlaintext     int
}

// entriesPerPlaintext is how many entries share one plaintext (1 if an
// entry spans several).
func (l layout) entriesPerPlaintext() int {
	if l.entrySize <= l.bytesPerPlaintext {
		return l.bytesPerPlaintext / l.entrySize
	}
	return 1
}

// chunkCount is the number of plaintexts per entry, and of response
// ciphertexts per query index.
func (l layout) chunkCount() int { return ceilDiv(l.entrySize, l.bytesPerPlaintext) }

// neededPlaintexts is the number of non-padding plaintexts per chunk.
func (l layout) neededPlaintexts() int {
	if l.entrySize <= l.bytesPerPlaintext {
		return ceilDiv(l.entryCount, l.entriesPerPlaintext())
	}
	return l.entryCount
}

// perChunk is d0·d1, the plaintexts stored per chunk.
func (l layout) perChunk() int { return l.dims[0] * l.dims[1] }

// plaintextCount is the number of plaintexts of one table.
func (l layout) plaintextCount() int { return l.chunkCount() * l.perChunk() }

// storedIndex maps logical plaintext p of a chunk to its stored position:
// coordinates (p / d1, p mod d1), stored column-major at c1·d0 + c0
// (pir-spec §3.3 step 4).
func (l layout) storedIndex(p int) int {
	return (p%l.dims[1])*l.dims[0] + p/l.dims[1]
}

func (l layout) check() error {
	switch {
	case l.entryCount < 1:
		return fmt.Errorf("pir: entry count %d, want at least 1", l.entryCount)
	case l.entrySize < 1:
		return fmt.Errorf("pir: entry size %d, want at least 1", l.entrySize)
	case l.dims[0] < 1 || l.dims[1] < 1 || l.dims[0] > maxDimensionLength || l.dims[1] > maxDimensionLength:
		return fmt.Errorf("pir: dimensions %v, want positive", l.dims)
	case l.perChunk() > maxPlaintexts/l.chunkCount():
		return fmt.Errorf("pir: %d chunks of dimensions %v exceed %d plaintexts per table", l.chunkCount(), l.dims, maxPlaintexts)
	case l.perChunk() < l.neededPlaintexts():
		return fmt.Errorf("pir: dimensions %v hold %d plaintexts, %d entries of %d bytes need %d",
			l.dims, l.perChunk(), l.entryCount, l.entrySize, l.neededPlaintexts())
	}
	return nil
}
