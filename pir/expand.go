package pir

import (
	"errors"
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
//
// The whole tree runs in Eval form: the query ciphertexts are transformed
// once (by their first split), a split's automorphism is a slot permutation with its key switch
// finished in Eval form (bfv.Evaluator.ApplyGaloisEval), and X^(−2^(ℓ−1))
// a slot-wise product, so the leaves come out in the Eval form the first
// dimension multiplies them in. Per split at level l (l ciphertext
// moduli) that is l² + 3l + 2 NTTs, as many as one Coeff split, and no
// leaf is transformed (a Coeff tree spends 2l forward NTTs per leaf). All
// operations are exact, so every output is the NTT of Apple's.

// expander holds what one expansion needs.
type expander struct {
	bp  *bfv.Params
	key *EvaluationKey
	// elements are the Galois elements the expansion may use: the shard's
	// key config (sorted), every one of them present in key.
	elements []uint32
	logN     int
	budget   *budget   // helper goroutines for subtrees
	evs      *evalPool // where workers take their evaluators (nil: new ones)
	spare    *spares   // where workers take their free lists (nil: new ones)
	// sink, if set, may consume a finished leaf (Eval form) at absolute
	// position p (returning true); consumed leaves are not kept in the
	// output and their storage is reused.
	sink func(w *worker, p int, leaf *bfv.Ciphertext) (bool, error)

	mu      sync.Mutex
	workers []*worker // every worker made, for the sink's state
	idle    []*worker // workers no goroutine holds now
}

// maxParallelLevel is the deepest tree level whose subtrees may go to a
// helper goroutine: deeper subtrees are too small to pay for one.
const maxParallelLevel = 3

// worker is one goroutine's evaluator with a free list of ciphertexts whose
// storage can be reused, which keeps an expansion's garbage near the size
// of its output; the free list comes from the server's spares and goes
// back to them on release, so the next answer reuses it too.
type worker struct {
	ev   *bfv.Evaluator
	free *ctStock
	acc  *firstDimAcc // the sink's per-worker state, if any
}

// newWorker returns an idle worker, or a new one. A goroutine holds it until
// it calls doneWorker; reusing workers reuses their evaluator scratch, free
// ciphertexts and sink state (one first-dimension accumulator per worker).
func (x *expander) newWorker() *worker {
	x.mu.Lock()
	if n := len(x.idle); n > 0 {
		w := x.idle[n-1]
		x.idle = x.idle[:n-1]
		x.mu.Unlock()
		return w
	}
	x.mu.Unlock()
	var ev *bfv.Evaluator
	if x.evs != nil {
		ev = x.evs.get()
	} else {
		ev = bfv.NewEvaluator(x.bp)
	}
	w := &worker{ev: ev}
	if x.spare != nil {
		w.free = x.spare.take()
	} else {
		w.free = &ctStock{}
	}
	x.mu.Lock()
	x.workers = append(x.workers, w)
	x.mu.Unlock()
	return w
}

// doneWorker makes w available to the next goroutine of this expansion.
func (x *expander) doneWorker(w *worker) {
	x.mu.Lock()
	x.idle = append(x.idle, w)
	x.mu.Unlock()
}

// release returns the workers' evaluators and free lists to their pools.
// Call it once the expansion (and any sink) is done with them; later calls
// do nothing.
func (x *expander) release() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, w := range x.workers {
		if x.evs != nil && w.ev != nil {
			x.evs.put(w.ev)
		}
		w.ev = nil
		if x.spare != nil && w.free != nil {
			x.spare.give(w.free)
		}
		w.free = nil
	}
}

func (w *worker) get() *bfv.Ciphertext { return w.free.pop() }

func (w *worker) put(c *bfv.Ciphertext) { w.free.push(c) }

// expand expands the query ciphertexts (Coeff form) to outputCount
// ciphertexts in Eval form, in order; positions consumed by the sink are
// nil. It consumes cts: their storage is reused.
func (x *expander) expand(cts []*bfv.Ciphertext, outputCount int) ([]*bfv.Ciphertext, error) {
	n := x.bp.N()
	out := make([]*bfv.Ciphertext, outputCount)
	start := 0
	for _, ct := range cts {
		c := min(outputCount-start, n)
		pos := make([]int, c)
		for i := range pos {
			pos[i] = start + i
		}
		w := x.newWorker()
		err := x.expandOne(w, ct, out, pos, 1, ceilLog2(uint64(c)))
		x.doneWorker(w)
		if err != nil {
			return nil, err
		}
		start += c
	}
	return out, nil
}

