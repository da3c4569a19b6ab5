package generation

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/pir"
)

// TestKeyDelta checks the merge of the previous key list with the new
// keys, from memory and from a keys file, against a plain set difference.
func TestKeyDelta(t *testing.T) {
	tests := []struct {
		name      string
		prev      string // the previous keys.txt
		prevKeys  int    // its count in the PIR manifest
		next      []string
		wantWhy   string // "" : a delta
		wantTotal [2]int // added, removed
		// recorded is the key list generation.json records when it is
		// not prev ("-": no generation.json).
		recorded string
		limit    int // changed keys held, when not the default
	}{
		{"same", "a\nb\nc\n", 3, []string{"a", "b", "c"}, "", [2]int{0, 0}, "", 0},
		{"add and remove", "a\nc\ne\n", 3, []string{"b", "c", "d", "f"}, "", [2]int{3, 2}, "", 0},
		{"all new", "a\n", 1, []string{"b", "c"}, "", [2]int{2, 1}, "", 0},
		{"empty next", "a\nb\n", 2, []string{}, "", [2]int{0, 2}, "", 0},
		{"no final newline", "a\nb", 2, []string{"b", "c"}, "", [2]int{1, 1}, "", 0},
		{"unsorted", "b\na\n", 2, []string{"a", "b"}, "not sorted", [2]int{}, "", 0},
		{"repeated", "a\na\n", 2, []string{"a"}, "not sorted", [2]int{}, "", 0},
		{"count mismatch", "a\nb\n", 3, []string{"a"}, "holds 2 keys", [2]int{}, "", 0},
		// A list that is not the one its shards were built from (b
		// replaced by c, same size and count): its delta would add d
		// only, leaving c out of the shards and b in them.
		{"not the recorded list", "a\nc\ne\n", 3, []string{"a", "c", "d", "e"}, "differs from its record", [2]int{}, "a\nb\ne\n", 0},
		{"not the recorded size", "a\nc\ne\n", 3, []string{"a", "c", "d", "e"}, "differs from its record", [2]int{}, "a\nbb\ne\n", 0},
		{"no generation.json", "a\nb\n", 2, []string{"a"}, "previous generation.json", [2]int{}, "-", 0},
		{"change at the limit", "a\nb\n", 2, []string{"b", "c", "d"}, "", [2]int{2, 1}, "", 3},
		{"change over the limit", "a\nb\n", 2, []string{"c", "d", "e"}, "too many", [2]int{}, "", 4},
		{"removals over the limit", "a\nb\nc\nd\n", 4, []string{}, "too many", [2]int{}, "", 3},
	}
	for _, tc := range tests {
		for _, fromFile := range []bool{false, true} {
			name := tc.name
			if fromFile {
				name += "/file"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, KeysFile), []byte(tc.prev), 0o644); err != nil {
					t.Fatal(err)
				}
				if tc.recorded != "-" {
					writeKeysRecord(t, dir, cmp.Or(tc.recorded, tc.prev))
				}
				keys := memoryKeys(tc.next)
				if fromFile {
					p := filepath.Join(t.TempDir(), "next.txt")
					body := ""
					for _, k := range tc.next {
						body += k + "\n"
					}
					if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
						t.Fatal(err)
					}
					keys = keySource{path: p, n: len(tc.next)}
				}
				b := &pirBuilder{prev: dir}
				const shards = 3
				d := b.newKeyDelta(shards, tc.prevKeys)
				if tc.limit > 0 {
					d.limit = tc.limit
				}
				err := keys.batches(context.Background(), func(batch []string) error {
					d.add(batch)
					return nil
				})
				if err == nil {
					err = d.finish()
				}
				if err != nil {
					t.Fatal(err)
				}
				deltas, why := d.shards, d.why
				if tc.wantWhy != "" || why != "" {
					if tc.wantWhy == "" || !strings.Contains(why, tc.wantWhy) {
						t.Fatalf("reason %q, want %q", why, tc.wantWhy)
					}
					return
				}
				prev := strings.Fields(tc.prev)
				var added, removed int
				for s, d := range deltas {
					for _, k := range d.add {
						if slices.Contains(prev, k) || !slices.Contains(tc.next, k) {
							t.Errorf("%q listed as added", k)
						}
						if got, _ := (pir.ShardingFunction{}).ShardIndex([]byte(k), shards); got != s {
							t.Errorf("%q routed to shard %d, belongs to %d", k, s, got)
						}
					}
					for _, k := range d.remove {
						if !slices.Contains(prev, k) || slices.Contains(tc.next, k) {
							t.Errorf("%q listed as removed", k)
						}
						if got, _ := (pir.ShardingFunction{}).ShardIndex([]byte(k), shards); got != s {
							t.Errorf("%q routed to shard %d, belongs to %d", k, s, got)
						}
					}
					added += len(d.add)
					removed += len(d.remove)
				}
				if [2]int{added, removed} != tc.wantTotal {
					t.Errorf("added %d, removed %d; want %v", added, removed, tc.wantTotal)
				}
			})
		}
	}
}

// writeKeysRecord writes a generation.json into dir that records keys as
// its key list.
func writeKeysRecord(t *testing.T, dir, keys string) {
	t.Helper()
	sum := sha256.Sum256([]byte(keys))
	m := GenerationManifest{Format: GenerationFormat, Files: []FileInfo{{Name: KeysFile, Bytes: int64(len(keys)), SHA256: hex.EncodeToString(sum[:])}}}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, GenerationFile), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}
