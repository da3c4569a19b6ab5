package pir

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"sync"

	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/he/modq"
	"github.com/blindlist/blindlist/pir/heproto"
	"github.com/blindlist/blindlist/pir/oprf"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

// Errors a caller (the HTTP service) maps to statuses.
var (
	// ErrBadRequest marks a request that does not fit the shard (wrong
	// counts, sizes or moduli): the client's fault.
	ErrBadRequest = errors.New("pir: bad request")
	// ErrShardIndex marks a shard index outside the usecase's shards.
	ErrShardIndex = errors.New("pir: shard index out of range")
	// ErrKeyMismatch marks an evaluation key that lacks keys the shard needs
	// (typically a key made for another config).
	ErrKeyMismatch = errors.New("pir: evaluation key does not fit the config")
	// ErrUnknownConfig marks a request built for another config version.
	ErrUnknownConfig = errors.New("pir: unknown configuration")
)

// ServerOptions tunes a [Server].
type ServerOptions struct {
	// Workers is the server's goroutine budget (default GOMAXPROCS): each
	// answer runs on its caller's goroutine and borrows up to Workers−1
	// helpers, shared by all concurrent answers.
	Workers int
	// SymmetricKey is the usecase's symmetric-PIR key (pir-spec §5), for
	// [Server.EvaluateOPRF]. It must match the shards' server_public_key.
	// Nil: OPRF requests fail with [ErrSymmetricNotConfigured].
	SymmetricKey *oprf.PrivateKey
}

// Server answers keyword PIR queries over the processed shards of one
// usecase (pir-spec §3.5, §3.6). It is safe for concurrent use.
type Server struct {
	shards  []*Database
	he      heParams
	bp      *bfv.Params
	config  *Config
	moduli  []modq.Modulus // ciphertext moduli
	workers int
	budget  *budget
	evs     *evalPool        // idle evaluators, at most workers of them
	spare   spares           // ciphertext storage answers hand on (spare.go)
	accs    sync.Pool        // idle first-dimension accumulators (*firstDimAcc)
	oprfKey *oprf.PrivateKey // symmetric-PIR key, or nil
}

// NewServer returns a server for the shards of one usecase, in shard order.
func NewServer(shards []*Database, opts ServerOptions) (*Server, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("pir: no shards")
	}
	ps := make([]*Params, len(shards))
	for i, db := range shards {
		db.materialize() // a freshly processed shard is packed now
		ps[i] = db.params
	}
	cfg, err := BuildConfig(ps)
	if err != nil {
		return nil, err
	}
	if err := checkSymmetricKey(ps, opts.SymmetricKey); err != nil {
		return nil, err
	}
	he := ps[0].he
	bp, err := bfv.Preset(he.presetName())
	if err != nil {
		return nil, fmt.Errorf("pir: %w", err)
	}
	w := opts.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return &Server{shards: slices.Clone(shards), he: he, bp: bp, config: cfg, moduli: ctModuliOf(he), workers: w,
		budget: newBudget(w - 1), evs: newEvalPool(bp, w), oprfKey: opts.SymmetricKey}, nil
}

// Config returns the usecase configuration served at /config.
func (s *Server) Config() *Config { return s.config }

// ShardCount returns the number of shards.
func (s *Server) ShardCount() int { return len(s.shards) }

// EvaluationKey is a device's parsed evaluation key, ready for [Server.Answer].
// Parse it once per upload and reuse it.
type EvaluationKey struct {
	key      *bfv.EvaluationKey
	he       heParams // the encryption parameters it was parsed for
	elements []uint32 // sorted Galois elements present
}

// ParseEvaluationKey parses an uploaded key for this server's encryption
// parameters, checking every key-switching key's shape.
func (s *Server) ParseEvaluationKey(m *hepb.SerializedEvaluationKey) (*EvaluationKey, error) {
	k, err := evaluationKeyFromProto(s.bp, m)
	if err != nil {
		return nil, err
	}
	ek := &EvaluationKey{key: k, he: s.he}
	for g := range k.Galois {
		ek.elements = append(ek.elements, uint32(g))
	}
	slices.Sort(ek.elements)
	return ek, nil
}

// KeyConfig returns what the key provides.
func (k *EvaluationKey) KeyConfig() KeyConfig {
	return KeyConfig{GaloisElements: slices.Clone(k.elements), Relin: k.key.Relin != nil}
}

// Answer answers one PIR request: it checks the request against the config
// (configuration_hash when set, shard index, sizes) and runs [Server.AnswerQuery].
func (s *Server) Answer(ctx context.Context, req *apipb.PIRRequest, key *EvaluationKey) (*apipb.PIRResponse, error) {
	if req.ShardId != nil {
		return nil, fmt.Errorf("%w: shard_id routing is not supported, use shard_index", ErrBadRequest)
	}
	if h := req.GetConfigurationHash(); len(h) != 0 && string(h) != string(s.config.ID) {
		return nil, ErrUnknownConfig
	}
	return s.AnswerQuery(ctx, int(req.GetShardIndex()), req.GetQuery(), key)
}

