//go:build !purego

package ring

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/kernels"
	"github.com/blindlist/blindlist/pir/he/modq"
)

// TestNTTNEON calls the NEON kernels directly, whatever the selected
// level, and compares them with the portable 32-bit kernels and the 64-bit
// reference on the same inputs: random, all q−1, all 4q−1 (the largest
// lazy forward input), alternating 0 and q−1, for every preset modulus
// below 2^30 and the largest primes below 2^30 and 2^29 (the SQDMULH
// kernels' bound; they run for every modulus below it, the UMULL kernels
// for all), at N = 16 to 128 (every stage layout: the fused first or last
// two stages alone or with radix-4 and single stages) and 4096, 8192.
func TestNTTNEON(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 64))
	sizes := []int{16, 32, 64, 128, 4096, 8192}
	if testing.Short() {
		sizes = []int{16, 32, 64, 128, 4096}
	}
	type kernel struct {
		name             string
		forward, inverse func(a []uint64, w, ws []uint32, q, nInv, nInvS, nInvW, nInvWS uint64)
		max              uint64
	}
	neon := []kernel{
		{"32", func(a []uint64, w, ws []uint32, q, _, _, _, _ uint64) { forward32NEON(a, w, ws, q) }, inverse32NEON, lane32Max},
		{"31", func(a []uint64, w, ws []uint32, q, _, _, _, _ uint64) { forward31NEON(a, w, ws, q) }, inverse31NEON, neon31Max},
	}
	for _, n := range sizes {
		moduli := kernelModuli(n)
		for q := neon31Max - neon31Max%(2*uint64(n)) + 1; ; q -= 2 * uint64(n) {
			if q < neon31Max && modq.IsPrime(q) {
				moduli = append(moduli, q)
				break
			}
		}
		for _, q := range moduli {
			if q >= lane32Max {
				continue
			}
			tab, err := NewTable(q, n)
			if err != nil {
				t.Fatal(err)
			}
			if want := kernels.Selected() == kernels.NEON; tab.simd != want {
				t.Fatalf("N=%d q=%d: simd=%v at level %v", n, q, tab.simd, kernels.Selected())
			}
			// The uint32 tables Table builds when it selects NEON (here
			// also at the portable level, where it does not).
			w32, ws32, wi32, wis32 := narrow32(tab.w), narrow32(tab.ws32), narrow32(tab.wi), narrow32(tab.wis32)
			inputs := map[string][]uint64{}
			for k := range 2 {
				x := make([]uint64, n)
				for i := range x {
					x[i] = rng.Uint64N(q)
				}
				inputs[fmt.Sprint("random", k)] = x
			}
			top, alt := make([]uint64, n), make([]uint64, n)
			for i := range top {
				top[i] = q - 1
				alt[i] = (q - 1) * uint64(i&1)
			}
			inputs["q-1"], inputs["alternating"] = top, alt
			lazyTop := make([]uint64, n)
			for i := range lazyTop {
				lazyTop[i] = 4*q - 1
			}
			for name, x := range inputs {
				for _, k := range neon {
					if q >= k.max {
						continue
					}
					for _, in := range [][]uint64{x, lazyTop} {
						want, want32, got := slices.Clone(in), slices.Clone(in), slices.Clone(in)
						tab.forward64(want)
						tab.forward32(want32)
						k.forward(got, w32, ws32, q, 0, 0, 0, 0)
						if !slices.Equal(got, want) || !slices.Equal(want32, want) {
							t.Fatalf("N=%d q=%d %s (max %d): NEON %s forward differs from the portable kernels", n, q, name, slices.Max(in), k.name)
						}
					}
					want, want32, got := slices.Clone(x), slices.Clone(x), slices.Clone(x)
					tab.inverse64(want)
					tab.inverse32(want32)
					k.inverse(got, wi32, wis32, q, tab.nInv, tab.nInvS32, tab.nInvW, tab.nInvWS32)
					if !slices.Equal(got, want) || !slices.Equal(want32, want) {
						t.Fatalf("N=%d q=%d %s: NEON %s inverse differs from the portable kernels", n, q, name, k.name)
					}
				}
			}
		}
	}
}
