package pir

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// TestEdgeCases runs whole lookups (our client against our server) on the
// database shapes at the edges of the processing rules.
func TestEdgeCases(t *testing.T) {
	const preset = "n_4096_logq_27_28_28_logt_5"
	bucketOf := func(v int) int { return singleBucketSize(v) }
	he, err := lookupPreset(preset)
	if err != nil {
		t.Fatal(err)
	}
	B := he.bytesPerPlaintext()
	tests := []struct {
		name   string
		rows   []Row
		cfg    ProcessConfig
		chunks int // response ciphertexts per table, if checked
	}{
		{"one entry", []Row{{Keyword: []byte("only.example"), Value: []byte("1")}}, ProcessConfig{Preset: preset}, 0},
		{"empty keyword and empty value", []Row{{Keyword: []byte{}, Value: []byte("v")}, {Keyword: []byte("e.example"), Value: []byte{}}},
			ProcessConfig{Preset: preset}, 0},
		{"all values empty", testRows(50, func(int) int { return 0 }), ProcessConfig{Preset: preset}, 0},
		{"entry exactly max bucket", testRows(30, func(int) int { return 20 }),
			ProcessConfig{Preset: preset, Cuckoo: CuckooConfig{MaxSerializedBucketSize: bucketOf(20)}, UseMaxSerializedBucketSize: true}, 0},
		{"entry exactly one plaintext", testRows(10, func(int) int { return B - bucketOf(0) }),
			ProcessConfig{Preset: preset}, 1},
		{"entry one byte over a plaintext", testRows(10, func(int) int { return B - bucketOf(0) + 1 }),
			ProcessConfig{Preset: preset}, 2},
		{"three hash functions", testRows(200, func(int) int { return 1 }),
			ProcessConfig{Preset: preset, Cuckoo: CuckooConfig{HashFunctionCount: 3}}, 0},
		{"sha256 5 shards", testRows(100, func(int) int { return 2 }), ProcessConfig{Preset: preset, ShardCount: 5}, 0},
		{"doublemod 7 of 3", testRows(100, func(int) int { return 2 }),
			ProcessConfig{Preset: preset, ShardCount: 3, Sharding: ShardingFunction{OtherShardCount: 7}}, 0},
		{"more shards than rows", testRows(2, func(int) int { return 1 }), ProcessConfig{Preset: preset, ShardCount: 3}, 0},
		{"no rows", nil, ProcessConfig{Preset: preset}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dbs, err := ProcessKeywords(ctx, tc.rows, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := dbs[0].Params().ChunkCount(); tc.chunks != 0 && got != tc.chunks {
				t.Fatalf("%d chunks, want %d", got, tc.chunks)
			}
			s, err := NewServer(dbs, ServerOptions{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			cc, err := ClientConfigFromResponse(s.Config().ConfigResponse("u"), "u")
			if err != nil {
				t.Fatal(err)
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
			for i, r := range tc.rows {
				if i >= 4 {
					break
				}
				v, ok, err := c.Lookup(ctx, s, key, r.Keyword, rand.Reader)
				if err != nil {
					t.Fatalf("%q: %v", r.Keyword, err)
				}
				if !ok || !bytes.Equal(v, r.Value) {
					t.Errorf("%q: got %x %v, want %x", r.Keyword, v, ok, r.Value)
				}
			}
			for i := range 2 {
				kw := fmt.Appendf(nil, "absent%d.example", i)
				if v, ok, err := c.Lookup(ctx, s, key, kw, rand.Reader); err != nil || ok {
					t.Errorf("absent %q: got %x %v %v", kw, v, ok, err)
				}
			}
		})
	}
}

// TestDecryptBadQuery checks that Decrypt refuses a Query that does not fit
// the client's config instead of panicking.
func TestDecryptBadQuery(t *testing.T) {
	c := appleClient(t, "A")
	q := c.QueryFor([]byte("example.com"))
	bad := []*Query{
		nil,
		{Keyword: q.Keyword, ShardIndex: len(c.cfg.Shards), Indices: q.Indices},
		{Keyword: q.Keyword, ShardIndex: -1, Indices: q.Indices},
		{Keyword: q.Keyword, ShardIndex: q.ShardIndex, Indices: q.Indices[:1]},
	}
	for i, q := range bad {
		if _, _, err := c.Decrypt(q, &apipb.PIRResponse{}); err == nil {
			t.Errorf("query %d: no error", i)
		}
	}
}

// TestProcessShardDuplicate checks the duplicate-keyword error of a single
// shard build: it names the keyword and carries the package prefix.
func TestProcessShardDuplicate(t *testing.T) {
	rows := []Row{{Keyword: []byte("a.example"), Value: []byte("1")}, {Keyword: []byte("a.example"), Value: []byte("2")}}
	_, err := ProcessShard(context.Background(), rows, 0, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err == nil || !strings.HasPrefix(err.Error(), "pir: ") || !strings.Contains(err.Error(), `"a.example" appears twice`) {
		t.Errorf("err %v, want a pir: error naming the repeated keyword", err)
	}
}
