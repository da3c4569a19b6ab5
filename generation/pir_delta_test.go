package generation

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/pir"
)

// TestUpdateFromKeyDelta: an update works from the key delta alone when
// every changed shard can be updated in place (no routing of the keys;
// updated shards carry no key digest, untouched ones keep theirs); a
// shard whose change is large is processed whole, the keys being routed
// then; and a build whose delta cannot be used routes and digests every
// key and processes whole the shards that carry no digest. Each
// generation verifies and answers encrypted lookups.
func TestUpdateFromKeyDelta(t *testing.T) {
	ctx := context.Background()
	srcDir := t.TempDir()
	root := filepath.Join(t.TempDir(), "db")
	const shards, base = 4, 8000
	keysOf := func(n int, extra []string) []string {
		var ks []string
		for i := range n {
			ks = append(ks, fmt.Sprintf("k%05d.example.com", i))
		}
		return append(ks, extra...)
	}
	build := func(keys []string) (*Result, string) {
		t.Helper()
		p := filepath.Join(srcDir, "list.txt")
		if err := os.WriteFile(p, []byte(strings.Join(keys, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c := testConfig(writeList(t, srcDir, "unused.txt", "u", 0), shards)
		c.Block[0].Location = p
		c.Workers = 2
		var log strings.Builder
		c.Logf = func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) }
		res, err := Build(ctx, root, c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := OpenIDFull(root, res.Generation.ID()); err != nil {
			t.Fatal(err)
		}
		return res, log.String()
	}
	shardOf := func(k string) int {
		s, err := pir.ShardingFunction{}.ShardIndex([]byte(k), shards)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	g1, _ := build(keysOf(base, nil))

	// Three new keys, in at most three shards: updated in place, no routing.
	small := []string{"new0.example.org", "new1.example.org", "new2.example.org"}
	g2, log := build(keysOf(base, small))
	if strings.Contains(log, "routed") {
		t.Errorf("a small update routed the keys:\n%s", log)
	}
	touched := map[int]bool{}
	for _, k := range small {
		touched[shardOf(k)] = true
	}
	for i, s := range g2.PIR.Shards {
		switch {
		case touched[i] && (s.KeysSHA256 != "" || s.ServeBase.Name == "" || s.Keys != g1.PIR.Shards[i].Keys+countIn(small, i, shardOf)):
			t.Errorf("shard %d, changed: %+v, want a patch, no key digest, %d+%d keys", i, s, g1.PIR.Shards[i].Keys, countIn(small, i, shardOf))
		case !touched[i] && s.KeysSHA256 != g1.PIR.Shards[i].KeysSHA256:
			t.Errorf("shard %d, unchanged: key digest %q, want the previous %q", i, s.KeysSHA256, g1.PIR.Shards[i].KeysSHA256)
		}
	}
	if m := g2.Generation.Manifest; m.Added != 3 || m.Removed != 0 {
		t.Errorf("+%d -%d, want +3 -0", m.Added, m.Removed)
	}
	lookupGeneration(t, g2.Generation.Dir, append([]string{"k00000.example.com"}, small...), []string{"absent.example.org"})

	// Over a tenth of one shard's keys, all in that shard: it is processed
	// whole (its keys routed), the others stay as they were.
	var big []string
	for i := 0; len(big) < base/shards/5; i++ {
		if k := fmt.Sprintf("big%d.example.net", i); shardOf(k) == 0 {
			big = append(big, k)
		}
	}
	g3, log := build(keysOf(base, append(small, big...)))
	if !strings.Contains(log, "routed to 4 shards for the shards processed whole") {
		t.Errorf("no routing for the shard processed whole:\n%s", log)
	}
	if s := g3.PIR.Shards[0]; s.Bin.Name == "" || s.ServeBase.Name != "" || s.KeysSHA256 == "" {
		t.Errorf("shard 0 after a large change: %+v, want whole, with a .bin and a key digest", s)
	}
	for i := 1; i < shards; i++ {
		if g3.PIR.Shards[i].Serve != g2.PIR.Shards[i].Serve {
			t.Errorf("shard %d changed with no change of its keys", i)
		}
	}
	lookupGeneration(t, g3.Generation.Dir, append([]string{big[0], big[len(big)-1]}, small...), []string{"big-absent.example.net"})

	// The previous key list no longer matches its record: no delta, every
	// key routed and digested, and the shards without a digest (updated
	// in place above) are processed whole, not kept.
	prevKeys := filepath.Join(g3.Generation.Dir, KeysFile)
	if err := os.Chmod(prevKeys, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prevKeys, []byte("tampered.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g4, log := build(keysOf(base, append(small, big...)))
	if !strings.Contains(log, "no in-place shard updates") {
		t.Errorf("a tampered key list was used:\n%s", log)
	}
	for i, s := range g4.PIR.Shards {
		if g3.PIR.Shards[i].KeysSHA256 == "" && (s.Bin.Name == "" || s.KeysSHA256 == "") {
			t.Errorf("shard %d had no key digest and was not processed whole: %+v", i, s)
		}
		if g3.PIR.Shards[i].KeysSHA256 != "" && s.Serve != g3.PIR.Shards[i].Serve {
			t.Errorf("shard %d with a matching key digest was not kept", i)
		}
	}
	lookupGeneration(t, g4.Generation.Dir, append([]string{"k07999.example.com", big[1]}, small...), []string{"tampered.example.com"})
}

// countIn counts the keys of ks in shard i.
func countIn(ks []string, i int, shardOf func(string) int) int {
	n := 0
	for _, k := range ks {
		if shardOf(k) == i {
			n++
		}
	}
	return n
}
