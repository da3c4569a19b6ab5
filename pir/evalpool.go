package pir

import (
	"context"

	"github.com/blindlist/blindlist/pir/he/bfv"
)

// evalPool keeps a server's idle evaluators. An evaluator grows about
// 1.5 MiB of scratch (NTT buffers, the ct × ct lift, the Galois map) on first
// use; taking one per goroutine from the pool, rather than making one per
// task, lets answers reuse it. The pool holds at most as many evaluators as
// the server has workers: callers beyond that (more concurrent answers than
// workers) make a fresh one, which the garbage collector then takes.
type evalPool struct {
	bp   *bfv.Params
	idle chan *bfv.Evaluator
}

func newEvalPool(bp *bfv.Params, size int) *evalPool {
	return &evalPool{bp: bp, idle: make(chan *bfv.Evaluator, max(size, 1))}
}

// get returns an idle evaluator, or a new one when none is idle.
func (p *evalPool) get() *bfv.Evaluator {
	select {
	case ev := <-p.idle:
		return ev
	default:
		return bfv.NewEvaluator(p.bp)
	}
}

// put returns ev to the pool; it must no longer be used by the caller.
func (p *evalPool) put(ev *bfv.Evaluator) {
	select {
	case p.idle <- ev:
	default:
	}
}

// forEach runs fn(ev, 0..n-1) through b.forEach, giving every goroutine
// that takes part one evaluator from p for all its items.
func (p *evalPool) forEach(b *budget, ctx context.Context, n int, fn func(ev *bfv.Evaluator, i int) error) error {
	return forEachWith(b, ctx, n, p.get, p.put, fn)
}
