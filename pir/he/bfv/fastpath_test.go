package bfv

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/kernels"
	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// primesBelow returns count primes ≡ 1 mod 2n just below bound.
func primesBelow(bound uint64, n, count int) []uint64 {
	var out []uint64
	step := 2 * uint64(n)
	for q := bound - bound%step + 1; len(out) < count; q -= step {
		if q < bound && modq.IsPrime(q) {
			out = append(out, q)
		}
	}
	return out
}

// fastPathParams returns parameter sets whose key-switching extension takes
// the 32-bit path: the URL-filter preset, and custom sets with more
// moduli, N = 8192, and moduli right below 2^30.
func fastPathParams(t *testing.T) []*Params {
	t.Helper()
	p, err := Preset("n_4096_logq_27_28_28_logt_5")
	if err != nil {
		t.Fatal(err)
	}
	out := []*Params{p}
	for _, lit := range []ParamsLiteral{
		{N: 4096, T: 17, Moduli: primesBelow(word32Max, 4096, 5), Security: Unchecked},
		{N: 8192, T: 17, Moduli: []uint64{268369921, 536690689, primesBelow(word32Max, 8192, 1)[0]}, Security: Unchecked},
		{N: 4096, T: 17, Moduli: []uint64{40961, 134176769, 268369921, 268361729}, Security: Unchecked},
	} {
		p, err := NewParams(lit)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// randomCoeffPoly returns a poly over p's first l moduli with random
// residues and q−1 / 0 runs at both ends.
func randomCoeffPoly(p *Params, l int, rng *rand.Rand) *ring.Poly {
	x := ring.NewPoly(p.n, l)
	for i := 0; i < l; i++ {
		q := p.moduli[i]
		row := x.Row(i)
		for j := range row {
			row[j] = rng.Uint64N(q)
		}
		for j := 0; j < 16; j++ {
			row[j], row[len(row)-1-j] = q-1, 0
		}
	}
	return x
}

// TestKeySwitch32MatchesReference runs the 32-bit key switching and the
// 64-bit reference on the same inputs at every level, Coeff and Eval
// results, with and without the digits' Eval form (keySwitch's dEval).
func TestKeySwitch32MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, p := range fastPathParams(t) {
		t.Run(fmt.Sprintf("N=%d/moduli=%v", p.n, p.moduli), func(t *testing.T) {
			rnd := testRand(t, 3)
			sk, err := p.GenerateSecretKey(rnd)
			if err != nil {
				t.Fatal(err)
			}
			evk, err := p.GenerateEvaluationKey(sk, []uint64{3}, false, rnd)
			if err != nil {
				t.Fatal(err)
			}
			ev := NewEvaluator(p)
			for l := 1; l <= p.MaxLevel(); l++ {
				if !p.levels[l].ks.word32 {
					t.Fatalf("level %d does not take the 32-bit path", l)
				}
				d := randomCoeffPoly(p, l, rng)
				dE := d.Clone()
				p.basis(l).NTT(dE)
				for _, eval := range []bool{false, true} {
					want0, want1 := ring.NewPoly(p.n, l), ring.NewPoly(p.n, l)
					ev.keySwitch64(want0, want1, d, nil, evk.Galois[3], l, eval)
					// The diagonal digits from d's Eval form, or transformed.
					for _, de := range []*ring.Poly{nil, dE} {
						got0, got1 := ring.NewPoly(p.n, l), ring.NewPoly(p.n, l)
						ev.keySwitch32(got0, got1, d, de, evk.Galois[3], l, eval)
						if !slices.Equal(got0.Coeffs, want0.Coeffs) || !slices.Equal(got1.Coeffs, want1.Coeffs) {
							t.Fatalf("level %d eval=%v Eval digits=%v: 32-bit key switching differs from the reference", l, eval, de != nil)
						}
					}
				}
			}
		})
	}
}

// TestDrop32MatchesReference compares the 32-bit divide-and-round by the
// last modulus with the generic one.
func TestDrop32MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, p := range fastPathParams(t) {
		for l := 2; l <= len(p.moduli); l++ {
			b := p.keyB[:l]
			fast := newDropper(b)
			if !fast.word32 {
				t.Fatalf("moduli %v: dropper does not take the 32-bit path", p.moduli[:l])
			}
			fast.word52 = false // the 52-bit rows take precedence on IFMA CPUs
			ref := *fast
			ref.word32 = false
			x := randomCoeffPoly(p, l, rng)
			got, want := ring.NewPoly(p.n, l-1), ring.NewPoly(p.n, l-1)
			fast.apply(b, got, x)
			ref.apply(b, want, x)
			if !slices.Equal(got.Coeffs, want.Coeffs) {
				t.Fatalf("moduli %v: 32-bit drop differs from the reference", p.moduli[:l])
			}
		}
	}
}

