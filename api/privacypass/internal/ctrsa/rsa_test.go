package ctrsa

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"testing"

	"github.com/blindlist/blindlist/internal/testvec"
)

// randNat returns a random value below bound as L words.
func randNat(t *testing.T, bound *big.Int, L int) (*big.Int, nat) {
	t.Helper()
	x, err := rand.Int(rand.Reader, bound)
	if err != nil {
		t.Fatal(err)
	}
	return x, natFromBig(x, L)
}

func natToBig(x nat) *big.Int {
	b := make([]byte, 8*len(x))
	fillBytes(b, x)
	return new(big.Int).SetBytes(b)
}

// randOddModulus returns a random odd modulus with its top word non-zero.
func randOddModulus(t *testing.T, L int, topBitSet bool) *big.Int {
	t.Helper()
	for {
		m, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(64*L)))
		if err != nil {
			t.Fatal(err)
		}
		m.SetBit(m, 0, 1)
		if topBitSet {
			m.SetBit(m, 64*L-1, 1)
		}
		if m.BitLen() > 64*(L-1) {
			return m
		}
	}
}

func TestModulusAgainstBig(t *testing.T) {
	for _, L := range []int{1, 2, 3, 5, 16} {
		for _, top := range []bool{true, false} {
			mb := randOddModulus(t, L, top)
			mod := newModulus(natFromBig(mb, L))
			R := new(big.Int).Lsh(big.NewInt(1), uint(64*L))
			Rinv := new(big.Int).ModInverse(R, mb)
			if got, want := natToBig(mod.rr), new(big.Int).Mod(new(big.Int).Mul(R, R), mb); got.Cmp(want) != 0 {
				t.Fatalf("L=%d: R² mod m = %v, want %v", L, got, want)
			}
			if got, want := natToBig(mod.one), new(big.Int).Mod(R, mb); got.Cmp(want) != 0 {
				t.Fatalf("L=%d: R mod m = %v, want %v", L, got, want)
			}
			tmp := make(nat, L+1)
			edge := []*big.Int{big.NewInt(0), big.NewInt(1), new(big.Int).Sub(mb, big.NewInt(1))}
			for i := range 200 {
				var xb, yb *big.Int
				var x, y nat
				if i < 9 {
					xb, yb = edge[i/3], edge[i%3]
					x, y = natFromBig(xb, L), natFromBig(yb, L)
				} else {
					xb, x = randNat(t, mb, L)
					yb, y = randNat(t, mb, L)
				}
				z := make(nat, L)
				mod.montMul(z, x, y, tmp)
				want := new(big.Int).Mul(xb, yb)
				want.Mul(want, Rinv).Mod(want, mb)
				if natToBig(z).Cmp(want) != 0 {
					t.Fatalf("L=%d: montMul(%v, %v) = %v, want %v", L, xb, yb, natToBig(z), want)
				}
				// Wide reduction of a value below m·R.
				wb, err := rand.Int(rand.Reader, new(big.Int).Mul(mb, R))
				if err != nil {
					t.Fatal(err)
				}
				mod.redcWide(z, natFromBig(wb, 2*L), make(nat, 2*L))
				want = new(big.Int).Mul(wb, Rinv)
				want.Mod(want, mb)
				if natToBig(z).Cmp(want) != 0 {
					t.Fatalf("L=%d: redcWide(%v) = %v, want %v", L, wb, natToBig(z), want)
				}
			}
			for range 20 {
				xb, x := randNat(t, mb, L)
				eb, e := randNat(t, R, L)
				z := make(nat, L)
				mod.exp(z, x, e)
				if want := new(big.Int).Exp(xb, eb, mb); natToBig(z).Cmp(want) != 0 {
					t.Fatalf("L=%d: exp = %v, want %v", L, natToBig(z), want)
				}
			}
		}
	}
}

func TestCtEq(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	cases := [][2]uint64{{0, 0}, {1, 1}, {0, 1}, {1 << 63, 0}, {^uint64(0), ^uint64(0)}, {^uint64(0), 0}}
	for range 100 {
		cases = append(cases, [2]uint64{r.Uint64(), r.Uint64()})
	}
	for _, c := range cases {
		want := uint64(0)
		if c[0] == c[1] {
			want = ^uint64(0)
		}
		if got := ctEq(c[0], c[1]); got != want {
			t.Errorf("ctEq(%#x, %#x) = %#x, want %#x", c[0], c[1], got, want)
		}
	}
}

// loadVectorKey reads Apple's issuer key from the shared vectors.
func loadVectorKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	block, _ := pem.Decode(testvec.Read(t, "privacypass", "issuer_private_key.pem"))
	if block == nil {
		t.Fatal("no PEM block in issuer_private_key.pem")
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignAgainstBig(t *testing.T) {
	keys := []*rsa.PrivateKey{loadVectorKey(t)}
	for _, bitsLen := range []int{1024, 2048, 3072} {
		if testing.Short() && bitsLen > 2048 {
			continue
		}
		k, err := rsa.GenerateKey(rand.Reader, bitsLen)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	for _, k := range keys {
		ck, err := NewPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		size := ck.Size()
		nm1 := new(big.Int).Sub(k.N, big.NewInt(1))
		inputs := []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2), nm1, k.Primes[0], k.Primes[1]}
		for range 20 {
			x, _ := rand.Int(rand.Reader, k.N)
			inputs = append(inputs, x)
		}
		for _, x := range inputs {
			m := make([]byte, size)
			x.FillBytes(m)
			got, err := ck.Sign(m)
			if err != nil {
				t.Fatalf("%d-bit key: Sign: %v", k.N.BitLen(), err)
			}
			want := make([]byte, size)
			new(big.Int).Exp(x, k.D, k.N).FillBytes(want)
			if string(got) != string(want) {
				t.Fatalf("%d-bit key: Sign(%x) = %x, want %x", k.N.BitLen(), m, got, want)
			}
		}
	}
}