// AnswerQuery computes the MulPIR response to query on shard shardIndex:
// expansion, first-dimension plaintext products, ciphertext products with
// relinearization, modulus switching to q0, one reply per query index with
// ChunkCount ciphertexts each (pir-spec §3.6). The work done and the
// response size depend only on the shard parameters.
func (s *Server) AnswerQuery(ctx context.Context, shardIndex int, query *pirpb.EncryptedIndices, key *EvaluationKey) (*apipb.PIRResponse, error) {
	if shardIndex < 0 || shardIndex >= len(s.shards) {
		return nil, fmt.Errorf("%w: %d, usecase has %d shards", ErrShardIndex, shardIndex, len(s.shards))
	}
	if key == nil {
		return nil, fmt.Errorf("%w: no evaluation key", ErrKeyMismatch)
	}
	// A key parsed by a server of other parameters (a cache kept across a
	// reload) has residues for other moduli: refuse it rather than compute
	// garbage.
	if !key.he.equal(s.he) {
		return nil, fmt.Errorf("%w: key was parsed for other encryption parameters", ErrKeyMismatch)
	}
	db := s.shards[shardIndex]
	p := db.params
	if !key.KeyConfig().contains(KeyConfig{Relin: true}) {
		return nil, fmt.Errorf("%w: relinearization key missing", ErrKeyMismatch)
	}
	// Expand with the shard's own elements only: a key made of other
	// (smaller) elements would repeat automorphisms, more work per query
	// than the config allows.
	if !key.KeyConfig().contains(p.KeyConfig) {
		return nil, fmt.Errorf("%w: key lacks Galois elements of the shard's config %v", ErrKeyMismatch, p.KeyConfig.GaloisElements)
	}
	cts, err := s.parseQuery(p, query)
	if err != nil {
		return nil, err
	}
	total := p.expandedCount()
	n := s.he.n
	x := &expander{bp: s.bp, key: key, elements: p.KeyConfig.GaloisElements, logN: bits.Len(uint(n)) - 1, budget: s.budget, evs: s.evs, spare: &s.spare}
	defer x.release()
	if err := x.checkKey(total); err != nil {
		return nil, err
	}
	if db.pt32 != nil {
		return s.respondStreaming(ctx, db, x, cts, key)
	}
	expanded, err := x.expand(cts, total)
	x.release() // the evaluators go back to the pool for the steps below
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.respond(ctx, db, expanded, key)
}

// parseQuery checks query against the shard parameters p (PIR call count,
// ciphertext count, each ciphertext's form and size) and parses its
// ciphertexts; every failure wraps ErrBadRequest.
func (s *Server) parseQuery(p *Params, query *pirpb.EncryptedIndices) ([]*bfv.Ciphertext, error) {
	if query.GetNumPirCalls() != uint64(p.HashFunctionCount) {
		return nil, fmt.Errorf("%w: query has %d PIR calls, shard batch size is %d", ErrBadRequest, query.GetNumPirCalls(), p.HashFunctionCount)
	}
	if want := ceilDiv(p.expandedCount(), s.he.n); len(query.GetCiphertexts()) != want {
		return nil, fmt.Errorf("%w: query has %d ciphertexts, want %d", ErrBadRequest, len(query.GetCiphertexts()), want)
	}
	level := len(s.he.moduli) - 1
	cts := make([]*bfv.Ciphertext, len(query.GetCiphertexts()))
	for i, m := range query.GetCiphertexts() {
		ct, err := ciphertextFromProto(s.bp, m, level, bfv.Coeff)
		if err != nil {
			return nil, fmt.Errorf("%w: query ciphertext %d: %v", ErrBadRequest, i, err)
		}
		if len(ct.Polys) != 2 {
			return nil, fmt.Errorf("%w: query ciphertext %d has %d polynomials", ErrBadRequest, i, len(ct.Polys))
		}
		cts[i] = ct
	}
	return cts, nil
}

