package bfv

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/internal/cputime"
	"github.com/blindlist/blindlist/pir/he/kernels"
	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// TestMulAccScanMatchesPortable compares MulAccScan (the kernel of the
// selected level) with the portable loop, one row at a time, on the same
// inputs: random words, the edges 0, 1, q−1 of bound primes and 2^32−1,
// every length around the 16-slot blocks (tails included), batches of 1
// to 17 rows, and accumulators that wrap modulo 2^64 (both must wrap
// alike).
func TestNarrowRowMatchesPortable(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 5))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 24, 31, 4096, 4100, 4103} {
		src := make([]uint64, n+3) // longer than dst: only the first n count
		for j := range src {
			switch j % 3 {
			case 0:
				src[j] = rng.Uint64() // high bits set: both truncate
			case 1:
				src[j] = uint64(rng.Uint32())
			default:
				src[j] = 1<<32 - 1
			}
		}
		got, want := make([]uint32, n), make([]uint32, n)
		NarrowRow(got, src)
		narrowRowGo(want, src)
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: NarrowRow (%s) differs from the portable loop", n, kernels.Selected())
		}
		for j, v := range want {
			if v != uint32(src[j]) {
				t.Fatalf("n=%d: portable NarrowRow slot %d = %d, want %d", n, j, v, uint32(src[j]))
			}
		}
	}
}

func TestMulAccScanMatchesPortable(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 4))
	edges := []uint32{0, 1, 268369920, 1<<30 - 36, 1<<31 - 2, 1<<32 - 1}
	for _, n := range []int{1, 8, 15, 16, 17, 24, 31, 32, 48, 4096, 4100, 4111} {
		for nb := 1; nb <= 17; nb++ {
			pattern := nb % 3 // 0 random, 1 edges mixed, 2 all maximal
			pick := func() uint32 {
				switch pattern {
				case 0:
					return rng.Uint32()
				case 1:
					return edges[rng.IntN(len(edges))]
				}
				return 1<<32 - 1
			}
			acc0, acc1 := make([]uint64, n), make([]uint64, n)
			for j := range n {
				acc0[j], acc1[j] = rng.Uint64(), uint64(pick())
			}
			x0s, x1s, ws := make([][]uint32, nb), make([][]uint32, nb), make([][]uint32, nb)
			for b := range nb {
				// Rows longer than the accumulators: only the first n count.
				x0s[b], x1s[b], ws[b] = make([]uint32, n+b), make([]uint32, n+b), make([]uint32, n+b)
				for j := range n + b {
					x0s[b][j], x1s[b][j], ws[b][j] = pick(), pick(), pick()
				}
			}
			g0, g1 := slices.Clone(acc0), slices.Clone(acc1)
			MulAccScan(g0, g1, x0s, x1s, ws)
			for b := range nb {
				mulAccScanGo(acc0, acc1, x0s[b][:n], x1s[b][:n], ws[b][:n])
			}
			if !slices.Equal(g0, acc0) || !slices.Equal(g1, acc1) {
				t.Fatalf("n=%d, %d rows, pattern %d: MulAccScan (%s) differs from the portable loop", n, nb, pattern, kernels.Selected())
			}
		}
	}
	// No rows: the accumulators are unchanged.
	acc := make([]uint64, 32)
	for j := range acc {
		acc[j] = uint64(j)
	}
	want := slices.Clone(acc)
	MulAccScan(acc, acc, nil, nil, nil)
	if !slices.Equal(acc, want) {
		t.Fatal("an empty batch changed the accumulators")
	}
}

// TestScanIndex checks the scan order: ScanIndex is a permutation of the
// slots, and one row scanned into zero accumulators holds x[j]·w[j] at
// ScanIndex(j) (computed with math/bits, independently of the kernels).
func TestScanIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 30))
	for _, n := range []int{1, 15, 16, 17, 40, 4096} {
		seen := make([]bool, n)
		for j := range n {
			p := ScanIndex(j, n)
			if p < 0 || p >= n || seen[p] {
				t.Fatalf("n=%d: ScanIndex(%d) = %d is out of range or repeated", n, j, p)
			}
			seen[p] = true
		}
		x0, x1, w := make([]uint32, n), make([]uint32, n), make([]uint32, n)
		for j := range n {
			x0[j], x1[j], w[j] = rng.Uint32(), rng.Uint32(), rng.Uint32()
		}
		acc0, acc1 := make([]uint64, n), make([]uint64, n)
		MulAccScan(acc0, acc1, [][]uint32{x0}, [][]uint32{x1}, [][]uint32{w})
		for j := range n {
			hi0, p0 := bits.Mul64(uint64(x0[j]), uint64(w[j]))
			hi1, p1 := bits.Mul64(uint64(x1[j]), uint64(w[j]))
			if hi0 != 0 || hi1 != 0 || acc0[ScanIndex(j, n)] != p0 || acc1[ScanIndex(j, n)] != p1 {
				t.Fatalf("n=%d slot %d: accumulators (%d, %d) at %d, want (%d, %d)", n, j,
					acc0[ScanIndex(j, n)], acc1[ScanIndex(j, n)], ScanIndex(j, n), p0, p1)
			}
		}
	}
	// The order inside a full block, spelled out: even slots, then odd.
	want := []int{0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15}
	for j, p := range want {
		if got := ScanIndex(16+j, 48); got != 16+p {
			t.Errorf("ScanIndex(%d, 48) = %d, want %d", 16+j, got, 16+p)
		}
	}
}

