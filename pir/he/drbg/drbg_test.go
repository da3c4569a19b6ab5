package drbg

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (s *state) vHex() string {
	var v [16]byte
	binary.BigEndian.PutUint64(v[:8], s.vHi)
	binary.BigEndian.PutUint64(v[8:], s.vLo)
	return hex.EncodeToString(v[:])
}

// TestInternalStateKAT checks K and V after each step against Apple's
// NistCtrDrbgTests.vector (he-spec §7.1), the first NIST CAVP
// CTR_DRBG AES-128 no-df vector.
func TestInternalStateKAT(t *testing.T) {
	var s state
	s.instantiate((*[SeedSize]byte)(mustHex(t, "69a09f6bf5dda15cd4af29e14cf5e0cddd7d07ac39bba587f8bc331104f9c448")))
	steps := []struct {
		name, key, v string
		out          string // expected output of the generate call before this check; "" = not checked
	}{
		{name: "instantiate", key: "314263a50fa3913de2d034b6e812a597", v: "def5dd62590d06150b94f1a8754b3a30"},
		{name: "generate 1", key: "4b0f2ae7d0b330fa709b0844c7eedb5c", v: "dae190eb55353de50e494cdef2a544d4"},
		{name: "generate 2", key: "b4d5d6de074612076e496f241ebcf017", v: "034eeae49adbdfccff79bfdc0d83ed70",
			out: "f78a4919a6ec899f7b6c69381febbbe083315f3d289e70346db0e4ec4360473ae0b3d916e9b6b964309f753ed66ae59de48da316cc1944bc8dfd0e2575d0ff6d"},
	}
	for i, st := range steps {
		if i > 0 {
			out := make([]byte, 64)
			s.generate(out)
			if st.out != "" && hex.EncodeToString(out) != st.out {
				t.Errorf("%s: output %x, want %s", st.name, out, st.out)
			}
		}
		if got := hex.EncodeToString(s.key[:]); got != st.key {
			t.Errorf("%s: K = %s, want %s", st.name, got, st.key)
		}
		if got := s.vHex(); got != st.v {
			t.Errorf("%s: V = %s, want %s", st.name, got, st.v)
		}
	}
}

