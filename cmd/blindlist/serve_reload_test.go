package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/blindlist/blindlist/api"
	"github.com/blindlist/blindlist/internal/store"
	"github.com/blindlist/blindlist/internal/testvec"
)

// TestServeConcurrentReload fires POST /reload at the admin listener from
// several goroutines at once (as SIGHUP, the hourly rotation and an operator
// can): every reload succeeds and, under -race, none races on the
// configuration, tiers or keyring the reloads replace.
func TestServeConcurrentReload(t *testing.T) {
	state := t.TempDir()
	p := startServe(t, "--db", testvec.Path(t, "pir", "A"), "--usecase", serveTestUsecase,
		"--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--state", state)
	re := regexp.MustCompile(`blindlist: admin on http://(\S+)`)
	var admin string
	for deadline := time.Now().Add(10 * time.Second); admin == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(p.stderr.String()); m != nil {
			admin = m[1]
		}
	}
	if admin == "" {
		t.Fatalf("no admin address in %q", p.stderr.String())
	}
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := http.Post("http://"+admin+"/reload", "", nil)
			if err != nil {
				errs[i] = err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs[i] = fmt.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent reloads: %v\n%s", err, p.stderr.String())
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("serve exited %d: %s", code, p.stderr.String())
	}
}

// TestServeSweepsBolt checks that serve's sweep removes expired evaluation
// keys and spent tokens from the bbolt file, which keeps every entry until
// swept (formerly nothing swept, so the file grew with every token ever
// redeemed).
func TestServeSweepsBolt(t *testing.T) {
	fc := &api.FileConfig{
		KeyStore: api.KeyStoreConfig{Path: filepath.Join(t.TempDir(), "keys.db"), TTL: api.Duration(time.Millisecond), MaxKeyBytes: 1 << 10},
		PrivacyPass: api.PrivacyPassConfig{
			KeyLifetime: api.Duration(time.Millisecond), KeyOverlap: api.Duration(time.Millisecond),
		},
	}
	s := &service{fc: fc}
	defer func() {
		for _, c := range s.closers {
			c()
		}
	}()
	kv, spent, err := s.openStores()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		if err := kv.Put(ctx, []byte{'k', byte(i)}, []byte("key")); err != nil {
			t.Fatal(err)
		}
		if _, err := spent.MarkSpent(ctx, []byte{'t', byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(10 * time.Millisecond)
	n, err := s.sweep(ctx)
	if err != nil || n != 6 {
		t.Fatalf("sweep removed %d entries (%v), want 6", n, err)
	}
	if _, err := kv.Get(ctx, []byte{'k', 0}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("swept key: %v", err)
	}
	if n, err := s.sweep(ctx); err != nil || n != 0 {
		t.Errorf("second sweep removed %d (%v), want 0", n, err)
	}
}