// TestMul32MatchesReference runs the 32-bit lift and scale of ct×ct and
// their 128-bit references on the same inputs (random residues, 0 and q−1
// runs) with the same tables, at every level.
func TestMul32MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, p := range fastPathParams(t) {
		for l := 1; l <= p.MaxLevel(); l++ {
			mt, err := p.mulTablesAt(l, maxMulPairs)
			if err != nil {
				t.Fatal(err)
			}
			if !mt.word32 {
				t.Fatalf("moduli %v level %d: ct×ct does not take the 32-bit path", p.moduli, l)
			}
			rows := len(mt.all)
			v, y := make([]uint64, l), make([]uint64, len(mt.aux))
			c := randomCoeffPoly(p, l, rng)
			got, want := ring.NewPoly(p.n, rows), ring.NewPoly(p.n, rows)
			sc := make([]uint64, mt.scratch32Len(p.n))
			mt.lift32(got, c, sc)
			mt.lift64(want, c, v)
			if !slices.Equal(got.Coeffs, want.Coeffs) {
				t.Fatalf("moduli %v level %d: lift32 differs from lift64", p.moduli, l)
			}
			d := ring.NewPoly(p.n, rows)
			for r, tab := range mt.all {
				row := d.Row(r)
				for j := range row {
					row[j] = rng.Uint64N(tab.M.Q)
				}
				row[0], row[1] = tab.M.Q-1, 0
			}
			// scale32 reads the tensor in Montgomery form, D·2^{-32}.
			dm := ring.NewPoly(p.n, rows)
			for r, tab := range mt.all {
				rInv, err := tab.M.Inv(1 << 32)
				if err != nil {
					t.Fatal(err)
				}
				for j, v := range d.Row(r) {
					dm.Row(r)[j] = tab.M.Mul(v, rInv)
				}
			}
			gotS, wantS := ring.NewPoly(p.n, l), ring.NewPoly(p.n, l)
			mt.scale32(gotS, dm, sc)
			mt.scale64(wantS, d, v, y)
			if !slices.Equal(gotS.Coeffs, wantS.Coeffs) {
				t.Fatalf("moduli %v level %d: scale32 differs from scale64", p.moduli, l)
			}
		}
	}
}

