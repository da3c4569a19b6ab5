package generation

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindlist/blindlist/pir"
)

// routeInMemory is the reference routing the spill files replace: every
// shard's keys as one in-memory list, sorted, with its digest.
func routeInMemory(keys []string, shardCount int) (counts []int, digests []string) {
	var sharding pir.ShardingFunction
	perShard := make([][]string, shardCount)
	for _, k := range keys {
		s, err := sharding.ShardIndex([]byte(k), shardCount)
		if err != nil {
			panic(err)
		}
		perShard[s] = append(perShard[s], k)
	}
	for _, ks := range perShard {
		slices.Sort(ks)
		counts = append(counts, len(ks))
		digests = append(digests, keysDigest(ks, func(string) string { return PIRValue }))
	}
	return counts, digests
}

// TestRouteSpillMatchesMemory routes random key sets through the spill
// files and checks every shard's count and key digest against the
// in-memory reference, including shards left empty and keys of odd bytes.
func TestRouteSpillMatchesMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 2))
	for _, tc := range []struct{ keys, shards int }{
		{1, 1}, {10, 64}, {1000, 1}, {5000, 7}, {20000, 200},
	} {
		t.Run(fmt.Sprintf("%d keys %d shards", tc.keys, tc.shards), func(t *testing.T) {
			seen := map[string]bool{}
			var keys []string
			for len(keys) < tc.keys {
				var sb strings.Builder
				for range 1 + rng.IntN(60) {
					sb.WriteByte(byte(rng.IntN(256)))
				}
				if k := sb.String(); !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
			b := &pirBuilder{dir: t.TempDir()}
			sp, err := newShardSpill(b.dir, tc.shards)
			if err != nil {
				t.Fatal(err)
			}
			jobs, err := b.route(context.Background(), memoryKeys(keys), tc.shards, sp)
			if err != nil {
				t.Fatal(err)
			}
			counts, digests := routeInMemory(keys, tc.shards)
			for s, j := range jobs {
				if j.count != counts[s] || j.digest != digests[s] {
					t.Fatalf("shard %d: spill %d keys %s, memory %d keys %s", s, j.count, j.digest, counts[s], digests[s])
				}
			}
			if err := sp.remove(); err != nil {
				t.Fatal(err)
			}
			if left, _ := os.ReadDir(b.dir); len(left) != 0 {
				t.Fatalf("spill files left: %v", left)
			}
		})
	}
}

// TestRouteSpillDuplicate checks that a key routed twice fails the build
// with the key named, as the in-memory routing did.
func TestRouteSpillDuplicate(t *testing.T) {
	b := &pirBuilder{dir: t.TempDir()}
	sp, err := newShardSpill(b.dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.remove()
	_, err = b.route(context.Background(), memoryKeys([]string{"a.example", "b.example", "a.example"}), 3, sp)
	if err == nil || !strings.Contains(err.Error(), `"a.example" appears twice`) {
		t.Fatalf("got %v, want the duplicate named", err)
	}
}

func TestETA(t *testing.T) {
	for _, tc := range []struct {
		elapsed    time.Duration
		done, todo int
		want       string
	}{
		{0, 0, 10, "ETA unknown"},
		{10 * time.Second, 1, 10, "ETA 1m30s"},
		{90 * time.Second, 3, 4, "ETA 30s"},
		{5 * time.Second, 4, 4, "done"},
	} {
		if got := eta(tc.elapsed, tc.done, tc.todo); got != tc.want {
			t.Errorf("eta(%v, %d, %d) = %q, want %q", tc.elapsed, tc.done, tc.todo, got, tc.want)
		}
	}
}
