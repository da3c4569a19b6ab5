package pir

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// TestAnswersReuseStorage answers Apple's requests again and again on one
// server, so that every answer after the first runs on ciphertexts and
// accumulators an earlier answer used (spare.go): each must still be
// Apple's, and an answer must allocate well under what the first did. Set A
// takes the streaming (narrow) path, set B the wide one. Concurrent answers
// on shared storage: TestManyConcurrentAnswers (run with -race).
func TestAnswersReuseStorage(t *testing.T) {
	for _, set := range []string{"A", "B"} {
		t.Run(set, func(t *testing.T) {
			v := loadVectorSet(t, set)
			key := v.firstKey(t)
			n := len(v.requests.GetRequests())

			// With the collector off, nothing empties the pools, so the
			// bytes allocated show whether answers reuse storage.
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
			allocated := func(f func()) uint64 {
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				f()
				runtime.ReadMemStats(&m1)
				return m1.TotalAlloc - m0.TotalAlloc
			}
			first := allocated(func() { v.checkAnswer(t, key, 0) })
			var later uint64
			const rounds = 3
			for range rounds {
				later += allocated(func() {
					for i := n - 1; i >= 0; i-- {
						v.checkAnswer(t, key, i)
					}
				})
			}
			perAnswer := later / uint64(rounds*n)
			t.Logf("first answer %d bytes, later answers %d bytes each", first, perAnswer)
			if perAnswer > first/2 {
				t.Errorf("an answer after the first allocates %d bytes, the first %d: storage is not reused", perAnswer, first)
			}
		})
	}
}

func TestZeroCiphertext(t *testing.T) {
	const n, l = 16, 2
	dirty := func(rows int) *ring.Poly {
		p := ring.NewPoly(n, rows)
		for i := range p.Coeffs {
			p.Coeffs[i] = uint64(i + 1)
		}
		return p
	}
	for _, c := range []struct {
		name  string
		ct    *bfv.Ciphertext
		reuse bool // the storage of Polys[0] is kept
	}{
		{"empty", &bfv.Ciphertext{}, false},
		{"three polys", &bfv.Ciphertext{Polys: []*ring.Poly{dirty(l), dirty(l), dirty(l)}}, false},
		{"nil poly", &bfv.Ciphertext{Polys: []*ring.Poly{nil, dirty(l)}}, false},
		{"other degree", &bfv.Ciphertext{Polys: []*ring.Poly{{N: 2 * n, Coeffs: make([]uint64, 2*n*l)}, dirty(l)}}, false},
		{"too few rows", &bfv.Ciphertext{Polys: []*ring.Poly{dirty(1), dirty(1)}}, false},
		{"same shape", &bfv.Ciphertext{Polys: []*ring.Poly{dirty(l), dirty(l)}, Format: bfv.Coeff, Seed: []byte{1}, CorrectionFactor: 3}, true},
		{"more rows", &bfv.Ciphertext{Polys: []*ring.Poly{dirty(l + 1), dirty(l + 1)}}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before *uint64
			if len(c.ct.Polys) > 0 && c.ct.Polys[0] != nil && len(c.ct.Polys[0].Coeffs) > 0 {
				before = &c.ct.Polys[0].Coeffs[0]
			}
			ct := zeroCiphertext(c.ct, n, l)
			if ct != c.ct {
				t.Fatal("zeroCiphertext returned another ciphertext")
			}
			if len(ct.Polys) != 2 || ct.Format != bfv.Eval || ct.Seed != nil || ct.CorrectionFactor != 1 {
				t.Fatalf("shape: %d polys, format %v, seed %v, factor %d", len(ct.Polys), ct.Format, ct.Seed, ct.CorrectionFactor)
			}
			for i, p := range ct.Polys {
				if p.N != n || p.Rows() != l {
					t.Fatalf("poly %d: N %d, %d rows", i, p.N, p.Rows())
				}
				for j, v := range p.Coeffs {
					if v != 0 {
						t.Fatalf("poly %d coefficient %d = %d", i, j, v)
					}
				}
			}
			if reused := before != nil && &ct.Polys[0].Coeffs[0] == before; reused != c.reuse {
				t.Errorf("storage reused: %v, want %v", reused, c.reuse)
			}
		})
	}
}

func TestSparesKeepAtMostMaxSpare(t *testing.T) {
	var s spares
	for _, count := range []int{0, 1, maxSpare, maxSpare + 1, 3 * maxSpare} {
		st := s.take()
		for range len(st.cts) {
			st.pop()
		}
		for range count {
			st.push(&bfv.Ciphertext{})
		}
		s.give(st)
		if want := min(count, maxSpare); len(st.cts) != want {
			t.Errorf("gave %d: stock keeps %d, want %d", count, len(st.cts), want)
		}
	}
	st := &ctStock{}
	a, b := &bfv.Ciphertext{}, &bfv.Ciphertext{}
	st.push(a)
	st.push(b)
	if st.pop() != b || st.pop() != a {
		t.Error("pop does not return the ciphertexts pushed, last first")
	}
	if c := st.pop(); c == nil || c == a || c == b {
		t.Error("an empty stock does not make a new ciphertext")
	}
}
