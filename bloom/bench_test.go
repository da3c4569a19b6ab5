package bloom

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	bnb "github.com/bits-and-blooms/bloom/v3"
	"github.com/blindlist/blindlist/internal/cputime"
)

// benchKeys returns n distinct URL-like keys of 20–40 bytes.
func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("cdn%d.tracker-%d.example.com/ads/%d", i, i%4099, i%97)
	}
	return keys
}

// reportRates reports keys per second of wall time (Mkeys/s) and, where
// the platform measures it, keys per second of process CPU time
// (cpu-Mkeys/s). On a loaded machine the wall rate drops with the share of
// the cores the benchmark gets; the CPU rate does not, so for one worker it
// is the one-core throughput.
func reportRates(b *testing.B, keys int, cpu time.Duration) {
	b.ReportMetric(float64(keys)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mkeys/s")
	if cpu > 0 {
		b.ReportMetric(float64(keys)*float64(b.N)/cpu.Seconds()/1e6, "cpu-Mkeys/s")
	}
}

// BenchmarkBuild measures whole-filter builds: 1M keys at p = 1e-3 (k = 10)
// and the shape of Apple's BloomFilterTool reference, 200,003 keys at
// p = 1e-5 (k = 17), on one core and on all cores, next to
// bits-and-blooms/bloom/v3 filling a filter of the same m and k.
func BenchmarkBuild(b *testing.B) {
	for _, shape := range []struct {
		n int
		p float64
	}{{1_000_000, 1e-3}, {200_003, 1e-5}} {
		keys := benchKeys(shape.n)
		m, k, err := Size(shape.n, shape.p)
		if err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprintf("n=%d/p=%g/k=%d", shape.n, shape.p, k)
		for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("%s/blindlist/workers=%d", name, workers), func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := cputime.Process()
				for b.Loop() {
					if _, err := Build(keys, shape.p, 42, workers); err != nil {
						b.Fatal(err)
					}
				}
				reportRates(b, shape.n, cputime.Process()-cpu0)
			})
		}
		b.Run(name+"/bits-and-blooms/workers=1", func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				f := bnb.New(uint(m), uint(k))
				for _, key := range keys {
					f.AddString(key)
				}
			}
			reportRates(b, shape.n, cputime.Process()-cpu0)
		})
	}
}

// BenchmarkTest measures one membership test in a 1M-key filter.
func BenchmarkTest(b *testing.B) {
	keys := benchKeys(1_000_000)
	f, err := Build(keys, 1e-3, 42, 0)
	if err != nil {
		b.Fatal(err)
	}
	g := bnb.New(uint(f.Params().BitCount), uint(f.Params().HashCount))
	for _, k := range keys {
		g.AddString(k)
	}
	b.Run("blindlist", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			f.TestString(keys[i%len(keys)])
			i++
		}
	})
	b.Run("bits-and-blooms", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			g.TestString(keys[i%len(keys)])
			i++
		}
	})
}

// BenchmarkLargeFilter measures adding keys to the filter of a 10^8-key
// list (p = 1e-3: 1,437,758,786 bits, 180 MB, k = 10), far larger than any
// cache: key by key (AddString, one core) against a Loader on one core
// and on all. The 2^20 distinct keys are added eight times per op, with
// the same cache behaviour as 8·2^20 distinct keys (their ~10^7 probes
// spread over the whole array).
func BenchmarkLargeFilter(b *testing.B) {
	const rounds = 8
	keys := benchKeys(1 << 20)
	m, k, err := Size(100_000_000, 1e-3)
	if err != nil {
		b.Fatal(err)
	}
	f, err := FromBits(Params{BitCount: m, HashCount: k, Seed: 42}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("AddString/workers=1", func(b *testing.B) {
		cpu0 := cputime.Process()
		for b.Loop() {
			for range rounds {
				for _, key := range keys {
					f.AddString(key)
				}
			}
		}
		reportRates(b, rounds*len(keys), cputime.Process()-cpu0)
	})
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("Loader/workers=%d", workers), func(b *testing.B) {
			l := f.NewLoader(workers)
			cpu0 := cputime.Process()
			for b.Loop() {
				for range rounds {
					for i := 0; i < len(keys); i += 1 << 16 { // generation's batches
						l.AddStrings(keys[i : i+1<<16])
					}
				}
				l.Flush()
			}
			reportRates(b, rounds*len(keys), cputime.Process()-cpu0)
		})
	}
}
