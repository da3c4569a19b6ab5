package generation_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/generation"
)

// Build a database from a domain list: prefilter, key files and one PIR
// shard, then look at what was written.
func Example() {
	dir, err := os.MkdirTemp("", "generation-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	list := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(list, []byte("ads.example.com\ntracker.example.net\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	src, err := blocklist.ParseSource("domains:" + list)
	if err != nil {
		log.Fatal(err)
	}
	res, err := generation.Build(context.Background(), filepath.Join(dir, "out"), generation.Config{
		Block:     []blocklist.Source{src},
		Tolerance: 0.001,
		PIR:       generation.PIRConfig{Shards: 1},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Keys)
	fmt.Println(res.PIR.ShardCount, "shard,", res.PIR.Keys, "keys")
	// Output:
	// [ads.example.com tracker.example.net]
	// 1 shard, 2 keys
}
