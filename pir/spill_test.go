package pir

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

// shardBytes processes rows into .bin bytes per shard, in memory
// (ProcessKeywordsFunc) or through a RowSpill.
func shardBytes(t *testing.T, rows []Row, cfg ProcessConfig, spilled bool) [][]byte {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var out [][]byte
	emit := func(i, n int, db *Database, _ []Row) error {
		var b bytes.Buffer
		if _, err := db.WriteTo(&b); err != nil {
			return err
		}
		pm, err := marshalParams(db.Params(), true)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if out == nil {
			out = make([][]byte, n)
		}
		out[i] = append(b.Bytes(), pm...)
		return nil
	}
	if !spilled {
		if err := ProcessKeywordsFunc(ctx, rows, cfg, emit); err != nil {
			t.Fatal(err)
		}
		return out
	}
	s, err := NewRowSpill(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, r := range rows {
		if err := s.Add(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Process(ctx, emit); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRowSpillMatchesMemory: spilled processing gives the same shard and
// parameter bytes as processing the rows in memory.
func TestRowSpillMatchesMemory(t *testing.T) {
	tests := []struct {
		name string
		rows []Row
		cfg  ProcessConfig
	}{
		{"entries-per-shard", testRows(3000, func(int) int { return 1 }), ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", EntryCountPerShard: 700}},
		{"values-3shards", testRows(900, func(i int) int { return 1 + i%40 }),
			ProcessConfig{Preset: "n_4096_logq_16_33_33_logt_4", ShardCount: 3, Cuckoo: CuckooConfig{HashFunctionCount: 1, MaxSerializedBucketSize: 400}}},
		{"doublemod", testRows(600, func(i int) int { return i % 7 }),
			ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_4", ShardCount: 4, Sharding: ShardingFunction{OtherShardCount: 10}}},
		{"one-shard", testRows(200, func(int) int { return 3 }), ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"}},
		{"symmetric", testRows(150, func(int) int { return 1 }), ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", ShardCount: 2, Symmetric: symmetricKey(t)}},
		{"symmetric-by-entries", testRows(150, func(int) int { return 1 }), ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", EntryCountPerShard: 60, Symmetric: symmetricKey(t)}},
		{"empty", nil, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", EntryCountPerShard: 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := shardBytes(t, tc.rows, tc.cfg, false)
			got := shardBytes(t, tc.rows, tc.cfg, true)
			if len(got) != len(want) {
				t.Fatalf("%d shards, want %d", len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Errorf("shard %d differs from in-memory processing", i)
				}
			}
		})
	}
}

func TestRowSpillErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := NewRowSpill(t.TempDir(), ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", ShardCount: 2, EntryCountPerShard: 5}); err == nil {
		t.Error("shard count and entries per shard both accepted")
	}
	rows := testRows(12, func(int) int { return 1 })
	for _, cfg := range []ProcessConfig{
		{Preset: "n_4096_logq_27_28_28_logt_5"},
		{Preset: "n_4096_logq_27_28_28_logt_5", EntryCountPerShard: 5}, // staged
	} {
		s, err := NewRowSpill(t.TempDir(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range append(rows, rows[3]) {
			if err := s.Add(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Process(ctx, func(int, int, *Database, []Row) error { return nil }); err == nil || !strings.Contains(err.Error(), "appears twice") {
			t.Errorf("repeated keyword: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
	s, err := NewRowSpill(t.TempDir(), ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Add(ctx, Row{Keyword: []byte("big"), Value: make([]byte, 70000)}); err == nil {
		t.Error("a value over 65535 bytes accepted")
	}
}

// readAll reads every row of data in format f (text in chunks of at least
// chunk bytes).
func readAll(data []byte, f KeywordFormat, chunk int) ([]Row, error) {
	var rows []Row
	fn := func(r Row) error {
		rows = append(rows, Row{Keyword: bytes.Clone(r.Keyword), Value: bytes.Clone(r.Value)})
		return nil
	}
	var err error
	if f == KeywordTextProto {
		err = readKeywordText(bytes.NewReader(data), chunk, fn)
	} else {
		err = ReadKeywordRows(bytes.NewReader(data), f, []byte("v"), fn)
	}
	return rows, err
}

// wholeRows unmarshals a whole KeywordDatabase, as the reference.
func wholeRows(data []byte, f KeywordFormat) ([]Row, error) {
	m := &pirpb.KeywordDatabase{}
	var err error
	if f == KeywordTextProto {
		err = prototext.Unmarshal(data, m)
	} else {
		err = proto.Unmarshal(data, m)
	}
	var rows []Row
	for _, r := range m.GetRows() {
		rows = append(rows, Row{Keyword: r.GetKeyword(), Value: r.GetValue()})
	}
	return rows, err
}

func sameRows(a, b []Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Keyword, b[i].Keyword) || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

var keywordTextSeeds = []string{
	"rows {\n  keyword: \"a.example\"\n  value: \"1\"\n}\nrows {\n  keyword: \"b\"\n  value: \"\\x01\\002\"\n}\n",
	"rows: {keyword: 'x}' value: \"#\"}, rows <keyword: \"y\">; rows [{keyword: \"z\"}, {keyword: \"w\"}]",
	"# comment {\nrows { keyword: \"q\" } # }\n",
	"rows { keyword: \"a\" \"b\" }",
	"rows { keyword: \"a\" }, , rows { keyword: \"b\" }",
	"rows { keyword: \"unterminated }\nrows { keyword: \"c\" }",
	"rows { keyword: 5 }",
	"rows {} }",
	"",
}

func TestReadKeywordRows(t *testing.T) {
	for i, s := range keywordTextSeeds {
		for _, chunk := range []int{1, 1 << 20} {
			want, werr := wholeRows([]byte(s), KeywordTextProto)
			got, gerr := readAll([]byte(s), KeywordTextProto, chunk)
			if (werr == nil) != (gerr == nil) || (werr == nil && !sameRows(got, want)) {
				t.Errorf("text seed %d, chunk %d: got %v (%v), want %v (%v)", i, chunk, got, gerr, want, werr)
			}
		}
	}
	db := &pirpb.KeywordDatabase{Rows: []*pirpb.KeywordDatabaseRow{{Keyword: []byte("a"), Value: []byte("1")}, {Keyword: []byte("b")}}}
	bin, _ := proto.Marshal(db)
	// An unknown varint field and a group between the rows, field 1 as a
	// varint (skipped as unknown).
	bin = append(bin, 0x10, 0x05, 0x1b, 0x08, 0x01, 0x1c, 0x08, 0x07)
	bin = append(bin, 0x0a, 0x03, 0x0a, 0x01, 'c')
	want, err := wholeRows(bin, KeywordBinaryProto)
	if err != nil || len(want) != 3 {
		t.Fatalf("reference: %v rows, %v", len(want), err)
	}
	if got, err := readAll(bin, KeywordBinaryProto, 0); err != nil || !sameRows(got, want) {
		t.Errorf("binary: got %v (%v), want %v", got, err, want)
	}
	lines := "  a.example \n\n\tb\r\n" + strings.Repeat("x", 100000) + "\nc"
	got, err := readAll([]byte(lines), KeyLines, 0)
	if err != nil || len(got) != 4 || string(got[0].Keyword) != "a.example" || string(got[1].Keyword) != "b" || len(got[2].Keyword) != 100000 || string(got[3].Keyword) != "c" || string(got[3].Value) != "v" {
		t.Errorf("lines: %d rows, %v", len(got), err)
	}
}

// FuzzReadKeywordRows: the streaming readers give exactly the rows of
// unmarshalling the whole database, and fail where that fails (text cut
// after every top-level field, and in one chunk).
func FuzzReadKeywordRows(f *testing.F) {
	for _, s := range keywordTextSeeds {
		f.Add([]byte(s), true)
	}
	db := &pirpb.KeywordDatabase{Rows: []*pirpb.KeywordDatabaseRow{{Keyword: []byte("a"), Value: []byte("1")}}}
	bin, _ := proto.Marshal(db)
	f.Add(bin, false)
	f.Add(append(bin, 0x1b, 0x1c), false)
	f.Fuzz(func(t *testing.T, data []byte, text bool) {
		format := KeywordBinaryProto
		if text {
			format = KeywordTextProto
		}
		want, werr := wholeRows(data, format)
		for _, chunk := range []int{1, 1 << 20} {
			got, gerr := readAll(data, format, chunk)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("chunk %d: error %v, whole-file error %v", chunk, gerr, werr)
			}
			if werr == nil && !sameRows(got, want) {
				t.Fatalf("chunk %d: rows %v, want %v", chunk, got, want)
			}
			if format == KeywordBinaryProto {
				break
			}
		}
	})
}

func ExampleRowSpill() {
	ctx := context.Background()
	cfg := ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", ShardCount: 2}
	s, err := NewRowSpill("", cfg)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	// Rows arrive one at a time, e.g. from ReadKeywordRows on a file.
	keys := "www.example.com\nads.example.net/track\nwww.apple.com/url-filter-test\n"
	err = ReadKeywordRows(strings.NewReader(keys), KeyLines, []byte("1"), func(r Row) error { return s.Add(ctx, r) })
	if err != nil {
		panic(err)
	}
	var mu sync.Mutex
	total := 0
	err = s.Process(ctx, func(i, n int, db *Database, rows []Row) error {
		mu.Lock()
		defer mu.Unlock()
		total += len(rows) // write db here, e.g. WriteShard(dir, "url", i, db)
		return nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.ShardCount(), "shards,", total, "rows")
	// Output: 2 shards, 3 rows
}
