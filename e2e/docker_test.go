package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// TestDocker builds the images without a registry (deploy/build-images.sh),
// starts deploy/compose.yaml as docs/deploy.md §3 documents, and plays
// devices against it from this host; then it injects faults at the
// container level, each bounded in time and asserted. The images are built
// once for all the subtests, which run in order on one stack.
//
// Fault durations scale with BLINDLIST_E2E_FAULT (default 8s of load per
// fault).
func TestDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("Docker topology skipped in -short mode")
	}
	compose := dockerTools(t)
	im := buildImages(t)
	c := startCompose(t, compose, im)
	ctx := context.Background()
	faultLoad := envDuration(t, "BLINDLIST_E2E_FAULT", 8*time.Second)

	t.Run("image", func(t *testing.T) {
		// FROM scratch: the binary, /etc/passwd, /etc/group, the state
		// directory; a numeric non-root user.
		id := c.container("service-a")
		if u := c.inspect(id, "{{.Config.User}}"); u != "65532:65532" {
			t.Errorf("image user %q, want 65532:65532", u)
		}
		files := run(t, time.Minute, nil, "sh", "-c", "docker export "+id+" | tar -t")
		for _, want := range []string{"usr/local/bin/blindlist", "etc/passwd", "var/lib/blindlist/"} {
			if !strings.Contains("\n"+files+"\n", "\n"+want+"\n") {
				t.Errorf("image lacks %s", want)
			}
		}
		for _, f := range strings.Fields(files) {
			if strings.HasPrefix(f, "bin/") || strings.HasPrefix(f, "lib/") || strings.HasPrefix(f, "etc/ssl/") || strings.HasPrefix(f, "usr/share/zoneinfo/") {
				t.Errorf("scratch image holds %s: want no shell, libraries, CA bundle or zoneinfo", f)
			}
		}
		if u := c.inspect(c.container("redis"), "{{.Config.User}}"); u != "999:999" {
			t.Errorf("Redis image user %q, want 999:999", u)
		}
	})

	t.Run("query through relay and gateway", func(t *testing.T) {
		// The command docs/deploy.md §3 shows, with this stack's ports.
		out := run(t, 2*time.Minute, nil, im.Bin, "query", "--json",
			"--relay", fmt.Sprintf("http://127.0.0.1:%d/relay", c.relayPort),
			"--gateway", fmt.Sprintf("http://127.0.0.1:%d", c.gatewayPort),
			"--service", "https://service.localhost", "--issuer", "https://issuer.localhost",
			"--directory", fmt.Sprintf("http://127.0.0.1:%d", c.issuerPortA),
			"--usecase", testUsecase, "--token-file", filepath.Join(c.secrets, "user-token"),
			"--prefilter", c.dbDir,
			"https://www.apple.com/url-filter-test", "https://tracker.example.net/pixel",
			"https://www.example.net/malware/x", "https://www.example.net/", "https://unlisted.example.org/page")
		want := []bool{true, true, true, false, false}
		dec := json.NewDecoder(strings.NewReader(out))
		for i := 0; ; i++ {
			var v struct {
				URL     string `json:"url"`
				Verdict string `json:"verdict"`
			}
			if err := dec.Decode(&v); err != nil {
				if i != len(want) {
					t.Fatalf("%d verdicts, want %d: %v\n%s", i, len(want), err, out)
				}
				break
			}
			if i >= len(want) || v.Verdict != map[bool]string{true: "deny", false: "allow"}[want[i]] {
				t.Errorf("verdict %d %s: %q, want blocked=%v", i, v.URL, v.Verdict, want[i])
			}
		}
	})

	t.Run("probes", func(t *testing.T) {
		// What kubelet asks (k8s/*-deployment.yaml): liveness /healthz and
		// readiness /readyz on the admin port of each replica, on the public
		// port of the gateway; Docker's health checks use the same URLs.
		for _, svc := range []string{"service-a", "service-b"} {
			ip := c.ip(svc)
			for _, path := range []string{"/healthz", "/readyz"} {
				if code, err := httpStatus("http://" + ip + ":9090" + path); err != nil || code != http.StatusOK {
					t.Errorf("%s %s: %d, %v", svc, path, code, err)
				}
			}
			if h := c.inspect(c.container(svc), "{{.State.Health.Status}}"); h != "healthy" {
				t.Errorf("%s health %q", svc, h)
			}
		}
		gw := c.ip("gateway")
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, err := httpStatus("http://" + gw + ":8080" + path); err != nil || code != http.StatusOK {
				t.Errorf("gateway %s: %d, %v", path, code, err)
			}
		}
		// SIGTERM (what kubelet sends): readiness fails at once while
		// liveness holds and calls are still answered for the drain delay.
		id := c.container("service-b")
		ip := c.networkIP(id)
		run(t, time.Minute, nil, "docker", "kill", "--signal=TERM", id)
		deadline := time.Now().Add(4 * time.Second) // inside the 5 s drain delay
		sawDraining := false
		for time.Now().Before(deadline) && !sawDraining {
			ready, _ := httpStatus("http://" + ip + ":9090/readyz")
			live, _ := httpStatus("http://" + ip + ":9090/healthz")
			cfg, _ := httpStatus("http://" + ip + ":8080/.well-known/private-token-issuer-directory")
			sawDraining = ready == http.StatusServiceUnavailable && live == http.StatusOK && cfg == http.StatusOK
			time.Sleep(50 * time.Millisecond)
		}
		if !sawDraining {
			t.Error("after SIGTERM: want /readyz 503 with /healthz 200 and calls answered during the drain")
		}
		c.waitExited(id, 30*time.Second)
		c.ensureStarted("service-b")
		c.waitHealthy("service-b", time.Minute)
	})

	t.Run("kill a replica under load", func(t *testing.T) {
		var st loadStats
		lctx, cancel := context.WithTimeout(ctx, faultLoad)
		defer cancel()
		done := make(chan struct{})
		go func() {
			runLoad(lctx, c.device, 4, 2*time.Second, &st)
			close(done)
		}()
		since := time.Now()
		time.Sleep(faultLoad / 4)
		// The gateway keeps its connections to the replicas alive, and
		// Docker's DNS only spreads new connections, so the calls may all
		// go to one replica: kill the busier one, so the calls in flight
		// and the next ones must go to the other.
		victim, calls := "", 0
		for _, svc := range []string{"service-a", "service-b"} {
			if n := c.apiCalls(c.container(svc), since); n >= calls {
				victim, calls = svc, n
			}
		}
		if calls == 0 {
			t.Fatal("no replica served a call under load")
		}
		id := c.container(victim)
		run(t, time.Minute, nil, "docker", "kill", id) // SIGKILL: a crash
		t.Logf("%s (%s, %d calls so far) killed", victim, id[:12], calls)
		time.Sleep(faultLoad / 4)
		// docker kill is a manual stop: no restart policy applies. The
		// orchestrator (kubelet, or here the test) starts it again.
		run(t, time.Minute, nil, "docker", "start", id)
		<-done
		c.waitHealthy(victim, time.Minute)
		t.Logf("replica killed under load, 4 devices: %s; first-attempt errors %v", &st, st.errs)
		if st.lookups == 0 || st.lost != 0 || st.wrong != 0 {
			t.Errorf("want lookups, none lost after the device's retry, no wrong verdict: %s", &st)
		}
	})

	t.Run("Redis cut from a replica", func(t *testing.T) {
		b := c.container("service-b")
		bAddr := c.networkIP(b) + ":8080"
		aAddr := c.ip("service-a") + ":8080"
		dev := c.device()
		toks, err := dev.FetchTokens(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		store := c.project + "_store"
		run(t, time.Minute, nil, "docker", "network", "disconnect", store, b)
		reconnected := false
		defer func() {
			if !reconnected {
				tryRun(time.Minute, nil, "docker", "network", "connect", store, b)
			}
		}()
		// Fails closed, fast: 503 with Retry-After, within the deadline,
		// never a spend accepted without Redis and never an "allow".
		status, retryAfter := configCall(t, bAddr, toks[0], 20*time.Second)
		if status != http.StatusServiceUnavailable || retryAfter == "" {
			t.Errorf("token spend on the replica cut from Redis: %d (Retry-After %q), want 503 with Retry-After", status, retryAfter)
		}
		lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err = c.directDevice(bAddr).Check(lctx, "https://www.apple.com/url-filter-test")
		cancel()
		var se *StatusError
		if !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable {
			t.Errorf("lookup on the replica cut from Redis: %v, want a 503 (fail closed)", err)
		}
		// The other replica is unaffected.
		if status, _ := configCall(t, aAddr, toks[1], 20*time.Second); status != http.StatusOK {
			t.Errorf("the replica still on Redis: %d, want 200", status)
		}
		run(t, time.Minute, nil, "docker", "network", "connect", store, b)
		reconnected = true
		// Recovers without a restart.
		deadline := time.Now().Add(30 * time.Second)
		for {
			v, err := c.directDevice(bAddr).Check(ctx, "https://www.apple.com/url-filter-test")
			if err == nil && v.Blocked {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica did not recover within 30s of the reconnection: %v", err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	})

	t.Run("Redis restart keeps keys and spent tokens", func(t *testing.T) {
		dev := c.device()
		v, err := dev.Check(ctx, "https://www.apple.com/url-filter-test")
		if err != nil || !v.Blocked || v.Sizes.KeyBytes == 0 {
			t.Fatalf("first lookup: %+v, %v; want blocked with a key upload", v, err)
		}
		toks, err := dev.FetchTokens(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		aAddr, bAddr := c.ip("service-a")+":8080", c.ip("service-b")+":8080"
		if status, _ := configCall(t, aAddr, toks[0], 20*time.Second); status != http.StatusOK {
			t.Fatalf("first spend: %d", status)
		}
		run(t, 2*time.Minute, nil, "docker", "restart", "--time=10", c.container("redis"))
		// The device's next lookups: the key uploaded before the restart
		// is still there (no second upload), once the replicas reconnect.
		deadline := time.Now().Add(30 * time.Second)
		for {
			v, err = dev.Check(ctx, "https://tracker.example.net/pixel")
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no lookup succeeded within 30s of the Redis restart: %v", err)
			}
			time.Sleep(500 * time.Millisecond)
		}
		if !v.Blocked || v.Sizes.KeyBytes != 0 {
			t.Errorf("after the Redis restart: blocked %v, uploaded %d key bytes; want blocked with the kept key", v.Blocked, v.Sizes.KeyBytes)
		}
		if status, _ := configCall(t, bAddr, toks[0], 20*time.Second); status != http.StatusUnauthorized {
			t.Errorf("token spent before the Redis restart, replayed: %d, want 401", status)
		}
	})

	t.Run("rolling replacement with a new image and a new list", func(t *testing.T) {
		const added = "https://rolled.example.com/"
		// The new generation: the demo list plus one domain, written by the
		// build job into the database directory (renames over the files).
		src := t.TempDir()
		demo, err := os.ReadFile(filepath.Join(repoRoot(t), "blocklist", "demo.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, "list.txt"), append(demo, "\nrolled.example.com\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		var st loadStats
		lctx, cancel := context.WithTimeout(ctx, time.Hour) // ended below
		defer cancel()
		done := make(chan struct{})
		go func() {
			runLoad(lctx, c.device, 4, 2*time.Second, &st)
			close(done)
		}()
		time.Sleep(faultLoad / 4)
		c.run(5*time.Minute, nil, "run", "--rm", "--no-deps", "-v", src+":/srv/src:ro",
			"build", "build", "--source=/srv/src/list.txt", "--shards=1", "--out=/srv/db")
		// Reload the running replicas first (SIGHUP): each keeps the
		// previous configuration for devices holding it, so a device is
		// never bounced between two replicas that know disjoint versions.
		for _, svc := range []string{"service-a", "service-b"} {
			id := c.container(svc)
			run(t, time.Minute, nil, "docker", "kill", "--signal=HUP", id)
			c.waitBlocked(c.networkIP(id)+":8080", added, 30*time.Second)
		}
		// Then replace each replica with the new image, one at a time,
		// waiting for the new one's readiness (maxUnavailable 0 in k8s).
		for _, svc := range []string{"service-a", "service-b"} {
			old := c.container(svc)
			c.run(5*time.Minute, []string{"BLINDLIST_IMAGE=" + im.Next}, "up", "-d", "--no-deps", svc)
			id := c.waitHealthy(svc, time.Minute)
			if id == old {
				t.Fatalf("%s was not recreated", svc)
			}
			if img := c.inspect(id, "{{.Config.Image}}"); img != im.Next {
				t.Errorf("%s runs %s, want %s", svc, img, im.Next)
			}
		}
		time.Sleep(faultLoad / 4)
		cancel()
		<-done
		t.Logf("new list and rolling replacement under load, 4 devices: %s; first-attempt errors %v", &st, st.errs)
		if st.lookups == 0 || st.lost != 0 || st.wrong != 0 {
			t.Errorf("want lookups, none lost after the device's retry, no wrong verdict: %s", &st)
		}
		// A device that starts now sees the new list through the gateway.
		dev := c.device()
		dev.Prefilter = nil // the new prefilter ships to apps after the database
		v, err := dev.Check(ctx, added)
		if err != nil || !v.Blocked {
			t.Errorf("%s after the rollout: %+v, %v; want blocked", added, v, err)
		}
	})
}

// apiCalls counts the calls a replica logged since t (one "api call"
// line per call: endpoint, status, duration and sizes, nothing about the
// device).
func (c *composeStack) apiCalls(id string, t time.Time) int {
	c.t.Helper()
	out, err := tryRun(time.Minute, nil, "sh", "-c", "docker logs --since "+t.UTC().Format(time.RFC3339Nano)+" "+id+" 2>&1")
	if err != nil {
		c.t.Fatal(err)
	}
	return strings.Count(out, `msg="api call"`)
}

// waitBlocked polls a replica directly until url is blocked.
func (c *composeStack) waitBlocked(addr, url string, within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		dev := c.directDevice(addr)
		v, err := dev.Check(context.Background(), url)
		if err == nil && v.Blocked {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: %s not blocked within %s: %v", addr, url, within, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// waitExited waits until the container has stopped.
func (c *composeStack) waitExited(id string, within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if s := c.inspect(id, "{{.State.Status}}"); s == "exited" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.t.Fatalf("container %s still running %s after SIGTERM", id, within)
}

// ensureStarted starts the service's container unless the restart policy
// already did.
func (c *composeStack) ensureStarted(service string) {
	c.t.Helper()
	id := c.container(service)
	if c.inspect(id, "{{.State.Running}}") != "true" {
		run(c.t, time.Minute, nil, "docker", "start", id)
	}
}

// configCall spends token on one /config call at addr (a replica's own
// address, not through the gateway) and returns the status and the
// Retry-After header.
func configCall(t *testing.T, addr string, token []byte, timeout time.Duration) (int, string) {
	t.Helper()
	body, err := proto.Marshal(&apipb.ConfigRequest{Usecases: []string{testUsecase}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/config", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "service.localhost"
	req.Header.Set("Authorization", privacypass.Authorization(token))
	req.Header.Set("User-Agent", DefaultUserAgent)
	req.Header.Set("User-Identifier", "docker-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("/config at %s: %v", addr, err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}