// TestDrop32Kernels compares the AVX2 divide-and-round row with the
// portable one on the same inputs (a tail too).
func TestDrop32Kernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, p := range fastPathParams(t) {
		b := p.keyB
		d := newDropper(b)
		last := b[len(b)-1].M.Q
		for i, tab := range b[:len(b)-1] {
			q := tab.M.Q
			k := (last + q - 1) / q
			for _, n := range []int{4, 7, p.n} {
				src, lastRow := make([]uint64, n), make([]uint64, n)
				for j := range src {
					src[j], lastRow[j] = rng.Uint64N(q), rng.Uint64N(last)
				}
				src[0], lastRow[0], src[n-1], lastRow[n-1] = q-1, last-1, 0, 0
				got, want := make([]uint64, n), make([]uint64, n)
				drop32(got, src, lastRow, last, d.half, q, d.halfMod[i]+k*q, d.inv[i], d.invS32[i])
				drop32Go(want, src, lastRow, last, d.half, q, d.halfMod[i]+k*q, d.inv[i], d.invS32[i])
				if !slices.Equal(got, want) {
					t.Fatalf("moduli %v row %d n=%d: AVX2 drop differs from the portable one", p.moduli, i, n)
				}
				// The fused Eval drop's multiply pass: (x + t)·inv mod q.
				tv := make([]uint64, n)
				for j := range tv {
					tv[j] = rng.Uint64N(q)
				}
				tv[0] = q - 1
				addMulConst32(got, src, tv, d.inv[i], d.invS32[i], q)
				addMulConst32Go(want, src, tv, d.inv[i], d.invS32[i], q)
				if !slices.Equal(got, want) {
					t.Fatalf("moduli %v row %d n=%d: AVX2 add-multiply differs from the portable one", p.moduli, i, n)
				}
				m := tab.M
				for j, v := range want {
					if e := m.Mul(m.Add(src[j], tv[j]), d.inv[i]); v != e {
						t.Fatalf("moduli %v row %d slot %d: add-multiply %d, want %d", p.moduli, i, j, v, e)
					}
				}
			}
		}
	}
}

// TestShoupKernels compares the AVX2 key-product and reduction rows with
// the portable ones, and the key companions with exact division.
func TestShoupKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	for _, q := range []uint64{40961, 134176769, 268369921, word32Max - 35} {
		m := modq.MustNew(q)
		for _, n := range []int{4, 9, 4096} {
			x, k, ks := make([]uint64, n), make([]uint64, n), make([]uint64, n)
			for i := range x {
				x[i], k[i] = rng.Uint64N(4*q), rng.Uint64N(q)
			}
			x[0], k[0], x[n-1], k[n-1] = 4*q-1, q-1, 0, 0
			shoupCompanions(ks, k, m)
			for i := range k {
				if want := (k[i] << 32) / q; ks[i] != want {
					t.Fatalf("q=%d: companion of %d = %d, want %d", q, k[i], ks[i], want)
				}
			}
			for _, acc := range []bool{false, true} {
				got, want := make([]uint64, n), make([]uint64, n)
				for i := range got {
					got[i] = rng.Uint64N(2 * q)
					want[i] = got[i]
				}
				shoupRow(got, x, k, ks, q, acc)
				shoupRowGo(want, x, k, ks, q, acc)
				if !slices.Equal(got, want) {
					t.Fatalf("q=%d n=%d acc=%v: AVX2 key product differs from the portable one", q, n, acc)
				}
				for i := range got {
					if acc {
						continue
					}
					if got[i] >= 2*q || got[i]%q != x[i]%q*k[i]%q {
						t.Fatalf("q=%d: lazy product %d of %d·%d is wrong", q, got[i], x[i], k[i])
					}
				}
				csub2Row(got, q)
				csub2RowGo(want, q)
				if !slices.Equal(got, want) {
					t.Fatalf("q=%d n=%d: AVX2 reduction differs from the portable one", q, n)
				}
			}
		}
	}
}

// TestKeyShoupCache checks that the companions are cached per key and
// recomputed for other moduli.
func TestKeyShoupCache(t *testing.T) {
	ps := fastPathParams(t)
	p := ps[0]
	rnd := testRand(t, 4)
	sk, err := p.GenerateSecretKey(rnd)
	if err != nil {
		t.Fatal(err)
	}
	evk, err := p.GenerateEvaluationKey(sk, []uint64{5}, false, rnd)
	if err != nil {
		t.Fatal(err)
	}
	k := evk.Galois[5]
	a := k.shoup32(p)
	if b := k.shoup32(p); b != a {
		t.Fatal("companions recomputed for the same parameters")
	}
	other, err := NewParams(ParamsLiteral{N: p.n, T: 17, Moduli: primesBelow(word32Max, p.n, 3), Security: Unchecked})
	if err != nil {
		t.Fatal(err)
	}
	if k.shoup32(other) == a {
		t.Fatal("companions reused for other moduli")
	}
	if k.shoup32(p) != a {
		t.Fatal("cached companions replaced")
	}
}

