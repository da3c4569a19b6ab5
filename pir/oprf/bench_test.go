package oprf

import (
	"crypto/rand"
	"fmt"
	"testing"
)

// BenchmarkOPRF measures the server's per-request evaluation (point
// multiplication plus DLEQ proof), the offline per-row transform, and the
// client's blind and finalize.
//
//	go test -run XXX -bench OPRF -benchtime 2s ./pir/oprf
func BenchmarkOPRF(b *testing.B) {
	k := testKey(b, "bench")
	pk, err := ParsePublicKey(k.PublicKey())
	if err != nil {
		b.Fatal(err)
	}
	q, err := pk.Blind([]byte("blocked.example"), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	el := q.Element()
	ev, proof, err := k.Evaluate(el, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Evaluate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := k.Evaluate(el, rand.Reader); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ProcessRow", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, _, err := k.ProcessRow(fmt.Appendf(nil, "host-%d.example", i), []byte{1}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Blind", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pk.Blind([]byte("blocked.example"), rand.Reader); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Finalize", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pk.Finalize(q, ev, proof); err != nil {
				b.Fatal(err)
			}
		}
	})
}
