package bfv

import (
	"fmt"
	"math/bits"

	"github.com/blindlist/blindlist/pir/he/ring"
)

// checkKSK validates the shape of a key-switching key against p.
func (p *Params) checkKSK(k *KeySwitchKey) error {
	L := len(p.moduli)
	if k == nil || len(k.Keys) != L-1 {
		return fmt.Errorf("bfv: key-switching key needs %d ciphertexts", L-1)
	}
	for _, c := range k.Keys {
		if c == nil || len(c.Polys) != 2 || c.Format != Eval {
			return fmt.Errorf("bfv: key-switching key ciphertexts must be 2-poly Eval")
		}
		for _, poly := range c.Polys {
			if poly.N != p.n || poly.Rows() != L {
				return fmt.Errorf("bfv: key-switching key ciphertexts must span all %d moduli", L)
			}
		}
	}
	return nil
}

// keySwitch computes (u0, u1) over q_0..q_{l-1} with u0 + u1·s ≈ d·s' for
// the key k from s' to s, d in Coeff form with l rows (he-spec §5.2:
// hybrid key switching, one special modulus P, digits = RNS residues,
// non-centered). u0 and u1 must have l rows; d is not modified. With eval
// set, u0 and u1 are left in Eval form: only the P rows of the products
// return to coefficients, and the rounding division by P is done on the
// Eval q-rows (dropper.applyEval); the result is exactly the NTT of the
// Coeff one, for the same 2(l+1) transforms.
//
// dEval, if not nil, is d in Eval form (l rows, values in [0, q_j)): digit
// j taken modulo its own modulus q_j is row j of d itself, so its NTT
// under q_j is dEval's row j, and the l diagonal transforms of the l(l+1)
// digit NTTs are skipped. The result does not change: [ring.Table.Forward]
// is fully reduced, so dEval's rows are exactly the values it would give.
func (e *Evaluator) keySwitch(u0, u1, d, dEval *ring.Poly, k *KeySwitchKey, l int, eval bool) {
	switch ks := e.p.levels[l].ks; {
	case ks.word52:
		e.keySwitch52(u0, u1, d, dEval, k, l, eval)
	case ks.wide:
		e.keySwitchWide(u0, u1, d, dEval, k, l, eval)
	case ks.word32:
		e.keySwitch32(u0, u1, d, dEval, k, l, eval)
	default:
		e.keySwitch64(u0, u1, d, dEval, k, l, eval)
	}
}

// digitNTT returns digit j of d in NTT form under tab (ext[r]): dEval's
// row j when r == j and dEval is given, else d's row j reduced mod q_r
// (when q_j > 4·q_r; Forward accepts [0, 4q)) and transformed in x.
func (e *Evaluator) digitNTT(x []uint64, d, dEval *ring.Poly, tab *ring.Table, r, j int) []uint64 {
	if r == j && dEval != nil {
		return dEval.Row(j)
	}
	src, m := d.Row(j), &tab.M
	if e.p.moduli[j] <= 4*m.Q {
		tab.ForwardFrom(x, src) // no copy with the packed AVX2 kernel
		return x
	}
	for s, v := range src {
		x[s] = m.Reduce(v)
	}
	tab.Forward(x)
	return x
}

// dropP finishes a key switch: the rounding division of (U0, U1), over
// q_0..q_{l-1} and P, by P. The P rows are in Coeff form; the q-rows are
// in Eval form when eval is set, else in Coeff form.
func (e *Evaluator) dropP(ks *keySwitchLevel, u0, u1, U0, U1 *ring.Poly, eval bool) {
	if !eval {
		ks.drop.apply(ks.ext, u0, U0)
		ks.drop.apply(ks.ext, u1, U1)
		return
	}
	t := e.scratch(6, 1).Row(0)
	ks.drop.applyEval(ks.ext, u0, U0, t)
	ks.drop.applyEval(ks.ext, u1, U1, t)
}

