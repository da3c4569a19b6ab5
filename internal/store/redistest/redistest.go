// Package redistest starts a real redis-server for tests: a private process on
// a free loopback port, with persistence off ([Start]) or an append-only file
// fsynced on every write ([StartPersistent]), killed when the test ends.
// Fault tests kill it ([Server.Kill]) and start it again on the same port
// and data directory ([Server.Restart]).
//
// When redis-server is not installed, tests fail if the CI environment
// variable is set (CI must run the Redis tests) and skip otherwise.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/blindlist/blindlist/internal/store/testport"
)

// Server is a running redis-server owned by one test.
type Server struct {
	// Addr is the server's host:port on 127.0.0.1.
	Addr string

	bin  string
	args []string
	stop func()
}

// startTimeout bounds the wait for the server's first PONG.
const startTimeout = 10 * time.Second

// Start runs a fresh redis-server for t and stops it in t's cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	return startWith(t, "--save", "", "--appendonly", "no")
}

// StartPersistent is [Start] with the production persistence of deploy/:
// an append-only file fsynced on every write, so a killed server restarts
// with every acknowledged write.
func StartPersistent(t testing.TB) *Server {
	t.Helper()
	return startWith(t, "--save", "", "--appendonly", "yes", "--appendfsync", "always")
}

func startWith(t testing.TB, persistence ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redistest: redis-server not found on PATH, and CI is set: install it (.ci/run does)")
		}
		t.Skip("redistest: redis-server not found on PATH (set CI to make this a failure)")
	}
	// Picking a free port then starting the server races with other
	// processes; retry a few times when the server does not come up.
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", t.TempDir()}, persistence...)
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), bin: bin, args: args}
		if err = s.start(); err == nil {
			t.Cleanup(s.Kill)
			return s
		}
		lastErr = err
	}
	t.Fatalf("redistest: %v", lastErr)
	return nil
}

// Kill stops the server with SIGKILL, as a crash does. Killing a stopped
// server does nothing.
func (s *Server) Kill() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}

// Restart starts the killed server again on its address and data
// directory.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Kill()
	var err error
	// The kernel may hold the port briefly after the kill.
	for range 50 {
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("redistest: restarting: %v", err)
}

func (s *Server) start() error {
	cmd := exec.Command(s.bin, s.args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			break
		}
		select {
		case werr := <-exited:
			exited <- werr
			stop()
			return fmt.Errorf("redis-server on %s exited: %v", s.Addr, werr)
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("redis-server on %s did not answer PING: %v", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stop = stop
	return nil
}

// freePort returns an unused loopback port below the kernel's ephemeral
// range (package testport), so that a restart can bind it again.
func freePort() (int, error) {
	return testport.Free()
}

// Client returns a go-redis client for s, closed in t's cleanup.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
