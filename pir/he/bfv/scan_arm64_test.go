//go:build !purego

package bfv

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/kernels"
)

// TestScanNEON calls the NEON scan kernel directly, whatever the selected
// level, and compares it with the portable loop on the same inputs:
// random words, all 2^32−1 (the largest products) with accumulators that
// wrap modulo 2^64, batches of 1 to 5 rows, lengths 16 to 4096.
func TestScanNEON(t *testing.T) {
	if want := kernels.Selected() == kernels.NEON; haveScanSIMD != want {
		t.Fatalf("haveScanSIMD=%v at level %v", haveScanSIMD, kernels.Selected())
	}
	rng := rand.New(rand.NewPCG(17, 8))
	for _, n := range []int{16, 32, 48, 4096} {
		for nb := 1; nb <= 5; nb++ {
			maximal := nb%2 == 0
			val := func() uint32 {
				if maximal {
					return 1<<32 - 1
				}
				return rng.Uint32()
			}
			acc0, acc1 := make([]uint64, n), make([]uint64, n)
			for j := range n {
				acc0[j], acc1[j] = rng.Uint64(), ^uint64(j)
			}
			x0s, x1s, ws := make([][]uint32, nb), make([][]uint32, nb), make([][]uint32, nb)
			for b := range nb {
				x0s[b], x1s[b], ws[b] = make([]uint32, n), make([]uint32, n), make([]uint32, n)
				for j := range n {
					x0s[b][j], x1s[b][j], ws[b][j] = val(), val(), val()
				}
			}
			g0, g1, w0, w1 := slices.Clone(acc0), slices.Clone(acc1), slices.Clone(acc0), slices.Clone(acc1)
			mulAccScanNEON(g0, g1, x0s, x1s, ws)
			for b := range nb {
				mulAccScanGo(w0, w1, x0s[b], x1s[b], ws[b])
			}
			if !slices.Equal(g0, w0) || !slices.Equal(g1, w1) {
				t.Fatalf("n=%d, %d rows: mulAccScanNEON differs from the portable loop", n, nb)
			}
		}
	}
}
