package oprf

import (
	"fmt"
	"io"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/zk/dleq"
)

// parseElement decodes a compressed SEC1 point of exactly [ElementSize]
// bytes. UnmarshalBinary checks x < p and that x has a square root (the point
// is on the curve); the 49-byte form cannot encode the identity, which RFC
// 9497 §4 DeserializeElement must refuse.
func parseElement(b []byte, what string) (group.Element, error) {
	if len(b) != ElementSize {
		return nil, fmt.Errorf("%w: %s is %d bytes, want %d", ErrMalformed, what, len(b), ElementSize)
	}
	if b[0] != 0x02 && b[0] != 0x03 {
		return nil, fmt.Errorf("%w: %s is not a compressed point (prefix 0x%02x)", ErrMalformed, what, b[0])
	}
	e := group.P384.NewElement()
	if err := e.UnmarshalBinary(b); err != nil || e.IsIdentity() {
		return nil, fmt.Errorf("%w: %s is not a P-384 point", ErrMalformed, what)
	}
	return e, nil
}

// Evaluate is the server's BlindEvaluate of RFC 9497 §3.3.2 (verifiable
// mode) for one blinded element: it returns Z = k·M (49 bytes, the
// OPRFResponse.evaluated_element) and a DLEQ proof (96 bytes, c || s, the
// OPRFResponse.proof) that log_G(pk) = log_M(Z), with proof randomness drawn
// from rand (crypto/rand.Reader in production). A batch of one, as Apple's
// client sends.
//
// It refuses a blinded element that is not a 49-byte compressed P-384 point
// with [ErrMalformed]; every well-formed input takes the same operations
// (see the package's security considerations for the group code's timing).
func (k *PrivateKey) Evaluate(blinded []byte, rand io.Reader) (evaluated, proof []byte, err error) {
	M, err := parseElement(blinded, "blinded element")
	if err != nil {
		return nil, nil, err
	}
	r, err := randomScalar(rand)
	if err != nil {
		return nil, nil, err
	}
	return k.evaluate(M, r)
}

// evaluate computes Z = k·M and the RFC 9497 GenerateProof with proof
// randomness r (fixed by the known-answer tests).
func (k *PrivateKey) evaluate(M group.Element, r group.Scalar) (evaluated, proof []byte, err error) {
	Z := group.P384.NewElement().Mul(M, k.k)
	// circl's element encoding reduces the coordinates in place, so the
	// prover gets its own copy of the shared public element: concurrent
	// evaluations would otherwise write to it at once.
	pr, err := dleq.Prover{Params: dleqParams()}.ProveBatchWithRandomnessRFC9497(
		k.k, k.pub.Copy(), []group.Element{M}, []group.Element{Z}, r)
	if err != nil {
		return nil, nil, fmt.Errorf("oprf: proving evaluation: %w", err)
	}
	evaluated, err = Z.MarshalBinaryCompress()
	if err != nil || len(evaluated) != ElementSize {
		return nil, nil, fmt.Errorf("oprf: encoding evaluated element: %v", err)
	}
	proof, err = pr.MarshalBinary()
	if err != nil || len(proof) != ProofSize {
		return nil, nil, fmt.Errorf("oprf: encoding proof: %v", err)
	}
	return evaluated, proof, nil
}
