package bfv

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/blindlist/blindlist/pir/he/drbg"
	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/he/ring"
)

// ErrFormat reports malformed serialized HE objects.
var ErrFormat = errors.New("bfv: malformed serialization")

// maxPolys bounds the polynomial count of a parsed full ciphertext.
const maxPolys = 3

// AppendPoly appends the Apple serialization of the first l rows of poly
// (he-spec §6.1) with skip dropped low bits per residue.
func (p *Params) AppendPoly(dst []byte, poly *ring.Poly, l, skip int) []byte {
	return ring.AppendPoly(dst, poly, p.bits[:l], skip)
}

// PolyLen returns the serialized size of one polynomial at level l.
func (p *Params) PolyLen(l, skip int) int { return ring.PolyLen(p.n, p.bits[:l], skip) }

// ParsePoly reads one polynomial with l rows (moduli q_0..q_{l-1}, where
// l may be L for keys) and returns it with the bytes consumed. Residues
// must be below their modulus.
func (p *Params) ParsePoly(src []byte, l, skip int) (*ring.Poly, int, error) {
	if l < 1 || l > len(p.moduli) {
		return nil, 0, fmt.Errorf("%w: %d moduli requested, have %d", ErrFormat, l, len(p.moduli))
	}
	if need := p.PolyLen(l, skip); len(src) < need {
		return nil, 0, fmt.Errorf("%w: polynomial needs %d bytes, have %d", ErrFormat, need, len(src))
	}
	poly := ring.NewPoly(p.n, l)
	k, err := ring.ReadPoly(poly, src, p.bits[:l], p.moduli[:l], skip)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return poly, k, nil
}

// ExpandSeed returns UniformEval(seed) over the first l moduli: the c_1 of
// a seeded ciphertext in NTT form (he-spec §7.3).
func (p *Params) ExpandSeed(seed []byte, l int) (*ring.Poly, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("%w: seed is %d bytes, want %d", ErrFormat, len(seed), SeedSize)
	}
	r, err := drbg.New(seed)
	if err != nil {
		return nil, fmt.Errorf("bfv: %w", err)
	}
	a := ring.NewPoly(p.n, l)
	if err := p.keyB[:l].SampleUniform(r, a, nil); err != nil {
		return nil, fmt.Errorf("bfv: %w", err)
	}
	return a, nil
}

// ParseSeededCiphertext rebuilds a seeded ciphertext (he-spec §6.2): c_0
// from poly0 (l rows, format f), c_1 = UniformEval(seed) converted to f.
// Use l = [Params.MaxLevel] and Coeff for queries, l = L and Eval for
// key-switching keys.
func (p *Params) ParseSeededCiphertext(poly0, seed []byte, l int, f Format) (*Ciphertext, error) {
	if f != Coeff && f != Eval {
		return nil, fmt.Errorf("bfv: unknown format %v", f)
	}
	c0, _, err := p.ParsePoly(poly0, l, 0)
	if err != nil {
		return nil, err
	}
	c1, err := p.ExpandSeed(seed, l)
	if err != nil {
		return nil, err
	}
	if f == Coeff {
		p.keyB[:l].INTT(c1)
	}
	return &Ciphertext{Polys: []*ring.Poly{c0, c1}, Format: f, Seed: append([]byte(nil), seed...),
		CorrectionFactor: 1}, nil
}

// ParseFullCiphertext parses the polys bytes of a full ciphertext
// (he-spec §6.2): a 2-byte little-endian count, then each polynomial with
// skipLSBs[k] dropped bits (empty = all zero), at level l in format f.
func (p *Params) ParseFullCiphertext(polys []byte, skipLSBs []uint32, correction uint64, l int, f Format) (*Ciphertext, error) {
	if f != Coeff && f != Eval {
		return nil, fmt.Errorf("bfv: unknown format %v", f)
	}
	if l < 1 || l > len(p.moduli) {
		// Checked before skip_lsbs, whose bound depends on the moduli at level l.
		return nil, fmt.Errorf("%w: %d moduli requested, have %d", ErrFormat, l, len(p.moduli))
	}
	if len(polys) < 2 {
		return nil, fmt.Errorf("%w: full ciphertext shorter than its count", ErrFormat)
	}
	count := int(binary.LittleEndian.Uint16(polys))
	if count < 1 || count > maxPolys {
		return nil, fmt.Errorf("%w: %d polynomials, want 1..%d", ErrFormat, count, maxPolys)
	}
	if len(skipLSBs) != 0 && len(skipLSBs) != count {
		return nil, fmt.Errorf("%w: %d skip_lsbs for %d polynomials", ErrFormat, len(skipLSBs), count)
	}
	ct := &Ciphertext{Format: f, CorrectionFactor: correction}
	off := 2
	for k := 0; k < count; k++ {
		skip := 0
		if len(skipLSBs) > 0 {
			if int64(skipLSBs[k]) >= int64(minBits(p.bits[:l])) {
				return nil, fmt.Errorf("%w: skip_lsbs %d too large", ErrFormat, skipLSBs[k])
			}
			skip = int(skipLSBs[k])
			if skip != 0 && (f != Coeff || l != 1) {
				return nil, fmt.Errorf("%w: dropped bits on a ciphertext that is not single-modulus Coeff", ErrFormat)
			}
		}
		poly, n, err := p.ParsePoly(polys[off:], l, skip)
		if err != nil {
			return nil, fmt.Errorf("polynomial %d: %w", k, err)
		}
		off += n
		ct.Polys = append(ct.Polys, poly)
	}
	return ct, nil
}

