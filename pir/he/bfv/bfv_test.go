package bfv

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blindlist/blindlist/pir/he/drbg"
	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// testRand returns a deterministic randomness stream for tests.
func testRand(t testing.TB, b byte) *drbg.Reader {
	seed := make([]byte, drbg.SeedSize)
	seed[0] = b
	r, err := drbg.New(seed)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Apple's skipLSBsForDecryption KATs (T/HE/EncryptionParametersTests.swift,
// he-spec §1.2).
func TestSkipLSBsPresets(t *testing.T) {
	want := map[string][2]int{
		"insecure_n_16_logq_60_logt_15": {42, 38}, "insecure_n_512_logq_4x60_logt_20": {36, 29},
		"insecure_n_8_logq_5x18_logt_5": {9, 5}, "n_4096_logq_16_33_33_logt_4": {9, 0},
		"n_4096_logq_27_28_28_logt_13": {11, 3}, "n_4096_logq_27_28_28_logt_16": {9, 0},
		"n_4096_logq_27_28_28_logt_17": {8, 0}, "n_4096_logq_27_28_28_logt_4": {20, 12},
		"n_4096_logq_27_28_28_logt_5": {19, 11}, "n_4096_logq_27_28_28_logt_6": {18, 10},
		"n_8192_logq_28_60_60_logt_20": {6, 0}, "n_8192_logq_29_60_60_logt_15": {11, 2},
		"n_8192_logq_3x55_logt_24": {28, 19}, "n_8192_logq_3x55_logt_29": {23, 14},
		"n_8192_logq_3x55_logt_30": {22, 13}, "n_8192_logq_3x55_logt_42": {11, 0},
		"n_8192_logq_40_60_60_logt_26": {11, 2},
	}
	bytesPer := map[string]int{"n_4096_logq_27_28_28_logt_5": 2048, "n_8192_logq_3x55_logt_24": 23552,
		"n_4096_logq_16_33_33_logt_4": 1536, "insecure_n_8_logq_5x18_logt_5": 4}
	if len(PresetNames()) != len(want) {
		t.Fatalf("%d presets, want %d", len(PresetNames()), len(want))
	}
	for _, name := range PresetNames() {
		p, err := Preset(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := p.SkipLSBsForDecryption(); got != want[name] {
			t.Errorf("%s: skipLSBs %v, want %v", name, got, want[name])
		}
		if b, ok := bytesPer[name]; ok && p.BytesPerPlaintext() != b {
			t.Errorf("%s: bytes per plaintext %d, want %d", name, p.BytesPerPlaintext(), b)
		}
	}
}

func TestParamsValidation(t *testing.T) {
	bad := []ParamsLiteral{
		{N: 4096, T: 17, Moduli: []uint64{134176769, 268369921, 268361729, 268369921}}, // repeated
		{N: 4096, T: 17, Moduli: moduli3x55, Security: Quantum128},                     // too large for N=4096
		{N: 4095, T: 17, Moduli: moduli27_28_28},                                       // N not power of two
		{N: 4096, T: 16, Moduli: moduli27_28_28},                                       // t not prime
		{N: 4096, T: 17, Moduli: []uint64{134176769, 268369921, 268369923}},            // not NTT-friendly / prime
		{N: 4096, T: 268369921, Moduli: []uint64{134176769}},                           // q <= t
		{N: 4096, T: 17, Moduli: moduli3x55, WordBits: 32},                             // 32-bit words, 55-bit moduli
		{N: 8, T: 17, Moduli: []uint64{1073721419 - 1073721419%16 + 1}, WordBits: 7},   // bad word size
	}
	for i, lit := range bad {
		if _, err := NewParams(lit); err == nil {
			t.Errorf("case %d: NewParams accepted %+v", i, lit)
		}
	}
	p, err := NewParams(ParamsLiteral{N: 4096, T: 17, Moduli: moduli27_28_28, Security: Quantum128})
	if err != nil || p.Name() != "n_4096_logq_27_28_28_logt_5" || p.WordBits() != 32 {
		t.Fatalf("preset literal: %v %q %d", err, p.Name(), p.WordBits())
	}
	if _, err := Preset("n_4096_nope"); err == nil {
		t.Error("unknown preset accepted")
	}
}

// TestRoundTrip encrypts with our client, runs every server operation, and
// decrypts: the results must match the plaintext arithmetic.
func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"n_4096_logq_27_28_28_logt_5", "n_4096_logq_16_33_33_logt_4", "insecure_n_8_logq_5x18_logt_5"} {
		t.Run(name, func(t *testing.T) {
			p, err := Preset(name)
			if err != nil {
				t.Fatal(err)
			}
			rnd := testRand(t, 1)
			rng := rand.New(rand.NewPCG(1, 2))
			sk, err := p.GenerateSecretKey(rnd)
			if err != nil {
				t.Fatal(err)
			}
			n, tm := p.N(), p.T()
			ma, mb := make([]uint64, n), make([]uint64, n)
			for i := range ma {
				ma[i], mb[i] = rng.Uint64N(tm), rng.Uint64N(tm)
			}
			pa, _ := p.EncodeCoeffs(ma)
			pb, _ := p.EncodeCoeffs(mb)
			a, err := p.Encrypt(sk, pa, rnd)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := p.Encrypt(sk, pb, rnd)
			g := uint64(3)
			evk, err := p.GenerateEvaluationKey(sk, []uint64{g, uint64(2*n - 1)}, true, rnd)
			if err != nil {
				t.Fatal(err)
			}
			ev := NewEvaluator(p)
			dec := func(ct *Ciphertext) []uint64 {
				t.Helper()
				pt, err := p.Decrypt(sk, ct)
				if err != nil {
					t.Fatal(err)
				}
				v, _ := pt.DecodeCoeffs()
				return v
			}
			if !slices.Equal(dec(a), ma) {
				t.Fatal("fresh encryption does not decrypt")
			}
			// Seeded serialization round trip.
			poly0, seed, err := p.SerializeSeeded(a)
			if err != nil {
				t.Fatal(err)
			}
			a2, err := p.ParseSeededCiphertext(poly0, seed, p.MaxLevel(), Coeff)
			if err != nil || !slices.Equal(a2.Polys[1].Coeffs, a.Polys[1].Coeffs) {
				t.Fatalf("seeded round trip: %v", err)
			}
			// Plaintext arithmetic oracle (negacyclic mod t).
			tmod := p.tMod
			wantMul := make([]uint64, n)
			for i := range ma {
				for j := range mb {
					pr := tmod.Mul(ma[i], mb[j])
					if k := i + j; k < n {
						wantMul[k] = tmod.Add(wantMul[k], pr)
					} else {
						wantMul[k-n] = tmod.Sub(wantMul[k-n], pr)
					}
				}
			}
			wantGalois := func(m []uint64, g uint64) []uint64 {
				out := make([]uint64, n)
				for i, v := range m {
					k := uint64(i) * g % uint64(2*n)
					if k < uint64(n) {
						out[k] = v
					} else {
						out[k-uint64(n)] = tmod.Neg(v)
					}
				}
				return out
			}
			out := &Ciphertext{}
			if err := ev.ApplyGalois(out, a, g, evk); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(dec(out), wantGalois(ma, g)) {
				t.Error("Galois 3 wrong")
			}
			if err := ev.ApplyGalois(out, a, uint64(2*n-1), evk); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(dec(out), wantGalois(ma, uint64(2*n-1))) {
				t.Error("Galois 2N-1 wrong")
			}
			if err := ev.Mul(out, a, b); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(dec(out), wantMul) {
				t.Error("unrelinearized product wrong")
			}
			if err := ev.Relinearize(out, out, evk); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(dec(out), wantMul) {
				t.Error("relinearized product wrong")
			}
			if err := ev.ModSwitchDownToSingle(out); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(dec(out), wantMul) {
				t.Error("mod-switched product wrong")
			}
			polys, skip, err := p.SerializeForDecryption(out)
			if err != nil {
				t.Fatal(err)
			}
			back, err := p.ParseFullCiphertext(polys, skip, 1, 1, Coeff)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(dec(back), wantMul) {
				t.Error("skip-LSB serialized product wrong")
			}
			// Plaintext product through the Eval path.
			ptb, err := p.ToEval(pb, p.MaxLevel())
			if err != nil {
				t.Fatal(err)
			}
			ae := a.Clone()
			_ = ev.ToEval(ae)
			if err := ev.InnerProduct(out, []*Ciphertext{ae, ae}, []*Plaintext{ptb, nil}); err != nil {
				t.Fatal(err)
			}
			_ = ev.ToCoeff(out)
			if !slices.Equal(dec(out), wantMul) {
				t.Error("inner product wrong")
			}
			// Secret key serialization round trip.
			sk2, err := p.ParseSecretKey(p.SerializeSecretKey(sk))
			if err != nil || !slices.Equal(sk2.Poly.Coeffs, sk.Poly.Coeffs) {
				t.Errorf("secret key round trip: %v", err)
			}
		})
	}
}

