package bfv

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/bits"

	"github.com/blindlist/blindlist/pir/he/ring"
)

// cbdK is the centered-binomial parameter for σ = 3.2: ceil(2σ²) = 21
// (he-spec §4.2).
const cbdK = 21

// GenerateSecretKey samples a ternary secret from rnd (Apple's
// randomizeTernary, he-spec §4.2) and stores it in Eval form over all L
// moduli. Production callers pass crypto/rand.Reader.
func (p *Params) GenerateSecretKey(rnd io.Reader) (*SecretKey, error) {
	if rnd == nil {
		return nil, errors.New("bfv: nil randomness source")
	}
	v, err := ring.SampleTernary(rnd, p.n)
	if err != nil {
		return nil, fmt.Errorf("bfv: %w", err)
	}
	s := ring.NewPoly(p.n, len(p.moduli))
	p.keyB.SetSmall(s, v)
	p.keyB.NTT(s)
	return &SecretKey{Poly: s}, nil
}

// encryptZeroEval returns (b, a) in Eval form over the first l moduli of
// the key basis with b = −a·s − e, a = UniformEval(seed), a fresh seed and
// a CBD error from rnd (he-spec §4.3).
func (p *Params) encryptZeroEval(sk *SecretKey, l int, rnd io.Reader) (b, a *ring.Poly, seed []byte, err error) {
	if rnd == nil {
		return nil, nil, nil, errors.New("bfv: nil randomness source")
	}
	seed = make([]byte, SeedSize)
	if _, err := io.ReadFull(rnd, seed); err != nil {
		return nil, nil, nil, fmt.Errorf("bfv: reading seed: %w", err)
	}
	a, err = p.ExpandSeed(seed, l)
	if err != nil {
		return nil, nil, nil, err
	}
	ev, err := ring.SampleCBD(rnd, p.n, cbdK)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bfv: %w", err)
	}
	bs := p.keyB[:l]
	e := ring.NewPoly(p.n, l)
	bs.SetSmall(e, ev)
	bs.NTT(e)
	b = ring.NewPoly(p.n, l)
	bs.MulCoeffs(b, a, sk.Poly)
	bs.Add(b, b, e)
	bs.Neg(b, b)
	return b, a, seed, nil
}

// Encrypt encrypts a Coeff plaintext under sk as a fresh seeded Coeff
// ciphertext over all ciphertext moduli (he-spec §4.3), as a client query
// is. rnd supplies the seed and the error.
func (p *Params) Encrypt(sk *SecretKey, pt *Plaintext, rnd io.Reader) (*Ciphertext, error) {
	if pt.Format != Coeff {
		return nil, fmt.Errorf("bfv: encrypting needs a Coeff plaintext")
	}
	l := p.MaxLevel()
	b, a, seed, err := p.encryptZeroEval(sk, l, rnd)
	if err != nil {
		return nil, err
	}
	bs := p.basis(l)
	bs.INTT(b)
	bs.INTT(a)
	ct := &Ciphertext{Polys: []*ring.Poly{b, a}, Format: Coeff, Seed: seed, CorrectionFactor: 1}
	p.addPlain(ct.Polys[0], pt, l)
	return ct, nil
}

// addPlain adds Δ̃(m) = floor(Q/t)·m + floor(((Q mod t)·m + floor((t+1)/2))/t)
// to the Coeff poly c0 at level l (Apple's plaintextTranslate, he-spec §4.3).
func (p *Params) addPlain(c0 *ring.Poly, pt *Plaintext, l int) {
	lv := p.levels[l]
	m := pt.Poly.Row(0)
	half := (p.t + 1) / 2
	for i, tab := range lv.basis {
		mod := &tab.M
		row := c0.Row(i)
		for j, v := range m {
			hi, lo := bits.Mul64(lv.qModT, v)
			lo, c := bits.Add64(lo, half, 0)
			r, _ := bits.Div64(hi+c, lo, p.t) // the dividend is < t², so the quotient fits
			d := mod.Add(mod.Mul(lv.qDivT[i], v), mod.Reduce(r))
			row[j] = mod.Add(row[j], d)
		}
	}
}