// TestAddScanRow checks AddScanRow against ScanIndex and plain %: random
// and maximal accumulators, outputs from 0 to q−1, lengths with and
// without a tail.
func TestAddScanRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	// 536873337: 2^32 and 2^64 mod q sum to 1.7q, so the AVX2 kernel's
	// Montgomery step reaches [2q, 3q) and needs both its subtractions.
	for _, q := range []uint64{65537, 268369921, 536873337, 1<<32 - 5} {
		m := modq.MustNew(q)
		for _, n := range []int{8, 16, 40, 4096} {
			acc, o := make([]uint64, n), make([]uint64, n)
			for j := range n {
				acc[j], o[j] = rng.Uint64(), rng.Uint64N(q)
				if j%5 == 0 {
					acc[j], o[j] = ^uint64(0), q-1
				}
			}
			want := make([]uint64, n)
			for j := range n {
				want[j] = (o[j] + acc[ScanIndex(j, n)]%q) % q
			}
			AddScanRow(o, acc, &m)
			if !slices.Equal(o, want) {
				t.Fatalf("q=%d n=%d: AddScanRow differs from the ScanIndex reference", q, n)
			}
		}
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

// BenchmarkMulAccScan reports plaintext bytes per second (4 per slot and
// row) for batches of rows against accumulators in cache (N = 4096).
func BenchmarkMulAccScan(b *testing.B) {
	const n = 4096
	acc0, acc1 := make([]uint64, n), make([]uint64, n)
	for _, nb := range []int{1, 2, 8, 16} {
		x0s, x1s, ws := make([][]uint32, nb), make([][]uint32, nb), make([][]uint32, nb)
		for r := range nb {
			x0s[r], x1s[r], ws[r] = make([]uint32, n), make([]uint32, n), make([]uint32, n)
			for j := range n {
				x0s[r][j], x1s[r][j], ws[r][j] = uint32(j+r), uint32(3*j), uint32(j)
			}
		}
		b.Run(fmt.Sprintf("n=%d/batch=%d", n, nb), func(b *testing.B) {
			b.SetBytes(int64(4 * n * nb))
			for b.Loop() {
				MulAccScan(acc0, acc1, x0s, x1s, ws)
			}
		})
		b.Run(fmt.Sprintf("n=%d/batch=%d/portable", n, nb), func(b *testing.B) {
			b.SetBytes(int64(4 * n * nb))
			for b.Loop() {
				for r := range nb {
					mulAccScanGo(acc0, acc1, x0s[r], x1s[r], ws[r])
				}
			}
		})
	}
}

// BenchmarkMulAccScanRows measures one 4-leaf MulAccScan call over whole
// rows (n = 4096) laid out as package pir lays them out: the plaintexts
// contiguous, 2 rows each (32 KiB apart, as in a shard file), the leaves'
// rows in one buffer, either back to back (pad=0: every row starts at a
// multiple of 4 KiB, so all of a call's rows share L1 sets) or pad words
// further apart each (firstDimAcc.leafRow's 16 words: one set further per
// row). It reports plaintext bytes per second.
func BenchmarkMulAccScanRows(b *testing.B) {
	const n, l, leaves = 4096, 2, 4
	for _, pad := range []int{0, 16} {
		acc0, acc1 := make([]uint64, n), make([]uint64, n)
		plain := make([]uint32, leaves*l*n)
		stride := n + pad
		buf := make([]uint32, leaves*2*l*stride)
		x0s, x1s, ws := make([][]uint32, leaves), make([][]uint32, leaves), make([][]uint32, leaves)
		for r := range leaves {
			ws[r] = plain[r*l*n : r*l*n+n]
			x0s[r] = buf[(r*2*l)*stride : (r*2*l)*stride+n]
			x1s[r] = buf[(r*2*l+l)*stride : (r*2*l+l)*stride+n]
			for j := range n {
				x0s[r][j], x1s[r][j], ws[r][j] = uint32(j+r), uint32(3*j), uint32(j)
			}
		}
		b.Run(fmt.Sprintf("pad=%d", pad), func(b *testing.B) {
			b.SetBytes(int64(4 * n * leaves))
			for b.Loop() {
				MulAccScan(acc0, acc1, x0s, x1s, ws)
			}
		})
	}
}

// BenchmarkScanShape runs the first-dimension scan of a one-shard,
// 1M-key database table (n_4096_logq_27_28_28_logt_5: 97 rows × 31
// columns of plaintexts, 2 RNS rows, 98 MB of uint32 plaintext words, 31
// accumulators of 128 KiB). The leaves (the expanded query rows, uint32
// words) of a batch of rows sit in one buffer; the slots are scanned in
// tiles, and each MulAccScan call adds a few leaves of the batch to a
// column's accumulator tile; pad is the distance in words between leaf
// rows beyond their length. batch=8/tile=4096/call=4/pad=16 is what package
// pir does (firstdim.go: firstDimAcc.leafRow); batch=16/tile=1024/call=4/
// pad=0 what it did before, with rows that shared L1 sets, and
// batch=4/tile=4096/call=4/pad=0 the untiled scan before that. It reports
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
	accs := make([][]uint64, cols)
	for c := range accs {
		accs[c] = make([]uint64, 2*l*n)
	}
	bytes := int64(4 * l * n * rows * cols)
	for _, cf := range []struct{ batch, tile, call, pad int }{
		{4, 4096, 4, 0}, {16, 1024, 4, 0}, {16, 1024, 4, 16}, {8, 4096, 4, 16},
	} {
		b.Run(fmt.Sprintf("batch=%d/tile=%d/call=%d/pad=%d", cf.batch, cf.tile, cf.call, cf.pad), func(b *testing.B) {
			b.SetBytes(bytes)
			// batch × 2 polys × l rows of n words, cf.pad words apart
			// (package pir's firstDimAcc.leafRow uses 16)
			stride := n + cf.pad
			leaves := make([]uint32, cf.batch*2*l*stride)
			for j := range leaves {
				leaves[j] = uint32(j) & (1<<28 - 1)
			}
			row := func(r, pi, i int) []uint32 {
				off := (r*2*l + pi*l + i) * stride
				return leaves[off : off+n]
			}
			var x0s, x1s, ws [][]uint32
			cpu0 := cputime.Process()
			for b.Loop() {
				for r0 := 0; r0 < rows; r0 += cf.batch {
					r1 := min(r0+cf.batch, rows)
					for t0 := 0; t0 < n; t0 += cf.tile {
						t1 := t0 + cf.tile
						for c := range cols {
							acc := accs[c]
							for i := range l {
								for u0 := r0; u0 < r1; u0 += cf.call {
									x0s, x1s, ws = x0s[:0], x1s[:0], ws[:0]
									for r := u0; r < min(u0+cf.call, r1); r++ {
										x0s = append(x0s, row(r-r0, 0, i)[t0:t1])
										x1s = append(x1s, row(r-r0, 1, i)[t0:t1])
										ws = append(ws, pts[r*cols+c][i*n+t0:i*n+t1])
									}
									MulAccScan(acc[i*n+t0:i*n+t1], acc[(l+i)*n+t0:(l+i)*n+t1], x0s, x1s, ws)
								}
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

// BenchmarkScanShapeWide runs the first-dimension scan of a 1M-key table
// (97 rows × 31 columns of plaintexts) for n_4096_logq_16_33_33_logt_4,
// whose 33-bit modulus keeps the database in uint64 words: "columns" as
// package pir does it (InnerProductColumns, eight columns per call), "each"
// with one InnerProduct per column, which re-reads the 97 leaves (12.7 MB)
// for every column. 197 MB of plaintext words; it reports plaintext bytes
// (8 per residue) per CPU second.
func BenchmarkScanShapeWide(b *testing.B) {
	const name, rows, cols, group = "n_4096_logq_16_33_33_logt_4", 97, 31, 8
	p, err := Preset(name)
	if err != nil {
		b.Fatal(err)
	}
	n, l := p.N(), p.MaxLevel()
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(poly *ring.Poly) {
		for i := range l {
			q := p.keyB[i].M.Q
			row := poly.Row(i)
			for j := range row {
				row[j] = rng.Uint64N(q)
			}
		}
	}
	cts := make([]*Ciphertext, rows)
	for r := range cts {
		cts[r] = p.NewCiphertext(2, l, Eval)
		random(cts[r].Polys[0])
		random(cts[r].Polys[1])
	}
	pts := make([][]*Plaintext, cols)
	outs := make([]*Ciphertext, cols)
	for c := range pts {
		pts[c] = make([]*Plaintext, rows)
		for r := range pts[c] {
			pts[c][r] = &Plaintext{Poly: ring.NewPoly(n, l), Format: Eval}
			random(pts[c][r].Poly)
		}
		outs[c] = &Ciphertext{}
	}
	ev := NewEvaluator(p)
	bytes := int64(8 * l * n * rows * cols)
	for _, mode := range []string{"columns", "each"} {
		b.Run(fmt.Sprintf("%s/%s", name, mode), func(b *testing.B) {
			b.SetBytes(bytes)
			cpu0 := cputime.Process()
			for b.Loop() {
				for c0 := 0; c0 < cols; c0 += group {
					c1 := min(c0+group, cols)
					if mode == "columns" {
						if err := ev.InnerProductColumns(outs[c0:c1], cts, pts[c0:c1]); err != nil {
							b.Fatal(err)
						}
						continue
					}
					for c := c0; c < c1; c++ {
						if err := ev.InnerProduct(outs[c], cts, pts[c]); err != nil {
							b.Fatal(err)
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

// TestInnerProductColumns checks InnerProductColumns against one
// InnerProduct per column, for the presets of every inner-product kernel
// (moduli below 2^30, 2^30..2^50, 55 and 60 bits), with random residues,
// the edges 0 and q−1, zero (nil) plaintexts, and more terms than the
// 32-bit kernel sums before reducing (29-bit modulus); and that it refuses
// mismatched operands.
func TestInnerProductColumns(t *testing.T) {
	for _, name := range []string{"n_4096_logq_27_28_28_logt_5", "n_4096_logq_16_33_33_logt_4",
		"n_8192_logq_29_60_60_logt_15", "n_8192_logq_3x55_logt_24", "insecure_n_512_logq_4x60_logt_20",
		"insecure_n_8_logq_5x18_logt_5"} {
		t.Run(name, func(t *testing.T) {
			p, err := Preset(name)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(7, uint64(p.n)))
			l := p.MaxLevel()
			fill := func(poly *ring.Poly, edge bool) {
				for i := range l {
					q := p.keyB[i].M.Q
					for j := range poly.Row(i) {
						switch {
						case !edge:
							poly.Row(i)[j] = rng.Uint64N(q)
						case rng.IntN(2) == 0:
							poly.Row(i)[j] = q - 1
						default:
							poly.Row(i)[j] = 0
						}
					}
				}
			}
			// 70 terms: more than the 64 products of a 29-bit modulus that
			// the 32-bit kernel sums before reducing.
			const terms, cols = 70, 3
			cts := make([]*Ciphertext, terms)
			for i := range cts {
				cts[i] = p.NewCiphertext(2, l, Eval)
				fill(cts[i].Polys[0], i%5 == 0)
				fill(cts[i].Polys[1], i%7 == 0)
			}
			pts := make([][]*Plaintext, cols)
			for c := range pts {
				pts[c] = make([]*Plaintext, terms)
				for i := range pts[c] {
					if (i+c)%6 == 5 {
						continue // a zero plaintext
					}
					pts[c][i] = &Plaintext{Poly: ring.NewPoly(p.n, l), Format: Eval}
					fill(pts[c][i].Poly, i%4 == 0)
				}
			}
			ev := NewEvaluator(p)
			outs := make([]*Ciphertext, cols)
			for c := range outs {
				outs[c] = &Ciphertext{}
			}
			if err := ev.InnerProductColumns(outs, cts, pts); err != nil {
				t.Fatal(err)
			}
			for c := range cols {
				want := &Ciphertext{}
				if err := ev.InnerProduct(want, cts, pts[c]); err != nil {
					t.Fatal(err)
				}
				for k := range want.Polys {
					if !slices.Equal(outs[c].Polys[k].Coeffs, want.Polys[k].Coeffs) {
						t.Fatalf("column %d poly %d (%s): InnerProductColumns differs from InnerProduct", c, k, kernels.Selected())
					}
				}
			}
			if err := ev.InnerProductColumns(outs[:2], cts, pts); err == nil {
				t.Error("3 columns into 2 outputs accepted")
			}
			if err := ev.InnerProductColumns(outs[:1], cts, [][]*Plaintext{pts[0][:terms-1]}); err == nil {
				t.Error("a column of 69 plaintexts for 70 ciphertexts accepted")
			}
		})
	}
}