// TestPIRShapedNoise runs a MulPIR-shaped computation (expansion by
// Galois automorphisms, a 16-term plaintext inner product, a 4-term ct×ct
// inner product, relinearization, mod switch) on the URL-filter preset and
// checks the noise budget keeps a margin.
func TestPIRShapedNoise(t *testing.T) {
	p, err := Preset("n_4096_logq_27_28_28_logt_5")
	if err != nil {
		t.Fatal(err)
	}
	rnd := testRand(t, 2)
	sk, _ := p.GenerateSecretKey(rnd)
	n := p.N()
	elems := []uint64{}
	for k := 1; k <= 12; k++ {
		elems = append(elems, uint64(n>>(k-1))+1)
	}
	evk, err := p.GenerateEvaluationKey(sk, elems[:5], true, rnd)
	if err != nil {
		t.Fatal(err)
	}
	ev := NewEvaluator(p)
	one, _ := p.EncodeCoeffs([]uint64{1})
	q, _ := p.Encrypt(sk, one, rnd)
	// Five expansion steps: c ← c + σ_g(c).
	c := q.Clone()
	for _, g := range elems[:5] {
		s := &Ciphertext{}
		if err := ev.ApplyGalois(s, c, g, evk); err != nil {
			t.Fatal(err)
		}
		if err := ev.Add(c, c, s); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var cts []*Ciphertext
	var pts []*Plaintext
	for i := 0; i < 16; i++ {
		vals := make([]uint64, n)
		for j := range vals {
			vals[j] = rng.Uint64N(p.T())
		}
		pt, _ := p.EncodeCoeffs(vals)
		pe, _ := p.ToEval(pt, p.MaxLevel())
		ce := c.Clone()
		_ = ev.ToEval(ce)
		cts, pts = append(cts, ce), append(pts, pe)
	}
	r := &Ciphertext{}
	if err := ev.InnerProduct(r, cts, pts); err != nil {
		t.Fatal(err)
	}
	_ = ev.ToCoeff(r)
	var as, bs []*Ciphertext
	for i := 0; i < 4; i++ {
		as, bs = append(as, c), append(bs, r)
	}
	x := &Ciphertext{}
	if err := ev.MulInnerProduct(x, as, bs); err != nil {
		t.Fatal(err)
	}
	if err := ev.Relinearize(x, x, evk); err != nil {
		t.Fatal(err)
	}
	if err := ev.ModSwitchDownToSingle(x); err != nil {
		t.Fatal(err)
	}
	nb, err := p.NoiseBudget(sk, x)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("noise budget after PIR-shaped computation: %.2f bits", nb)
	if nb < 3 {
		t.Fatalf("noise budget %.2f bits, want >= 3", nb)
	}
}

// Apple's divideAndRoundQLast and multiplyPowerOfX KATs
// (T/HE/PolyRqTests/PolyRqTests.swift, he-spec §4.6).
func TestDivideAndRoundQLastKAT(t *testing.T) {
	// moduli need q ≡ 1 mod 2N for NTT tables; use the arithmetic directly.
	for _, c := range []struct {
		moduli []uint64
		x      []uint64
		want   []uint64
	}{
		{[]uint64{13, 17}, []uint64{2, 41, 42, 43}, []uint64{0, 2, 2, 3}},
		{[]uint64{13, 17, 29}, []uint64{25, 298}, []uint64{1, 10}},
	} {
		b := make(ring.Basis, len(c.moduli))
		for i, q := range c.moduli {
			b[i] = &ring.Table{M: mustMod(q), N: len(c.x)}
		}
		poly := ring.NewPoly(len(c.x), len(c.moduli))
		for i, q := range c.moduli {
			for j, v := range c.x {
				poly.Row(i)[j] = v % q
			}
		}
		newDropper(b).apply(b, poly, poly)
		for i, q := range c.moduli[:len(c.moduli)-1] {
			for j, w := range c.want {
				if poly.Row(i)[j] != w%q {
					t.Errorf("moduli %v: row %d coeff %d = %d, want %d", c.moduli, i, j, poly.Row(i)[j], w%q)
				}
			}
		}
	}
}

func mustMod(q uint64) modq.Modulus { return modq.MustNew(q) }

// TestParseFullCiphertextLevels: a full ciphertext at a level outside
// [1, L] is ErrFormat, also with skip_lsbs (level 0 with skip_lsbs panicked
// in minBits; found by heproto's FuzzCiphertext).
func TestParseFullCiphertextLevels(t *testing.T) {
	p, err := Preset("n_4096_logq_27_28_28_logt_5")
	if err != nil {
		t.Fatal(err)
	}
	polys := []byte{1, 0}
	for _, tc := range []struct {
		name  string
		level int
		skip  []uint32
	}{
		{"level 0 with skip_lsbs", 0, []uint32{0}},
		{"level 0", 0, nil},
		{"negative level with skip_lsbs", -1, []uint32{1}},
		{"level above L with skip_lsbs", len(p.Moduli()) + 1, []uint32{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.ParseFullCiphertext(polys, tc.skip, 1, tc.level, Coeff)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("ParseFullCiphertext(level %d, skip %v) = %v, want ErrFormat", tc.level, tc.skip, err)
			}
		})
	}
}