// phase returns v = c0 + c1·s (+ c2·s²) in Coeff form at ct's level.
func (p *Params) phase(sk *SecretKey, ct *Ciphertext) (*ring.Poly, error) {
	if len(ct.Polys) < 2 || len(ct.Polys) > 3 {
		return nil, fmt.Errorf("bfv: cannot decrypt a ciphertext with %d polynomials", len(ct.Polys))
	}
	l := ct.Level()
	if l < 1 || l > p.MaxLevel() {
		return nil, fmt.Errorf("bfv: ciphertext level %d out of range", l)
	}
	bs := p.basis(l)
	polys := make([]*ring.Poly, len(ct.Polys))
	for i, c := range ct.Polys {
		polys[i] = c.Clone()
		if ct.Format == Coeff {
			bs.NTT(polys[i])
		}
	}
	v := polys[0]
	sPow := sk.Poly.Truncate(l).Clone()
	tmp := ring.NewPoly(p.n, l)
	for i := 1; i < len(polys); i++ {
		bs.MulCoeffs(tmp, polys[i], sPow)
		bs.Add(v, v, tmp)
		if i+1 < len(polys) {
			bs.MulCoeffs(sPow, sPow, sk.Poly)
		}
	}
	bs.INTT(v)
	return v, nil
}

// crt composes each coefficient of v (l rows) into [0, Q).
func (p *Params) crt(v *ring.Poly, l int) []*big.Int {
	lv := p.levels[l]
	Q := lv.bigQ
	type term struct{ hat, inv *big.Int }
	terms := make([]term, l)
	for i, q := range p.moduli[:l] {
		bq := new(big.Int).SetUint64(q)
		hat := new(big.Int).Quo(Q, bq)
		terms[i] = term{hat, new(big.Int).ModInverse(new(big.Int).Mod(hat, bq), bq)}
	}
	out := make([]*big.Int, p.n)
	for j := range out {
		x := new(big.Int)
		for i := 0; i < l; i++ {
			c := new(big.Int).SetUint64(v.Row(i)[j])
			c.Mul(c, terms[i].inv).Mul(c, terms[i].hat)
			x.Add(x, c)
		}
		out[j] = x.Mod(x, Q)
	}
	return out
}

// Decrypt returns the Coeff plaintext round(t·v/Q) mod t, v = Σ c_i·s^i,
// times the inverse correction factor (he-spec §4.4). It uses exact
// big-integer rounding and is meant for tests and the Go test client; it
// is not constant time.
func (p *Params) Decrypt(sk *SecretKey, ct *Ciphertext) (*Plaintext, error) {
	v, err := p.phase(sk, ct)
	if err != nil {
		return nil, err
	}
	l := ct.Level()
	cf := p.tMod.Reduce(ct.CorrectionFactor)
	cfInv, err := p.tMod.Inv(cf)
	if err != nil {
		return nil, fmt.Errorf("bfv: correction factor %d is not invertible mod t", ct.CorrectionFactor)
	}
	Q := p.levels[l].bigQ
	twoQ := new(big.Int).Lsh(Q, 1)
	bt := new(big.Int).SetUint64(p.t)
	out := ring.NewPoly(p.n, 1)
	for j, x := range p.crt(v, l) {
		// round(t·x/Q) = floor((2·t·x + Q) / 2Q).
		x.Mul(x, bt).Lsh(x, 1).Add(x, Q)
		x.Quo(x, twoQ).Mod(x, bt)
		out.Coeffs[j] = p.tMod.Mul(x.Uint64(), cfInv)
	}
	return &Plaintext{Poly: out, Format: Coeff}, nil
}

