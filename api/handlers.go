package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// marshal serializes deterministically (map order fixed), so equal answers
// are equal bytes.
func marshal(m proto.Message) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("api: encoding %T: %w", m, err)
	}
	return b, nil
}

func malformed(what string, err error) error {
	return &httpError{status: http.StatusBadRequest, category: catBody, message: "Malformed " + what, err: err}
}

// config answers POST /config (pir-spec §8.2): the newest configuration of
// each requested usecase (or reuse_existing_config when the device already
// holds it) and one KeyStatus per usecase.
func (s *Server) config(ctx context.Context, c *call) (*reply, error) {
	var req apipb.ConfigRequest
	if err := unmarshalBounded(c.body, &req, "ConfigRequest"); err != nil {
		return nil, err
	}
	snap := s.reg.load()
	names := req.GetUsecases()
	existing := req.GetExistingConfigIds()
	if len(existing) != 0 && len(existing) != len(names) {
		return nil, newHTTPError(http.StatusBadRequest, catBody,
			fmt.Sprintf("Invalid existingConfigIds count %d. Expected 0 or %d.", len(existing), len(names)))
	}
	if len(names) == 0 {
		names = snap.names(c.host)
	}
	if len(names) > s.cfg.Limits.MaxRequestsPerCall {
		return nil, newHTTPError(http.StatusBadRequest, catBody, fmt.Sprintf("Too many usecases: %d, at most %d", len(names), s.cfg.Limits.MaxRequestsPerCall))
	}
	var missing []string
	usecases := make([]Usecase, len(names))
	for i, name := range names {
		u, ok := snap.latest(name)
		if !ok {
			missing = append(missing, echo(name))
			continue
		}
		usecases[i] = u
	}
	if len(missing) > 0 {
		return nil, newHTTPError(http.StatusNotFound, catUsecase,
			fmt.Sprintf("One or more usecases not found. Requested usecases: %s.", strings.Join(missing, ", ")))
	}
	resp := &apipb.ConfigResponse{Configs: make(map[string]*apipb.Config, len(names))}
	for i, name := range names {
		cfg := usecases[i].Config()
		if len(existing) != 0 && bytes.Equal(existing[i], cfg.GetConfigId()) {
			resp.Configs[name] = &apipb.Config{ReuseExistingConfig: true}
			continue
		}
		cfg, err := compatibleConfig(cfg, c.platform)
		if err != nil {
			return nil, err
		}
		resp.Configs[name] = cfg
	}
	for _, u := range usecases {
		hash := u.Config().GetPirConfig().GetEvaluationKeyConfigHash()
		ts, err := s.vault.timestamp(ctx, c.user, hash)
		if err != nil {
			return nil, err
		}
		resp.KeyInfo = append(resp.KeyInfo, &apipb.KeyStatus{Timestamp: ts, KeyConfig: u.KeyConfig()})
	}
	// Field order and map order as SwiftProtobuf writes them, so our bytes
	// equal Apple's service's for the same database.
	b, err := pir.MarshalConfigResponse(resp)
	if err != nil {
		return nil, fmt.Errorf("api: encoding config response: %w", err)
	}
	if !acceptsGzip(c.header) {
		return &reply{body: b}, nil
	}
	// Only /config is compressed, as in Apple's service: configs with many
	// shards compress well; keys and ciphertexts do not.
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("api: compressing config: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("api: compressing config: %w", err)
	}
	return &reply{body: z.Bytes(), encoding: "gzip"}, nil
}

