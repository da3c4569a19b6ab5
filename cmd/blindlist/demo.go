package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/blocklist"
	"github.com/blindlist/blindlist/e2e"
	"github.com/blindlist/blindlist/internal/store"
)

const demoUsage = `Usage: blindlist demo [--out DIR] [URL...]

Run the whole system once, on loopback, with nothing from outside:
  1. compile the built-in demo list into the prefilter and the PIR database (in --out,
     or a temporary directory removed at the end);
  2. start the PIR service with its Privacy Pass issuer, an OHTTP gateway in front of it
     and a relay in front of the gateway;
  3. look up a few URLs as a device does (or the URLs given) and print each verdict
     with its timings: blocked ones, and allowed ones the prefilter or PIR lets through;
  4. stop everything and exit.

Flags:
  --out DIR    keep the built files in DIR (default: a temporary directory)
  --json       print one JSON object per URL on stdout

Examples:
  blindlist demo
  blindlist demo https://ads.example.com/x https://www.example.org/
`

// demoURLs are looked up when no URL is given: blocked by a listed domain,
// by a parent domain, by a path prefix and by Apple's onboarding test key,
// then two allowed ones.
var demoURLs = []string{
	"https://www.apple.com/url-filter-test",
	"https://ads.example.com/banner.js",
	"https://cdn.ads.example.com/x/y?z=1",
	"https://www.example.net/malware/dropper",
	"https://www.example.net/",
	"https://www.apple.com/",
}

func runDemo(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	out := fs.String("out", "", "")
	asJSON := fs.Bool("json", false, "")
	urls, code, ok := parseArgs(e, fs, demoUsage, args)
	if !ok {
		return code
	}
	if len(urls) == 0 {
		urls = demoURLs
	}
	// Refuse a bad URL before spending seconds on building and serving.
	for _, u := range urls {
		if _, err := blocklist.SubURLs(u); err != nil {
			return e.usagef("demo", "%v", err)
		}
	}
	dir := *out
	if dir == "" {
		tmp, err := os.MkdirTemp("", "blindlist-demo-")
		if err != nil {
			return e.errorf("%v", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}

	t0 := time.Now()
	db, err := e2e.BuildDemo(ctx, filepath.Join(dir, "db"))
	if err != nil {
		return e.errorf("%v", err)
	}
	fmt.Fprintf(e.stderr, "built %d keys into %s (prefilter %d bits, %d PIR shard) in %s\n",
		len(db.Keys), db.Dir, db.Prefilter.Params().BitCount, db.ShardCount, round(time.Since(t0)))

	stack, userToken, stop, err := startDemoStack(ctx, db, filepath.Join(dir, "state"))
	if err != nil {
		return e.errorf("%v", err)
	}
	defer stop()
	fmt.Fprintf(e.stderr, "serving on loopback: relay %s -> gateway %s -> service %s\n", stack.RelayURL, stack.GatewayURL, stack.BalancerURL)

	dev := stack.Device(userToken)
	for _, u := range urls {
		v, err := dev.Check(ctx, u)
		if err != nil {
			return e.errorf("%s: %v", u, err)
		}
		if *asJSON {
			if err := writeVerdictJSON(e.stdout, v); err != nil {
				return e.errorf("%v", err)
			}
			continue
		}
		printVerdict(e.stdout, v)
	}
	return 0
}

// startDemoStack starts one replica with a bbolt store under stateDir, a
// fresh issuer key and a fresh user token. stop closes everything.
func startDemoStack(ctx context.Context, db *e2e.Built, stateDir string) (s *e2e.Stack, userToken string, stop func(), err error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, "", nil, err
	}
	b, err := store.OpenBolt(filepath.Join(stateDir, "state.db"))
	if err != nil {
		return nil, "", nil, err
	}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	key, err := privacypass.GenerateKey()
	if err != nil {
		return nil, "", nil, err
	}
	ring, err := privacypass.NewKeyring([]privacypass.KeySpec{{Key: key, Tier: "demo"}})
	if err != nil {
		return nil, "", nil, err
	}
	var tok [24]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, "", nil, err
	}
	userToken = base64.StdEncoding.EncodeToString(tok[:])
	s, err = e2e.StartStack(ctx, e2e.StackConfig{
		DB:      db,
		Usecase: "com.example.app.url.filtering",
		NewStores: func(int) (store.KV, store.SpentSet, error) {
			kv, err := b.KV("evaluation-keys", store.Limits{TTL: time.Hour, MaxKeyBytes: 128, MaxValueBytes: 4 << 20})
			if err != nil {
				return nil, nil, err
			}
			spent, err := b.SpentSet(privacypass.SpentNamespace, 72*time.Hour)
			return kv, spent, err
		},
		Keyring:    ring,
		UserTokens: map[string]string{userToken: "demo"},
	})
	if err != nil {
		return nil, "", nil, err
	}
	return s, userToken, func() { s.Close(); b.Close() }, nil
}