// keySwitch64 is keySwitch for any moduli: 128-bit lazy accumulation of the
// digit products, reduced every maxLazyCount terms. It is the reference the
// 32- and 52-bit paths are tested against.
func (e *Evaluator) keySwitch64(u0, u1, d, dEval *ring.Poly, k *KeySwitchKey, l int, eval bool) {
	p := e.p
	L := len(p.moduli)
	ks := p.levels[l].ks
	ext := ks.ext
	n := p.n
	U0 := e.scratch(0, l+1)
	U1 := e.scratch(1, l+1)
	x := e.scratch(2, 1).Row(0)
	if cap(e.acc) < 2*n {
		e.acc = make([][2]uint64, 2*n)
	}
	acc0, acc1 := e.acc[:n], e.acc[n:2*n]
	for r, tab := range ext {
		m := &tab.M
		keyRow := r
		if r == l {
			keyRow = L - 1
		}
		clear(acc0)
		clear(acc1)
		maxLazy := maxLazyCount(m.Q)
		cnt := uint64(0)
		for j := 0; j < l; j++ {
			if cnt == maxLazy {
				for s := range acc0 {
					acc0[s] = [2]uint64{0, m.Reduce128(acc0[s][0], acc0[s][1])}
					acc1[s] = [2]uint64{0, m.Reduce128(acc1[s][0], acc1[s][1])}
				}
				cnt = 1
			}
			cnt++
			x := e.digitNTT(x, d, dEval, tab, r, j)
			k0 := k.Keys[j].Polys[0].Row(keyRow)
			k1 := k.Keys[j].Polys[1].Row(keyRow)
			k0, k1 = k0[:len(x)], k1[:len(x)]
			for s, v := range x {
				hi, lo := bits.Mul64(v, k0[s])
				var c uint64
				acc0[s][1], c = bits.Add64(acc0[s][1], lo, 0)
				acc0[s][0] += hi + c
				hi, lo = bits.Mul64(v, k1[s])
				acc1[s][1], c = bits.Add64(acc1[s][1], lo, 0)
				acc1[s][0] += hi + c
			}
		}
		o0, o1 := U0.Row(r), U1.Row(r)
		for s := range o0 {
			o0[s] = m.Reduce128(acc0[s][0], acc0[s][1])
			o1[s] = m.Reduce128(acc1[s][0], acc1[s][1])
		}
		if !eval || r == l {
			tab.Inverse(o0)
			tab.Inverse(o1)
		}
	}
	e.dropP(ks, u0, u1, U0, U1, eval)
}

// ApplyGalois sets out = σ_g(ct) re-encrypted under s with the Galois key
// for g (he-spec §5.2): c0' = σ_g(c0) + u0, c1' = u1 with
// (u0, u1) = KeySwitch(σ_g(c1)). ct must be a 2-poly Coeff ciphertext.
func (e *Evaluator) ApplyGalois(out, ct *Ciphertext, g uint64, evk *EvaluationKey) error {
	k, err := e.galoisKey(ct, g, evk, false)
	if err != nil {
		return err
	}
	l := ct.Level()
	b := e.p.basis(l)
	c0 := e.scratch(3, l)
	c1 := e.scratch(4, l)
	tab := e.galoisTable(g)
	b.GaloisCoeffTab(c0, ct.Polys[0], tab)
	b.GaloisCoeffTab(c1, ct.Polys[1], tab)
	e.shape(out, 2, l, Coeff)
	e.keySwitch(out.Polys[0], out.Polys[1], c1, nil, k, l, false)
	b.Add(out.Polys[0], out.Polys[0], c0)
	return nil
}

// ApplyGaloisEval is [Evaluator.ApplyGalois] with an Eval result, for ct
// in either form; a Coeff ct is converted to Eval form in place (as
// [Evaluator.ToEval]), an Eval ct is not modified. The key switch needs
// σ_g(c1) in both forms: its coefficients for the digits and, per digit,
// its own Eval row (the digit's NTT under its own modulus, see keySwitch),
// which σ_g gives as a slot permutation of c1's Eval form. It ends in Eval
// form, and σ_g(c0) is a slot permutation of c0's Eval form.
//
// Transforms at level l (two-poly ct, l digits, special modulus P): from
// an Eval ct, l inverse NTTs for σ_g(c1)'s coefficients, l·l digit NTTs
// (the l diagonal ones are free), 2 inverse NTTs of the P rows and 2l
// forward NTTs of the rounding terms: l² + 3l + 2, as many as ApplyGalois
// on a Coeff ct, so a computation that stays in Eval form (query expansion)
// saves every conversion between the forms. From a Coeff ct, 2l forward
// NTTs of ct replace the l inverse ones. The result is exactly the NTT of
// ApplyGalois's. out must not alias ct.
func (e *Evaluator) ApplyGaloisEval(out, ct *Ciphertext, g uint64, evk *EvaluationKey) error {
	k, err := e.galoisKey(ct, g, evk, true)
	if err != nil {
		return err
	}
	if out == ct {
		return fmt.Errorf("bfv: Galois: out aliases the input")
	}
	l := ct.Level()
	b := e.p.basis(l)
	d := e.scratch(4, l)  // σ_g(c1), Coeff
	dE := e.scratch(5, l) // σ_g(c1), Eval
	perm := e.galoisPerm(g)
	if ct.Format == Coeff {
		b.GaloisCoeffTab(d, ct.Polys[1], e.galoisTable(g))
		if err := e.ToEval(ct); err != nil {
			return err
		}
		b.GaloisEvalPermute(dE, ct.Polys[1], perm)
	} else {
		b.GaloisEvalPermute(dE, ct.Polys[1], perm)
		copy(d.Coeffs, dE.Coeffs)
		b.INTT(d)
	}
	c0 := e.scratch(3, l)
	b.GaloisEvalPermute(c0, ct.Polys[0], perm)
	e.shape(out, 2, l, Eval)
	e.keySwitch(out.Polys[0], out.Polys[1], d, dE, k, l, true)
	b.Add(out.Polys[0], out.Polys[0], c0)
	return nil
}

