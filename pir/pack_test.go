package pir

import (
	"bytes"
	"context"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/he/ring"
	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

func readInputRows(t testing.TB, set string) []Row {
	t.Helper()
	m := &pirpb.KeywordDatabase{}
	if err := prototext.Unmarshal(testvec.Read(t, "pir", set, "input.txtpb"), m); err != nil {
		t.Fatal(err)
	}
	rows := make([]Row, len(m.GetRows()))
	for i, r := range m.GetRows() {
		rows[i] = Row{Keyword: r.GetKeyword(), Value: r.GetValue()}
	}
	return rows
}

// TestAppleLayout unpacks Apple's processed shards with our layout rules
// (tables, chunks, column-major order, centered lift, NTT), finds every input
// row in one of its candidate buckets, and packs the recovered buckets back
// into Apple's exact plaintexts.
func TestAppleLayout(t *testing.T) {
	for _, set := range []string{"A", "B", "D", "E", "F"} {
		t.Run(set, func(t *testing.T) {
			dbs, err := LoadShards(context.Background(), testvec.Path(t, "pir", set), "url")
			if err != nil {
				t.Fatal(err)
			}
			rows := readInputRows(t, set)
			found := 0
			for si, db := range dbs {
				p := db.Params()
				basis, err := ring.NewBasis(p.he.n, p.he.ctModuli())
				if err != nil {
					t.Fatal(err)
				}
				l := p.layout()
				var tables [][][]byte
				for ti := range p.HashFunctionCount {
					entries := unpackTable(p.he, basis, l, db.tablePlaintexts(ti))
					tables = append(tables, entries)
					repacked := packTable(p.he, basis, l, entries)
					for k, pt := range repacked {
						want := db.tablePlaintexts(ti)[k]
						if (pt == nil) != (want == nil) || !equalU64(pt, want) {
							t.Fatalf("shard %d table %d plaintext %d: repacked differs", si, ti, k)
						}
					}
				}
				for _, r := range rows {
					if s, _ := p.Sharding.ShardIndex(r.Keyword, len(dbs)); s != si {
						continue
					}
					idx := HashIndices(r.Keyword, p.EntryCount, p.HashFunctionCount)
					ok := false
					for ti, x := range idx {
						v, hit, err := lookupBucket(tables[ti][x], KeywordHash(r.Keyword))
						if err != nil {
							t.Fatalf("shard %d table %d bucket %d: %v", si, ti, x, err)
						}
						if hit {
							if !bytes.Equal(v, r.Value) {
								t.Fatalf("keyword %q: value %x, want %x", r.Keyword, v, r.Value)
							}
							ok = true
							break
						}
					}
					if !ok {
						t.Fatalf("keyword %q not in its candidate buckets %v", r.Keyword, idx)
					}
					found++
				}
			}
			if found != len(rows) {
				t.Errorf("found %d of %d rows", found, len(rows))
			}
		})
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
