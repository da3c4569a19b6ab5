package bfv

import (
	"fmt"

	"github.com/blindlist/blindlist/pir/he/ring"
)

// EncodeCoeffs returns the Coeff plaintext Σ values[i]·X^i (Apple's
// coefficient encoding, he-spec §3.1). len(values) <= N, each < t; missing
// coefficients are zero.
func (p *Params) EncodeCoeffs(values []uint64) (*Plaintext, error) {
	if len(values) > p.n {
		return nil, fmt.Errorf("bfv: %d values exceed N=%d", len(values), p.n)
	}
	poly := ring.NewPoly(p.n, 1)
	for i, v := range values {
		if v >= p.t {
			return nil, fmt.Errorf("bfv: value %d at index %d is not below t=%d", v, i, p.t)
		}
		poly.Coeffs[i] = v
	}
	return &Plaintext{Poly: poly, Format: Coeff}, nil
}

// DecodeCoeffs returns the N coefficients of a Coeff plaintext.
func (pt *Plaintext) DecodeCoeffs() ([]uint64, error) {
	if pt.Format != Coeff {
		return nil, fmt.Errorf("bfv: plaintext is %v, want Coeff", pt.Format)
	}
	return append([]uint64(nil), pt.Poly.Row(0)...), nil
}

// EncodeBytes packs data into a Coeff plaintext with floorLog2(t) bits per
// coefficient, MSB-first, the last coefficient right-padded with zero bits
// (Apple's bytesToCoefficients with decode: false, he-spec §3.4). len(data)
// must be at most [Params.BytesPerPlaintext].
func (p *Params) EncodeBytes(data []byte) (*Plaintext, error) {
	b := p.BitsPerCoeff()
	if len(data) > p.BytesPerPlaintext() {
		return nil, fmt.Errorf("bfv: %d bytes exceed %d bytes per plaintext", len(data), p.BytesPerPlaintext())
	}
	count := (8*len(data) + b - 1) / b
	vals := make([]uint64, count)
	if _, err := ring.UnpackInto(vals, data, b, 0, true); err != nil {
		return nil, fmt.Errorf("bfv: %w", err)
	}
	return p.EncodeCoeffs(vals)
}

// DecodeBytes returns the coefficients of a Coeff plaintext as bytes, each
// coefficient contributing its low floorLog2(t) bits MSB-first (Apple's
// coefficientsToBytes, he-spec §3.4): ceil(N·floorLog2(t)/8) bytes.
func (p *Params) DecodeBytes(pt *Plaintext) ([]byte, error) {
	vals, err := pt.DecodeCoeffs()
	if err != nil {
		return nil, err
	}
	b := p.BitsPerCoeff()
	mask := uint64(1)<<b - 1
	for i := range vals {
		vals[i] &= mask
	}
	return ring.AppendPacked(nil, vals, b, 0), nil
}

// ToEval lifts a Coeff plaintext into the first l ciphertext moduli with
// the centered representative (m if m < (t+1)/2, else m - t mod q_i) and
// applies the NTT (Apple's convertToEvalFormat, he-spec §3.3).
func (p *Params) ToEval(pt *Plaintext, l int) (*Plaintext, error) {
	if pt.Format != Coeff {
		return nil, fmt.Errorf("bfv: plaintext is %v, want Coeff", pt.Format)
	}
	lv, err := p.levelOf(l)
	if err != nil {
		return nil, err
	}
	out := ring.NewPoly(p.n, l)
	half := (p.t + 1) / 2
	src := pt.Poly.Row(0)
	for i, tab := range lv.basis {
		q := tab.M.Q
		row := out.Row(i)
		for j, m := range src {
			if m >= half {
				m += q - p.t
			}
			row[j] = m
		}
	}
	lv.basis.NTT(out)
	return &Plaintext{Poly: out, Format: Eval}, nil
}

// ToCoeff maps an Eval plaintext back to Coeff (inverse NTT of row 0, then
// values >= (t+1)/2 lose q_0 - t; Apple's convertToCoeffFormat).
func (p *Params) ToCoeff(pt *Plaintext) (*Plaintext, error) {
	if pt.Format != Eval {
		return nil, fmt.Errorf("bfv: plaintext is %v, want Eval", pt.Format)
	}
	row := append([]uint64(nil), pt.Poly.Row(0)...)
	p.keyB[0].Inverse(row)
	half := (p.t + 1) / 2
	q0 := p.moduli[0]
	for j, v := range row {
		if v >= half {
			v -= q0 - p.t
		}
		if v >= p.t {
			return nil, fmt.Errorf("bfv: Eval plaintext is not a lifted plaintext (coefficient %d)", j)
		}
		row[j] = v
	}
	return &Plaintext{Poly: &ring.Poly{N: p.n, Coeffs: row}, Format: Coeff}, nil
}
