package pir

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"github.com/blindlist/blindlist/pir/he/ring"
)

// lookupPlain finds keyword in db without encryption, through the same
// layout the server computes on: it checks that processing placed every row
// where a client will look.
func lookupPlain(t *testing.T, db *Database, keyword []byte) ([]byte, bool) {
	t.Helper()
	p := db.Params()
	basis, err := ring.NewBasis(p.he.n, p.he.ctModuli())
	if err != nil {
		t.Fatal(err)
	}
	idx := HashIndices(keyword, p.EntryCount, p.HashFunctionCount)
	for ti, x := range idx {
		entries := unpackTable(p.he, basis, p.layout(), db.tablePlaintexts(ti))
		v, ok, err := lookupBucket(entries[x], KeywordHash(keyword))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return v, true
		}
	}
	return nil, false
}

func testRows(n int, valueLen func(i int) int) []Row {
	rows := make([]Row, n)
	for i := range rows {
		v := bytes.Repeat([]byte{byte(i)}, valueLen(i))
		rows[i] = Row{Keyword: fmt.Appendf(nil, "host%d.example/path%d", i, i*7), Value: v}
	}
	return rows
}

func TestProcessKeywordsPlain(t *testing.T) {
	tests := []struct {
		name string
		rows []Row
		cfg  ProcessConfig
	}{
		{"sample", testRows(500, func(int) int { return 1 }), ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"}},
		{"1hash-3shards", testRows(900, func(i int) int { return 1 + i%40 }),
			ProcessConfig{Preset: "n_4096_logq_16_33_33_logt_4", ShardCount: 3, Cuckoo: CuckooConfig{HashFunctionCount: 1, MaxSerializedBucketSize: 400}}},
		{"doublemod", testRows(600, func(i int) int { return i % 7 }),
			ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_4", ShardCount: 4, Sharding: ShardingFunction{OtherShardCount: 10}}},
		{"chunks", testRows(60, func(i int) int { return 900 + 37*i }),
			ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", Cuckoo: CuckooConfig{MaxSerializedBucketSize: 6200}}},
		{"fixed", testRows(200, func(int) int { return 3 }),
			ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_6", Cuckoo: CuckooConfig{FixedBucketCount: 20}, UseMaxSerializedBucketSize: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dbs, err := ProcessKeywords(context.Background(), tc.rows, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tc.rows {
				s, _ := dbs[0].Params().Sharding.ShardIndex(r.Keyword, len(dbs))
				v, ok := lookupPlain(t, dbs[s], r.Keyword)
				if !ok || !bytes.Equal(v, r.Value) {
					t.Fatalf("keyword %q: got %x %v, want %x", r.Keyword, v, ok, r.Value)
				}
			}
			if _, ok := lookupPlain(t, dbs[0], []byte("absent.example")); ok {
				t.Error("absent keyword found")
			}
			// Round trip through the file format.
			for i, db := range dbs {
				var buf bytes.Buffer
				if _, err := db.WriteTo(&buf); err != nil {
					t.Fatal(err)
				}
				back, err := ReadDatabase(&buf, db.Params())
				if err != nil {
					t.Fatalf("shard %d: %v", i, err)
				}
				if back.count() != db.count() {
					t.Fatalf("shard %d: %d plaintexts after round trip, want %d", i, back.count(), db.count())
				}
				for k := range db.count() {
					if !equalU64(back.plaintext(k), db.plaintext(k)) {
						t.Fatalf("shard %d plaintext %d differs after round trip", i, k)
					}
				}
			}
		})
	}
}

func TestProcessKeywordsErrors(t *testing.T) {
	rows := testRows(10, func(int) int { return 1 })
	dup := append(testRows(10, func(int) int { return 1 }), Row{Keyword: rows[3].Keyword, Value: []byte("x")})
	tests := []struct {
		name string
		rows []Row
		cfg  ProcessConfig
	}{
		{"unknown preset", rows, ProcessConfig{Preset: "n_1_logt_1"}},
		{"crt preset", rows, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_16"}},
		{"noisy preset", rows, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_13"}},
		{"duplicate", dup, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"}},
		{"bucket too small", testRows(5, func(int) int { return 100 }),
			ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", Cuckoo: CuckooConfig{MaxSerializedBucketSize: 50}}},
		{"both shard options", rows, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", ShardCount: 2, EntryCountPerShard: 3}},
	}
	for _, tc := range tests {
		if _, err := ProcessKeywords(context.Background(), tc.rows, tc.cfg); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	// A fixed table too small to hold the rows fails instead of dropping one.
	_, err := ProcessKeywords(context.Background(), testRows(300, func(int) int { return 1 }),
		ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", Cuckoo: CuckooConfig{FixedBucketCount: 2, MaxSerializedBucketSize: 100}})
	if !errors.Is(err, ErrCuckooFull) {
		t.Errorf("overfull fixed table: err %v, want ErrCuckooFull", err)
	}
}

func TestValidateShard(t *testing.T) {
	rows := testRows(300, func(i int) int { return 1 + i%5 })
	dbs, err := ProcessKeywords(context.Background(), rows, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ValidateShard(context.Background(), dbs[0], rows, 2, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Trials != 3 || !(rep.MinNoiseBudget > 0) || rep.QueryBytes == 0 || rep.ResponseBytes == 0 || rep.KeyBytes == 0 {
		t.Errorf("report %+v", rep)
	}
	// Rows that are not in the shard fail validation.
	if _, err := ValidateShard(context.Background(), dbs[0], testRows(1, func(int) int { return 9 })[:1:1], 1, rand.Reader); err == nil {
		t.Error("validation with a wrong value: no error")
	}
}

// TestLazyShardMatchesPacked checks that writing a freshly processed shard
// (plaintexts packed while writing) gives the bytes of the shard packed in
// memory, and that packTable agrees with both.
func TestLazyShardMatchesPacked(t *testing.T) {
	for _, cfg := range []ProcessConfig{
		{Preset: "n_4096_logq_27_28_28_logt_5", Cuckoo: CuckooConfig{MaxSerializedBucketSize: 200}},
		{Preset: "n_4096_logq_27_28_28_logt_5", Cuckoo: CuckooConfig{MaxSerializedBucketSize: 5000}},
		{Preset: "n_4096_logq_16_33_33_logt_4", Cuckoo: CuckooConfig{HashFunctionCount: 1}},
	} {
		rows := testRows(300, func(i int) int { return 1 + (i*37)%(cfg.Cuckoo.MaxSerializedBucketSize/2+20) })
		if cfg.Cuckoo.MaxSerializedBucketSize == 0 {
			rows = testRows(300, func(i int) int { return 1 + i%9 })
		}
		db, err := ProcessShard(context.Background(), rows, 0, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var lazy, packed bytes.Buffer
		if _, err := db.WriteTo(&lazy); err != nil {
			t.Fatal(err)
		}
		src := db.src
		db.materialize()
		l := db.params.layout()
		for ti := range db.params.HashFunctionCount {
			want := packTable(src.he, src.basis, l, src.buckets[ti*l.entryCount:(ti+1)*l.entryCount])
			for k, pt := range db.tablePlaintexts(ti) {
				if !equalU64(pt, want[k]) {
					t.Fatalf("%s: table %d plaintext %d differs from packTable", cfg.Preset, ti, k)
				}
			}
		}
		if _, err := db.WriteTo(&packed); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(lazy.Bytes(), packed.Bytes()) {
			t.Errorf("%s: lazy and packed shards differ", cfg.Preset)
		}
	}
}