// cavpVectors are the 15 NIST CAVP CTR_DRBG (AES-128, no df, no
// personalization, no additional input, no prediction resistance) pairs
// Apple's NistCtrDrbgTests.vectors uses: entropy, then the output of the
// second 64-byte Generate.
var cavpVectors = [][2]string{
	{"69a09f6bf5dda15cd4af29e14cf5e0cddd7d07ac39bba587f8bc331104f9c448", "f78a4919a6ec899f7b6c69381febbbe083315f3d289e70346db0e4ec4360473ae0b3d916e9b6b964309f753ed66ae59de48da316cc1944bc8dfd0e2575d0ff6d"},
	{"80bfbd340d79888f34f043ed6807a9f28b72b6644d9d9e9d777109482b80788a", "80db048d2f130d864b19bfc547c92503e580cb1a8e1f74f3d97fdda6501fb1aa81fcedac0dd18b6ccfdc183ca28a44fc9f3a08834ba8751a2f4495367c54a185"},
	{"a559ac9872791d79197e54da70a8d858fbe39e8514d2c86a7bcffadc68782edf", "d14b72e17c2f6f77b46d0717b788420e503bb18de542135f586a90c5c73fceeee50fd1633b5b09ab061b9367ca785ecb400e1f3681583661aaf8352184454ae6"},
	{"300fe148dd39de1edb993ca5260373b3f5f09a5cf7a32b0c41fe6224f981d3b1", "deea89b5128fb992696d7b97ebc2c0793614b172f4c75bb83c12a1b389bac3bfecb773cd7717583c2b61b3b243ac9683dba4fbc07182bad8271a7f16d833e4d9"},
	{"0c6ee2a5d46325baa8e9a3f6b598fc790c513d387d47001116d19a614d2038c4", "f1ee11be189263fed9932c1192219d00378e36ce81a431318545da9f81f50c2913d1f7be499ce9e1e39f93ee2360668f127340691c17711707cf5f1f8a4d93ee"},
	{"bdbba1ad4803fdc783ef5d6e2aa66dc948e960bc11cca89a60cff5c60e984302", "260a32c3973750e0c10f7f7495d46e7c3691c27a58e828cdef48ef660716f771d61c3c76db407d816066f5afbf16993485cdb653d418dd65ffa5d3825732b8cb"},
	{"22587bfdce62f4afc1dd2673f5308364f27db9912ad01b045e74db4518435959", "c904d03089b7dd1f17564a7ef70b17bb1b29c0c1793cc8d92b8c158c04ca5366919f8caf544d5d07c28abe6d14baaa0c56602df1c373e9acc419e3c932e577e6"},
	{"8abefbb23dfd58d82b88a4c4fcfcee183ce01db975edeeb404bd216e6177ea0d", "8a708e8a99035389a4d66d57d12f488ecba57a3b2ca78015bedae06aaa414d791196e262b28fbd745dff94f8fe600687c9ce2f50cf6d79d39b8c5ea36533755d"},
	{"c45c9fec6bb83fb08008877c70b632d792119a35c4c5988c4026cf3f8612b800", "84430e49a9b4d395d055ca0efdf285a7551c5f7119dbea5c10daaa9e8be041e23e9bc893c90a35b77b19dc202ec834172e6c8cea97c9d7c68df1374aeea94537"},
	{"58cbccd7f86e5f0472dcb377f598f2d42ed96afdf0c8e45f12c4ff4a969c5b6b", "41ff55d058beaa04308bd0b39d4801f70f23d829037e4cc9b2ea0eacf5aef9b8e33fc59c528b53bce08d2b536d37bf194c797f03290494dd00ef244ac223e350"},
	{"d50558dfb7a8966c63b3a1d0a837970ad0bff5adbd8adacae5d3accfde64cd4d", "e91361511d926be4d997fc970b1a5dcdb33a711f215cbdbffabfcdaa6248596891d55a9e64f4e9f5185ed7056f7cbb42f474a23542fe9e9c2495182cefb38a6a"},
	{"f70ce283efd5ba36c284cb267d22e23dc41671b2aaae98e638c6e451bc9c3cbb", "fd9b3b53e12b6702e4c6e4acac33aeae5ceb34cebfffa7007cb1ab1c3b4be1a38e5c86dea0775ab0c89ae135e0b36da087921d3ff275ffc8e5dcee6e3d66ee43"},
	{"58eb544f44dfe1048a8113d4b6909050abf9010036233be7f8fcc41f39baff9c", "5c6aedc020e764f4d3bb8abc2907c9c604dd98e1cfc2882ea72d554e39fe86463a51886d980ac8cdda0f4e584226d45344e43dd84e8430f58c3880a0ce930863"},
	{"b694ce5f4d9af4ce93626636c9ecb341f3f5152fd580745202cd0c83f4d5b4c5", "78b32d396f5a919f5ccb9be2afaf5f6212d75bf084e99357e28ccc98d433696455b10a85ecaf61686a96606ff3e8962321358a56fa53cabbf16c65c1c32debcd"},
	{"42cb183d2a04c89c69efbcec08bee2003b9a1cd56878a774f0162bf70f2c708f", "cb4afdec033b42949ebbb27245fd33c1503c1278027e11a1f050e04080abe4850821b71ed5a6bd83da6bde8e56c5faed49da26887028bab807d1ad055e2a8a27"},
}

func TestCAVP(t *testing.T) {
	for i, v := range cavpVectors {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var s state
			s.instantiate((*[SeedSize]byte)(mustHex(t, v[0])))
			out := make([]byte, 64)
			s.generate(out)
			s.generate(out)
			if got := hex.EncodeToString(out); got != v[1] {
				t.Errorf("got %s, want %s", got, v[1])
			}
		})
	}
}

// TestReaderChunking checks the buffering rule of he-spec §7.2: the stream
// is Generate(4096) || Generate(4096) || …, so it equals the first 4096 bytes
// of the CTR keystream and then departs from it, and equals a hand-chunked
// sequence of generate calls.
func TestReaderChunking(t *testing.T) {
	seed := mustHex(t, cavpVectors[3][0])
	r, err := New(seed)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 3*chunkSize+100)
	r.Read(got)

	var s state
	s.instantiate((*[SeedSize]byte)(seed))
	var want []byte
	for range 4 {
		c := make([]byte, chunkSize)
		s.generate(c)
		want = append(want, c...)
	}
	if !bytes.Equal(got, want[:len(got)]) {
		t.Fatalf("Reader stream differs from consecutive Generate(4096) calls")
	}

	// One Generate of 2*4096 bytes shares the first chunk and nothing after.
	var one state
	one.instantiate((*[SeedSize]byte)(seed))
	long := make([]byte, 2*chunkSize)
	one.generate(long)
	if !bytes.Equal(long[:chunkSize], got[:chunkSize]) {
		t.Errorf("first chunk differs from the plain CTR keystream")
	}
	if bytes.Equal(long[chunkSize:chunkSize+blockSize], got[chunkSize:chunkSize+blockSize]) {
		t.Errorf("second chunk equals the plain CTR keystream: the re-key after each 4096 bytes is missing")
	}
}