func minBits(bs []int) int {
	m := bs[0]
	for _, b := range bs {
		m = min(m, b)
	}
	return m
}

// SerializeFull returns the polys bytes and skip_lsbs of ct in full form
// (he-spec §6.2); skip gives the dropped bits per polynomial (nil = zeros).
// Apple always writes one skip_lsbs entry per polynomial.
func (p *Params) SerializeFull(ct *Ciphertext, skip []int) ([]byte, []uint32, error) {
	l := ct.Level()
	if skip != nil && len(skip) != len(ct.Polys) {
		return nil, nil, fmt.Errorf("bfv: %d skip values for %d polynomials", len(skip), len(ct.Polys))
	}
	size := 2
	lsbs := make([]uint32, len(ct.Polys))
	for k := range ct.Polys {
		if skip != nil {
			if skip[k] < 0 || skip[k] >= minBits(p.bits[:l]) {
				return nil, nil, fmt.Errorf("bfv: skip %d out of range", skip[k])
			}
			lsbs[k] = uint32(skip[k])
		}
		size += p.PolyLen(l, int(lsbs[k]))
	}
	out := make([]byte, 2, size)
	binary.LittleEndian.PutUint16(out, uint16(len(ct.Polys)))
	for k, poly := range ct.Polys {
		out = p.AppendPoly(out, poly, l, int(lsbs[k]))
	}
	return out, lsbs, nil
}

// SerializeForDecryption serializes a response ciphertext as Apple's
// serialize(forDecryption: true) (he-spec §4.7–4.8): ct must be a 2-poly
// Coeff ciphertext at level 1; the low [Params.SkipLSBsForDecryption] bits
// are dropped.
func (p *Params) SerializeForDecryption(ct *Ciphertext) ([]byte, []uint32, error) {
	if ct.Format != Coeff || ct.Level() != 1 || len(ct.Polys) != 2 {
		return nil, nil, fmt.Errorf("bfv: serializing for decryption needs a 2-poly Coeff ciphertext mod q_0, have %d polys %v level %d",
			len(ct.Polys), ct.Format, ct.Level())
	}
	s := p.SkipLSBsForDecryption()
	return p.SerializeFull(ct, s[:])
}

// SerializeSeeded returns poly0 and the seed of a seeded ciphertext
// (he-spec §6.2), or an error when ct has no seed or not 2 polynomials.
func (p *Params) SerializeSeeded(ct *Ciphertext) (poly0, seed []byte, err error) {
	if len(ct.Seed) != SeedSize || len(ct.Polys) != 2 {
		return nil, nil, errors.New("bfv: ciphertext is not seeded")
	}
	return p.AppendPoly(nil, ct.Polys[0], ct.Level(), 0), append([]byte(nil), ct.Seed...), nil
}

// SerializeSecretKey returns Apple's secret-key bytes: a 2-byte LE count
// (1) and s in Eval form over all L moduli (he-spec §6.3).
func (p *Params) SerializeSecretKey(sk *SecretKey) []byte {
	out := []byte{1, 0}
	return p.AppendPoly(out, sk.Poly, len(p.moduli), 0)
}

// ParseSecretKey parses Apple's secret-key bytes.
func (p *Params) ParseSecretKey(b []byte) (*SecretKey, error) {
	if len(b) < 2 || binary.LittleEndian.Uint16(b) != 1 {
		return nil, fmt.Errorf("%w: secret key must hold exactly one polynomial", ErrFormat)
	}
	poly, _, err := p.ParsePoly(b[2:], len(p.moduli), 0)
	if err != nil {
		return nil, err
	}
	return &SecretKey{Poly: poly}, nil
}

// ParsePlaintext parses bare plaintext bytes (he-spec §6.3): a Coeff
// plaintext over [t], or an Eval plaintext over the first l ciphertext
// moduli.
func (p *Params) ParsePlaintext(b []byte, f Format, l int) (*Plaintext, error) {
	switch f {
	case Coeff:
		poly := ring.NewPoly(p.n, 1)
		bits := []int{modq.CeilLog2(p.t)}
		need := ring.PolyLen(p.n, bits, 0)
		if len(b) < need {
			return nil, fmt.Errorf("%w: plaintext needs %d bytes, have %d", ErrFormat, need, len(b))
		}
		if _, err := ring.ReadPoly(poly, b, bits, []uint64{p.t}, 0); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		return &Plaintext{Poly: poly, Format: Coeff}, nil
	case Eval:
		if l < 1 || l > p.MaxLevel() {
			return nil, fmt.Errorf("%w: plaintext level %d", ErrFormat, l)
		}
		poly, _, err := p.ParsePoly(b, l, 0)
		if err != nil {
			return nil, err
		}
		return &Plaintext{Poly: poly, Format: Eval}, nil
	}
	return nil, fmt.Errorf("bfv: unknown format %v", f)
}

// SerializePlaintext returns the bare bytes of pt (he-spec §6.3).
func (p *Params) SerializePlaintext(pt *Plaintext) []byte {
	if pt.Format == Coeff {
		return ring.AppendPoly(nil, pt.Poly, []int{modq.CeilLog2(p.t)}, 0)
	}
	return p.AppendPoly(nil, pt.Poly, pt.Poly.Rows(), 0)
}
