package bfv

import (
	"testing"
)

// benchSetup returns parameters, evaluator, keys and a fresh query for the
// URL-filter preset.
func benchSetup(b *testing.B, name string) (*Params, *Evaluator, *EvaluationKey, *Ciphertext) {
	p, err := Preset(name)
	if err != nil {
		b.Fatal(err)
	}
	rnd := testRand(b, 9)
	sk, _ := p.GenerateSecretKey(rnd)
	evk, err := p.GenerateEvaluationKey(sk, []uint64{3}, true, rnd)
	if err != nil {
		b.Fatal(err)
	}
	pt, _ := p.EncodeCoeffs([]uint64{1, 2, 3})
	ct, _ := p.Encrypt(sk, pt, rnd)
	return p, NewEvaluator(p), evk, ct
}

func BenchmarkEvaluator(b *testing.B) {
	for _, name := range []string{"n_4096_logq_27_28_28_logt_5", "n_4096_logq_16_33_33_logt_4", "n_8192_logq_3x55_logt_24"} {
		p, ev, evk, ct := benchSetup(b, name)
		b.Run(name+"/galois_keyswitch", func(b *testing.B) {
			out := &Ciphertext{}
			b.ReportAllocs()
			for b.Loop() {
				if err := ev.ApplyGalois(out, ct, 3, evk); err != nil {
					b.Fatal(err)
				}
			}
		})
		// Inner product of 50 Eval ciphertexts with 50 Eval plaintexts
		// (PIR's first dimension for bench100k).
		pt, _ := p.EncodeCoeffs([]uint64{5, 6, 7})
		pe, _ := p.ToEval(pt, p.MaxLevel())
		ce := ct.Clone()
		_ = ev.ToEval(ce)
		var cts []*Ciphertext
		var pts []*Plaintext
		for i := 0; i < 50; i++ {
			cts, pts = append(cts, ce), append(pts, pe)
		}
		b.Run(name+"/inner_product_50", func(b *testing.B) {
			out := &Ciphertext{}
			b.ReportAllocs()
			for b.Loop() {
				if err := ev.InnerProduct(out, cts, pts); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/mul_relin", func(b *testing.B) {
			out := &Ciphertext{}
			b.ReportAllocs()
			for b.Loop() {
				if err := ev.Mul(out, ct, ct); err != nil {
					b.Fatal(err)
				}
				if err := ev.Relinearize(out, out, evk); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/mod_switch_to_q0", func(b *testing.B) {
			c := ct.Clone()
			b.ReportAllocs()
			for b.Loop() {
				copy(c.Polys[0].Coeffs[:cap(c.Polys[0].Coeffs)], ct.Polys[0].Coeffs)
				copy(c.Polys[1].Coeffs[:cap(c.Polys[1].Coeffs)], ct.Polys[1].Coeffs)
				c.Polys[0] = c.Polys[0].Truncate(ct.Level())
				c.Polys[1] = c.Polys[1].Truncate(ct.Level())
				if err := ev.ModSwitchDownToSingle(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
