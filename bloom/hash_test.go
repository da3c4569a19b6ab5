package bloom

import (
	"math/rand/v2"
	"testing"

	"github.com/spaolacci/murmur3"
)

const quickFox = "The quick brown fox jumps over the lazy dog"

// Known answers of Apple's SwiftBloomFilterTests (client-spec §2.5).
func TestFNV1a32KnownAnswers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
	}{
		{"", 0x811c9dc5},
		{"a", 0xe40c292c},
		{"test", 0xafd071e5},
		{"foobar", 0xbf9cf968},
		{"Hello, world!", 0xed90f094},
		{quickFox, 0x048fff90},
		{"Hello!\x01\xff\xed", 0xfd9d3881},
	} {
		if got := FNV1a32(tc.in); got != tc.want {
			t.Errorf("FNV1a32(%q) = %#08x, want %#08x", tc.in, got, tc.want)
		}
		if got := FNV1a32([]byte(tc.in)); got != tc.want {
			t.Errorf("FNV1a32([]byte(%q)) = %#08x, want %#08x", tc.in, got, tc.want)
		}
	}
}

func TestMurmur3KnownAnswers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		seed uint32
		want uint32
	}{
		{"", 0, 0x00000000},
		{"", 1, 0x514e28b7},
		{"", 0xffffffff, 0x81f16f39},
		{"test", 0, 0xba6bd213},
		{"test", 0x9747b28c, 0x704b81dc},
		{"foobar", 0, 0xa4c4d4bd},
		{"Hello, world!", 0, 0xc0363e43},
		{"Hello, world!", 0x9747b28c, 0x24884cba},
		{quickFox, 0, 0x2e4ff723},
		{quickFox, 0x9747b28c, 0x2fa826cd},
	} {
		if got := Murmur3(tc.in, tc.seed); got != tc.want {
			t.Errorf("Murmur3(%q, %#x) = %#08x, want %#08x", tc.in, tc.seed, got, tc.want)
		}
		if got := Murmur3([]byte(tc.in), tc.seed); got != tc.want {
			t.Errorf("Murmur3([]byte(%q), %#x) = %#08x, want %#08x", tc.in, tc.seed, got, tc.want)
		}
	}
}

// TestMurmur3MatchesReference checks every tail length and random seeds
// against github.com/spaolacci/murmur3.
func TestMurmur3MatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 4000 {
		b := make([]byte, i%67)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		seed := r.Uint32()
		// The reference's hasher, not its Sum32WithSeed: that one walks the
		// bytes with uintptr arithmetic, which -race (checkptr) rejects.
		ref := murmur3.New32WithSeed(seed)
		ref.Write(b)
		if got, want := Murmur3(b, seed), ref.Sum32(); got != want {
			t.Fatalf("Murmur3(%x, %#x) = %#08x, reference %#08x", b, seed, got, want)
		}
	}
}

// TestDivisor checks Lemire's remainder against % on edge and random values.
func TestDivisor(t *testing.T) {
	edges := []uint32{0, 1, 2, 3, 7, 8, 143, 144, 145, 1<<31 - 1, 1 << 31, 1<<31 + 1, 1<<32 - 2, 1<<32 - 1}
	r := rand.New(rand.NewPCG(3, 4))
	ms := append([]uint32{}, edges[1:]...)
	for range 200 {
		ms = append(ms, r.Uint32()|1, r.Uint32N(1<<20)+1)
	}
	for _, m := range ms {
		d := newDivisor(m)
		xs := append([]uint32{}, edges...)
		xs = append(xs, m-1, m, m+1, 2*m, 2*m-1)
		for range 200 {
			xs = append(xs, r.Uint32())
		}
		for _, x := range xs {
			if got, want := d.mod(x), x%m; got != want {
				t.Fatalf("%d mod %d = %d, want %d", x, m, got, want)
			}
		}
	}
}

// Indices of the extra vectors of client-spec §2.5 (seed 1267652889, m=144, k=10).
func TestIndicesKnownAnswers(t *testing.T) {
	for _, tc := range []struct {
		key     string
		fnv, mm uint32
		idx     []uint32
	}{
		{"example.com", 0x431ceb26, 0x45ffc2de, []uint32{134, 52, 114, 64, 126, 44, 106, 56, 118, 36}},
		{"example10.com/resource?query=bugs", 0x959cc699, 0xeebd7b48, []uint32{89, 113, 137, 17, 41, 65, 89, 113, 137, 129}},
		{"www.apple.com/url-filter-test", 0x52571b77, 0xcafaf5ed, []uint32{135, 132, 97, 94, 91, 88, 85, 50, 47, 44}},
		{"apple.com/url-filter-test", 0xc8fa972a, 0xa230902f, []uint32{58, 41, 24, 119, 102, 53, 36, 19, 114, 97}},
	} {
		if got := FNV1a32(tc.key); got != tc.fnv {
			t.Errorf("FNV1a32(%q) = %08x, want %08x", tc.key, got, tc.fnv)
		}
		if got := Murmur3(tc.key, kat10Seed); got != tc.mm {
			t.Errorf("Murmur3(%q) = %08x, want %08x", tc.key, got, tc.mm)
		}
		got := Indices(nil, tc.key, 144, 10, kat10Seed)
		if len(got) != len(tc.idx) {
			t.Fatalf("Indices(%q) = %v, want %v", tc.key, got, tc.idx)
		}
		for i := range got {
			if got[i] != tc.idx[i] {
				t.Fatalf("Indices(%q) = %v, want %v", tc.key, got, tc.idx)
			}
		}
	}
}
