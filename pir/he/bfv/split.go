package bfv

import "fmt"

// AddSubMulPowerOfX sets sum = a + b and prod = (a − b)·X^k for Eval
// ciphertexts a and b of the same level and polynomial count: the step of
// query expansion that splits a ciphertext and its automorphism image into
// the halves of the next level. Where every modulus is below 2^30 the
// three operations run as one pass over the rows (splitRow: the sum, the
// difference and its Shoup product with X^k's Eval form per slot); other
// moduli take Add, Sub and MulPowerOfX. Either way the results are the
// canonical residues those three give. sum may alias a or b; prod must
// alias neither.
func (e *Evaluator) AddSubMulPowerOfX(sum, prod, a, b *Ciphertext, k int) error {
	if err := e.checkPair(a, b, "add/sub"); err != nil {
		return err
	}
	if prod == a || prod == b || prod == sum {
		return fmt.Errorf("bfv: add/sub and multiply by power of x: the product aliases an operand")
	}
	l := a.Level()
	if a.Format != Eval || len(a.Polys) != len(b.Polys) {
		return e.addSubMulPowerOfX(sum, prod, a, b, k)
	}
	mono := e.monomial(k, l)
	if mono.s == nil {
		return e.addSubMulPowerOfX(sum, prod, a, b, k)
	}
	n := len(a.Polys)
	e.shape(prod, n, l, Eval)
	if sum != a && sum != b {
		e.shape(sum, n, l, Eval)
	}
	for i := range n {
		for r, t := range e.p.basis(l) {
			splitRow(sum.Polys[i].Row(r), prod.Polys[i].Row(r), a.Polys[i].Row(r), b.Polys[i].Row(r),
				mono.m.Row(r), mono.s.Row(r), t.M.Q)
		}
	}
	return nil
}

// addSubMulPowerOfX is AddSubMulPowerOfX by its three operations, the
// difference in a ciphertext the evaluator keeps for it (its storage
// reused from call to call).
func (e *Evaluator) addSubMulPowerOfX(sum, prod, a, b *Ciphertext, k int) error {
	if e.splitDiff == nil {
		e.splitDiff = &Ciphertext{}
	}
	diff := e.splitDiff
	if err := e.Sub(diff, a, b); err != nil {
		return err
	}
	if err := e.MulPowerOfX(prod, diff, k); err != nil {
		return err
	}
	return e.Add(sum, a, b)
}

// splitRow sets, for q < 2^30 and every slot j, s[j] = (a[j] + b[j]) mod q
// and p[j] = (a[j] − b[j])·m[j] mod q, with ms[j] = floor(m[j]·2^32/q) the
// Shoup companion of m[j]; a and b in [0, q). s may alias a or b.
func splitRow(s, p, a, b, m, ms []uint64, q uint64) {
	a, b, m, ms, p = a[:len(s)], b[:len(s)], m[:len(s)], ms[:len(s)], p[:len(s)]
	if v := len(s) &^ 7; v > 0 && haveRowsAVX512 {
		splitRowAVX512(s[:v], p[:v], a[:v], b[:v], m[:v], ms[:v], q)
		s, p, a, b, m, ms = s[v:], p[v:], a[v:], b[v:], m[v:], ms[v:]
	}
	if v := len(s) &^ 3; v > 0 && haveSIMD {
		splitRowAVX2(s[:v], p[:v], a[:v], b[:v], m[:v], ms[:v], q)
		s, p, a, b, m, ms = s[v:], p[v:], a[v:], b[v:], m[v:], ms[v:]
	}
	splitRowGo(s, p, a, b, m, ms, q)
}

// splitRowGo is splitRow in portable Go.
func splitRowGo(s, p, a, b, m, ms []uint64, q uint64) {
	a, b, m, ms, p = a[:len(s)], b[:len(s)], m[:len(s)], ms[:len(s)], p[:len(s)]
	for j := range s {
		x, y := a[j], b[j]
		d := x - y + q
		d = min(d, d-q) // [0, q)
		v := d*m[j] - (d*ms[j]>>32)*q
		p[j] = min(v, v-q)
		t := x + y
		s[j] = min(t, t-q)
	}
}
