package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/blindlist/blindlist/internal/store"
)

// redisProc is a redis-server this test can kill and restart on the same
// port, with an append-only file fsynced on every write, so a restart after
// a crash (SIGKILL) keeps every acknowledged key and nonce, as the
// production configuration in deploy/ does.
type redisProc struct {
	t    testing.TB
	bin  string
	dir  string
	Addr string
	cmd  *exec.Cmd
}

func startRedis(t testing.TB) *redisProc {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is required in CI")
		}
		t.Skip("redis-server not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := &redisProc{t: t, bin: bin, dir: t.TempDir(), Addr: addr}
	r.Start()
	t.Cleanup(r.Kill)
	return r
}

// Start runs the server and waits until it answers.
func (r *redisProc) Start() {
	r.t.Helper()
	_, port, _ := net.SplitHostPort(r.Addr)
	r.cmd = exec.Command(r.bin, "--port", port, "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server on %s did not answer: %v", r.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the server abruptly, as a crash does.
func (r *redisProc) Kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

// client returns a client configured as `blindlist serve` configures its
// own (short timeouts, no retries), closed at the end of the test.
func (r *redisProc) client(t testing.TB) *redis.Client {
	c := redis.NewClient(store.RedisClientOptions(r.Addr, ""))
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRedisOutage crashes Redis (SIGKILL) under a running replica and
// restarts it on the same append-only file. While it is down the service
// fails closed and says so: token-checked calls answer 503 with a
// Retry-After header (not 500), /readyz answers 503 and /healthz stays ok;
// a token refused during the outage is not burnt. When Redis is back,
// /readyz recovers by itself, the evaluation key uploaded before the
// crash is still used (no new upload) and the token spent before it is
// still refused.
func TestRedisOutage(t *testing.T) {
	rp := startRedis(t)
	r := store.NewRedis(rp.client(t), "outage:")
	s := startStack(t, StackConfig{DB: demoDB(t), NewStores: redisStoresOf(r), Ready: r.Check})
	ctx := context.Background()
	addr := s.Replicas[0].Addr()
	dev := s.DirectDevice(0, testUserToken)
	if v, err := dev.Check(ctx, "https://www.apple.com/url-filter-test"); err != nil || v.Sizes.KeyBytes == 0 {
		t.Fatalf("before the outage: %+v, %v; want a lookup with a key upload", v, err)
	}
	toks, err := dev.FetchTokens(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if code := postConfig(t, addr, toks[0]); code != http.StatusOK {
		t.Fatalf("first use of a token: %d", code)
	}

	rp.Kill()
	for i := range 3 {
		resp := postConfigResponse(t, addr, toks[1])
		ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != http.StatusServiceUnavailable || err != nil || ra < 1 {
			t.Fatalf("call %d with Redis down: %d, Retry-After %q; want 503 with a positive Retry-After",
				i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if code, _ := probe(t, addr, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with Redis down: %d, want 503", code)
	}
	if code, _ := probe(t, addr, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz with Redis down: %d, want 200 (liveness)", code)
	}

	rp.Start()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, _ := probe(t, addr, "/readyz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never recovered after Redis came back: %d", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := postConfig(t, addr, toks[0]); code != http.StatusUnauthorized {
		t.Errorf("token spent before the crash, replayed after it: %d, want 401", code)
	}
	if code := postConfig(t, addr, toks[1]); code != http.StatusOK {
		t.Errorf("token refused during the outage, used after it: %d, want 200 (a 503 must not burn it)", code)
	}
	v, err := dev.Check(ctx, "https://tracker.example.net/pixel")
	if err != nil || !v.Blocked || v.Sizes.KeyBytes != 0 {
		t.Errorf("after the restart: %+v, %v; want blocked with the key stored before the crash (no upload)", v, err)
	}
}

// probe GETs path on a replica and returns the status and body.
func probe(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