// TestConstRowKernels compares the AVX2 constant-product rows of ct×ct
// with the portable ones (every mode, both signs, a tail) and checks the
// products against exact arithmetic.
func TestConstRowKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	for _, q := range []uint64{40961, 134176769, word32Max - 35} {
		m := modq.MustNew(q)
		for _, n := range []int{4, 11, 4096} {
			x, s, neg, acc := make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]uint64, n)
			for i := range x {
				x[i], s[i], acc[i] = rng.Uint64N(1<<32), rng.Uint64N(1<<32), rng.Uint64N(2*q)
				neg[i] = -(rng.Uint64() & 1)
			}
			x[0], x[n-1], s[0], acc[0] = 1<<32-1, 0, 1<<32-1, 2*q-1
			c := newMulConst(rng.Uint64N(q), &m)
			for mode := uint64(0); mode <= 2; mode++ {
				got, want := slices.Clone(acc), slices.Clone(acc)
				shoupConstRow(got, x, c.w, c.s, q, mode)
				shoupConstRowGo(want, x, c.w, c.s, q, mode)
				if !slices.Equal(got, want) {
					t.Fatalf("q=%d n=%d mode %d: constant product (%s) differs from the portable one", q, n, mode, kernels.Selected())
				}
				for i := range got {
					p := m.Mul(m.Reduce(x[i]), c.w)
					if mode == shoupAdd {
						p = m.Add(p, m.Reduce(acc[i]))
					}
					if got[i]%q != p || got[i] >= 2*q || (mode == shoupReduce && got[i] >= q) {
						t.Fatalf("q=%d mode %d: slot %d = %d, want %d (mod q)", q, mode, i, got[i], p)
					}
				}
			}
			got, want := make([]uint64, n), make([]uint64, n)
			signedAddRow(got, acc, s, neg, c.w, c.s, q)
			signedAddRowGo(want, acc, s, neg, c.w, c.s, q)
			if !slices.Equal(got, want) {
				t.Fatalf("q=%d n=%d: signed add (%s) differs from the portable one", q, n, kernels.Selected())
			}
			for i := range got {
				tv := m.Mul(m.Reduce(s[i]), c.w)
				if neg[i] != 0 {
					tv = m.Neg(tv)
				}
				if w := m.Add(m.Reduce(acc[i]), tv); got[i] != w {
					t.Fatalf("q=%d: signed add slot %d = %d, want %d", q, i, got[i], w)
				}
			}
		}
	}
}

// TestTensorMont compares the AVX2 Montgomery tensor with the portable one
// and with exact arithmetic (D·2^{-32} mod q).
func TestTensorMont(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	for _, q := range []uint64{40961, 134176769, word32Max - 35} {
		m := modq.MustNew(q)
		qInv := montInv32(q)
		if (q*qInv+1)&(1<<32-1) != 0 {
			t.Fatalf("montInv32(%d) = %d is not −q^{-1} mod 2^32", q, qInv)
		}
		rInv, _ := m.Inv(1 << 32)
		for _, n := range []int{4, 13, 4096} {
			in := make([][]uint64, 7) // d0, d1, d2, x0, x1, y0, y1
			for i := range in {
				in[i] = make([]uint64, n)
				for j := range in[i] {
					in[i][j] = rng.Uint64N(q)
				}
				in[i][0] = q - 1
			}
			got := [3][]uint64{slices.Clone(in[0]), slices.Clone(in[1]), slices.Clone(in[2])}
			want := [3][]uint64{slices.Clone(in[0]), slices.Clone(in[1]), slices.Clone(in[2])}
			tensor32(got[0], got[1], got[2], in[3], in[4], in[5], in[6], q, qInv)
			tensor32Go(want[0], want[1], want[2], in[3], in[4], in[5], in[6], q, qInv)
			if !(slices.Equal(got[0], want[0]) && slices.Equal(got[1], want[1]) && slices.Equal(got[2], want[2])) {
				t.Fatalf("q=%d n=%d: tensor (%s) differs from the portable one", q, n, kernels.Selected())
			}
			for j := 0; j < n; j++ {
				x0, x1, y0, y1 := in[3][j], in[4][j], in[5][j], in[6][j]
				e := [3]uint64{
					m.Add(in[0][j], m.Mul(m.Mul(x0, y0), rInv)),
					m.Add(in[1][j], m.Mul(m.Add(m.Mul(x0, y1), m.Mul(x1, y0)), rInv)),
					m.Add(in[2][j], m.Mul(m.Mul(x1, y1), rInv)),
				}
				for k := range 3 {
					if got[k][j] != e[k] {
						t.Fatalf("q=%d: d%d[%d] = %d, want %d", q, k, j, got[k][j], e[k])
					}
				}
			}
		}
	}
}

