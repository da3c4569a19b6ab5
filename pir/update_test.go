package pir

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/pir/he/ring"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// writeShardDir writes db's .bin, .serve and params under dir with stem
// and returns the .bin and params paths.
func writeShardDir(t testing.TB, dir, stem string, db *Database) (bin, params string) {
	t.Helper()
	bin, params = ShardPaths(dir, stem, 0)
	if err := WriteServeFile(ServePath(bin), db); err != nil {
		t.Fatal(err)
	}
	if err := WriteShardFiles(bin, params, db); err != nil {
		t.Fatal(err)
	}
	return bin, params
}

// applyUpdate updates the shard in dir/prev-0.* with change into
// dir/<stem>-0.* and opens the result twice: from its .serve file
// (mapped) and from its .bin alone.
func applyUpdate(t *testing.T, dir, prevStem, stem string, change ShardChange) (*ShardUpdate, *Database) {
	t.Helper()
	prevBin, prevParams := ShardPaths(dir, prevStem, 0)
	prev, err := OpenDatabase(prevBin, prevParams)
	if err != nil {
		t.Fatal(err)
	}
	u, err := UpdateShard(context.Background(), prev, change, UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bin, params := ShardPaths(dir, stem, 0)
	if err := u.WriteServe(ServePath(bin), ServePath(prevBin)); err != nil {
		t.Fatal(err)
	}
	if err := u.WriteBin(bin, prevBin); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(prevParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(params, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	served, err := OpenDatabase(bin, params)
	if err != nil {
		t.Fatal(err)
	}
	fromBin, err := LoadDatabase(bin, params)
	if err != nil {
		t.Fatal(err)
	}
	// The two files must hold the same shard.
	for k := range served.count() {
		if !equalU64(served.plaintext(k), fromBin.plaintext(k)) {
			t.Fatalf("plaintext %d differs between the updated .serve and .bin", k)
		}
	}
	return u, served
}

// plainLookup returns a lookup over db's tables decoded once (as
// lookupPlain, which decodes them per call).
func plainLookup(t *testing.T, db *Database) func(kw []byte) ([]byte, bool) {
	t.Helper()
	p := db.Params()
	basis, err := ring.NewBasis(p.he.n, p.he.ctModuli())
	if err != nil {
		t.Fatal(err)
	}
	tables := make([][][]byte, p.HashFunctionCount)
	for i := range tables {
		tables[i] = unpackTable(p.he, basis, p.layout(), db.tablePlaintexts(i))
	}
	return func(kw []byte) ([]byte, bool) {
		for ti, x := range HashIndices(kw, p.EntryCount, p.HashFunctionCount) {
			v, ok, err := lookupBucket(tables[ti][x], KeywordHash(kw))
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				return v, true
			}
		}
		return nil, false
	}
}

// rowsAfter returns rows without the removed keywords, plus add.
func rowsAfter(rows []Row, c ShardChange) []Row {
	var out []Row
	for _, r := range rows {
		if !slices.ContainsFunc(c.Remove, func(k []byte) bool { return bytes.Equal(k, r.Keyword) }) {
			out = append(out, r)
		}
	}
	return append(out, c.Add...)
}

func TestUpdateShard(t *testing.T) {
	value := func(n int) func(int) int { return func(int) int { return n } }
	tests := []struct {
		name     string
		rows     []Row
		cfg      ProcessConfig
		add, del int // rows added (new keywords), removed (first ones)
		addLen   func(int) int
	}{
		{"sample", testRows(3000, value(1)), ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"}, 60, 40, value(1)},
		{"values-1hash", testRows(1200, func(i int) int { return i % 30 }),
			ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_4", Cuckoo: CuckooConfig{HashFunctionCount: 1}}, 20, 20, func(i int) int { return i % 25 }},
		{"wide-residues", testRows(900, value(2)), ProcessConfig{Preset: "n_4096_logq_16_33_33_logt_4"}, 30, 10, value(2)},
		{"chunks", testRows(60, func(i int) int { return 900 + 37*i }),
			ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", Cuckoo: CuckooConfig{MaxSerializedBucketSize: 6200}}, 2, 3, func(i int) int { return 500 + i }},
		// Mostly empty buckets: plaintexts turn from zero to stored and
		// back, so the files' layouts shift.
		{"sparse", testRows(12, value(3)),
			ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", Cuckoo: CuckooConfig{FixedBucketCount: 3000}}, 8, 12, value(3)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			prev, err := ProcessShard(ctx, tc.rows, 0, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			writeShardDir(t, dir, "prev", prev)
			var change ShardChange
			for i := range tc.del {
				change.Remove = append(change.Remove, tc.rows[i].Keyword)
			}
			for i := range tc.add {
				change.Add = append(change.Add, Row{
					Keyword: fmt.Appendf(nil, "added%d.example/x", i),
					Value:   bytes.Repeat([]byte{byte(0x80 + i)}, tc.addLen(i)),
				})
			}
			u, db := applyUpdate(t, dir, "prev", "next", change)
			if u.ChangedPlaintexts == 0 || u.ChangedPlaintexts > 2*(tc.add+tc.del+u.Evictions)*prev.Params().ChunkCount() {
				t.Errorf("%d plaintexts changed for %d added, %d removed rows, %d evictions", u.ChangedPlaintexts, tc.add, tc.del, u.Evictions)
			}
			if tc.name == "sparse" {
				// Every row moved: the stored-plaintext counts (and so the
				// layouts of both files) differ.
				a, _ := os.ReadFile(ServePath(filepath.Join(dir, "prev-0.bin")))
				b, _ := os.ReadFile(ServePath(filepath.Join(dir, "next-0.bin")))
				if bytes.Equal(a[20:24], b[20:24]) {
					t.Errorf("sparse update kept %x stored plaintexts", a[20:24])
				}
			}
			if got, want := *db.Params(), *prev.Params(); got.EntryCount != want.EntryCount || got.EntrySize != want.EntrySize || got.Dimensions != want.Dimensions {
				t.Errorf("parameters changed: %+v, want %+v", got, want)
			}
			want := rowsAfter(tc.rows, change)
			// A full rebuild with the same (pinned) parameters must find the
			// same values for every keyword.
			pinned := tc.cfg
			pinned.Cuckoo.FixedBucketCount = prev.Params().EntryCount * prev.Params().HashFunctionCount
			pinned.Cuckoo.MaxSerializedBucketSize = prev.Params().EntrySize
			pinned.UseMaxSerializedBucketSize = true
			fresh, err := ProcessShard(ctx, want, 0, pinned)
			if err != nil {
				t.Fatal(err)
			}
			look, lookFresh := plainLookup(t, db), plainLookup(t, fresh)
			for _, r := range want {
				v, ok := look(r.Keyword)
				if !ok || !bytes.Equal(v, r.Value) {
					t.Fatalf("keyword %q: got %x %v, want %x", r.Keyword, v, ok, r.Value)
				}
				if fv, fok := lookFresh(r.Keyword); !fok || !bytes.Equal(fv, v) {
					t.Fatalf("keyword %q: full rebuild finds %x %v, update %x", r.Keyword, fv, fok, v)
				}
			}
			for _, kw := range change.Remove {
				if v, ok := look(kw); ok {
					t.Fatalf("removed keyword %q still found with %x", kw, v)
				}
				if _, ok := lookFresh(kw); ok {
					t.Fatalf("removed keyword %q found in the full rebuild", kw)
				}
			}
			// Deterministic: the same change gives the same bytes.
			applyUpdate(t, dir, "prev", "again", change)
			for _, ext := range []string{".bin", ".serve"} {
				a, _ := os.ReadFile(filepath.Join(dir, "next-0"+ext))
				b, _ := os.ReadFile(filepath.Join(dir, "again-0"+ext))
				if !bytes.Equal(a, b) {
					t.Errorf("%s differs between two updates with the same change", ext)
				}
			}
			// A second update on top of the first.
			change2 := ShardChange{Remove: [][]byte{change.Add[0].Keyword}, Add: []Row{{Keyword: []byte("second.example"), Value: change.Add[0].Value}}}
			_, db2 := applyUpdate(t, dir, "next", "third", change2)
			look2 := plainLookup(t, db2)
			for _, r := range rowsAfter(want, change2) {
				if v, ok := look2(r.Keyword); !ok || !bytes.Equal(v, r.Value) {
					t.Fatalf("after a second update, keyword %q: got %x %v, want %x", r.Keyword, v, ok, r.Value)
				}
			}
			if _, ok := look2(change.Add[0].Keyword); ok {
				t.Error("keyword removed by the second update is still found")
			}
		})
	}
}

// TestUpdateShardDecrypt looks keys up in an updated, memory-mapped shard
// as a device does (encrypted query, server answer, client decryption):
// added and unchanged keys are found with their values, removed ones are
// not.
func TestUpdateShardDecrypt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rows := testRows(2000, func(int) int { return 1 })
	prev, err := ProcessShard(ctx, rows, 0, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err != nil {
		t.Fatal(err)
	}
	writeShardDir(t, dir, "prev", prev)
	change := ShardChange{Remove: [][]byte{rows[0].Keyword, rows[1].Keyword}}
	for i := range 20 {
		change.Add = append(change.Add, Row{Keyword: fmt.Appendf(nil, "new%d.example", i), Value: []byte("1")})
	}
	_, db := applyUpdate(t, dir, "prev", "next", change)
	if !db.Mapped() {
		t.Error("updated shard is not served from its mapped .serve file")
	}
	s, err := NewServer([]*Database{db}, ServerOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	cfgBytes, err := MarshalConfigResponse(s.Config().ConfigResponse("u"))
	if err != nil {
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
	lookups := []struct {
		kw, value []byte // value nil: not found
	}{
		{change.Add[0].Keyword, []byte("1")}, {change.Add[19].Keyword, []byte("1")},
		{rows[2].Keyword, rows[2].Value}, {rows[1999].Keyword, rows[1999].Value},
		{rows[0].Keyword, nil}, {rows[1].Keyword, nil}, {[]byte("absent.example"), nil},
	}
	for _, l := range lookups {
		v, ok, err := c.Lookup(ctx, s, key, l.kw, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if ok != (l.value != nil) || !bytes.Equal(v, l.value) {
			t.Errorf("%q: got %x %v, want %x", l.kw, v, ok, l.value)
		}
	}
}

func TestUpdateShardErrors(t *testing.T) {
	ctx := context.Background()
	rows := testRows(200, func(int) int { return 3 })
	prev, err := ProcessShard(ctx, rows, 0, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err != nil {
		t.Fatal(err)
	}
	many := make([]Row, 5000)
	for i := range many {
		many[i] = Row{Keyword: fmt.Appendf(nil, "more%d", i), Value: []byte("abc")}
	}
	tests := []struct {
		name   string
		change ShardChange
		full   bool // ErrUpdateFull
	}{
		{"table full", ShardChange{Add: many}, true},
		{"value too large", ShardChange{Add: []Row{{Keyword: []byte("big"), Value: make([]byte, 5000)}}}, true},
		{"add present", ShardChange{Add: []Row{rows[5]}}, false},
		{"add twice", ShardChange{Add: []Row{{Keyword: []byte("x"), Value: []byte("1")}, {Keyword: []byte("x"), Value: []byte("2")}}}, false},
		{"remove absent", ShardChange{Remove: [][]byte{[]byte("absent")}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := UpdateShard(ctx, prev, tc.change, UpdateOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrUpdateFull) != tc.full {
				t.Errorf("error %v: ErrUpdateFull %v, want %v", err, errors.Is(err, ErrUpdateFull), tc.full)
			}
		})
	}
	// Previous files that are not the previous shard's are refused.
	dir := t.TempDir()
	bin, _ := writeShardDir(t, dir, "prev", prev)
	other, err := ProcessShard(ctx, testRows(50, func(int) int { return 1 }), 0, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err != nil {
		t.Fatal(err)
	}
	otherBin, _ := writeShardDir(t, t.TempDir(), "other", other)
	u, err := UpdateShard(ctx, prev, ShardChange{Remove: [][]byte{rows[0].Keyword}}, UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := u.WriteBin(filepath.Join(dir, "x.bin"), otherBin); err == nil {
		t.Error("WriteBin accepted another shard's .bin")
	}
	if err := u.WriteServe(filepath.Join(dir, "x.serve"), ServePath(otherBin)); err == nil {
		t.Error("WriteServe accepted another shard's .serve")
	}
	if err := u.WriteBin(filepath.Join(dir, "y.bin"), bin); err != nil {
		t.Errorf("WriteBin: %v", err)
	}
}

// TestUpdateShardUntilFull grows a shard by repeated updates until its
// table is full: every round keeps every key findable, and the round that
// no longer fits fails with ErrUpdateFull (the caller then reprocesses).
func TestUpdateShardUntilFull(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rows := testRows(2000, func(int) int { return 1 })
	prev, err := ProcessShard(ctx, rows, 0, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err != nil {
		t.Fatal(err)
	}
	writeShardDir(t, dir, "r0", prev)
	all := rows
	for round := 1; ; round++ {
		if round > 50 {
			t.Fatal("the table never filled up")
		}
		var change ShardChange
		for i := range 100 {
			change.Add = append(change.Add, Row{Keyword: fmt.Appendf(nil, "r%d-%d.example", round, i), Value: []byte{byte(i)}})
		}
		change.Remove = [][]byte{all[round].Keyword}
		prevBin, prevParams := ShardPaths(dir, fmt.Sprintf("r%d", round-1), 0)
		db, err := OpenDatabase(prevBin, prevParams)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := UpdateShard(ctx, db, change, UpdateOptions{}); err != nil {
			if !errors.Is(err, ErrUpdateFull) {
				t.Fatalf("round %d: %v", round, err)
			}
			if round < 3 {
				t.Errorf("full after %d rounds already", round)
			}
			t.Logf("round %d (%d keys + 100): %v", round, len(all), err)
			return
		}
		_, next := applyUpdate(t, dir, fmt.Sprintf("r%d", round-1), fmt.Sprintf("r%d", round), change)
		all = rowsAfter(all, change)
		look := plainLookup(t, next)
		for _, r := range all {
			if v, ok := look(r.Keyword); !ok || !bytes.Equal(v, r.Value) {
				t.Fatalf("round %d: keyword %q: got %x %v, want %x", round, r.Keyword, v, ok, r.Value)
			}
		}
		if _, ok := look(change.Remove[0]); ok {
			t.Fatalf("round %d: removed keyword found", round)
		}
	}
}