// respond runs the database part of the answer on the expanded query.
func (s *Server) respond(ctx context.Context, db *Database, expanded []*bfv.Ciphertext, key *EvaluationKey) (*apipb.PIRResponse, error) {
	p := db.params
	l := p.layout()
	d0, d1 := p.Dimensions[0], p.Dimensions[1]
	b := p.HashFunctionCount
	chunks := l.chunkCount()
	sd := d0 + d1

	// First-dimension operands in Eval form, shared by all chunks.
	q0 := make([][]*bfv.Ciphertext, b)
	for k := range b {
		q0[k] = expanded[k*sd : k*sd+d0] // used only here: converted in place
	}
	err := s.evs.forEach(s.budget, ctx, b*d0, func(ev *bfv.Evaluator, i int) error {
		return ev.ToEval(q0[i/d0][i%d0])
	})
	if err != nil {
		return nil, err
	}

	// R[k][c][col] = Σ_r Q0[r] ⊙ P[col·d0 + r], left in Eval form: the ct × ct
	// product takes it so and skips the forward NTT of its q-rows.
	st := s.spare.take()
	R := make([][][]*bfv.Ciphertext, b)
	for k := range b {
		R[k] = make([][]*bfv.Ciphertext, chunks)
		for c := range chunks {
			R[k][c] = make([]*bfv.Ciphertext, d1)
			for col := range d1 {
				R[k][c][col] = st.pop() // shaped by dotColumns
			}
		}
	}
	// Columns in groups of scanColumns per task: a task reads the table's
	// leaves once for its whole group (bfv.InnerProductColumns), and the
	// groups still spread over the workers.
	perTable := l.plaintextCount()
	groups := ceilDiv(d1, scanColumns)
	err = s.evs.forEach(s.budget, ctx, b*chunks*groups, func(ev *bfv.Evaluator, i int) error {
		k, c, g := i/(chunks*groups), i/groups%chunks, i%groups
		col0, col1 := g*scanColumns, min((g+1)*scanColumns, d1)
		base := k*perTable + c*l.perChunk()
		return db.dotColumns(ev, s.bp, R[k][c][col0:col1], q0[k], base, col0)
	})
	if err != nil {
		s.spare.give(st)
		return nil, err
	}
	resp, err := s.secondDimension(ctx, db, expanded, R, key)
	s.recycle(st, expanded, R)
	return resp, err
}

// recycle hands the storage of an answer's expanded query and
// first-dimension results, dead once its second dimension is done, to the
// next answer through st.
func (s *Server) recycle(st *ctStock, expanded []*bfv.Ciphertext, R [][][]*bfv.Ciphertext) {
	for _, c := range expanded {
		if c != nil {
			st.push(c)
		}
	}
	for _, byChunk := range R {
		for _, cols := range byChunk {
			for _, c := range cols {
				st.push(c)
			}
		}
	}
	s.spare.give(st)
}

// secondDimension finishes an answer from the first-dimension results R:
// ct × ct inner product with the second-dimension query ciphertexts,
// relinearization, modulus switch to q0 and serialization (pir-spec §3.6).
func (s *Server) secondDimension(ctx context.Context, db *Database, expanded []*bfv.Ciphertext, R [][][]*bfv.Ciphertext, key *EvaluationKey) (*apipb.PIRResponse, error) {
	p := db.params
	d0, d1 := p.Dimensions[0], p.Dimensions[1]
	b := p.HashFunctionCount
	chunks := p.ChunkCount()
	sd := d0 + d1
	replies := make([]*hepb.SerializedCiphertextVec, b)
	for k := range b {
		replies[k] = &hepb.SerializedCiphertextVec{Ciphertexts: make([]*hepb.SerializedCiphertext, chunks)}
	}
	err := s.evs.forEach(s.budget, ctx, b*chunks, func(ev *bfv.Evaluator, i int) error {
		k, c := i/chunks, i%chunks
		x := &bfv.Ciphertext{}
		if err := ev.MulInnerProduct(x, expanded[k*sd+d0:(k+1)*sd], R[k][c]); err != nil {
			return err
		}
		if err := ev.Relinearize(x, x, key.key); err != nil {
			return err
		}
		if err := ev.ModSwitchDownToSingle(x); err != nil {
			return err
		}
		m, err := heproto.CiphertextForDecryptionToProto(s.bp, x)
		if err != nil {
			return err
		}
		replies[k].Ciphertexts[c] = m
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &apipb.PIRResponse{Replies: replies}, nil
}

// respondStreaming answers a narrow (uint32) shard: the expansion hands each
// first-dimension leaf to its worker's accumulator as soon as it exists
// (NTT, multiply-accumulate into every column, reuse its storage), so the
// answer holds only the second-dimension leaves and d1 accumulators per
// table and chunk.
func (s *Server) respondStreaming(ctx context.Context, db *Database, x *expander, cts []*bfv.Ciphertext, key *EvaluationKey) (*apipb.PIRResponse, error) {
	p := db.params
	d0, d1 := p.Dimensions[0], p.Dimensions[1]
	sd := d0 + d1
	l := len(s.he.moduli) - 1
	x.sink = func(w *worker, pos int, leaf *bfv.Ciphertext) (bool, error) {
		if pos%sd >= d0 {
			return false, nil
		}
		if w.acc == nil {
			w.acc = s.takeFirstDimAcc(db, l)
		}
		w.acc.add(pos/sd, pos%sd, leaf)
		return true, nil
	}
	expanded, err := x.expand(cts, p.expandedCount())
	x.release() // the sink is done too: the evaluators go back to the pool
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var accs []*firstDimAcc
	for _, w := range x.workers {
		if w.acc != nil {
			accs = append(accs, w.acc)
		}
	}
	// R stays in Eval form (see respond).
	st := s.spare.take()
	R := sumFirstDim(accs, st, p.HashFunctionCount, p.ChunkCount(), d1)
	for _, a := range accs {
		s.giveFirstDimAcc(a)
	}
	resp, err := s.secondDimension(ctx, db, expanded, R, key)
	s.recycle(st, expanded, R)
	return resp, err
}
