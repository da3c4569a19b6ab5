package bloom

import (
	"runtime"
	"sync"
)

// A filter of a few hundred million keys is a bit array of hundreds of
// megabytes, and each key sets k bits at random places in it: added one by
// one, almost every probe is a cache miss that goes to memory (at 10^8 keys
// and k = 10, a 180 MB array: about 26 ns a probe, 26 s for the filter on
// one core). A Loader instead collects the probes' bit indices by region of
// the array and, once it holds many, sets them region by region, so each
// region's cache lines are fetched once per flush and then hit in the
// core's cache; the regions are disjoint byte ranges, so several
// goroutines set bits at once without atomics. The bits are those of
// [Filter.AddString] for every key (a Bloom filter is an OR: the order of
// the probes does not matter).

// loaderRegionShift is log2 of a region's bits: 2^22 bits are 512 KiB,
// which fit the L2 cache of one core of the x86-64 and arm64 servers we
// run on (1 MiB on AMD Zen 4 and 5, 1.25 to 2 MiB on recent Intel Xeons,
// 1 or 2 MiB on Neoverse). A region is a whole number of bytes.
const loaderRegionShift = 22

// loaderPendingProbes is how many bit indices a Loader holds before it
// sets them: 2^24 indices are 64 MiB, and spread over the 343 regions of
// a 10^8-key filter (k = 10) they are some 49,000 probes per 512 KiB
// region, six per cache line.
const loaderPendingProbes = 1 << 24

// loaderMinKeysPerWorker is the fewest keys worth a goroutine of their own.
const loaderMinKeysPerWorker = 1 << 12

// Loader adds many keys to a [Filter] with few cache misses (see above).
// Keys given to [Loader.AddStrings] may be set only at the next
// [Loader.Flush] (or when enough have been given): call Flush before
// reading, writing or testing the filter. A Loader is not safe for
// concurrent use, and the filter must not be changed by other means until
// the Loader is flushed.
type Loader struct {
	f       *Filter
	workers int
	regions int
	limit   int          // pending probes that trigger a flush
	pending [][][]uint32 // per hashing worker, per region: bit indices
	held    int          // probes in pending
}

// NewLoader returns a Loader for f that hashes keys and sets bits on up to
// workers goroutines (≤ 0 means GOMAXPROCS). The bits are the same for any
// worker count.
func (f *Filter) NewLoader(workers int) *Loader {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	regions := int((uint64(f.params.BitCount)-1)>>loaderRegionShift) + 1
	l := &Loader{f: f, workers: workers, regions: regions, limit: loaderPendingProbes}
	l.pending = make([][][]uint32, workers)
	for w := range l.pending {
		l.pending[w] = make([][]uint32, regions)
	}
	return l
}

// AddStrings adds keys (the UTF-8 bytes of each string, as
// [Filter.AddString]).
func (l *Loader) AddStrings(keys []string) {
	if l.regions == 1 { // the whole array fits a region: nothing to order
		for _, k := range keys {
			l.f.AddString(k)
		}
		return
	}
	workers := min(l.workers, max(1, len(keys)/loaderMinKeysPerWorker))
	if workers == 1 {
		l.collect(0, keys)
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			part := keys[w*len(keys)/workers : (w+1)*len(keys)/workers]
			wg.Go(func() { l.collect(w, part) })
		}
		wg.Wait()
	}
	if l.held += len(keys) * int(l.f.params.HashCount); l.held >= l.limit {
		l.Flush()
	}
}

// collect appends the probes of keys to worker w's pending indices.
func (l *Loader) collect(w int, keys []string) {
	pending, div, k := l.pending[w], l.f.div, l.f.params.HashCount
	for _, key := range keys {
		h1, h2 := FNV1a32(key), Murmur3(key, l.f.params.Seed)
		for range k {
			idx := div.mod(h1)
			r := idx >> loaderRegionShift
			pending[r] = append(pending[r], idx)
			h1 += h2
		}
	}
}

// Flush sets the bits of every key added so far.
func (l *Loader) Flush() {
	if l.held == 0 {
		return
	}
	workers := min(l.workers, l.regions)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			b := l.f.bits
			for r := w * l.regions / workers; r < (w+1)*l.regions/workers; r++ {
				for _, pending := range l.pending {
					for _, idx := range pending[r] {
						b[idx>>3] |= 1 << (idx & 7)
					}
					pending[r] = pending[r][:0]
				}
			}
		})
	}
	wg.Wait()
	l.held = 0
}