func TestSignRejects(t *testing.T) {
	k := loadVectorKey(t)
	ck, err := NewPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	n := k.N.FillBytes(make([]byte, 256))
	allFF := make([]byte, 256)
	for i := range allFF {
		allFF[i] = 0xff
	}
	cases := []struct {
		name string
		m    []byte
		want error
	}{
		{"empty", nil, ErrInputSize},
		{"short", make([]byte, 255), ErrInputSize},
		{"long", make([]byte, 257), ErrInputSize},
		{"equal to n", n, ErrInputRange},
		{"above n", allFF, ErrInputRange},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ck.Sign(c.m); !errors.Is(err, c.want) {
				t.Errorf("Sign: got %v, want %v", err, c.want)
			}
		})
	}
}

func TestNewPrivateKeyRejects(t *testing.T) {
	k := loadVectorKey(t)
	three := *k
	three.Primes = append([]*big.Int{}, k.Primes[0], k.Primes[1], big.NewInt(3))
	if _, err := NewPrivateKey(&three); err == nil {
		t.Error("three-prime key accepted")
	}
	wrongN := *k
	wrongN.PublicKey.N = new(big.Int).Add(k.N, big.NewInt(2))
	if _, err := NewPrivateKey(&wrongN); err == nil {
		t.Error("key whose n is not p·q accepted")
	}
}

// BenchmarkSign signs inputs of very different shape (0, 1, n-1, random):
// constant-time code shows the same time for all of them.
func BenchmarkSign(b *testing.B) {
	k := loadVectorKey(b)
	ck, err := NewPrivateKey(k)
	if err != nil {
		b.Fatal(err)
	}
	random, _ := rand.Int(rand.Reader, k.N)
	inputs := []struct {
		name string
		x    *big.Int
	}{
		{"m=0", big.NewInt(0)},
		{"m=1", big.NewInt(1)},
		{"m=n-1", new(big.Int).Sub(k.N, big.NewInt(1))},
		{"m=random", random},
	}
	for _, in := range inputs {
		m := in.x.FillBytes(make([]byte, ck.Size()))
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ck.Sign(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSignFaultInjection injects faults into the CRT computation, as a
// glitched or bit-flipped signer would see them, by corrupting one secret
// parameter at a time: d mod (p-1), d mod (q-1), q⁻¹ mod p and the
// recombination's q. Each faulty signature must fail Sign's own check with
// ErrFault and return nothing: a signature correct modulo one prime only
// would give the factor gcd(s^e - m, n) to whoever sees it (Boneh, DeMillo,
// Lipton, "On the importance of checking cryptographic protocols for
// faults", 1997), which the test shows for the d mod (p-1) fault. Once the
// parameter is restored, the key signs correctly again.
func TestSignFaultInjection(t *testing.T) {
	k := loadVectorKey(t)
	ck, err := NewPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	x, err := rand.Int(rand.Reader, k.N)
	if err != nil {
		t.Fatal(err)
	}
	m := x.FillBytes(make([]byte, ck.Size()))
	for _, tc := range []struct {
		name  string
		field nat
	}{
		{"d mod (p-1)", ck.dp},
		{"d mod (q-1)", ck.dq},
		{"q^-1 mod p", ck.qinvR},
		{"q in the recombination", ck.qWords},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, bit := range []int{0, 17, 64*len(tc.field) - 70} {
				tc.field[bit/64] ^= 1 << (bit % 64) // inject
				s, err := ck.Sign(m)
				tc.field[bit/64] ^= 1 << (bit % 64) // restore
				if !errors.Is(err, ErrFault) || s != nil {
					t.Fatalf("bit %d flipped: Sign = %x, %v; want nil, ErrFault", bit, s, err)
				}
			}
			s, err := ck.Sign(m)
			if err != nil {
				t.Fatalf("after restoring: %v", err)
			}
			if want := new(big.Int).Exp(x, k.D, k.N); new(big.Int).SetBytes(s).Cmp(want) != 0 {
				t.Fatal("after restoring: wrong signature")
			}
		})
	}

	// What the check withholds: the same d mod (p-1) fault, recombined with
	// math/big, yields a signature that reveals q.
	p, q := k.Primes[0], k.Primes[1]
	one := big.NewInt(1)
	dp := new(big.Int).Mod(k.D, new(big.Int).Sub(p, one))
	dp.Xor(dp, one) // the bit-0 fault above
	dq := new(big.Int).Mod(k.D, new(big.Int).Sub(q, one))
	sp := new(big.Int).Exp(x, dp, p)
	sq := new(big.Int).Exp(x, dq, q)
	h := new(big.Int).Mul(new(big.Int).Sub(sp, sq), new(big.Int).ModInverse(q, p))
	h.Mod(h, p)
	faulty := new(big.Int).Add(sq, new(big.Int).Mul(h, q))
	diff := new(big.Int).Sub(new(big.Int).Exp(faulty, big.NewInt(int64(k.E)), k.N), x)
	if g := new(big.Int).GCD(nil, nil, diff.Mod(diff, k.N), k.N); g.Cmp(q) != 0 {
		t.Errorf("the unchecked faulty signature does not reveal q (gcd %v)", g)
	}
}
