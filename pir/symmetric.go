package pir

// Symmetric PIR (pir-spec §5): Apple's OPRF layer over keyword PIR. The rows
// are transformed offline by oprf.PrivateKey.ProcessRow (oblivious keyword,
// encrypted value) before sharding and cuckoo hashing; the shard parameters
// carry the server's public key; /queries answers OPRFRequests; a client
// first obtains its keyword's OPRF output, then runs keyword PIR on the
// oblivious keyword and decrypts the value.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/blindlist/blindlist/pir/oprf"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

// ErrSymmetricNotConfigured marks an OPRF request to a usecase that holds no
// symmetric-PIR key; Apple's service answers it with HTTP 400 "SymmetricPIR
// not configured." (PirUsecase.swift).
var ErrSymmetricNotConfigured = errors.New("pir: SymmetricPIR not configured")

// symmetricProto returns the SymmetricPirClientConfig of a public key, nil
// for plain keyword PIR.
func symmetricProto(pub []byte) *pirpb.SymmetricPirClientConfig {
	if pub == nil {
		return nil
	}
	return &pirpb.SymmetricPirClientConfig{
		ServerPublicKey: append([]byte(nil), pub...),
		ConfigType:      pirpb.SymmetricPirConfigType_SYMMETRIC_PIR_CONFIG_TYPE_OPRF_P384_AES_GCM_192_NONCE_96_TAG_128,
	}
}

// symmetricFromProto validates a SymmetricPirClientConfig and returns its
// public key (nil when m is nil).
func symmetricFromProto(m *pirpb.SymmetricPirClientConfig) ([]byte, error) {
	if m == nil {
		return nil, nil
	}
	if m.GetConfigType() != pirpb.SymmetricPirConfigType_SYMMETRIC_PIR_CONFIG_TYPE_OPRF_P384_AES_GCM_192_NONCE_96_TAG_128 {
		return nil, fmt.Errorf("pir: symmetric PIR config type %v, want %s", m.GetConfigType(), oprf.ConfigTypeName)
	}
	if _, err := oprf.ParsePublicKey(m.GetServerPublicKey()); err != nil {
		return nil, fmt.Errorf("pir: symmetric PIR server public key: %w", err)
	}
	return append([]byte(nil), m.GetServerPublicKey()...), nil
}

