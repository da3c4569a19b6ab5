package bfv

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/internal/cputime"
)

// TestMulAccNarrowMatchesPortable compares MulAccNarrow (AVX2 when
// selected) with the portable loop on the same inputs: random values, the
// edges 0, q−1 for bound primes and 2^32−1, every length around the
// eight-slot blocks, and accumulators that wrap modulo 2^64 (both must
// wrap alike).
func TestMulAccNarrowMatchesPortable(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 4))
	edges := []uint64{0, 1, 268369920, 1<<30 - 36, 8589852672 & (1<<32 - 1), 1<<32 - 1}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 4096, 4100} {
		for pattern := range 3 {
			acc0, acc1 := make([]uint64, n), make([]uint64, n)
			x0, x1, w := make([]uint64, n), make([]uint64, n), make([]uint32, n)
			for j := range n {
				switch pattern {
				case 0: // random
					x0[j], x1[j], w[j] = rng.Uint64N(1<<32), rng.Uint64N(1<<32), rng.Uint32()
					acc0[j], acc1[j] = rng.Uint64(), rng.Uint64()
				case 1: // edges, mixed
					x0[j], x1[j] = edges[rng.IntN(len(edges))], edges[rng.IntN(len(edges))]
					w[j] = uint32(edges[rng.IntN(len(edges))])
					acc0[j], acc1[j] = edges[rng.IntN(len(edges))], ^uint64(0)-edges[rng.IntN(len(edges))]
				case 2: // all maximal
					x0[j], x1[j], w[j] = 1<<32-1, 1<<32-1, 1<<32-1
					acc0[j], acc1[j] = 1<<33-2, 0
				}
			}
			g0, g1 := slices.Clone(acc0), slices.Clone(acc1)
			MulAccNarrow(g0, g1, x0, x1, w)
			mulAccNarrowGo(acc0, acc1, x0, x1, w)
			if !slices.Equal(g0, acc0) || !slices.Equal(g1, acc1) {
				t.Fatalf("n=%d pattern %d: MulAccNarrow (simd %v) differs from the portable loop", n, pattern, haveScanSIMD)
			}
		}
	}
}

// TestMulAccNarrowBatchMatchesPortable compares MulAccNarrowBatch with
// one portable MulAccNarrow per row, on random and edge inputs, batches of
// 1 to 9 rows and lengths around the eight-slot blocks.
func TestMulAccNarrowBatchMatchesPortable(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	edges := []uint64{0, 1, 268369920, 1<<30 - 36, 1<<32 - 1}
	pick := func(edge bool) uint64 {
		if edge {
			return edges[rng.IntN(len(edges))]
		}
		return rng.Uint64N(1 << 32)
	}
	for _, n := range []int{1, 7, 8, 9, 24, 4096, 4103} {
		for nb := 1; nb <= 9; nb++ {
			edge := nb%2 == 0
			acc0, acc1 := make([]uint64, n), make([]uint64, n)
			for j := range n {
				acc0[j], acc1[j] = rng.Uint64(), pick(edge)
			}
			x0s, x1s, ws := make([][]uint64, nb), make([][]uint64, nb), make([][]uint32, nb)
			for b := range nb {
				x0s[b], x1s[b], ws[b] = make([]uint64, n+b), make([]uint64, n+b), make([]uint32, n+b)
				for j := range n + b {
					x0s[b][j], x1s[b][j], ws[b][j] = pick(edge), pick(edge), uint32(pick(edge))
				}
			}
			g0, g1 := slices.Clone(acc0), slices.Clone(acc1)
			MulAccNarrowBatch(g0, g1, x0s, x1s, ws)
			for b := range nb {
				mulAccNarrowGo(acc0, acc1, x0s[b][:n], x1s[b][:n], ws[b][:n])
			}
			if !slices.Equal(g0, acc0) || !slices.Equal(g1, acc1) {
				t.Fatalf("n=%d, %d rows: MulAccNarrowBatch (simd %v) differs from the portable loop", n, nb, haveScanSIMD)
			}
		}
	}
	// No rows: the accumulators are unchanged.
	acc := []uint64{1, 2, 3, 4, 5, 6, 7, 8}
	MulAccNarrowBatch(acc, acc, nil, nil, nil)
	if !slices.Equal(acc, []uint64{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Fatal("an empty batch changed the accumulators")
	}
}

// TestMaxNarrowTerms checks the overflow bound exactly for bound moduli:
// MaxNarrowTerms(q) products (q−1)² added to q−1 stay below 2^64, one more
// would not.
func TestMaxNarrowTerms(t *testing.T) {
	for _, q := range []uint64{3, 65537, 268369921, 1<<30 - 35, 4294967291} {
		k := MaxNarrowTerms(q)
		p := (q - 1) * (q - 1)
		hi, lo := bits.Mul64(k, p)
		sum, carry := bits.Add64(lo, q-1, 0)
		if hi != 0 || carry != 0 {
			t.Errorf("q=%d: %d terms overflow", q, k)
		}
		hi, lo = bits.Mul64(k+1, p)
		_, carry = bits.Add64(lo, q-1, 0)
		if hi == 0 && carry == 0 {
			t.Errorf("q=%d: %d terms would still fit (sum %d)", q, k+1, sum)
		}
	}
}

// BenchmarkMulAccNarrow reports plaintext bytes per second (4 per slot)
// for one leaf row against one plaintext row, accumulators in cache
// (N = 4096) and not (N = 1<<20).
func BenchmarkMulAccNarrow(b *testing.B) {
	for _, n := range []int{4096, 1 << 20} {
		acc0, acc1 := make([]uint64, n), make([]uint64, n)
		x0, x1, w := make([]uint64, n), make([]uint64, n), make([]uint32, n)
		for j := range n {
			x0[j], x1[j], w[j] = uint64(j), uint64(3*j), uint32(j)
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(4 * n))
			for b.Loop() {
				MulAccNarrow(acc0, acc1, x0, x1, w)
			}
		})
		b.Run(fmt.Sprintf("n=%d/portable", n), func(b *testing.B) {
			b.SetBytes(int64(4 * n))
			for b.Loop() {
				mulAccNarrowGo(acc0, acc1, x0, x1, w)
			}
		})
		for _, nb := range []int{4, 8} {
			x0s, x1s, ws := make([][]uint64, nb), make([][]uint64, nb), make([][]uint32, nb)
			for b := range nb {
				x0s[b], x1s[b], ws[b] = x0, x1, slices.Clone(w)
			}
			b.Run(fmt.Sprintf("n=%d/batch=%d", n, nb), func(b *testing.B) {
				b.SetBytes(int64(4 * n * nb))
				for b.Loop() {
					MulAccNarrowBatch(acc0, acc1, x0s, x1s, ws)
				}
			})
		}
	}
}

