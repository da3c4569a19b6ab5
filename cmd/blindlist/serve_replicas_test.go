package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blindlist/blindlist/api"
	"github.com/blindlist/blindlist/internal/store/redistest"
)

// TestReplicasPrefilterOrder runs two serve replicas on loopback sharing a
// real redis-server and one build directory, as deploy/ runs them. Replica
// B looks for new generations only when told (POST /reload), so it lags:
// a key added in generation 2 must appear in the prefilter (asked of either
// replica) only once both replicas answer it.
func TestReplicasPrefilterOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server and two servers")
	}
	rs := redistest.Start(t)
	dir := t.TempDir()
	root, list := filepath.Join(dir, "db"), filepath.Join(dir, "list.txt")
	const added = "added.example.com"
	base := []string{"ads.example.com", "tracker.example.net", "malware.example.org"}
	build := func(domains ...string) {
		t.Helper()
		if err := os.WriteFile(list, []byte(strings.Join(domains, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, errs := runCLI(t, "", "build", "--source", "domains:"+list, "--no-test-identity", "--shards", "2", "--out", root); code != 0 {
			t.Fatalf("build: exit %d: %s", code, errs)
		}
	}
	build(base...)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	type replica struct{ svc, admin string }
	start := func(name, poll string) replica {
		r := replica{freeAddr(t), freeAddr(t)}
		cfg := fmt.Sprintf(`{"listen": %q, "adminListen": %q, "dataDir": %q,
			"keyStore": {"backend": "redis", "redisAddr": %q},
			"privacyPass": {"disabled": true},
			"limits": {"drainDelay": "0s"},
			"vendors": [{"name": "v", "usecases": [{"name": %q, "directory": %q, "shardCount": 2}]}]}`,
			r.svc, r.admin, filepath.Join(dir, "state-"+name), rs.Addr, wiringUsecase, root)
		path := filepath.Join(dir, name+".json")
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		wg.Go(func() {
			code := run(ctx, []string{"serve", "--config", path, "--generation-poll", poll}, strings.NewReader(""), io.Discard, &stderr)
			if ctx.Err() == nil {
				t.Errorf("replica %s exited early with %d: %s", name, code, stderr.String())
			}
		})
		waitHTTP(t, "http://"+r.svc+"/readyz")
		return r
	}
	a := start("a", "100ms")
	b := start("b", "1h") // lags: reloads only on POST /reload

	prefilter := func(r replica) api.PrefilterMetadata {
		t.Helper()
		resp, err := http.Get("http://" + r.svc + "/prefilter/" + wiringUsecase)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m api.PrefilterMetadata
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&m) != nil {
			t.Fatalf("prefilter from %s: %d", r.svc, resp.StatusCode)
		}
		return m
	}
	// deny reports whether replica r answers "deny" for host, through
	// real PIR queries (no prefilter: every sub-URL is looked up).
	deny := func(r replica, host string) bool {
		t.Helper()
		code, stdout, errs := runCLI(t, "", "query", "--service", "http://"+r.svc, "--usecase", wiringUsecase, "--no-tokens", "--json", "https://"+host+"/")
		if code != 0 {
			t.Fatalf("query %s: exit %d: %s", r.svc, code, errs)
		}
		var v verdictJSON
		if err := json.Unmarshal([]byte(stdout), &v); err != nil {
			t.Fatalf("query output %q: %v", stdout, err)
		}
		return v.Verdict == "deny"
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// Both announced generation 1 (the prefilter offered from either).
	waitFor("both replicas to announce", func() bool { return prefilter(a).Generation == "000001" && prefilter(b).Generation == "000001" })

	build(append(base, added)...)
	waitFor("replica A to serve generation 2", func() bool { return deny(a, added) })
	if deny(b, added) {
		t.Fatal("replica B answers the added key before it reloaded")
	}
	// A serves generation 2, B does not: the prefilter stays at 1, from
	// both replicas, and lacks the added key.
	for range 3 {
		for _, r := range []replica{a, b} {
			if m := prefilter(r); m.Generation != "000001" {
				t.Fatalf("prefilter from %s offers generation %s while replica B serves 1", r.svc, m.Generation)
			}
		}
		time.Sleep(api.ReplicaTTL / 10)
	}

	resp, err := http.Post("http://"+b.admin+"/reload", "", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /reload on B: %v %v", err, resp)
	}
	resp.Body.Close()
	waitFor("the prefilter to move to generation 2", func() bool { return prefilter(a).Generation == "000002" })
	if !deny(a, added) || !deny(b, added) {
		t.Fatal("generation 2's prefilter is offered but a replica does not answer its added key")
	}

	// A removal needs no wait: generation 3 drops a key; A offers it at
	// once although B still serves generation 2.
	build(base[1:]...)
	waitFor("the prefilter to move to generation 3", func() bool { return prefilter(a).Generation == "000003" })
	if !deny(b, base[0]) {
		t.Error("replica B was expected to still serve generation 2")
	}
}
