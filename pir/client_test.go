package pir

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/he/bfv"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

func appleClient(t testing.TB, set string) *Client {
	t.Helper()
	resp := &apipb.ConfigResponse{}
	if err := proto.Unmarshal(testvec.Read(t, "pir", set, "config_response.binpb"), resp); err != nil {
		t.Fatal(err)
	}
	cc, err := ClientConfigFromResponse(resp, testUsecase)
	if err != nil {
		t.Fatal(err)
	}
	sk := &hepb.SerializedSecretKey{}
	if err := proto.Unmarshal(testvec.Read(t, "pir", set, "secret_key.binpb"), sk); err != nil {
		t.Fatal(err)
	}
	c, err := NewClientWithSecretKey(cc, sk)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDecryptApple decrypts Apple's responses with Apple's secret key and
// checks every lookup against expected.json.
func TestDecryptApple(t *testing.T) {
	for _, set := range vectorSets {
		t.Run(set, func(t *testing.T) {
			c := appleClient(t, set)
			resps := &apipb.Responses{}
			if err := proto.Unmarshal(testvec.Read(t, "pir", set, "responses.binpb"), resps); err != nil {
				t.Fatal(err)
			}
			exp := readExpected(t, set)
			if len(resps.GetResponses()) != len(exp.Queries) {
				t.Fatalf("%d responses, %d expected queries", len(resps.GetResponses()), len(exp.Queries))
			}
			for i, e := range exp.Queries {
				p := c.cfg.Shards[e.ShardIndex]
				q := &Query{Keyword: []byte(e.Keyword), ShardIndex: e.ShardIndex,
					Indices: HashIndices([]byte(e.Keyword), p.EntryCount, p.HashFunctionCount)}
				v, ok, err := c.Decrypt(q, resps.GetResponses()[i].GetPirResponse())
				if err != nil {
					t.Fatalf("query %d: %v", i, err)
				}
				if ok != e.Present || hex.EncodeToString(v) != e.ValueHex {
					t.Errorf("query %d %q: got %x %v, want %s %v", i, e.Keyword, v, ok, e.ValueHex, e.Present)
				}
			}
		})
	}
}

// TestClientMatchesAppleQueryShape checks that our queries for Apple's
// keywords have the shape and shard routing of Apple's device requests.
func TestClientMatchesAppleQueryShape(t *testing.T) {
	c := appleClient(t, "B")
	reqs := &apipb.Requests{}
	if err := proto.Unmarshal(testvec.Read(t, "pir", "B", "requests.binpb"), reqs); err != nil {
		t.Fatal(err)
	}
	for i, e := range readExpected(t, "B").Queries {
		_, req, err := c.NewQuery([]byte(e.Keyword), nil, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		want := reqs.GetRequests()[i].GetPirRequest()
		if req.GetShardIndex() != want.GetShardIndex() || len(req.GetQuery().GetCiphertexts()) != len(want.GetQuery().GetCiphertexts()) ||
			proto.Size(req.GetQuery()) != proto.Size(want.GetQuery()) || !bytes.Equal(req.GetConfigurationHash(), want.GetConfigurationHash()) {
			t.Errorf("query %d: shape differs from Apple's request", i)
		}
	}
}

type roundTripCase struct {
	name string
	rows []Row
	cfg  ProcessConfig
}

func roundTripCases() []roundTripCase {
	return []roundTripCase{
		{"logt5-2hash", testRows(400, func(int) int { return 1 }), ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"}},
		{"logt4-1hash-3shards", testRows(600, func(i int) int { return 1 + i%30 }),
			ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_4", ShardCount: 3, Cuckoo: CuckooConfig{HashFunctionCount: 1, MaxSerializedBucketSize: 300}}},
		{"logt6-doublemod-max", testRows(500, func(i int) int { return i % 9 }),
			ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_6", ShardCount: 2, Sharding: ShardingFunction{OtherShardCount: 7}, KeyCompression: MaxCompression}},
		{"16_33_33-hybrid", testRows(300, func(i int) int { return 1 + i%64 }),
			ProcessConfig{Preset: "n_4096_logq_16_33_33_logt_4", KeyCompression: HybridCompression}},

		{"chunks", testRows(40, func(i int) int { return 1500 + 50*i }),
			ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", Cuckoo: CuckooConfig{MaxSerializedBucketSize: 4200}}},
		{"8192_29_60_60", testRows(200, func(int) int { return 1 }), ProcessConfig{Preset: "n_8192_logq_29_60_60_logt_15"}},
	}
}

// TestRoundTrip processes rows, then looks up present and absent keywords
// with our client against our server.
func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTripCases() {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.name == "8192_29_60_60" {
				t.Skip("N=8192 in -short")
			}
			ctx := context.Background()
			dbs, err := ProcessKeywords(ctx, tc.rows, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewServer(dbs, ServerOptions{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			var cfgBytes []byte
			if cfgBytes, err = MarshalConfigResponse(s.Config().ConfigResponse("u")); err != nil {
				t.Fatal(err)
			}
			resp := &apipb.ConfigResponse{}
			if err := proto.Unmarshal(cfgBytes, resp); err != nil {
				t.Fatal(err)
			}
			cc, err := ClientConfigFromResponse(resp, "u")
			if err != nil {
				t.Fatal(err)
			}
			c, err := NewClient(cc, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			ekm, err := c.EvaluationKey(1, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			key, err := s.ParseEvaluationKey(ekm.GetEvaluationKey())
			if err != nil {
				t.Fatal(err)
			}
			// Privacy: present and absent keywords get responses of equal
			// size; and every response keeps a positive noise budget.
			sizes := map[int]bool{}
			absent := []byte("absent.example")
			for i := 0; cc.ShardIndex(absent) != cc.ShardIndex(tc.rows[0].Keyword); i++ {
				absent = fmt.Appendf(nil, "absent%d.example", i)
			}
			for _, kw := range [][]byte{tc.rows[0].Keyword, absent} {
				_, req, err := c.NewQuery(kw, nil, rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := s.Answer(ctx, req, key)
				if err != nil {
					t.Fatal(err)
				}
				sizes[proto.Size(resp)] = true
				for _, reply := range resp.GetReplies() {
					for _, m := range reply.GetCiphertexts() {
						ct, err := ciphertextFromProto(c.bp, m, 1, bfv.Coeff)
						if err != nil {
							t.Fatal(err)
						}
						if nb, err := c.bp.NoiseBudget(c.sk, ct); err != nil || nb <= 0 {
							t.Errorf("noise budget %v (%v), want > 0", nb, err)
						}
					}
				}
			}
			if len(sizes) > 1 {
				t.Errorf("response sizes differ between present and absent keywords: %v", sizes)
			}
			r := mrand.New(mrand.NewPCG(3, 4))
			for range 3 {
				row := tc.rows[r.IntN(len(tc.rows))]
				v, ok, err := c.Lookup(ctx, s, key, row.Keyword, rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				if !ok || !bytes.Equal(v, row.Value) {
					t.Errorf("present %q: got %x %v, want %x", row.Keyword, v, ok, row.Value)
				}
			}
			for i := range 2 {
				kw := fmt.Appendf(nil, "absent%d.example", i)
				v, ok, err := c.Lookup(ctx, s, key, kw, rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					t.Errorf("absent %q found with value %x", kw, v)
				}
			}
		})
	}
}

// TestEmptyShardsAndRepeatedConfig processes so few rows into so many shards
// that most are empty (Apple's tool would not write them; the service needs
// every index), and with identical shard shapes the config uses
// repeated_shard_config, which the client must expand.
func TestEmptyShardsAndRepeatedConfig(t *testing.T) {
	ctx := context.Background()
	rows := testRows(2, func(int) int { return 1 })
	dbs, err := ProcessKeywords(ctx, rows, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", ShardCount: 6})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(dbs, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := ClientConfigFromResponse(s.Config().ConfigResponse("u"), "u")
	if err != nil {
		t.Fatal(err)
	}
	if len(cc.Shards) != 6 {
		t.Fatalf("client sees %d shards, want 6", len(cc.Shards))
	}
	c, err := NewClient(cc, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.EvaluationKey(0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.ParseEvaluationKey(up.GetEvaluationKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, kw := range [][]byte{rows[0].Keyword, rows[1].Keyword, []byte("a"), []byte("b"), []byte("c"), []byte("")} {
		v, ok, err := c.Lookup(ctx, s, key, kw, rand.Reader)
		if err != nil {
			t.Fatalf("%q: %v", kw, err)
		}
		var want []byte // nil: absent
		for _, r := range rows {
			if bytes.Equal(kw, r.Keyword) {
				want = r.Value
			}
		}
		if ok != (want != nil) || !bytes.Equal(v, want) {
			t.Errorf("%q: got %x %v, want %x", kw, v, ok, want)
		}
	}

	// Identical shards: repeated_shard_config.
	same := []*Params{dbs[0].Params(), dbs[0].Params(), dbs[0].Params()}
	cfg, err := BuildConfig(same)
	if err != nil {
		t.Fatal(err)
	}
	pc := cfg.Proto.GetPirConfig()
	if pc.GetPirShardConfigs().GetRepeatedShardConfig().GetShardCount() != 3 || len(pc.GetShardConfigs()) != 0 {
		t.Fatalf("identical shards: config %v, want repeated_shard_config with 3 shards", pc)
	}
	cc2, err := ClientConfigFromResponse(cfg.ConfigResponse("u"), "u")
	if err != nil || len(cc2.Shards) != 3 {
		t.Fatalf("repeated config: %d shards, %v", len(cc2.Shards), err)
	}
}
