package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/internal/store"
)

const (
	testUsecase   = "com.example.app.url.filtering"
	testUserToken = "dGVzdCB1c2VyIHRva2VuIGZvciBlMmU=" // base64, as devices require
)

// testKeyring returns one issuer key for tier1, generated once per test
// binary (RSA-2048 generation is the slow part of a stack).
var testKeyring = sync.OnceValues(func() (*privacypass.Keyring, error) {
	k, err := privacypass.GenerateKey()
	if err != nil {
		return nil, err
	}
	return privacypass.NewKeyring([]privacypass.KeySpec{{Key: k, Tier: "tier1"}})
})

// demoDB builds the embedded demo list once per test.
func demoDB(t testing.TB) *Built {
	t.Helper()
	db, err := BuildDemo(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// boltStores gives each replica its own bbolt file, kept open across the
// replica's restarts: right for one replica, wrong for several.
func boltStores(t testing.TB) func(int) (store.KV, store.SpentSet, error) {
	dir := t.TempDir()
	var mu sync.Mutex
	open := map[int]*store.Bolt{}
	return func(i int) (store.KV, store.SpentSet, error) {
		mu.Lock()
		defer mu.Unlock()
		b := open[i]
		if b == nil {
			var err error
			if b, err = store.OpenBolt(filepath.Join(dir, fmt.Sprintf("state-%d.db", i))); err != nil {
				return nil, nil, err
			}
			t.Cleanup(func() { b.Close() })
			open[i] = b
		}
		kv, err := b.KV("evaluation-keys", store.Limits{TTL: time.Hour, MaxKeyBytes: 128, MaxValueBytes: 4 << 20})
		if err != nil {
			return nil, nil, err
		}
		spent, err := b.SpentSet("spent-tokens", 72*time.Hour)
		return kv, spent, err
	}
}

func startStack(t testing.TB, cfg StackConfig) *Stack {
	t.Helper()
	kr, err := testKeyring()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Keyring = kr
	cfg.Usecase = testUsecase
	cfg.UserTokens = map[string]string{testUserToken: "tier1"}
	s, err := StartStack(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}