// SymmetricRows applies Apple's offline symmetric-PIR transform
// (KeywordDatabase.symmetricPIRProcess) to every row, on up to workers
// goroutines (default GOMAXPROCS): each keyword becomes its 16-byte
// oblivious keyword and each value its AES-192-GCM encryption. The result is
// in input order. A repeated keyword stays repeated, so processing still
// refuses it. About 0.45 ms of CPU per row (one hash-to-curve and one P-384
// multiplication).
func SymmetricRows(ctx context.Context, rows []Row, key *oprf.PrivateKey, workers int) ([]Row, error) {
	if key == nil {
		return nil, errors.New("pir: symmetric PIR needs a key")
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := make([]Row, len(rows))
	const chunk = 1024
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(rows) {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				for i := lo; i < min(lo+chunk, len(rows)); i++ {
					kw, v, err := key.ProcessRow(rows[i].Keyword, rows[i].Value)
					if err != nil {
						return fmt.Errorf("pir: symmetric PIR row %d: %w", i, err)
					}
					out[i] = Row{Keyword: kw, Value: v}
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// EvaluateOPRF answers one OPRFRequest (pir-spec §5): the evaluated element
// and its DLEQ proof under the usecase's symmetric-PIR key. Like Apple's
// service it ignores config_id and needs no evaluation key. Errors:
// [ErrSymmetricNotConfigured] when the server has no key, [ErrBadRequest]
// when query_element is not a 49-byte compressed P-384 point.
func (s *Server) EvaluateOPRF(req *apipb.OPRFRequest) (*apipb.OPRFResponse, error) {
	if s.oprfKey == nil {
		return nil, ErrSymmetricNotConfigured
	}
	ev, proof, err := s.oprfKey.Evaluate(req.GetQueryElement(), rand.Reader)
	if errors.Is(err, oprf.ErrMalformed) {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if err != nil {
		return nil, err
	}
	return &apipb.OPRFResponse{EvaluatedElement: ev, Proof: proof}, nil
}

// Symmetric reports whether the server holds a symmetric-PIR key.
func (s *Server) Symmetric() bool { return s.oprfKey != nil }

// checkSymmetricKey checks that key fits the shards' public key: both absent,
// or key's public key equal to the one in every shard's parameters. Shards
// with a public key but no key load (they answer PIR requests; OPRF requests
// fail with [ErrSymmetricNotConfigured], as in Apple's service).
func checkSymmetricKey(ps []*Params, key *oprf.PrivateKey) error {
	pub := ps[0].SymmetricPublicKey
	switch {
	case key == nil:
		return nil
	case pub == nil:
		return errors.New("pir: a symmetric-PIR key was given but the shards are plain keyword PIR")
	case string(key.PublicKey()) != string(pub):
		return errors.New("pir: the symmetric-PIR key does not match the shards' server_public_key (processed with another key)")
	}
	return nil
}

// OPRFQuery is a keyword's OPRF round in flight on the client side.
type OPRFQuery struct {
	keyword []byte
	q       *oprf.Query
}

// NewOPRFRequest blinds keyword for a symmetric-PIR config and returns the
// OPRFRequest to send (config_id unset, as Apple's test client leaves it).
func (c *Client) NewOPRFRequest(keyword []byte, rnd io.Reader) (*OPRFQuery, *apipb.OPRFRequest, error) {
	if c.cfg.Symmetric == nil {
		return nil, nil, errors.New("pir: config is not symmetric PIR")
	}
	q, err := c.cfg.Symmetric.Blind(keyword, rnd)
	if err != nil {
		return nil, nil, fmt.Errorf("pir: %w", err)
	}
	return &OPRFQuery{keyword: keyword, q: q}, &apipb.OPRFRequest{QueryElement: q.Element()}, nil
}

// FinishOPRF verifies the server's OPRFResponse and returns the keyword's
// OPRF output: its ObliviousKeyword is what [Client.NewQuery] looks up, and
// its Decrypt opens the value [Client.Decrypt] returns. A proof that does not
// verify fails with [oprf.ErrProof].
func (c *Client) FinishOPRF(oq *OPRFQuery, resp *apipb.OPRFResponse) (*oprf.Output, error) {
	if c.cfg.Symmetric == nil || oq == nil {
		return nil, errors.New("pir: no symmetric-PIR query")
	}
	out, err := c.cfg.Symmetric.Finalize(oq.q, resp.GetEvaluatedElement(), resp.GetProof())
	if err != nil {
		return nil, fmt.Errorf("pir: OPRF response: %w", err)
	}
	return out, nil
}

// lookupSymmetric is [Client.Lookup] for a symmetric-PIR config.
func (c *Client) lookupSymmetric(ctx context.Context, s *Server, key *EvaluationKey, keyword []byte, rnd io.Reader) ([]byte, bool, error) {
	oq, oreq, err := c.NewOPRFRequest(keyword, rnd)
	if err != nil {
		return nil, false, err
	}
	oresp, err := s.EvaluateOPRF(oreq)
	if err != nil {
		return nil, false, err
	}
	out, err := c.FinishOPRF(oq, oresp)
	if err != nil {
		return nil, false, err
	}
	q, req, err := c.NewQuery(out.ObliviousKeyword(), nil, rnd)
	if err != nil {
		return nil, false, err
	}
	resp, err := s.Answer(ctx, req, key)
	if err != nil {
		return nil, false, err
	}
	enc, ok, err := c.Decrypt(q, resp)
	if err != nil || !ok {
		return nil, ok, err
	}
	v, err := out.Decrypt(enc)
	if err != nil {
		return nil, false, fmt.Errorf("pir: symmetric PIR value: %w", err)
	}
	return v, true, nil
}
