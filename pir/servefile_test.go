package pir

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"google.golang.org/protobuf/proto"
)

// serveCopy writes the serve-ready file of every shard of an Apple vector
// set into a temporary folder, beside a copy of its params file, and
// returns the folder. The `.bin` is not copied: OpenDatabase must not need
// it when the serve-ready file is there.
func serveCopy(t testing.TB, set string) (dir string, shards int) {
	t.Helper()
	src := testvec.Path(t, "pir", set)
	dbs, err := LoadShards(context.Background(), src, "url")
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	for i, db := range dbs {
		_, srcParams := ShardPaths(src, "url", i)
		bin, params := ShardPaths(dir, "url", i)
		b, err := os.ReadFile(srcParams)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(params, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := WriteServeFile(ServePath(bin), db); err != nil {
			t.Fatal(err)
		}
	}
	return dir, len(dbs)
}

func openServed(t testing.TB, dir string, shards int) []*Database {
	return openServedWith(t, dir, shards, OpenDatabase)
}

func openServedWith(t testing.TB, dir string, shards int, open func(bin, params string) (*Database, error)) []*Database {
	t.Helper()
	dbs := make([]*Database, shards)
	for i := range dbs {
		bin, params := ShardPaths(dir, "url", i)
		db, err := open(bin, params)
		if err != nil {
			t.Fatal(err)
		}
		if !db.Mapped() {
			t.Fatalf("shard %d: serve-ready file not memory-mapped", i)
		}
		dbs[i] = db
	}
	return dbs
}

// TestServeFileAnswersApple answers Apple's requests from memory-mapped
// serve-ready files (uint32 residues; 8-byte residues for set B's 33-bit
// moduli) and compares with Apple's responses byte for byte.
func TestServeFileAnswersApple(t *testing.T) {
	for _, set := range vectorSets {
		t.Run(set, func(t *testing.T) {
			if testing.Short() && (set == "F" || set == "bench100k") {
				t.Skip("large set in -short")
			}
			dir, n := serveCopy(t, set)
			// Checked residues and verified files (not read at open) answer
			// the same.
			for _, open := range []func(bin, params string) (*Database, error){OpenDatabase, OpenVerifiedDatabase} {
				srv, err := NewServer(openServedWith(t, dir, n, open), ServerOptions{})
				if err != nil {
					t.Fatal(err)
				}
				keys, reqs, want := &apipb.EvaluationKeys{}, &apipb.Requests{}, &apipb.Responses{}
				for name, m := range map[string]proto.Message{"evaluation_keys.binpb": keys, "requests.binpb": reqs, "responses.binpb": want} {
					if err := proto.Unmarshal(testvec.Read(t, "pir", set, name), m); err != nil {
						t.Fatal(err)
					}
				}
				key, err := srv.ParseEvaluationKey(keys.GetKeys()[0].GetEvaluationKey())
				if err != nil {
					t.Fatal(err)
				}
				for i, r := range reqs.GetRequests() {
					resp, err := srv.Answer(context.Background(), r.GetPirRequest(), key)
					if err != nil {
						t.Fatalf("request %d: %v", i, err)
					}
					got, _ := deterministic.Marshal(resp)
					w, _ := deterministic.Marshal(want.GetResponses()[i].GetPirResponse())
					if !bytes.Equal(got, w) {
						t.Errorf("request %d: response from the mapped shard differs from Apple's", i)
					}
				}
			}
		})
	}
}

// TestServeFileRoundTrip checks that every plaintext read back from the
// mapping equals the heap copy, and that the file is a pure function of
// the shard.
func TestServeFileRoundTrip(t *testing.T) {
	for _, set := range []string{"A", "B", "D"} {
		t.Run(set, func(t *testing.T) {
			heap, err := LoadShards(context.Background(), testvec.Path(t, "pir", set), "url")
			if err != nil {
				t.Fatal(err)
			}
			dir, n := serveCopy(t, set)
			mapped := openServed(t, dir, n)
			for i := range heap {
				if heap[i].count() != mapped[i].count() {
					t.Fatalf("shard %d: %d plaintexts mapped, %d in the heap", i, mapped[i].count(), heap[i].count())
				}
				for k := range heap[i].count() {
					a, b := heap[i].plaintext(k), mapped[i].plaintext(k)
					if (a == nil) != (b == nil) || !equalU64(a, b) {
						t.Fatalf("shard %d plaintext %d differs", i, k)
					}
				}
				var again bytes.Buffer
				if err := mapped[i].writeServe(&again); err != nil {
					t.Fatal(err)
				}
				bin, _ := ShardPaths(dir, "url", i)
				first, err := os.ReadFile(ServePath(bin))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(first, again.Bytes()) {
					t.Fatalf("shard %d: rewriting the mapped shard gives other bytes", i)
				}
			}
		})
	}
}

// TestServeFileRefused damages a serve-ready file in every way a crash, a
// bad copy or a foreign file can, and checks that each is refused with an
// error instead of served (or crashing the process on a short mapping).
func TestServeFileRefused(t *testing.T) {
	dir, _ := serveCopy(t, "A")
	bin, params := ShardPaths(dir, "url", 0)
	good, err := os.ReadFile(ServePath(bin))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ReadParamsFile(params)
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := parseServeHeader(good, int64(len(good)), p)
	if err != nil {
		t.Fatal(err)
	}
	if l.stored == 0 {
		t.Fatal("set A shard 0 stores no plaintext")
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "bytes"},
		{"truncated header", good[:40], "bytes"},
		{"truncated data", good[:len(good)-1], "truncated or corrupt"},
		{"cut at a page", good[:len(good)/4096*4096], "truncated or corrupt"},
		{"trailing byte", append(bytes.Clone(good), 0), "truncated or corrupt"},
		{"magic", edit(func(b []byte) []byte { b[0] ^= 1; return b }), "magic"},
		{"width", edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 8); return b }), "residues, parameters need"},
		{"count", edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], uint32(l.count+1)); return b }), "plaintexts, parameters need"},
		{"slot", edit(func(b []byte) []byte {
			for k := range l.count { // the first stored plaintext points past the data
				if o := serveHeaderSize + 4*k; binary.LittleEndian.Uint32(b[o:]) != 0 {
					binary.LittleEndian.PutUint32(b[o:], uint32(l.stored+1))
					break
				}
			}
			return b
		}), "slot"},
		{"residue", edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[l.dataOff:], 0xffffffff)
			return b
		}), "not below modulus"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(ServePath(bin), c.file, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := OpenDatabase(bin, params)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			// A verified file skips only the residue check: every
			// structural check, the size against the header first, stays.
			_, err = OpenVerifiedDatabase(bin, params)
			if c.name == "residue" {
				if err != nil {
					t.Fatalf("OpenVerifiedDatabase: %v; it does not read residues", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("OpenVerifiedDatabase: got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestOpenDatabaseWithoutServeFile: Apple's shards (no serve-ready file)
// are read into the heap as before.
func TestOpenDatabaseWithoutServeFile(t *testing.T) {
	bin, params := ShardPaths(testvec.Path(t, "pir", "A"), "url", 0)
	db, err := OpenDatabase(bin, params)
	if err != nil {
		t.Fatal(err)
	}
	if db.Mapped() {
		t.Fatal("a shard without serve-ready file reports Mapped")
	}
	if _, err := OpenDatabase(filepath.Join(t.TempDir(), "url-0.bin"), params); err == nil {
		t.Fatal("opened a shard whose .bin and .serve are missing")
	}
}

// BenchmarkAnswerMapped compares one answer (one worker) from shards held
// in the heap with the same shards memory-mapped from their serve-ready
// files, on bench100k (uint32 residues) and set B (uint64 residues), in one
// run. The mapped pages are in the page cache (warm), as on a serving
// replica.
func BenchmarkAnswerMapped(b *testing.B) {
	for _, set := range []string{"bench100k", "B"} {
		v := loadVectorSet(b, set)
		key := v.firstKey(b)
		req := v.requests.GetRequests()[0].GetPirRequest()
		dir, n := serveCopy(b, set)
		for _, src := range []string{"heap", "mapped"} {
			shards := v.server.shards
			if src == "mapped" {
				shards = openServed(b, dir, n)
			}
			s, err := NewServer(shards, ServerOptions{Workers: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.Run(set+"/"+src, func(b *testing.B) {
				cpu0 := cpuTime()
				for b.Loop() {
					if _, err := s.Answer(context.Background(), req, key); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