// galoisKey checks ct (2-poly; Coeff unless anyForm)
// and g, and returns g's key.
func (e *Evaluator) galoisKey(ct *Ciphertext, g uint64, evk *EvaluationKey, anyForm bool) (*KeySwitchKey, error) {
	if err := e.checkCt(ct, "Galois"); err != nil {
		return nil, err
	}
	if len(ct.Polys) != 2 || (ct.Format != Coeff && !anyForm) {
		if anyForm {
			return nil, fmt.Errorf("bfv: Galois needs a 2-poly ciphertext")
		}
		return nil, fmt.Errorf("bfv: Galois needs a 2-poly Coeff ciphertext")
	}
	if !ring.ValidGaloisElement(g, e.p.n) {
		return nil, fmt.Errorf("bfv: invalid Galois element %d", g)
	}
	if evk == nil || evk.Galois[g] == nil {
		return nil, fmt.Errorf("bfv: no Galois key for element %d", g)
	}
	k := evk.Galois[g]
	if err := e.p.checkKSK(k); err != nil {
		return nil, err
	}
	return k, nil
}

// galoisPerm returns σ_g's slot permutation as a [ring.GaloisEvalPlan],
// kept in the evaluator (galoisTablesOf).
func (e *Evaluator) galoisPerm(g uint64) *ring.GaloisEvalPlan {
	t := e.galoisTablesOf(g)
	if t.eval == nil {
		t.eval = ring.NewGaloisEvalPlan(g, e.p.n)
	}
	return t.eval
}

// galoisTable returns σ_g's coefficient map (ring.GaloisCoeffTable), kept
// in the evaluator (galoisTablesOf).
func (e *Evaluator) galoisTable(g uint64) []uint32 {
	t := e.galoisTablesOf(g)
	if t.coeff == nil {
		t.coeff = make([]uint32, e.p.n)
		ring.GaloisCoeffTable(t.coeff, g, e.p.n)
	}
	return t.coeff
}

// galoisTablesOf returns the evaluator's tables of g, a new empty entry
// if it has none (replacing the oldest when it keeps maxGaloisTables).
// Query expansion applies one element per tree level, to every ciphertext
// of the level, so the tables are made once per element.
func (e *Evaluator) galoisTablesOf(g uint64) *galoisTables {
	for i := range e.gals {
		if e.gals[i].g == g {
			return &e.gals[i]
		}
	}
	if len(e.gals) < maxGaloisTables {
		e.gals = append(e.gals, galoisTables{g: g})
		return &e.gals[len(e.gals)-1]
	}
	i := e.galNext
	e.galNext = (e.galNext + 1) % maxGaloisTables
	e.gals[i] = galoisTables{g: g}
	return &e.gals[i]
}

// Relinearize sets out = (c0 + u0, c1 + u1) with (u0, u1) =
// KeySwitch(c2, relinearization key) for a 3-poly Coeff ciphertext
// (he-spec §5.2).
func (e *Evaluator) Relinearize(out, ct *Ciphertext, evk *EvaluationKey) error {
	if err := e.checkCt(ct, "relinearize"); err != nil {
		return err
	}
	if ct.Format != Coeff || len(ct.Polys) != 3 {
		return fmt.Errorf("bfv: relinearize needs a 3-poly Coeff ciphertext")
	}
	if evk == nil || evk.Relin == nil {
		return fmt.Errorf("bfv: no relinearization key")
	}
	if err := e.p.checkKSK(evk.Relin); err != nil {
		return err
	}
	l := ct.Level()
	b := e.p.basis(l)
	u0 := e.scratch(3, l)
	u1 := e.scratch(4, l)
	e.keySwitch(u0, u1, ct.Polys[2], nil, evk.Relin, l, false)
	c0, c1 := ct.Polys[0], ct.Polys[1]
	e.shape(out, 2, l, Coeff)
	b.Add(out.Polys[0], c0, u0)
	b.Add(out.Polys[1], c1, u1)
	return nil
}

// CachesKeyResidues reports whether a key-switching key of ring degree n
// over moduli (the ciphertext moduli, then the special modulus P) gets, on its first use on
// this CPU, a cached second copy of its residues beside it. It follows
// keySwitch's choice at the top level, which every Galois and
// relinearization key of a PIR query serves: 52-bit Montgomery forms where
// AVX-512 IFMA serves every modulus (below 2^50); no copy where the wide
// AVX2 kernels take the key switch (they read the keys as they are); else
// 32-bit Shoup companions where every modulus is below 2^30. The copy is as
// large as the key, so a used key then holds twice its coefficients.
func CachesKeyResidues(n int, moduli []uint64) bool {
	l := len(moduli) - 1
	if l < 1 {
		return false
	}
	word52 := haveIFMA && l < keySwitch52Max
	word32 := l < 16
	for _, q := range moduli {
		word52 = word52 && q < word52Max
		word32 = word32 && q < word32Max
	}
	wide := haveWide && n >= 16 && wideFits(moduli, l)
	return word52 || (word32 && !wide)
}