// acceptsGzip reports whether Accept-Encoding lists gzip with a non-zero
// quality.
func acceptsGzip(h http.Header) bool {
	for _, v := range h.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// Bounds on an uploaded key's identifier: Apple's is a 32-byte SHA-256.
const maxKeyIdentifierBytes = 64

// key answers POST /key as Apple's service does: every key must have its
// metadata and key set (else 400, and nothing is stored), and is stored
// under (User-Identifier, identifier) without being matched against the
// served configurations. A key that names no served configuration may
// name one a rollout is about to bring (another replica may already
// serve it); a key that lacks what its configuration needs fails when a
// query uses it (see [fitKey]), as in Apple's service. Empty 200.
func (s *Server) key(ctx context.Context, c *call) (*reply, error) {
	var req apipb.EvaluationKeys
	if err := unmarshalBounded(c.body, &req, "EvaluationKeys"); err != nil {
		return nil, err
	}
	keys := req.GetKeys()
	if len(keys) > s.cfg.Limits.MaxRequestsPerCall {
		return nil, newHTTPError(http.StatusBadRequest, catBody, fmt.Sprintf("Too many evaluation keys: %d, at most %d", len(keys), s.cfg.Limits.MaxRequestsPerCall))
	}
	for _, k := range keys {
		if k.GetMetadata() == nil || k.GetEvaluationKey() == nil {
			return nil, newHTTPError(http.StatusBadRequest, catBody, "Evaluation key has unset fields")
		}
		id := k.GetMetadata().GetIdentifier()
		if len(id) == 0 || len(id) > maxKeyIdentifierBytes {
			return nil, newHTTPError(http.StatusBadRequest, catBody, fmt.Sprintf("Evaluation key identifier has %d bytes, want 1 to %d", len(id), maxKeyIdentifierBytes))
		}
	}
	for _, k := range keys {
		if err := s.vault.put(ctx, c.user, k); err != nil {
			return nil, err
		}
		s.m.keysStored.Inc()
	}
	return &reply{empty: true}, nil
}

// fitKey returns the part of k that kc needs: its Galois elements and its
// relinearization key. A key holding more (a device's key made for a
// superset of the configuration, or for several configurations) serves;
// the rest is dropped before parsing, so a parsed key costs what
// [ParsedKeyBytes] of kc says whatever was uploaded. A key lacking an
// element or the relinearization key cannot work: Apple's service fails
// such a query in its HE library (missingGaloisElement,
// missingRelinearizationKey), which its router answers with 500; we answer
// 500 too, with a message saying what is missing, logged as the client's
// error, not ours.
func fitKey(k *hepb.SerializedEvaluationKey, kc *hepb.EvaluationKeyConfig) (*hepb.SerializedEvaluationKey, error) {
	have := k.GetGaloisKey().GetKeySwitchKeys()
	var missing []uint32
	for _, g := range kc.GetGaloisElements() {
		if _, ok := have[uint64(g)]; !ok {
			missing = append(missing, g)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, newHTTPError(http.StatusInternalServerError, catKeyMismatch,
			fmt.Sprintf("Evaluation key lacks Galois elements %v that the configuration needs", missing))
	}
	if kc.GetHasRelinKey() && k.GetRelinKey() == nil {
		return nil, newHTTPError(http.StatusInternalServerError, catKeyMismatch,
			"Evaluation key lacks the relinearization key that the configuration needs")
	}
	if len(have) == len(kc.GetGaloisElements()) && (k.GetRelinKey() == nil || kc.GetHasRelinKey()) {
		return k, nil // exactly what is needed
	}
	out := &hepb.SerializedEvaluationKey{}
	if len(kc.GetGaloisElements()) > 0 {
		out.GaloisKey = &hepb.SerializedGaloisKey{KeySwitchKeys: make(map[uint64]*hepb.SerializedKeySwitchKey, len(kc.GetGaloisElements()))}
		for _, g := range kc.GetGaloisElements() {
			out.GaloisKey.KeySwitchKeys[uint64(g)] = have[uint64(g)]
		}
	}
	if kc.GetHasRelinKey() {
		out.RelinKey = k.GetRelinKey()
	}
	return out, nil
}

// job is one checked PIR request, ready to compute. It holds the key's
// serialized form only: the parsed key (several MB, [ParsedKeyBytes]) is
// looked up or built inside a compute slot (see [Server.answer]).
type job struct {
	usecase Usecase
	keyID   keyCacheID
	key     *hepb.SerializedEvaluationKey // what usecase needs of the uploaded key (fitKey)
	req     *apipb.PIRRequest
	// oprf, when set, makes this an OPRF request (symmetric PIR): no key,
	// no compute slot, answered by Usecase.EvaluateOPRF.
	oprf *apipb.OPRFRequest
}

// queries answers POST /queries. Every request is checked (key present,
// usecase, configuration version, shard, key coverage) before any is
// computed, so one failing request fails the whole call at once, as in
// Apple's service, without wasted work. The call is then admitted to the
// [scheduler] with all its PIR requests, or refused with 503 when its queue
// is full; answers are computed in parallel within the compute slots, which
// go round-robin across calls; each parses its key (or finds it in the cache)
// only once it holds a slot, so the parsed keys alive outside the cache
// budget are at most limits.maxConcurrentAnswers whatever the number of
// calls in flight. A key that covers the configuration but whose material
// does not parse still fails the whole call with 400, though possibly
// after other answers of the call were computed.
func (s *Server) queries(ctx context.Context, c *call) (*reply, error) {
	var req apipb.Requests
	if err := unmarshalBounded(c.body, &req, "Requests"); err != nil {
		return nil, err
	}
	reqs := req.GetRequests()
	if len(reqs) > s.cfg.Limits.MaxRequestsPerCall {
		return nil, newHTTPError(http.StatusBadRequest, catBody, fmt.Sprintf("Too many requests: %d, at most %d", len(reqs), s.cfg.Limits.MaxRequestsPerCall))
	}
	snap := s.reg.load()
	stored := map[string]storedKey{} // stored keys by identifier, per call
	jobs := make([]job, len(reqs))
	for i, r := range reqs {
		j, err := s.plan(ctx, snap, c.user, r, stored)
		if err != nil {
			return nil, err
		}
		jobs[i] = j
	}
	units := 0
	for _, j := range jobs {
		if j.oprf == nil {
			units++
		}
	}
	q, err := s.sched.admit(units)
	if err != nil {
		return nil, err
	}
	defer q.finish()
	out := &apipb.Responses{Responses: make([]*apipb.Response, len(jobs))}
	g, gctx := errgroup.WithContext(ctx)
	for i, j := range jobs {
		g.Go(func() error {
			if j.oprf != nil {
				resp, err := j.usecase.EvaluateOPRF(j.oprf)
				if err != nil {
					return fmt.Errorf("api: answering request %d: %w", i, err)
				}
				out.Responses[i] = &apipb.Response{Response: &apipb.Response_OprfResponse{OprfResponse: resp}}
				return nil
			}
			resp, err := s.answer(gctx, q, j)
			if err != nil {
				return fmt.Errorf("api: answering request %d: %w", i, err)
			}
			out.Responses[i] = &apipb.Response{Response: &apipb.Response_PirResponse{PirResponse: resp}}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	b, err := marshal(out)
	if err != nil {
		return nil, err
	}
	return &reply{body: b}, nil
}

// answer computes one job of call queue q within a compute slot. The parsed key is taken
// from the cache or parsed only once the slot is held, and dropped with
// it, so a call waiting for a slot holds serialized keys only.
func (s *Server) answer(ctx context.Context, q *callQueue, j job) (*apipb.PIRResponse, error) {
	if err := q.acquire(ctx); err != nil {
		return nil, err
	}
	defer q.release()
	key, ok := s.keys.get(j.keyID)
	if !ok {
		var err error
		if key, err = j.usecase.ParseKey(j.key); err != nil {
			return nil, err
		}
		s.keys.put(j.keyID, key, ParsedKeyBytes(j.usecase.KeyConfig()))
		s.uncached.hold()
		defer s.uncached.drop()
	}
	start := s.now()
	resp, err := j.usecase.Answer(ctx, key, j.req)
	if err != nil {
		return nil, err
	}
	s.m.answers.Observe(s.now().Sub(start).Seconds())
	return resp, nil
}

// storedKey is a key read from the store during one call, decoded once
// however many of the call's requests name it.
type storedKey struct {
	raw []byte // as stored: the serialized EvaluationKey
	ek  *apipb.EvaluationKey
}

// plan checks one Request in Apple's order: request type, evaluation key,
// usecase and configuration version, then our own checks (shard id, shard
// index, the key covering the configuration). It does not parse the key: [Server.answer] does, in
// a compute slot.
func (s *Server) plan(ctx context.Context, snap *snapshot, user string, r *apipb.Request, stored map[string]storedKey) (job, error) {
	switch r.GetRequest().(type) {
	case *apipb.Request_PirRequest:
	case *apipb.Request_OprfRequest:
		return s.planOPRF(snap, r)
	case *apipb.Request_SimplePirRequest:
		return job{}, newHTTPError(http.StatusNotImplemented, catNotImpl, "SimplePIR requests are not supported")
	default:
		return job{}, newHTTPError(http.StatusBadRequest, catBody, "Unknown request type.")
	}
	pr := r.GetPirRequest()
	var sk storedKey
	if inline := pr.GetEvaluationKey(); inline != nil {
		var err error
		if sk.raw, err = marshal(inline); err != nil {
			return job{}, err
		}
		sk.ek = inline
	} else {
		id := pr.GetEvaluationKeyMetadata().GetIdentifier()
		var ok bool
		if sk, ok = stored[string(id)]; !ok {
			var err error
			if sk.raw, err = s.vault.get(ctx, user, id); err != nil {
				return job{}, err
			}
			sk.ek = new(apipb.EvaluationKey)
			if err := proto.Unmarshal(sk.raw, sk.ek); err != nil {
				return job{}, fmt.Errorf("api: stored evaluation key is corrupt: %w", err)
			}
			stored[string(id)] = sk
		}
	}
	u, err := snap.version(r.GetUsecase(), pr.GetConfigurationHash())
	switch {
	case err == nil:
	case errors.Is(err, errConfigGone):
		return job{}, newHTTPError(http.StatusGone, catConfigGone,
			fmt.Sprintf("Configuration id: %s is not available for usecase %s.", byteList(echoBytes(pr.GetConfigurationHash())), echo(r.GetUsecase())))
	default:
		return job{}, newHTTPError(http.StatusBadRequest, catUsecase, "Unknown usecase: "+echo(r.GetUsecase()))
	}
	if pr.ShardId != nil {
		return job{}, newHTTPError(http.StatusNotImplemented, catNotImpl, "Shard ids are not supported; use shard_index")
	}
	if n := u.ShardCount(); int64(pr.GetShardIndex()) >= int64(n) {
		return job{}, newHTTPError(http.StatusBadRequest, catBadQuery, fmt.Sprintf("Shard index %d out of range: the configuration has %d shards", pr.GetShardIndex(), n))
	}
	key, err := fitKey(sk.ek.GetEvaluationKey(), u.KeyConfig())
	if err != nil {
		return job{}, err
	}
	return job{
		usecase: u,
		keyID:   newKeyCacheID(sk.raw, u.Config().GetPirConfig().GetEvaluationKeyConfigHash()),
		key:     key,
		req:     pr,
	}, nil
}

// planOPRF checks one OPRF request as Apple's service does: the usecase must
// be served (its newest version answers; config_id and evaluation keys play
// no part) and hold a symmetric-PIR key, else 400 "SymmetricPIR not
// configured.". The element itself is checked when evaluated.
func (s *Server) planOPRF(snap *snapshot, r *apipb.Request) (job, error) {
	u, ok := snap.latest(r.GetUsecase())
	if !ok {
		return job{}, newHTTPError(http.StatusBadRequest, catUsecase, "Unknown usecase: "+echo(r.GetUsecase()))
	}
	if !u.Symmetric() {
		return job{}, newHTTPError(http.StatusBadRequest, catSymmetric, "SymmetricPIR not configured.")
	}
	return job{usecase: u, oprf: r.GetOprfRequest()}, nil
}

// Bounds on request data echoed in error messages, as Apple's messages do
// (usecase names, configuration ids). Legitimate values are far shorter (a
// bundle id, a 32-byte hash); the bounds keep a client from turning a
// 10 MiB field into a 40 MiB error body.
const (
	maxEchoBytes     = 256
	maxEchoByteCount = 64
)

// echo bounds a request string quoted in an error message.
func echo(s string) string {
	if len(s) <= maxEchoBytes {
		return s
	}
	return strings.ToValidUTF8(s[:maxEchoBytes], "") + "…"
}

// echoBytes bounds request bytes quoted in an error message.
func echoBytes(b []byte) []byte {
	return b[:min(len(b), maxEchoByteCount)]
}

// byteList formats bytes as Swift prints a [UInt8] ("[1, 2, 3]").
func byteList(b []byte) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, x := range b {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprint(&sb, x)
	}
	sb.WriteByte(']')
	return sb.String()
}