// expandOne expands ct, at level ℓ of a tree of height h, into the
// len(pos) outputs out[pos[i]]. Apple's order interleaves the halves: output
// i of the first half goes to pos[2i], of the second half to pos[2i+1]. Up
// first half goes to a helper goroutine when the budget has one free (in
// the top levels, where subtrees are large). ct is consumed.
func (x *expander) expandOne(w *worker, ct *bfv.Ciphertext, out []*bfv.Ciphertext, pos []int, l, h int) error {
	n := len(pos)
	if n == 1 {
		// A query ciphertext that is its own leaf is still in Coeff form.
		if err := w.ev.ToEval(ct); err != nil {
			return err
		}
		if l <= h { // equalise the scaling of shallow leaves
			if err := w.ev.Add(ct, ct, ct); err != nil {
				return err
			}
		}
		if x.sink != nil {
			used, err := x.sink(w, pos[0], ct)
			if err != nil {
				return err
			}
			if used {
				w.put(ct)
				return nil
			}
		}
		out[pos[0]] = ct
		return nil
	}
	s := n / 2
	f := n - s
	p0, p1, err := x.split(w, ct, l)
	if err != nil {
		return err
	}
	w.put(ct)
	first, second := make([]int, f), make([]int, s)
	for i := range first {
		first[i] = pos[2*i]
	}
	for i := range second {
		second[i] = pos[2*i+1]
	}
	if l <= maxParallelLevel && x.budget != nil {
		var wg sync.WaitGroup
		var err0 error
		wg.Add(1)
		if x.budget.tryGo(func() {
			defer wg.Done()
			w0 := x.newWorker()
			err0 = x.expandOne(w0, p0, out, first, l+1, h)
			x.doneWorker(w0)
		}) {
			err1 := x.expandOne(w, p1, out, second, l+1, h)
			wg.Wait()
			return errors.Join(err0, err1)
		}
		wg.Done()
	}
	if err := x.expandOne(w, p0, out, first, l+1, h); err != nil {
		return err
	}
	return x.expandOne(w, p1, out, second, l+1, h)
}

// split returns (ct + σ(ct), (ct − σ(ct))·x^(−2^(ℓ−1))) for the level-ℓ
// automorphism σ (Apple's expandCiphertextForOneStep), in Eval form. ct is
// Eval, or a query ciphertext in Coeff form, which the first automorphism
// converts in place (bfv.Evaluator.ApplyGaloisEval: from Coeff form it
// takes σ(c1)'s coefficients without the l inverse NTTs).
func (x *expander) split(w *worker, ct *bfv.Ciphertext, l int) (*bfv.Ciphertext, *bfv.Ciphertext, error) {
	target := uint64(1)<<(x.logN-l+1) + 1
	g, reps, err := galoisSteps(x.elements, target, x.logN)
	if err != nil {
		return nil, nil, err
	}
	c1 := w.get()
	if err := w.ev.ApplyGaloisEval(c1, ct, g, x.key.key); err != nil {
		return nil, nil, fmt.Errorf("pir: expansion: %w", err)
	}
	for range reps - 1 {
		next := w.get()
		if err := w.ev.ApplyGaloisEval(next, c1, g, x.key.key); err != nil {
			return nil, nil, fmt.Errorf("pir: expansion: %w", err)
		}
		w.put(c1)
		c1 = next
	}
	p1 := w.get()
	if err := w.ev.AddSubMulPowerOfX(c1, p1, ct, c1, -(1 << (l - 1))); err != nil {
		return nil, nil, err
	}
	return c1, p1, nil
}

// checkKey verifies up front that every split of the expansion finds its
// automorphism in the key.
func (x *expander) checkKey(total int) error {
	h := ceilLog2(uint64(min(total, x.bp.N())))
	for l := 1; l <= h; l++ {
		target := uint64(1)<<(x.logN-l+1) + 1
		if _, _, err := galoisSteps(x.elements, target, x.logN); err != nil {
			return fmt.Errorf("%w: %v", ErrKeyMismatch, err)
		}
	}
	return nil
}

// galoisSteps returns the element g and repetition count r with
// g^r ≡ target (mod 2N): g is the largest of elements ≤ target (Apple's
// rule), and must be of the form 2^a + 1.
func galoisSteps(elements []uint32, target uint64, logN int) (uint64, int, error) {
	var g uint64
	for _, e := range elements {
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
