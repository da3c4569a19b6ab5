package pir

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

const testUsecase = "com.example.blindlist.url.filtering"

type expectedJSON struct {
	ConfigID      string `json:"config_id_hex"`
	KeyConfigHash string `json:"evaluation_key_config_hash_hex"`
	Timestamp     uint64 `json:"evaluation_key_timestamp"`
	Queries       []struct {
		Index      int    `json:"index"`
		Keyword    string `json:"keyword"`
		Present    bool   `json:"present"`
		ShardIndex int    `json:"shard_index"`
		ValueHex   string `json:"value_hex"`
	} `json:"queries"`
}

func readExpected(t testing.TB, set string) *expectedJSON {
	t.Helper()
	var e expectedJSON
	if err := json.Unmarshal(testvec.Read(t, "pir", set, "expected.json"), &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

// TestBuildConfigApple rebuilds config_response.binpb of every vector set
// from Apple's shard files, byte for byte.
func TestBuildConfigApple(t *testing.T) {
	for _, set := range vectorSets {
		t.Run(set, func(t *testing.T) {
			dir := testvec.Path(t, "pir", set)
			dbs, err := LoadShards(context.Background(), dir, "url")
			if err != nil {
				t.Fatal(err)
			}
			var ps []*Params
			for _, db := range dbs {
				ps = append(ps, db.Params())
			}
			c, err := BuildConfig(ps)
			if err != nil {
				t.Fatal(err)
			}
			exp := readExpected(t, set)
			if got := hex.EncodeToString(c.ID); got != exp.ConfigID {
				t.Errorf("config_id %s, want %s", got, exp.ConfigID)
			}
			if got := hex.EncodeToString(c.KeyConfigHash); got != exp.KeyConfigHash {
				t.Errorf("evaluation_key_config_hash %s, want %s", got, exp.KeyConfigHash)
			}
			got, err := MarshalConfigResponse(c.ConfigResponse(testUsecase))
			if err != nil {
				t.Fatal(err)
			}
			if want := testvec.Read(t, "pir", set, "config_response.binpb"); !bytes.Equal(got, want) {
				t.Errorf("config response differs from Apple's (%d vs %d bytes)", len(got), len(want))
			}

			// The device's view of the same response.
			resp := &apipb.ConfigResponse{}
			if err := proto.Unmarshal(testvec.Read(t, "pir", set, "config_response.binpb"), resp); err != nil {
				t.Fatal(err)
			}
			cc, err := ClientConfigFromResponse(resp, testUsecase)
			if err != nil {
				t.Fatal(err)
			}
			if len(cc.Shards) != len(ps) || !bytes.Equal(cc.ID, c.ID) {
				t.Fatalf("client config: %d shards, id %x", len(cc.Shards), cc.ID)
			}
			for i, p := range cc.Shards {
				if p.EntryCount != ps[i].EntryCount || p.EntrySize != ps[i].EntrySize || p.Dimensions != ps[i].Dimensions {
					t.Errorf("shard %d: client params %+v, server %+v", i, p, ps[i])
				}
			}
			for _, q := range exp.Queries {
				if got := cc.ShardIndex([]byte(q.Keyword)); got != q.ShardIndex {
					t.Errorf("keyword %q routed to shard %d, want %d", q.Keyword, got, q.ShardIndex)
				}
			}
			if _, err := ClientConfigFromResponse(resp, "other.usecase"); err == nil {
				t.Error("wrong usecase: no error")
			}
		})
	}
}

// TestKeyConfigBounds checks that a config (from /config or a params file)
// announcing too many or invalid Galois elements is refused: the device
// would make one key-switching key per element (4095 keys of 400 KB each
// at N = 4096), and the server would refuse the upload anyway.
func TestKeyConfigBounds(t *testing.T) {
	base := &apipb.ConfigResponse{}
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "config_response.binpb"), base); err != nil {
		t.Fatal(err)
	}
	var all []uint32
	for g := uint32(3); g < 2*4096; g += 2 {
		all = append(all, g)
	}
	tests := []struct {
		name     string
		elements []uint32
	}{
		{"every element", all},
		{"even element", []uint32{4, 4097}},
		{"element past 2N", []uint32{8193}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := proto.Clone(base).(*apipb.ConfigResponse)
			kc := resp.GetKeyInfo()[0].GetKeyConfig()
			kc.GaloisElements = tc.elements
			h, err := sha256Proto(kc)
			if err != nil {
				t.Fatal(err)
			}
			resp.GetConfigs()[testUsecase].GetPirConfig().EvaluationKeyConfigHash = h
			if cc, err := ClientConfigFromResponse(resp, testUsecase); err == nil {
				t.Errorf("config accepted with %d Galois elements %v", len(cc.KeyConfig.GaloisElements), cc.KeyConfig.GaloisElements[:1])
			}
			params, err := ReadParamsFile(testvec.Path(t, "pir", "A", "url-0.params.txtpb"))
			if err != nil {
				t.Fatal(err)
			}
			m := params.Proto()
			m.EvaluationKeyConfig.GaloisElements = tc.elements
			if _, err := ParamsFromProto(m); err == nil {
				t.Errorf("params accepted with Galois elements %v", tc.elements[:1])
			}
		})
	}
}

// TestQuerySizeBound checks that a config whose dimensions would need
// thousands of query ciphertexts per lookup is refused.
func TestQuerySizeBound(t *testing.T) {
	resp := &apipb.ConfigResponse{}
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "config_response.binpb"), resp); err != nil {
		t.Fatal(err)
	}
	pc := resp.GetConfigs()[testUsecase].GetPirConfig()
	sc := pc.GetShardConfigs()[0]
	sc.NumEntries, sc.EntrySize, sc.Dimensions = 1, 1, []uint64{1 << 22, 1}
	pc.ShardConfigs = pc.ShardConfigs[:1]
	pc.PirShardConfigs = nil
	// A key config that can expand that many slots.
	kc := resp.GetKeyInfo()[0].GetKeyConfig()
	kc.GaloisElements = mulPirKeyConfig(2*(1<<22+1), 4096, MaxCompression).GaloisElements
	h, err := sha256Proto(kc)
	if err != nil {
		t.Fatal(err)
	}
	pc.EvaluationKeyConfigHash = h
	if cc, err := ClientConfigFromResponse(resp, testUsecase); err == nil {
		t.Errorf("config with dimensions %v accepted: %d query ciphertexts", cc.Shards[0].Dimensions,
			ceilDiv(cc.Shards[0].expandedCount(), 4096))
	}
}
