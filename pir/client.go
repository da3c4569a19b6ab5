package pir

import (
	"context"
	"fmt"
	"io"
	"math/big"

	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/heproto"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

// Client plays the device side of keyword PIR for tests and tools: it holds
// a secret key, makes the evaluation key for a config, builds queries and
// decrypts responses (pir-spec §3.4, §3.7, §4.4). Its decryption is not
// constant time; do not use it to serve secrets.
type Client struct {
	cfg *ClientConfig
	bp  *bfv.Params
	sk  *bfv.SecretKey
}

// NewClient returns a client for cfg with a fresh secret key from rnd
// (crypto/rand.Reader in production).
func NewClient(cfg *ClientConfig, rnd io.Reader) (*Client, error) {
	bp, err := clientParams(cfg)
	if err != nil {
		return nil, err
	}
	sk, err := bp.GenerateSecretKey(rnd)
	if err != nil {
		return nil, fmt.Errorf("pir: generating secret key: %w", err)
	}
	return &Client{cfg: cfg, bp: bp, sk: sk}, nil
}

// NewClientWithSecretKey returns a client for cfg with a stored secret key
// (SerializedSecretKey, as the device keeps it).
func NewClientWithSecretKey(cfg *ClientConfig, m *hepb.SerializedSecretKey) (*Client, error) {
	bp, err := clientParams(cfg)
	if err != nil {
		return nil, err
	}
	if want := 2 + bp.PolyLen(len(bp.Moduli()), 0); len(m.GetPolys()) != want {
		return nil, fmt.Errorf("pir: secret key has %d bytes, want %d for these encryption parameters", len(m.GetPolys()), want)
	}
	sk, err := heproto.SecretKeyFromProto(bp, m)
	if err != nil {
		return nil, fmt.Errorf("pir: parsing secret key: %w", err)
	}
	return &Client{cfg: cfg, bp: bp, sk: sk}, nil
}

func clientParams(cfg *ClientConfig) (*bfv.Params, error) {
	if cfg == nil || len(cfg.Shards) == 0 {
		return nil, fmt.Errorf("pir: client config has no shards")
	}
	bp, err := bfv.Preset(cfg.Shards[0].he.presetName())
	if err != nil {
		return nil, fmt.Errorf("pir: %w", err)
	}
	return bp, nil
}

// Config returns the client's configuration.
func (c *Client) Config() *ClientConfig { return c.cfg }

// SecretKey returns the secret key as the device stores it.
func (c *Client) SecretKey() *hepb.SerializedSecretKey {
	return heproto.SecretKeyToProto(c.bp, c.sk)
}

// EvaluationKey generates the evaluation key for the config's key config,
// with metadata {timestamp, identifier = evaluation_key_config_hash}, the
// message a device uploads to /key.
func (c *Client) EvaluationKey(timestamp uint64, rnd io.Reader) (*apipb.EvaluationKey, error) {
	g := make([]uint64, len(c.cfg.KeyConfig.GaloisElements))
	for i, e := range c.cfg.KeyConfig.GaloisElements {
		g[i] = uint64(e)
	}
	evk, err := c.bp.GenerateEvaluationKey(c.sk, g, c.cfg.KeyConfig.Relin, rnd)
	if err != nil {
		return nil, fmt.Errorf("pir: generating evaluation key: %w", err)
	}
	m, err := heproto.EvaluationKeyToProto(c.bp, evk)
	if err != nil {
		return nil, fmt.Errorf("pir: serializing evaluation key: %w", err)
	}
	return &apipb.EvaluationKey{
		Metadata:      &apipb.EvaluationKeyMetadata{Timestamp: timestamp, Identifier: c.cfg.KeyConfigHash},
		EvaluationKey: m,
	}, nil
}

// Query is one keyword lookup in flight: where it was routed and which
// buckets it asked for. It is needed to decrypt the response.
type Query struct {
	// Keyword is the looked-up keyword.
	Keyword []byte
	// ShardIndex is the shard the keyword routes to.
	ShardIndex int
	// Indices are the bucket indices asked for, one per cuckoo table.
	Indices []int
}

// NewQuery builds the encrypted MulPIR query for keyword (pir-spec §3.4,
// §4.4) and the PIRRequest a device sends for it.
func (c *Client) NewQuery(keyword []byte, keyMeta *apipb.EvaluationKeyMetadata, rnd io.Reader) (*Query, *apipb.PIRRequest, error) {
	si := c.cfg.ShardIndex(keyword)
	p := c.cfg.Shards[si]
	q := &Query{Keyword: keyword, ShardIndex: si, Indices: HashIndices(keyword, p.EntryCount, p.HashFunctionCount)}
	l := p.layout()
	sd := p.Dimensions[0] + p.Dimensions[1]
	total := p.expandedCount()
	ones := make([]int, 0, 2*len(q.Indices))
	for k, idx := range q.Indices {
		pi := idx / l.entriesPerPlaintext()
		ones = append(ones, k*sd+pi/p.Dimensions[1], k*sd+p.Dimensions[0]+pi%p.Dimensions[1])
	}
	n := c.bp.N()
	t := c.bp.T()
	ei := &pirpb.EncryptedIndices{NumPirCalls: uint64(len(q.Indices))}
	for start := 0; start < total; start += n {
		cnt := min(n, total-start)
		// inv(2^ceilLog2(cnt)) mod t undoes the expansion's doubling.
		inv := new(big.Int).ModInverse(new(big.Int).Lsh(big.NewInt(1), uint(ceilLog2(uint64(cnt)))), new(big.Int).SetUint64(t))
		if inv == nil {
			return nil, nil, fmt.Errorf("pir: plaintext modulus %d is even", t)
		}
		vals := make([]uint64, n)
		for _, pos := range ones {
			if pos >= start && pos < start+cnt {
				vals[pos-start] = inv.Uint64()
			}
		}
		pt, err := c.bp.EncodeCoeffs(vals)
		if err != nil {
			return nil, nil, fmt.Errorf("pir: encoding query: %w", err)
		}
		ct, err := c.bp.Encrypt(c.sk, pt, rnd)
		if err != nil {
			return nil, nil, fmt.Errorf("pir: encrypting query: %w", err)
		}
		m, err := heproto.CiphertextToProto(c.bp, ct)
		if err != nil {
			return nil, nil, fmt.Errorf("pir: serializing query: %w", err)
		}
		ei.Ciphertexts = append(ei.Ciphertexts, m)
	}
	req := &apipb.PIRRequest{
		ShardIndex:            uint32(si),
		Query:                 ei,
		EvaluationKeyMetadata: keyMeta,
		ConfigurationHash:     c.cfg.ID,
	}
	return q, req, nil
}

// Decrypt decrypts the response to q and looks up its keyword in the
// returned buckets: the value and true when present, nil and false when
// absent (pir-spec §3.7, §4.2).
func (c *Client) Decrypt(q *Query, resp *apipb.PIRResponse) ([]byte, bool, error) {
	if q == nil || q.ShardIndex < 0 || q.ShardIndex >= len(c.cfg.Shards) {
		return nil, false, fmt.Errorf("pir: query is not for a shard of this config")
	}
	p := c.cfg.Shards[q.ShardIndex]
	if len(q.Indices) != p.HashFunctionCount {
		return nil, false, fmt.Errorf("pir: query has %d bucket indices, shard has %d tables", len(q.Indices), p.HashFunctionCount)
	}
	l := p.layout()
	if len(resp.GetReplies()) != len(q.Indices) {
		return nil, false, fmt.Errorf("pir: response has %d replies, want %d", len(resp.GetReplies()), len(q.Indices))
	}
	h := KeywordHash(q.Keyword)
	var value []byte
	found := false
	for k, reply := range resp.GetReplies() {
		cts := reply.GetCiphertexts()
		if len(cts) != l.chunkCount() {
			return nil, false, fmt.Errorf("pir: reply %d has %d ciphertexts, want %d", k, len(cts), l.chunkCount())
		}
		var entry []byte
		for i, m := range cts {
			ct, err := ciphertextFromProto(c.bp, m, 1, bfv.Coeff)
			if err != nil {
				return nil, false, fmt.Errorf("pir: reply %d ciphertext %d: %w", k, i, err)
			}
			pt, err := c.bp.Decrypt(c.sk, ct)
			if err != nil {
				return nil, false, fmt.Errorf("pir: reply %d ciphertext %d: %w", k, i, err)
			}
			b, err := c.bp.DecodeBytes(pt)
			if err != nil {
				return nil, false, fmt.Errorf("pir: reply %d: %w", k, err)
			}
			entry = append(entry, b[:min(len(b), l.bytesPerPlaintext)]...)
		}
		pos := q.Indices[k] % l.entriesPerPlaintext()
		lo, hi := pos*p.EntrySize, (pos+1)*p.EntrySize
		if hi > len(entry) {
			return nil, false, fmt.Errorf("pir: reply %d holds %d bytes, entry needs %d", k, len(entry), hi)
		}
		v, ok, err := lookupBucket(entry[lo:hi], h)
		if err != nil {
			return nil, false, fmt.Errorf("pir: reply %d: %w", k, err)
		}
		if ok && !found {
			value, found = append([]byte(nil), v...), true
		}
	}
	return value, found, nil
}

// Lookup runs one whole lookup against s in process: query, answer with
// key, decrypt. For a symmetric-PIR config it first runs the OPRF round and
// returns the decrypted value. It is for tests and the CLI.
func (c *Client) Lookup(ctx context.Context, s *Server, key *EvaluationKey, keyword []byte, rnd io.Reader) ([]byte, bool, error) {
	if c.cfg.Symmetric != nil {
		return c.lookupSymmetric(ctx, s, key, keyword, rnd)
	}
	q, req, err := c.NewQuery(keyword, nil, rnd)
	if err != nil {
		return nil, false, err
	}
	resp, err := s.Answer(ctx, req, key)
	if err != nil {
		return nil, false, err
	}
	return c.Decrypt(q, resp)
}

// QueryFor returns the routing and bucket indices of keyword, what
// [Client.Decrypt] needs for a response to a query built elsewhere (by a
// device, or an earlier run).
func (c *Client) QueryFor(keyword []byte) *Query {
	si := c.cfg.ShardIndex(keyword)
	p := c.cfg.Shards[si]
	return &Query{Keyword: keyword, ShardIndex: si, Indices: HashIndices(keyword, p.EntryCount, p.HashFunctionCount)}
}
