package pir

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

type vectorSet struct {
	server   *Server
	keys     *apipb.EvaluationKeys
	requests *apipb.Requests
	want     *apipb.Responses
}

func loadVectorSet(t testing.TB, set string) *vectorSet {
	t.Helper()
	dbs, err := LoadShards(context.Background(), testvec.Path(t, "pir", set), "url")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(dbs, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := &vectorSet{server: s, keys: &apipb.EvaluationKeys{}, requests: &apipb.Requests{}, want: &apipb.Responses{}}
	for name, m := range map[string]proto.Message{"evaluation_keys.binpb": v.keys, "requests.binpb": v.requests, "responses.binpb": v.want} {
		if err := proto.Unmarshal(testvec.Read(t, "pir", set, name), m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return v
}

// firstKey parses the set's first evaluation key for its server.
func (v *vectorSet) firstKey(t testing.TB) *EvaluationKey {
	t.Helper()
	key, err := v.server.ParseEvaluationKey(v.keys.GetKeys()[0].GetEvaluationKey())
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// checkAnswer answers request i with key and reports an error on t when
// the response is not Apple's, byte for byte.
func (v *vectorSet) checkAnswer(t *testing.T, key *EvaluationKey, i int) {
	t.Helper()
	resp, err := v.server.Answer(context.Background(), v.requests.GetRequests()[i].GetPirRequest(), key)
	if err != nil {
		t.Errorf("request %d: %v", i, err)
		return
	}
	got, err := deterministic.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	want, err := deterministic.Marshal(v.want.GetResponses()[i].GetPirResponse())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("request %d: response %d bytes, want %d", i, len(got), len(want))
	} else if !bytes.Equal(got, want) {
		t.Errorf("request %d: response differs from Apple's", i)
	}
}

// TestExpandApple compares our oblivious expansion of the first request of
// sets A and D (compressed key) with Apple's.
func TestExpandApple(t *testing.T) {
	for _, set := range []string{"A", "D"} {
		t.Run(set, func(t *testing.T) {
			v := loadVectorSet(t, set)
			key := v.firstKey(t)
			s := v.server
			p := s.shards[0].params
			level := len(s.he.moduli) - 1
			req := v.requests.GetRequests()[0].GetPirRequest()
			ct, err := ciphertextFromProto(s.bp, req.GetQuery().GetCiphertexts()[0], level, bfv.Coeff)
			if err != nil {
				t.Fatal(err)
			}
			x := &expander{bp: s.bp, key: key, elements: p.KeyConfig.GaloisElements, logN: 12, budget: newBudget(1)}
			got, err := x.expand([]*bfv.Ciphertext{ct}, p.expandedCount())
			if err != nil {
				t.Fatal(err)
			}
			want := &hepb.SerializedCiphertextVec{}
			if err := proto.Unmarshal(testvec.Read(t, "pir", set, "debug", "request0_expanded.binpb"), want); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want.GetCiphertexts()) {
				t.Fatalf("%d expanded ciphertexts, want %d", len(got), len(want.GetCiphertexts()))
			}
			for i, c := range got {
				// The expansion runs in Eval form; Apple's are Coeff.
				if err := bfv.NewEvaluator(s.bp).ToCoeff(c); err != nil {
					t.Fatal(err)
				}
				polys, _, err := s.bp.SerializeFull(c, nil)
				if err != nil {
					t.Fatal(err)
				}
				if w := want.GetCiphertexts()[i].GetFull().GetPolys(); !bytes.Equal(polys, w) {
					t.Errorf("expanded ciphertext %d differs from Apple's", i)
				}
			}
		})
	}
}

// TestAnswerApple answers Apple's requests on Apple's shards with Apple's
// keys and compares with Apple's responses byte for byte.
func TestAnswerApple(t *testing.T) {
	for _, set := range vectorSets {
		t.Run(set, func(t *testing.T) {
			if testing.Short() && (set == "F" || set == "bench100k") {
				t.Skip("large set in -short")
			}
			v := loadVectorSet(t, set)
			key := v.firstKey(t)
			for i := range v.requests.GetRequests() {
				v.checkAnswer(t, key, i)
			}
		})
	}
}

// TestAnswerErrors checks the sentinel errors callers map to statuses.
func TestAnswerErrors(t *testing.T) {
	v := loadVectorSet(t, "A")
	key := v.firstKey(t)
	good := v.requests.GetRequests()[0].GetPirRequest()
	mutate := func(f func(r *apipb.PIRRequest)) *apipb.PIRRequest {
		r := proto.Clone(good).(*apipb.PIRRequest)
		f(r)
		return r
	}
	tests := []struct {
		name string
		req  *apipb.PIRRequest
		key  *EvaluationKey
		want error
	}{
		{"shard index", mutate(func(r *apipb.PIRRequest) { r.ShardIndex = 1 }), key, ErrShardIndex},
		{"config hash", mutate(func(r *apipb.PIRRequest) { r.ConfigurationHash = []byte("old") }), key, ErrUnknownConfig},
		{"shard id", mutate(func(r *apipb.PIRRequest) { r.ShardId = proto.String("0") }), key, ErrBadRequest},
		{"pir calls", mutate(func(r *apipb.PIRRequest) { r.Query.NumPirCalls = 1 }), key, ErrBadRequest},
		{"no ciphertexts", mutate(func(r *apipb.PIRRequest) { r.Query.Ciphertexts = nil }), key, ErrBadRequest},
		{"moduli count", mutate(func(r *apipb.PIRRequest) {
			s := r.Query.Ciphertexts[0].GetSeeded()
			s.Poly0 = s.Poly0[:len(s.Poly0)/2]
		}), key, ErrBadRequest},
		{"short seed", mutate(func(r *apipb.PIRRequest) { r.Query.Ciphertexts[0].GetSeeded().Seed = []byte{1} }), key, ErrBadRequest},
		{"no key", good, nil, ErrKeyMismatch},
	}
	for _, tc := range tests {
		_, err := v.server.Answer(context.Background(), tc.req, tc.key)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
	noRelin := &EvaluationKey{key: &bfv.EvaluationKey{Galois: key.key.Galois}, he: key.he, elements: key.elements}
	if _, err := v.server.Answer(context.Background(), good, noRelin); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("key without relinearization: err %v, want ErrKeyMismatch", err)
	}
	fewGalois := &EvaluationKey{key: &bfv.EvaluationKey{Relin: key.key.Relin, Galois: map[uint64]*bfv.KeySwitchKey{4097: key.key.Galois[4097]}}, he: key.he, elements: []uint32{4097}}
	if _, err := v.server.Answer(context.Background(), good, fewGalois); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("key without the expansion elements: err %v, want ErrKeyMismatch", err)
	}
}
