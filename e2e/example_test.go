package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/e2e"
	"github.com/blindlist/blindlist/internal/store"
)

// Example builds the demo list, serves it on loopback behind an OHTTP
// gateway and relay, and looks up two URLs as a device does.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "e2e-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	db, err := e2e.BuildDemo(ctx, filepath.Join(dir, "db"))
	if err != nil {
		panic(err)
	}
	b, err := store.OpenBolt(filepath.Join(dir, "state.db"))
	if err != nil {
		panic(err)
	}
	defer b.Close()
	key, err := privacypass.GenerateKey()
	if err != nil {
		panic(err)
	}
	ring, err := privacypass.NewKeyring([]privacypass.KeySpec{{Key: key, Tier: "tier1"}})
	if err != nil {
		panic(err)
	}
	const userToken = "ZXhhbXBsZSB1c2VyIHRva2Vu"
	stack, err := e2e.StartStack(ctx, e2e.StackConfig{
		DB:         db,
		Usecase:    "com.example.app.url.filtering",
		Keyring:    ring,
		UserTokens: map[string]string{userToken: "tier1"},
		NewStores: func(int) (store.KV, store.SpentSet, error) {
			kv, err := b.KV("evaluation-keys", store.Limits{TTL: time.Hour, MaxKeyBytes: 128, MaxValueBytes: 4 << 20})
			if err != nil {
				return nil, nil, err
			}
			spent, err := b.SpentSet(privacypass.SpentNamespace, 72*time.Hour)
			return kv, spent, err
		},
	})
	if err != nil {
		panic(err)
	}
	defer stack.Close()

	dev := stack.Device(userToken)
	for _, u := range []string{"https://www.apple.com/url-filter-test", "https://www.apple.com/"} {
		v, err := dev.Check(ctx, u)
		if err != nil {
			panic(err)
		}
		fmt.Println(u, "blocked:", v.Blocked, v.Matched)
	}
	// Output:
	// https://www.apple.com/url-filter-test blocked: true [apple.com/url-filter-test]
	// https://www.apple.com/ blocked: false []
}
