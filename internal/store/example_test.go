package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/blindlist/blindlist/internal/store"
)

// Example keeps spent nonces and an evaluation key in a bbolt file.
func Example() {
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := store.OpenBolt(filepath.Join(dir, "blindlist.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()

	spent, err := db.SpentSet("tokens", 48*time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	first, _ := spent.MarkSpent(ctx, []byte("nonce-1"))
	again, _ := spent.MarkSpent(ctx, []byte("nonce-1"))
	fmt.Println(first, again)

	keys, err := db.KV("evaluation-keys", store.Limits{TTL: 30 * 24 * time.Hour, MaxKeyBytes: 256, MaxValueBytes: 10 << 20})
	if err != nil {
		log.Fatal(err)
	}
	if err := keys.Put(ctx, []byte("user/config-hash"), []byte("key bytes")); err != nil {
		log.Fatal(err)
	}
	v, err := keys.Get(ctx, []byte("user/config-hash"))
	fmt.Println(string(v), err)
	// Output:
	// false true
	// key bytes <nil>
}
