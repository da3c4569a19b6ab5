package oprf

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/oprf"
	"github.com/cloudflare/circl/zk/dleq"
)

// PublicKey is a server's public VOPRF element, as a client holds it from
// SymmetricPirClientConfig.server_public_key. It is safe for concurrent use;
// a [Query] is not.
type PublicKey struct {
	enc [ElementSize]byte
}

// client returns a verifiable client over a fresh copy of the public
// element: circl's element encoding (used while verifying a proof) reduces
// the coordinates in place, so one element must not be shared by
// concurrent calls.
func (p *PublicKey) client() (oprf.VerifiableClient, error) {
	var pk oprf.PublicKey
	if err := pk.UnmarshalBinary(suite, p.enc[:]); err != nil {
		return oprf.VerifiableClient{}, fmt.Errorf("%w: public key: %v", ErrMalformed, err)
	}
	return oprf.NewVerifiableClient(suite, &pk), nil
}

// ParsePublicKey parses a 49-byte compressed public element
// (swift-crypto's P384._VOPRF.PublicKey(compressedRepresentation:)).
func ParsePublicKey(b []byte) (*PublicKey, error) {
	if _, err := parseElement(b, "public key"); err != nil {
		return nil, err
	}
	p := &PublicKey{}
	copy(p.enc[:], b)
	if _, err := p.client(); err != nil {
		return nil, err
	}
	return p, nil
}

// Bytes returns the 49-byte compressed encoding.
func (p *PublicKey) Bytes() []byte { return bytes.Clone(p.enc[:]) }

// Query is one blinded keyword: the element to send and the state
// [PublicKey.Finalize] needs. The blind is secret; Query's String method
// does not print it. A Query is used once.
type Query struct {
	fin     *oprf.FinalizeData
	element []byte
}

// Element returns the 49-byte blinded element, the value of
// OPRFRequest.query_element.
func (q *Query) Element() []byte { return bytes.Clone(q.element) }

// String returns a placeholder: the query holds the blind.
func (q *Query) String() string { return "oprf.Query(****)" }

// Blind is the client's Blind of RFC 9497 §3.3.2: it draws a blind r from
// rand (crypto/rand.Reader in production) and returns the query whose
// element is r·HashToGroup(keyword).
func (p *PublicKey) Blind(keyword []byte, rand io.Reader) (*Query, error) {
	if len(keyword) > MaxInputSize {
		return nil, fmt.Errorf("%w: keyword is %d bytes, more than %d", ErrMalformed, len(keyword), MaxInputSize)
	}
	r, err := randomScalar(rand)
	if err != nil {
		return nil, err
	}
	return p.blind(keyword, r)
}

func (p *PublicKey) blind(keyword []byte, r group.Scalar) (*Query, error) {
	c, err := p.client()
	if err != nil {
		return nil, err
	}
	fin, req, err := c.DeterministicBlind([][]byte{bytes.Clone(keyword)}, []oprf.Blind{r})
	if err != nil {
		return nil, fmt.Errorf("oprf: blinding: %w", err)
	}
	el, err := req.Elements[0].MarshalBinaryCompress()
	if err != nil || len(el) != ElementSize {
		return nil, fmt.Errorf("oprf: encoding blinded element: %v", err)
	}
	return &Query{fin: fin, element: el}, nil
}

// Finalize is the client's Finalize of RFC 9497 §3.3.2: it parses the
// server's evaluated element and proof, verifies the proof against the
// public key and the query's blinded element, unblinds and hashes. It
// returns [ErrMalformed] for bytes of the wrong form and [ErrProof] when the
// proof does not verify, which is what a server using another key, or
// answering another element, produces.
func (p *PublicKey) Finalize(q *Query, evaluated, proof []byte) (*Output, error) {
	if q == nil || q.fin == nil {
		return nil, errors.New("oprf: nil query")
	}
	Z, err := parseElement(evaluated, "evaluated element")
	if err != nil {
		return nil, err
	}
	if len(proof) != ProofSize {
		return nil, fmt.Errorf("%w: proof is %d bytes, want %d", ErrMalformed, len(proof), ProofSize)
	}
	var pr dleq.Proof
	if err := pr.UnmarshalBinary(group.P384, proof); err != nil {
		return nil, fmt.Errorf("%w: proof scalars out of range", ErrMalformed)
	}
	c, err := p.client()
	if err != nil {
		return nil, err
	}
	outs, err := c.Finalize(q.fin, &oprf.Evaluation{Elements: []oprf.Evaluated{Z}, Proof: &pr})
	if errors.Is(err, oprf.ErrInvalidProof) {
		return nil, ErrProof
	}
	if err != nil {
		return nil, fmt.Errorf("oprf: finalizing: %w", err)
	}
	return newOutput(outs[0])
}