// TestInnerProduct32MatchesReference runs the 32-bit and the 128-bit inner
// product rows on the same Eval ciphertexts and plaintexts (more terms
// than one 64-bit accumulator holds, nil plaintexts included) and checks
// the AVX2 multiply-accumulate row against the portable one.
func TestInnerProduct32MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(39, 40))
	for _, p := range fastPathParams(t) {
		l := p.MaxLevel()
		terms := int(maxTerms32(p.moduli[0]))*2 + 3
		terms = min(terms, 40)
		var cts []*Ciphertext
		var pts []*Plaintext
		for i := 0; i < terms; i++ {
			cts = append(cts, &Ciphertext{Polys: []*ring.Poly{randomCoeffPoly(p, l, rng), randomCoeffPoly(p, l, rng)}, Format: Eval, CorrectionFactor: 1})
			var pt *Plaintext
			if i%7 != 3 {
				pt = &Plaintext{Poly: randomCoeffPoly(p, l, rng), Format: Eval}
			}
			pts = append(pts, pt)
		}
		ev := NewEvaluator(p)
		got := &Ciphertext{}
		if err := ev.InnerProduct(got, cts, pts); err != nil {
			t.Fatal(err)
		}
		want := &Ciphertext{}
		ev.shape(want, 2, l, Eval)
		for r := 0; r < l; r++ {
			ev.innerProductRow64(want, cts, pts, r, 0, ev.p.n)
		}
		for k := range got.Polys {
			if !slices.Equal(got.Polys[k].Coeffs, want.Polys[k].Coeffs) {
				t.Fatalf("moduli %v: 32-bit inner product differs from the 128-bit one", p.moduli)
			}
		}
	}
	// mulAccRows (the kernel of the level) against one mulAccRowGo per
	// term: random words below 2^32 and all 2^32−1 (accumulators that
	// wrap), lengths around the 16-slot blocks, 1 to 5 terms.
	for _, n := range []int{4, 9, 16, 17, 4096, 4100} {
		for nt := 1; nt <= 5; nt++ {
			val := func() uint64 {
				if nt%2 == 0 {
					return 1<<32 - 1
				}
				return rng.Uint64N(1 << 32)
			}
			acc := make([]uint64, n)
			xs, ys := make([][]uint64, nt), make([][]uint64, nt)
			for t := range nt {
				xs[t], ys[t] = make([]uint64, n), make([]uint64, n)
				for i := range n {
					xs[t][i], ys[t][i] = val(), val()
				}
			}
			for i := range acc {
				acc[i] = rng.Uint64()
			}
			got, want := slices.Clone(acc), slices.Clone(acc)
			mulAccRows(got, xs, ys)
			for t := range nt {
				mulAccRowGo(want, xs[t], ys[t])
			}
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d, %d terms: mulAccRows (%s) differs from the portable loop", n, nt, kernels.Selected())
			}
		}
	}
}