// BenchmarkScanShape runs the first-dimension scan of a one-shard,
// 1M-key database table (n_4096_logq_27_28_28_logt_5: 97 rows × 31
// columns of plaintexts, 2 RNS rows, 98 MB of uint32 plaintext words, 31
// accumulators of 128 KiB) with one leaf per pass (MulAccNarrow) and with
// batches of 8 leaves (MulAccNarrowBatch, as package pir does). It reports
// plaintext bytes per CPU second (the machine may be shared).
func BenchmarkScanShape(b *testing.B) {
	const n, l, rows, cols = 4096, 2, 97, 31
	pts := make([][]uint32, rows*cols)
	for i := range pts {
		pts[i] = make([]uint32, l*n)
		for j := range pts[i] {
			pts[i][j] = uint32(i*j) & (1<<28 - 1)
		}
	}
	leaves := make([][]uint64, rows) // 2 polys × l rows × n
	for r := range leaves {
		leaves[r] = make([]uint64, 2*l*n)
		for j := range leaves[r] {
			leaves[r][j] = uint64(r+j) & (1<<28 - 1)
		}
	}
	accs := make([][]uint64, cols)
	for c := range accs {
		accs[c] = make([]uint64, 2*l*n)
	}
	bytes := int64(4 * l * n * rows * cols)
	for _, batch := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			b.SetBytes(bytes)
			var x0s, x1s [][]uint64
			var ws [][]uint32
			cpu0 := cputime.Process()
			for b.Loop() {
				for r0 := 0; r0 < rows; r0 += batch {
					r1 := min(r0+batch, rows)
					for c := range cols {
						acc := accs[c]
						for i := range l {
							x0s, x1s, ws = x0s[:0], x1s[:0], ws[:0]
							for r := r0; r < r1; r++ {
								x0s = append(x0s, leaves[r][i*n:(i+1)*n])
								x1s = append(x1s, leaves[r][(l+i)*n:(l+i+1)*n])
								ws = append(ws, pts[r*cols+c][i*n:(i+1)*n])
							}
							if batch == 1 {
								MulAccNarrow(acc[i*n:(i+1)*n], acc[(l+i)*n:(l+i+1)*n], x0s[0], x1s[0], ws[0])
							} else {
								MulAccNarrowBatch(acc[i*n:(i+1)*n], acc[(l+i)*n:(l+i+1)*n], x0s, x1s, ws)
							}
						}
					}
				}
			}
			cpu := (cputime.Process() - cpu0).Seconds()
			b.ReportMetric(float64(bytes)*float64(b.N)/cpu/1e9, "GB/cpu-s")
			b.ReportMetric(cpu*1e3/float64(b.N), "cpu-ms/op")
		})
	}
}
