package bfv

import (
	"fmt"
	"math/bits"
	"sync"

	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// Evaluator runs homomorphic operations for one [Params]. It owns scratch
// buffers, so one Evaluator must not be used by several goroutines at once;
// create one per goroutine (they are cheap).
//
// Unless stated otherwise, an operation writing to out resizes out as
// needed (reusing its storage when the shape already fits), and out may
// alias an input.
type Evaluator struct {
	p *Params
	// scratch polys, sized for the largest basis used.
	tmp   []*ring.Poly
	acc   [][2]uint64 // 128-bit lazy accumulators
	acc64 []uint64    // 64-bit accumulators (32-bit moduli)
	// xs, ys are the operand rows of one innerProductRow26 (emptied after).
	xs, ys [][]uint64
	mulSc  *mulScratch
	// gals are the gather tables of the last Galois elements used
	// (galoisTables), at most maxGaloisTables, replaced round-robin.
	gals    []galoisTables
	galNext int
	// monos are the last monomials X^k in Eval form (monomial), at most
	// maxMonomials, replaced round-robin (monoNext).
	monos    []monomialEval
	monoNext int
	// digits holds the l digit rows of one key-switching row (digitRows).
	digits [][]uint64
	// splitDiff holds the difference of AddSubMulPowerOfX's unfused path.
	splitDiff *Ciphertext
}

// monomialEval is X^k in Eval form over the first l moduli (m), with its
// 32-bit Shoup companions when every one of them is below 2^30 (s), else
// its Montgomery form m·2^52 mod q when every one is below 2^50 (mont).
type monomialEval struct {
	k, l int
	m, s *ring.Poly
	mont *ring.Poly
}

// galoisTables are σ_g's tables for degree N: the coefficient map's
// gather table (ring.GaloisCoeffTable) and the slot permutation's plan
// (ring.NewGaloisEvalPlan), each made on first use.
type galoisTables struct {
	g     uint64
	coeff []uint32
	eval  *ring.GaloisEvalPlan
}

// maxGaloisTables bounds the Galois elements whose tables an evaluator
// keeps: query expansion uses one element per tree level (at most
// log2(N) <= 16), visited depth first, so each recurs between the others.
// Each takes about 10N bytes (a 4N coefficient table, a plan of about
// 6N: its 4N gather table and the group moves).
const maxGaloisTables = 16

// maxMonomials bounds the monomials other than X^(±2^a) an evaluator
// keeps (those are shared, Params.monoOnces). Each takes 2·l·N words (l·N
// with 64-bit moduli).
const maxMonomials = 16

// digitRows returns a reused slice of l rows for the key switch's digits.
func (e *Evaluator) digitRows(l int) [][]uint64 {
	if cap(e.digits) < l {
		e.digits = make([][]uint64, l)
	}
	return e.digits[:l]
}

// NewEvaluator returns an Evaluator for p.
func NewEvaluator(p *Params) *Evaluator {
	return &Evaluator{p: p}
}

// Params returns the parameters of the evaluator.
func (e *Evaluator) Params() *Params { return e.p }

// scratch returns scratch poly i with at least rows rows.
func (e *Evaluator) scratch(i, rows int) *ring.Poly {
	for len(e.tmp) <= i {
		e.tmp = append(e.tmp, nil)
	}
	if e.tmp[i] == nil || e.tmp[i].Rows() < rows {
		e.tmp[i] = ring.NewPoly(e.p.n, rows)
	}
	return e.tmp[i].Truncate(rows)
}

// shape makes out a ciphertext with count polys at level l in format f,
// reusing storage. The seed is cleared and the correction factor set to 1.
func (e *Evaluator) shape(out *Ciphertext, count, l int, f Format) {
	if cap(out.Polys) < count {
		out.Polys = append(out.Polys[:cap(out.Polys)], make([]*ring.Poly, count-cap(out.Polys))...)
	}
	out.Polys = out.Polys[:count]
	for i, p := range out.Polys {
		if p == nil || cap(p.Coeffs) < l*e.p.n || p.N != e.p.n {
			out.Polys[i] = ring.NewPoly(e.p.n, l)
		} else {
			p.Coeffs = p.Coeffs[:l*e.p.n]
		}
	}
	out.Format = f
	out.Seed = nil
	out.CorrectionFactor = 1
}

func (e *Evaluator) checkCt(ct *Ciphertext, what string) error {
	if ct == nil || len(ct.Polys) < 2 {
		return fmt.Errorf("bfv: %s: ciphertext needs at least 2 polynomials", what)
	}
	l := ct.Polys[0].Rows()
	if l < 1 || l > e.p.MaxLevel() {
		return fmt.Errorf("bfv: %s: ciphertext level %d out of range", what, l)
	}
	for _, p := range ct.Polys {
		if p.N != e.p.n || p.Rows() != l || len(p.Coeffs) != l*p.N {
			return fmt.Errorf("bfv: %s: inconsistent polynomial shapes", what)
		}
	}
	if ct.CorrectionFactor != 1 {
		return fmt.Errorf("bfv: %s: correction factor %d, want 1", what, ct.CorrectionFactor)
	}
	return nil
}

func (e *Evaluator) checkPair(a, b *Ciphertext, what string) error {
	if err := e.checkCt(a, what); err != nil {
		return err
	}
	if err := e.checkCt(b, what); err != nil {
		return err
	}
	if a.Format != b.Format || a.Level() != b.Level() {
		return fmt.Errorf("bfv: %s: operands differ (%v level %d vs %v level %d)", what,
			a.Format, a.Level(), b.Format, b.Level())
	}
	return nil
}

// Add sets out = a + b (same format and level; the result has as many
// polynomials as the longer operand).
func (e *Evaluator) Add(out, a, b *Ciphertext) error { return e.addSub(out, a, b, false) }

// Sub sets out = a - b.
func (e *Evaluator) Sub(out, a, b *Ciphertext) error { return e.addSub(out, a, b, true) }

func (e *Evaluator) addSub(out, a, b *Ciphertext, sub bool) error {
	if err := e.checkPair(a, b, "add/sub"); err != nil {
		return err
	}
	l, f := a.Level(), a.Format
	bs := e.p.basis(l)
	n := max(len(a.Polys), len(b.Polys))
	ap, bp := a.Polys, b.Polys
	e.shape(out, n, l, f)
	for i := 0; i < n; i++ {
		switch {
		case i < len(ap) && i < len(bp):
			if sub {
				bs.Sub(out.Polys[i], ap[i], bp[i])
			} else {
				bs.Add(out.Polys[i], ap[i], bp[i])
			}
		case i < len(ap):
			copy(out.Polys[i].Coeffs, ap[i].Coeffs)
		default:
			if sub {
				bs.Neg(out.Polys[i], bp[i])
			} else {
				copy(out.Polys[i].Coeffs, bp[i].Coeffs)
			}
		}
	}
	return nil
}

// MulPowerOfX sets out = X^k · ct (k may be negative; Apple's
// multiplyPowerOfX, he-spec §4.5). A Coeff ciphertext's coefficients are
// rotated; an Eval ciphertext is multiplied slot-wise by X^k's NTT (kept
// in the evaluator while k and the level repeat), with the same result in
// Eval form. out must not alias ct.
func (e *Evaluator) MulPowerOfX(out, ct *Ciphertext, k int) error {
	if err := e.checkCt(ct, "multiply by power of x"); err != nil {
		return err
	}
	if out == ct {
		return fmt.Errorf("bfv: multiply by power of x: out aliases the input")
	}
	l := ct.Level()
	b := e.p.basis(l)
	in := ct.Polys
	e.shape(out, len(in), l, ct.Format)
	if ct.Format == Eval {
		mono := e.monomial(k, l)
		switch {
		case mono.s != nil:
			for i, p := range in {
				for r, t := range b {
					o := out.Polys[i].Row(r)
					shoupRow(o, p.Row(r), mono.m.Row(r), mono.s.Row(r), t.M.Q, false)
					csub2Row(o, t.M.Q)
				}
			}
		case mono.mont != nil:
			e.mulMonomial52(out, ct, mono)
		default:
			for i, p := range in {
				b.MulCoeffs(out.Polys[i], p, mono.m)
			}
		}
		return nil
	}
	for i, p := range in {
		b.MulPowerOfX(out.Polys[i], p, k)
	}
	return nil
}

// monomial returns X^k in Eval form over the first l moduli with the
// companion table its products need (monomialEval). X^(±2^a) (query
// expansion's) are built once per Params and shared; of the others the
// evaluator keeps the last maxMonomials.
func (e *Evaluator) monomial(k, l int) *monomialEval {
	if a := bits.TrailingZeros(uint(abs(k))); k != 0 && abs(k) == 1<<a && abs(k) <= e.p.n {
		sign := 0
		if k < 0 {
			sign = 1
		}
		o := &e.p.monoOnces[l][sign][a]
		o.once.Do(func() { o.m = newMonomial(e.p, k, l) })
		return o.m
	}
	for i := range e.monos {
		if c := &e.monos[i]; c.k == k && c.l == l {
			return c
		}
	}
	c := *newMonomial(e.p, k, l)
	if len(e.monos) < maxMonomials {
		e.monos = append(e.monos, c)
		return &e.monos[len(e.monos)-1]
	}
	i := e.monoNext
	e.monos[i] = c
	e.monoNext = (e.monoNext + 1) % maxMonomials
	return &e.monos[i]
}

// monoOnce guards one shared monomial of Params.monoOnces.
type monoOnce struct {
	once sync.Once
	m    *monomialEval
}

func abs(k int) int { return max(k, -k) }

// newMonomial returns X^k in Eval form over p's first l moduli with its
// companion table (monomialEval).
func newMonomial(p *Params, k, l int) *monomialEval {
	b := p.basis(l)
	one := ring.NewPoly(p.n, l)
	for r := range l {
		one.Row(r)[0] = 1
	}
	m := ring.NewPoly(p.n, l)
	b.MulPowerOfX(m, one, k)
	b.NTT(m)
	c := monomialEval{k: k, l: l, m: m}
	word32, word52 := true, true
	for _, t := range b {
		word32 = word32 && t.M.Q < word32Max
		word52 = word52 && t.M.Q < word52Max
	}
	switch {
	case word32:
		c.s = ring.NewPoly(p.n, l)
		for r, t := range b {
			shoupCompanions(c.s.Row(r), m.Row(r), t.M)
		}
	case word52:
		c.mont = ring.NewPoly(p.n, l)
		for r, t := range b {
			montgomery52(c.mont.Row(r), m.Row(r), t.M)
		}
	}
	return &c
}

// mulMonomial52 sets out = ct ⊙ X^k for an Eval ct and moduli below 2^50
// with the ct×ct tensor rows (tensor52: the IFMA or wide kernels where the
// CPU has them): two polynomials at a time as (x0, x1) against
// (y0, y1) = (X^k·2^52, 0), whose d0 = x0·X^k and d1 = x1·X^k are the
// products (the Montgomery factor 2^-52 cancels the table's 2^52), fully
// reduced; d2 = x1·0 goes to a scratch row. An odd last polynomial is
// paired with a zero row. out is shaped by the caller.
func (e *Evaluator) mulMonomial52(out, ct *Ciphertext, mono *monomialEval) {
	b := e.p.basis(ct.Level())
	sc := e.scratch(7, 3)
	zero, sink, x1z := sc.Row(0), sc.Row(1), sc.Row(2)
	clear(zero)
	for i := 0; i < len(ct.Polys); i += 2 {
		for r, t := range b {
			q := t.M.Q
			x0, d0 := ct.Polys[i].Row(r), out.Polys[i].Row(r)
			x1, d1 := x1z, sink
			if i+1 < len(ct.Polys) {
				x1, d1 = ct.Polys[i+1].Row(r), out.Polys[i+1].Row(r)
			} else {
				clear(x1z)
			}
			clear(d0)
			clear(d1)
			tensor52(d0, d1, sink, x0, x1, mono.mont.Row(r), zero, q, inv52(q))
		}
	}
}

// ToEval converts ct to Eval form in place (no-op when already Eval). The
// seed, if any, is kept.
func (e *Evaluator) ToEval(ct *Ciphertext) error {
	if err := e.checkCt(ct, "to Eval"); err != nil {
		return err
	}
	if ct.Format == Eval {
		return nil
	}
	for _, p := range ct.Polys {
		e.p.basis(ct.Level()).NTT(p)
	}
	ct.Format = Eval
	return nil
}

// ToCoeff converts ct to Coeff form in place (no-op when already Coeff).
func (e *Evaluator) ToCoeff(ct *Ciphertext) error {
	if err := e.checkCt(ct, "to Coeff"); err != nil {
		return err
	}
	if ct.Format == Coeff {
		return nil
	}
	for _, p := range ct.Polys {
		e.p.basis(ct.Level()).INTT(p)
	}
	ct.Format = Coeff
	return nil
}

// MulPlain sets out = ct ⊙ pt for an Eval ciphertext and an Eval plaintext
// of at least the ciphertext's level (he-spec §4.5).
func (e *Evaluator) MulPlain(out, ct *Ciphertext, pt *Plaintext) error {
	if err := e.checkCt(ct, "ciphertext-plaintext product"); err != nil {
		return err
	}
	if ct.Format != Eval || pt.Format != Eval {
		return fmt.Errorf("bfv: ciphertext-plaintext product needs Eval operands")
	}
	l := ct.Level()
	if pt.Level() < l {
		return fmt.Errorf("bfv: plaintext level %d below ciphertext level %d", pt.Level(), l)
	}
	in := ct.Polys
	e.shape(out, len(in), l, Eval)
	for i, p := range in {
		e.p.basis(l).MulCoeffs(out.Polys[i], p, pt.Poly)
	}
	return nil
}

// InnerProduct sets out = Σ_i cts[i] ⊙ pts[i] for Eval ciphertexts and
// Eval plaintexts (nil plaintexts count as zero and are skipped), with
// lazy 128-bit accumulation and one reduction per slot (he-spec §4.5, §9).
// This is PIR's first-dimension product. out must not alias an input.
func (e *Evaluator) InnerProduct(out *Ciphertext, cts []*Ciphertext, pts []*Plaintext) error {
	l, np, err := e.checkInnerProduct(cts, pts)
	if err != nil {
		return err
	}
	e.shape(out, np, l, Eval)
	for r := range l {
		e.innerProductSlots(out, cts, pts, r, 0, e.p.n)
	}
	return nil
}

// checkInnerProduct checks the operands of InnerProduct and returns their
// level and polynomial count.
func (e *Evaluator) checkInnerProduct(cts []*Ciphertext, pts []*Plaintext) (l, np int, err error) {
	if len(cts) != len(pts) || len(cts) == 0 {
		return 0, 0, fmt.Errorf("bfv: inner product of %d ciphertexts and %d plaintexts", len(cts), len(pts))
	}
	l = cts[0].Level()
	np = len(cts[0].Polys)
	for i, ct := range cts {
		if err := e.checkCt(ct, "inner product"); err != nil {
			return 0, 0, err
		}
		if ct.Format != Eval || ct.Level() != l || len(ct.Polys) != np {
			return 0, 0, fmt.Errorf("bfv: inner product: ciphertext %d differs in format, level or size", i)
		}
		if pts[i] != nil && (pts[i].Format != Eval || pts[i].Level() < l) {
			return 0, 0, fmt.Errorf("bfv: inner product: plaintext %d is not an Eval plaintext of level >= %d", i, l)
		}
	}
	return l, np, nil
}

// innerProductSlots computes slots [s0, s1) of row r of InnerProduct into
// out (already shaped), with the kernel for q_r at the selected level.
func (e *Evaluator) innerProductSlots(out *Ciphertext, cts []*Ciphertext, pts []*Plaintext, r, s0, s1 int) {
	switch q := e.p.keyB[r].M.Q; {
	case q < word32Max:
		e.innerProductRow32(out, cts, pts, r, s0, s1)
	case q < word52Max && haveSIMD:
		e.innerProductRow26(out, cts, pts, r, maxTermsWide, s0, s1)
	default:
		e.innerProductRow64(out, cts, pts, r, s0, s1)
	}
}

// innerProductRow32 is row r, slots [s0, s1), of InnerProduct for q < 2^30:
// products are below 2^60, summed exactly in a uint64 (mulAccRows: the
// sums stay in registers across the terms, VPMULUDQ/VPADDQ on four or
// eight lanes) and reduced every maxTerms32(q) terms and at the end; the
// cap of 2^20 terms per batch only keeps the count an int everywhere.
func (e *Evaluator) innerProductRow32(out *Ciphertext, cts []*Ciphertext, pts []*Plaintext, r int, s0, s1 int) {
	n := s1 - s0
	if cap(e.acc64) < n {
		e.acc64 = make([]uint64, n)
	}
	acc := e.acc64[:n]
	m := e.p.keyB[r].M
	maxTerms := int(min(maxTerms32(m.Q), 1<<20))
	for k := range out.Polys {
		e.xs, e.ys = e.xs[:0], e.ys[:0]
		for i, ct := range cts {
			if pts[i] != nil {
				e.xs = append(e.xs, ct.Polys[k].Row(r)[s0:s1])
				e.ys = append(e.ys, pts[i].Poly.Row(r)[s0:s1])
			}
		}
		clear(acc)
		for s := 0; s < len(e.xs); s += maxTerms {
			if s > 0 {
				reduceRow(acc, acc, m) // below q again: maxTerms more products fit
			}
			for u := s; u < min(s+maxTerms, len(e.xs)); u += scanTerms {
				t := min(u+scanTerms, s+maxTerms, len(e.xs))
				mulAccRows(acc, e.xs[u:t], e.ys[u:t])
			}
		}
		reduceRow(out.Polys[k].Row(r)[s0:s1], acc, m)
	}
	clear(e.xs[:cap(e.xs)]) // drop the references to the operands
	clear(e.ys[:cap(e.ys)])
}

// maxTerms32 returns how many products below (q−1)² can be added to a
// value below q without overflowing 64 bits.
func maxTerms32(q uint64) uint64 {
	return (^uint64(0) - (q - 1)) / ((q - 1) * (q - 1))
}

// reduceRow sets dst = x mod q.
func reduceRow(dst, x []uint64, m modq.Modulus) {
	x = x[:len(dst)]
	for j, v := range x {
		dst[j] = m.Reduce(v)
	}
}

// mulAccRowGo adds x·y to acc slot-wise in portable Go (x, y below 2^32;
// unreduced): one term of mulAccRows, and its reference.
func mulAccRowGo(acc, x, y []uint64) {
	x, y = x[:len(acc)], y[:len(acc)]
	for j, v := range x {
		acc[j] += v * y[j]
	}
}

// innerProductRow64 is row r, slots [s0, s1), of InnerProduct for any modulus: 128-bit lazy
// accumulation; the reference for innerProductRow32.
func (e *Evaluator) innerProductRow64(out *Ciphertext, cts []*Ciphertext, pts []*Plaintext, r int, s0, s1 int) {
	n := s1 - s0
	np := len(out.Polys)
	if cap(e.acc) < n {
		e.acc = make([][2]uint64, n)
	}
	acc := e.acc[:n]
	{
		m := &e.p.keyB[r].M
		q := m.Q
		// Products are < q², so 2^128/q² of them fit; reduce early when
		// the count could overflow.
		maxLazy := maxLazyCount(q)
		for k := 0; k < np; k++ {
			clear(acc)
			cnt := uint64(0)
			for i, ct := range cts {
				pt := pts[i]
				if pt == nil {
					continue
				}
				if cnt == maxLazy {
					for j := range acc {
						acc[j] = [2]uint64{0, m.Reduce128(acc[j][0], acc[j][1])}
					}
					cnt = 1
				}
				cnt++
				x := ct.Polys[k].Row(r)[s0:s1]
				y := pt.Poly.Row(r)[s0:s1]
				y = y[:len(x)]
				for j := range x {
					hi, lo := bits.Mul64(x[j], y[j])
					var c uint64
					acc[j][1], c = bits.Add64(acc[j][1], lo, 0)
					acc[j][0] += hi + c
				}
			}
			o := out.Polys[k].Row(r)[s0:s1]
			for j := range o {
				o[j] = m.Reduce128(acc[j][0], acc[j][1])
			}
		}
	}
}

// maxLazyCount returns how many products below q² can be summed in 128
// bits on top of one value below 2^64 without overflow.
func maxLazyCount(q uint64) uint64 {
	hi, _ := bits.Mul64(q-1, q-1)
	// floor((2^128 - 2^64) / (q-1)^2) ≈ 2^64 / (hi + 1) - 1.
	if hi == 0 {
		return 1 << 62
	}
	c, _ := bits.Div64(0, ^uint64(0), hi+1)
	return max(c, 2) - 1
}

// ModSwitchDown drops the last modulus of ct's level with rounding
// (Apple's divideAndRoundQLast on every polynomial, he-spec §4.6). ct must
// be Coeff at level >= 2. It works in place and clears the seed.
func (e *Evaluator) ModSwitchDown(ct *Ciphertext) error {
	if err := e.checkCt(ct, "modulus switch"); err != nil {
		return err
	}
	if ct.Format != Coeff {
		return fmt.Errorf("bfv: modulus switch needs a Coeff ciphertext")
	}
	l := ct.Level()
	if l < 2 {
		return fmt.Errorf("bfv: modulus switch: ciphertext already at level 1")
	}
	lv := e.p.levels[l]
	for _, p := range ct.Polys {
		lv.down.apply(lv.basis, p, p)
		p.Coeffs = p.Coeffs[:(l-1)*p.N]
	}
	ct.Seed = nil
	return nil
}

// ModSwitchDownToSingle switches ct down to q_0 alone (Apple's
// modSwitchDownToSingle), as every response must be (he-spec §4.7).
func (e *Evaluator) ModSwitchDownToSingle(ct *Ciphertext) error {
	if err := e.checkCt(ct, "modulus switch"); err != nil {
		return err
	}
	for ct.Level() > 1 {
		if err := e.ModSwitchDown(ct); err != nil {
			return err
		}
	}
	ct.Seed = nil
	return nil
}
