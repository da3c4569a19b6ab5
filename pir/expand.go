package pir

import (
	"fmt"
	"math/bits"
	"sync"

	"github.com/blindlist/blindlist/pir/he/bfv"
)

// Oblivious query expansion (pir-spec §3.5, Apple PirUtil.expand): a query
// ciphertext whose plaintext has coefficient j = 2^-h·v_j becomes n
// ciphertexts encrypting the constants v_j. Each split applies one
// automorphism σ_target (with target = 2^(logN−ℓ+1)+1), built from the
// largest key element g ≤ target applied r times when keys are compressed.

// expander holds what one expansion needs.
type expander struct {
	bp       *bfv.Params
	key      *EvaluationKey
	logN     int
	parallel int // goroutines allowed for subtrees (≥ 1)
}

// expand expands the query ciphertexts to outputCount ciphertexts, in order.
func (x *expander) expand(cts []*bfv.Ciphertext, outputCount int) ([]*bfv.Ciphertext, error) {
	n := x.bp.N()
	out := make([]*bfv.Ciphertext, 0, outputCount)
	remaining := outputCount
	for _, ct := range cts {
		c := min(remaining, n)
		remaining -= c
		res := make([]*bfv.Ciphertext, c)
		if err := x.expandOne(bfv.NewEvaluator(x.bp), ct, res, 1, ceilLog2(uint64(c)), x.parallel); err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

// expandOne writes the len(out) ciphertexts expanded from ct at level ℓ of a
// tree of height h into out, in Apple's interleaved order: out[2i] from the
// first half, out[2i+1] from the second.
func (x *expander) expandOne(ev *bfv.Evaluator, ct *bfv.Ciphertext, out []*bfv.Ciphertext, l, h, par int) error {
	n := len(out)
	if n == 1 {
		if l > h {
			out[0] = ct
			return nil
		}
		r := &bfv.Ciphertext{}
		if err := ev.Add(r, ct, ct); err != nil {
			return err
		}
		out[0] = r
		return nil
	}
	s := n / 2
	f := n - s
	p0, p1, err := x.split(ev, ct, l)
	if err != nil {
		return err
	}
	first := make([]*bfv.Ciphertext, f)
	second := make([]*bfv.Ciphertext, s)
	if par > 1 {
		var wg sync.WaitGroup
		var err0 error
		wg.Add(1)
		go func() {
			defer wg.Done()
			err0 = x.expandOne(bfv.NewEvaluator(x.bp), p0, first, l+1, h, par/2)
		}()
		err1 := x.expandOne(ev, p1, second, l+1, h, par-par/2)
		wg.Wait()
		if err0 != nil {
			return err0
		}
		if err1 != nil {
			return err1
		}
	} else {
		if err := x.expandOne(ev, p0, first, l+1, h, 1); err != nil {
			return err
		}
		if err := x.expandOne(ev, p1, second, l+1, h, 1); err != nil {
			return err
		}
	}
	for i := range s {
		out[2*i] = first[i]
		out[2*i+1] = second[i]
	}
	if f > s {
		out[2*s] = first[s]
	}
	return nil
}

// split returns (ct + σ(ct), (ct − σ(ct))·x^(−2^(ℓ−1))) for the level-ℓ
// automorphism σ.
func (x *expander) split(ev *bfv.Evaluator, ct *bfv.Ciphertext, l int) (*bfv.Ciphertext, *bfv.Ciphertext, error) {
	target := uint64(1)<<(x.logN-l+1) + 1
	g, reps, err := x.key.galoisSteps(target, x.logN)
	if err != nil {
		return nil, nil, err
	}
	c1 := ct
	for range reps {
		next := &bfv.Ciphertext{}
		if err := ev.ApplyGalois(next, c1, g, x.key.key); err != nil {
			return nil, nil, fmt.Errorf("pir: expansion: %w", err)
		}
		c1 = next
	}
	p0, p1, diff := &bfv.Ciphertext{}, &bfv.Ciphertext{}, &bfv.Ciphertext{}
	if err := ev.Sub(diff, ct, c1); err != nil {
		return nil, nil, err
	}
	if err := ev.MulPowerOfX(p1, diff, -(1 << (l - 1))); err != nil {
		return nil, nil, err
	}
	if err := ev.Add(p0, ct, c1); err != nil {
		return nil, nil, err
	}
	return p0, p1, nil
}

// galoisSteps returns the key element g and repetition count r with
// g^r ≡ target (mod 2N): g is the largest element of the key ≤ target
// (Apple's rule), and must be of the form 2^a + 1.
func (k *EvaluationKey) galoisSteps(target uint64, logN int) (uint64, int, error) {
	var g uint64
	for _, e := range k.elements {
		if uint64(e) <= target && uint64(e) > g {
			g = uint64(e)
		}
	}
	if g == 0 {
		return 0, 0, fmt.Errorf("pir: evaluation key has no Galois element ≤ %d for query expansion", target)
	}
	if (g-1)&(g-2) != 0 || g < 3 {
		return 0, 0, fmt.Errorf("pir: evaluation key element %d cannot build automorphism %d", g, target)
	}
	reps := 1 << (bits.Len64(target-1) - bits.Len64(g-1))
	m := uint64(2) << logN
	acc := uint64(1)
	for range reps {
		acc = acc * g % m
	}
	if acc != target%m {
		return 0, 0, fmt.Errorf("pir: evaluation key element %d does not reach automorphism %d", g, target)
	}
	return g, reps, nil
}
