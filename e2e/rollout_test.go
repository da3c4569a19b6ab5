package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestRollout publishes new databases on both replicas while devices hold
// the old configuration (client-spec §7 row 2, pir-spec §8.5): the previous
// configuration keeps answering, a device that refreshes sees the new
// entries, and a device still on an evicted configuration gets 410, drops
// its state and succeeds on retry.
func TestRollout(t *testing.T) {
	ctx := context.Background()
	demo, err := BuildDemo(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Each version adds keys, enough to change the shard shape and hence
	// the configuration id (which depends on parameters, not on data).
	version := func(extra int) *Built {
		keys := append([]string{}, demo.Keys...)
		for i := range extra {
			keys = append(keys, fmt.Sprintf("v%d-%d.example.com", extra, i))
		}
		keys = append(keys, fmt.Sprintf("new%d.example.com", extra))
		db, err := BuildKeys(ctx, keys, t.TempDir(), BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	s := startStack(t, StackConfig{DB: demo, Replicas: 2, NewStores: redisStores(startRedis(t).client(t), "rollout:")})
	newDevice := func() *Device {
		d := s.Device(testUserToken)
		d.Prefilter = nil // the app's prefilter ships after the database (onboarding.md §9)
		return d
	}
	check := func(d *Device, url string, want bool) {
		t.Helper()
		v, err := d.Check(ctx, url)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if v.Blocked != want {
			t.Fatalf("%s: blocked %v, want %v", url, v.Blocked, want)
		}
	}

	pinned, refreshed := newDevice(), newDevice()
	check(pinned, "https://www.apple.com/url-filter-test", true)
	check(refreshed, "https://www.apple.com/url-filter-test", true)

	v2 := version(500)
	if err := s.Rollout(ctx, v2); err != nil {
		t.Fatal(err)
	}
	// Still on the first configuration: answered from the kept version.
	check(pinned, "https://new500.example.com/", false)
	// refreshPIRParameters(): the new configuration and its entries.
	refreshed.Forget()
	check(refreshed, "https://new500.example.com/", true)

	if err := s.Rollout(ctx, version(1500)); err != nil {
		t.Fatal(err)
	}
	// The first configuration is evicted (two versions kept): 410 Gone.
	_, err = pinned.Check(ctx, "https://new1500.example.com/")
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusGone {
		t.Fatalf("device on an evicted configuration: %v, want 410", err)
	}
	check(pinned, "https://new1500.example.com/", true) // the retry refetches /config
	// The second configuration is still answerable.
	check(refreshed, "https://www.apple.com/url-filter-test", true)
}

// TestRolloutUnderLoad publishes two new databases on both replicas while
// four devices look URLs up: no lookup may be lost after one retry (the
// second rollout evicts the first configuration, so devices still on it
// get 410 and retry after refreshing).
func TestRolloutUnderLoad(t *testing.T) {
	ctx := context.Background()
	d := envDuration(t, "BLINDLIST_E2E_LOAD", time.Second) * 2
	demo := demoDB(t)
	var versions []*Built
	for _, extra := range []int{500, 1500} {
		keys := append([]string{}, demo.Keys...)
		for i := range extra {
			keys = append(keys, fmt.Sprintf("load%d-%d.example.com", extra, i))
		}
		db, err := BuildKeys(ctx, keys, t.TempDir(), BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, db)
	}
	s := startStack(t, StackConfig{DB: demo, Replicas: 2, NewStores: redisStores(startRedis(t).client(t), "rollout-load:")})
	lctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var st loadStats
	done := make(chan struct{})
	go func() {
		runLoad(lctx, stackDevice(s), 4, 50*time.Millisecond, &st)
		close(done)
	}()
	for i, db := range versions {
		time.Sleep(d / 3)
		if err := s.Rollout(ctx, db); err != nil {
			t.Fatal(err)
		}
		t.Logf("rollout %d published", i+1)
	}
	<-done
	t.Logf("rollouts under load: %s; first-attempt errors %v", &st, st.errs)
	if st.lookups == 0 || st.lost != 0 || st.wrong != 0 {
		t.Errorf("want lookups, none lost after retry and no wrong verdict: %s", &st)
	}
}
