package pir

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fileSHA256 returns the SHA-256 of the file at path in hex.
func fileSHA256(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// patchUpdate updates the shard dir/<prevStem>-0 with change into
// dir/<stem>-0 through WriteServeUpdate (linking the base it names, as a
// generation does), and returns the update, the base it named ("" when
// written whole) and the shard opened from the new files. It also writes
// the same update whole (writeServeWhole) to dir/<stem>-whole-0 and checks
// that both files hold the same plaintexts.
func patchUpdate(t *testing.T, dir, prevStem, stem string, change ShardChange) (*ShardUpdate, string, *Database) {
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
	raw, err := os.ReadFile(prevParams)
	if err != nil {
		t.Fatal(err)
	}
	bin, params := ShardPaths(dir, stem, 0)
	prevServe := ServePath(prevBin)
	base, err := u.WriteServeUpdate(ServePath(bin), prevServe, fileSHA256(t, prevServe))
	if err != nil {
		t.Fatal(err)
	}
	if base != "" {
		if err := os.Link(base, ServeBasePath(ServePath(bin))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(params, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := OpenDatabase(bin, params)
	if err != nil {
		t.Fatal(err)
	}
	if !db.Mapped() {
		t.Error("updated shard is not served from mapped files")
	}
	verified, err := OpenVerifiedDatabase(bin, params)
	if err != nil {
		t.Fatal(err)
	}
	wholeBin, wholeParams := ShardPaths(dir, stem+"-whole", 0)
	if err := u.writeServeWhole(ServePath(wholeBin)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wholeParams, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	whole, err := OpenDatabase(wholeBin, wholeParams)
	if err != nil {
		t.Fatal(err)
	}
	for k := range whole.count() {
		w := whole.plaintext(k)
		if !equalU64(db.plaintext(k), w) || !equalU64(verified.plaintext(k), w) {
			t.Fatalf("plaintext %d differs between the update's serve-ready file and the same update written whole", k)
		}
	}
	return u, base, db
}

func TestServePatch(t *testing.T) {
	tests := []struct {
		name   string
		rows   []Row
		preset string
	}{
		{"narrow", testRows(20000, func(int) int { return 1 }), "n_4096_logq_27_28_28_logt_5"},
		{"wide-residues", testRows(8000, func(int) int { return 2 }), "n_4096_logq_16_33_33_logt_4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			db, err := ProcessShard(ctx, tc.rows, 0, ProcessConfig{Preset: tc.preset})
			if err != nil {
				t.Fatal(err)
			}
			writeShardDir(t, dir, "g1", db)
			g1 := ServePath(filepath.Join(dir, "g1-0.bin"))
			add := func(from, n int) ShardChange {
				var c ShardChange
				for i := range n {
					c.Add = append(c.Add, Row{Keyword: fmt.Appendf(nil, "patch%d.example", from+i), Value: tc.rows[0].Value})
				}
				return c
			}
			// A small change over a whole file: a patch, based on it.
			c2 := add(0, 3)
			c2.Remove = [][]byte{tc.rows[5].Keyword}
			u2, base, db2 := patchUpdate(t, dir, "g1", "g2", c2)
			g2 := ServePath(filepath.Join(dir, "g2-0.bin"))
			if base != g1 {
				t.Fatalf("first patch's base is %q, want %q", base, g1)
			}
			head, _ := os.ReadFile(g2)
			if !isPatch(head) {
				t.Fatal("a small update was written whole")
			}
			if st, _ := os.Stat(g1); int64(len(head)) > st.Size()/maxPatchShare {
				t.Errorf("patch is %d bytes, its base %d", len(head), st.Size())
			}
			if got := int(leU32(head[20:])); got != u2.ChangedPlaintexts {
				t.Errorf("patch stores %d plaintexts, the update changed %d", got, u2.ChangedPlaintexts)
			}
			want2 := rowsAfter(tc.rows, c2)
			checkRows(t, db2, want2, c2.Remove)

			// A patch of a patch keeps the same base and carries the
			// first patch's plaintexts over.
			c3 := add(100, 2)
			u3, base3, db3 := patchUpdate(t, dir, "g2", "g3", c3)
			if base3 != ServeBasePath(g2) {
				t.Fatalf("second patch's base is %q, want %q", base3, ServeBasePath(g2))
			}
			g3head, _ := os.ReadFile(ServePath(filepath.Join(dir, "g3-0.bin")))
			if got := int(leU32(g3head[20:])); got < u3.ChangedPlaintexts || got > u2.ChangedPlaintexts+u3.ChangedPlaintexts {
				t.Errorf("second patch stores %d plaintexts (changed %d then %d)", got, u2.ChangedPlaintexts, u3.ChangedPlaintexts)
			}
			want3 := rowsAfter(want2, c3)
			checkRows(t, db3, want3, c2.Remove)

			// Deterministic: the same update again gives the same bytes.
			patchUpdate(t, dir, "g2", "g3again", c3)
			again, _ := os.ReadFile(ServePath(filepath.Join(dir, "g3again-0.bin")))
			if !bytes.Equal(again, g3head) {
				t.Error("the same update gave two different patches")
			}

			// A change of over a quarter of the base: written whole.
			var c4 ShardChange
			for _, r := range tc.rows[10 : len(tc.rows)*3/5] {
				c4.Remove = append(c4.Remove, r.Keyword)
			}
			_, base4, db4 := patchUpdate(t, dir, "g3", "g4", c4)
			if base4 != "" {
				t.Errorf("a large update was written as a patch over %q", base4)
			}
			g4head, _ := os.ReadFile(ServePath(filepath.Join(dir, "g4-0.bin")))
			if isPatch(g4head) {
				t.Error("a large update is in patch form")
			}
			checkRows(t, db4, rowsAfter(want3, c4), append(c4.Remove, c2.Remove...))
		})
	}
}

// checkRows fails unless db finds every row of want with its value and
// none of the removed keywords.
func checkRows(t *testing.T, db *Database, want []Row, removed [][]byte) {
	t.Helper()
	look := plainLookup(t, db)
	for _, r := range want {
		if v, ok := look(r.Keyword); !ok || !bytes.Equal(v, r.Value) {
			t.Fatalf("keyword %q: got %x %v, want %x", r.Keyword, v, ok, r.Value)
		}
	}
	for _, kw := range removed {
		if _, ok := look(kw); ok {
			t.Fatalf("removed keyword %q is found", kw)
		}
	}
}

func leU32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// TestServePatchRefused: a patch is never served over a base it was not
// written over, nor when it or its base is cut short or missing.
func TestServePatchRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rows := testRows(20000, func(int) int { return 1 })
	db, err := ProcessShard(ctx, rows, 0, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err != nil {
		t.Fatal(err)
	}
	writeShardDir(t, dir, "g1", db)
	var c ShardChange
	for i := range 3 {
		c.Add = append(c.Add, Row{Keyword: fmt.Appendf(nil, "a%d.example", i), Value: []byte("1")})
	}
	if _, base, _ := patchUpdate(t, dir, "g1", "g2", c); base == "" {
		t.Fatal("a small update was written whole")
	}
	// Another shard of the same shape, to stand in for the base.
	other, err := ProcessShard(ctx, testRows(19999, func(int) int { return 1 }), 0, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err != nil {
		t.Fatal(err)
	}
	otherBin, _ := writeShardDir(t, t.TempDir(), "o", other)

	bin, params := ShardPaths(dir, "g2", 0)
	serve := ServePath(bin)
	base := ServeBasePath(serve)
	patch, _ := os.ReadFile(serve)
	baseBytes, _ := os.ReadFile(base)
	otherBytes, _ := os.ReadFile(ServePath(otherBin))
	restore := func() {
		os.Remove(base)
		if err := os.WriteFile(serve, patch, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base, baseBytes, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	flipped := bytes.Clone(baseBytes)
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name     string
		patch    []byte
		base     []byte // nil: no base file
		verified bool   // refused by OpenVerifiedDatabase too (which reads no data)
		want     string
	}{
		{"another shard's base", patch, otherBytes, leU32(otherBytes[20:]) != leU32(baseBytes[20:]), ""},
		{"base with one residue changed", patch, flipped, false, "SHA-256"},
		{"base missing", patch, nil, true, "no such file"},
		{"base cut short", patch, baseBytes[:len(baseBytes)-4096], true, "truncated"},
		{"patch cut short", patch[:len(patch)-100], baseBytes, true, "truncated"},
		{"patch slot out of order", swapSlots(t, patch), baseBytes, true, "patch slot"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer restore()
			if err := os.WriteFile(serve, tc.patch, 0o644); err != nil {
				t.Fatal(err)
			}
			os.Remove(base)
			if tc.base != nil {
				if err := os.WriteFile(base, tc.base, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := OpenDatabase(bin, params)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("OpenDatabase: %v, want an error with %q", err, tc.want)
			}
			if _, err := OpenVerifiedDatabase(bin, params); (err != nil) != tc.verified {
				t.Errorf("OpenVerifiedDatabase: %v, want an error: %v", err, tc.verified)
			}
		})
	}
	restore()
	if _, err := OpenDatabase(bin, params); err != nil {
		t.Fatalf("restored patch: %v", err)
	}
}

// swapSlots returns patch with its first two patch slots exchanged.
func swapSlots(t *testing.T, patch []byte) []byte {
	t.Helper()
	out := bytes.Clone(patch)
	count := int(leU32(out[12:]))
	var at []int
	for k := range count {
		if leU32(out[serveHeaderSize+4*k:])&patchSlot != 0 {
			at = append(at, serveHeaderSize+4*k)
		}
	}
	if len(at) < 2 {
		t.Fatal("the patch holds fewer than two plaintexts")
	}
	a, b := at[0], at[1]
	for i := range 4 {
		out[a+i], out[b+i] = out[b+i], out[a+i]
	}
	return out
}