// NoiseBudget returns Apple's noise budget log2(Q / (2·max|[t·v]_Q|))
// (+Inf when the noise is zero; he-spec §4.9). Decryption is correct while
// it is > 0. For tests only: never reveal it to another party.
func (p *Params) NoiseBudget(sk *SecretKey, ct *Ciphertext) (float64, error) {
	v, err := p.phase(sk, ct)
	if err != nil {
		return 0, err
	}
	l := ct.Level()
	Q := p.levels[l].bigQ
	halfQ := new(big.Int).Rsh(Q, 1)
	bt := new(big.Int).SetUint64(p.t)
	maxW := new(big.Int)
	for _, x := range p.crt(v, l) {
		x.Mul(x, bt).Mod(x, Q)
		if x.Cmp(halfQ) > 0 {
			x.Sub(Q, x)
		}
		if x.Cmp(maxW) > 0 {
			maxW.Set(x)
		}
	}
	if maxW.Sign() == 0 {
		return math.Inf(1), nil
	}
	return log2Big(Q) - log2Big(maxW) - 1, nil
}

func log2Big(x *big.Int) float64 {
	f, _ := new(big.Float).SetInt(x).Float64()
	if !math.IsInf(f, 0) {
		return math.Log2(f)
	}
	s := x.BitLen() - 60
	f, _ = new(big.Float).SetInt(new(big.Int).Rsh(x, uint(s))).Float64()
	return math.Log2(f) + float64(s)
}

// generateKSK builds the key-switching key from s' (Eval, all L) to sk
// (he-spec §5.1): K_j = seeded zero encryptions over all L moduli, with
// (P mod q_j)·s' added to row j of b_j.
func (p *Params) generateKSK(sk *SecretKey, sPrime *ring.Poly, rnd io.Reader) (*KeySwitchKey, error) {
	L := len(p.moduli)
	P := p.moduli[L-1]
	k := &KeySwitchKey{}
	for j := 0; j < L-1; j++ {
		b, a, seed, err := p.encryptZeroEval(sk, L, rnd)
		if err != nil {
			return nil, err
		}
		m := &p.keyB[j].M
		pm := m.Reduce(P)
		row, sr := b.Row(j), sPrime.Row(j)
		for s := range row {
			row[s] = m.Add(row[s], m.Mul(pm, sr[s]))
		}
		k.Keys = append(k.Keys, &Ciphertext{Polys: []*ring.Poly{b, a}, Format: Eval, Seed: seed, CorrectionFactor: 1})
	}
	return k, nil
}

// GenerateEvaluationKey builds Galois keys for each element of galois and,
// when relin is set, the relinearization key, as Apple's client does
// (he-spec §5.1). rnd supplies seeds and errors.
func (p *Params) GenerateEvaluationKey(sk *SecretKey, galois []uint64, relin bool, rnd io.Reader) (*EvaluationKey, error) {
	if !p.SupportsEvaluationKeys() {
		return nil, fmt.Errorf("bfv: parameters with one modulus have no evaluation keys")
	}
	evk := &EvaluationKey{Galois: map[uint64]*KeySwitchKey{}}
	for _, g := range galois {
		if !ring.ValidGaloisElement(g, p.n) {
			return nil, fmt.Errorf("bfv: invalid Galois element %d", g)
		}
		if evk.Galois[g] != nil {
			continue
		}
		sg := ring.NewPoly(p.n, len(p.moduli))
		p.keyB.GaloisEval(sg, sk.Poly, ring.GaloisEvalPermutation(g, p.n))
		k, err := p.generateKSK(sk, sg, rnd)
		if err != nil {
			return nil, err
		}
		evk.Galois[g] = k
	}
	if relin {
		s2 := ring.NewPoly(p.n, len(p.moduli))
		p.keyB.MulCoeffs(s2, sk.Poly, sk.Poly)
		k, err := p.generateKSK(sk, s2, rnd)
		if err != nil {
			return nil, err
		}
		evk.Relin = k
	}
	return evk, nil
}