// TestReaderSplitReads checks that reads of odd sizes give the same stream as
// one big read.
func TestReaderSplitReads(t *testing.T) {
	seed := mustHex(t, cavpVectors[0][0])
	const total = 5*chunkSize + 77
	whole := make([]byte, total)
	r, _ := New(seed)
	if n, err := r.Read(whole); n != total || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	splits := [][]int{
		{1},
		{7, 13, 4095, 1, 2},
		{4096},
		{4097, 3},
		{16 * 1024},
		{0, 5, 0, 9000},
	}
	for _, sizes := range splits {
		t.Run(fmt.Sprint(sizes), func(t *testing.T) {
			r, _ := New(seed)
			var got []byte
			for i := 0; len(got) < total; i++ {
				n := min(sizes[i%len(sizes)], total-len(got))
				p := make([]byte, n)
				if m, err := r.Read(p); m != n || err != nil {
					t.Fatalf("Read(%d) = %d, %v", n, m, err)
				}
				got = append(got, p...)
			}
			if !bytes.Equal(got, whole) {
				t.Errorf("split reads give a different stream")
			}
		})
	}
}

// TestUniformInteropKAT reproduces Apple's PolyRq+RandomizeTests
// randomizeInteropUniform (he-spec §7.3): N = 4, moduli [11, 13], one Reader
// producing successive polynomials, each coefficient the little-endian
// uint128 of 16 stream bytes reduced mod q. Polynomials 0, 1001 and 2002 are
// checked, so the KAT reaches 256 KB into the stream, far past the first
// 4096-byte chunk.
func TestUniformInteropKAT(t *testing.T) {
	tests := []struct {
		seed  string
		polys [3][8]uint64 // rows mod 11 then mod 13
	}{
		{"0000000000000000000000000000000000000000000000000000000000000000", [3][8]uint64{
			{4, 0, 2, 8, 10, 9, 3, 2}, {5, 6, 0, 5, 1, 3, 6, 11}, {0, 3, 4, 4, 8, 9, 0, 10}}},
		{"0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff", [3][8]uint64{
			{9, 6, 9, 0, 10, 8, 7, 3}, {2, 9, 9, 1, 12, 0, 0, 12}, {5, 1, 0, 10, 8, 2, 8, 1}}},
	}
	uniformPoly := func(r *Reader) [8]uint64 {
		var p [8]uint64
		moduli := []int64{11, 13}
		buf := make([]byte, 4*16)
		for row, q := range moduli {
			r.Read(buf)
			for j := range 4 {
				le := buf[16*j : 16*j+16]
				be := make([]byte, 16)
				for k := range be {
					be[k] = le[15-k]
				}
				x := new(big.Int).SetBytes(be)
				p[4*row+j] = x.Mod(x, big.NewInt(q)).Uint64()
			}
		}
		return p
	}
	for _, tt := range tests {
		t.Run(tt.seed[:8], func(t *testing.T) {
			r, err := New(mustHex(t, tt.seed))
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tt.polys {
				if i > 0 {
					for range 1000 {
						uniformPoly(r)
					}
				}
				if got := uniformPoly(r); got != want {
					t.Errorf("poly %d: got %v, want %v", i*1001, got, want)
				}
			}
		})
	}
}

func TestNewSeedSize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 48} {
		if _, err := New(make([]byte, n)); !errors.Is(err, ErrSeedSize) {
			t.Errorf("New(%d bytes): err = %v, want ErrSeedSize", n, err)
		}
	}
}

// TestCounterCarry checks that V is a full 128-bit big-endian counter: with
// V = 2^64 - 1 the keystream's second block uses V+2 = 2^64 + 1, carrying into
// the high word, and equals a direct AES of that block.
func TestCounterCarry(t *testing.T) {
	var s state
	s.instantiate(new([SeedSize]byte))
	s.vHi, s.vLo = 7, ^uint64(0)-1 // V+1 = (7, 2^64-1), V+2 = (8, 0)
	var want [2 * blockSize]byte
	binary.BigEndian.PutUint64(want[0:8], 7)
	binary.BigEndian.PutUint64(want[8:16], ^uint64(0))
	binary.BigEndian.PutUint64(want[16:24], 8)
	s.block.Encrypt(want[0:16], want[0:16])
	s.block.Encrypt(want[16:32], want[16:32])
	out := make([]byte, 2*blockSize)
	s.generate(out)
	if !bytes.Equal(out, want[:]) {
		t.Errorf("keystream across the 64-bit carry: got %x, want %x", out, want)
	}
}

func BenchmarkRead(b *testing.B) {
	for _, size := range []int{16 * 1024, 3 * 16 * 4096} { // one N=1024 block; a 3-modulus N=4096 polynomial
		b.Run(fmt.Sprintf("bytes=%d", size), func(b *testing.B) {
			r, _ := New(make([]byte, SeedSize))
			p := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				r.Read(p)
			}
		})
	}
	b.Run("New", func(b *testing.B) {
		seed := make([]byte, SeedSize)
		b.ReportAllocs()
		for b.Loop() {
			New(seed)
		}
	})
}
