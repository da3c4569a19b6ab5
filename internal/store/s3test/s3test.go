// Package s3test runs a real S3-compatible server for tests: SeaweedFS's
// `weed server -s3` on loopback ports, with its data in a test directory,
// an access key of its own (so every request's SigV4 signature is checked)
// and one bucket. The server can be killed and restarted on the same ports
// and data, as an outage would.
//
// The weed binary is found as $BLINDLIST_WEED, then `weed` on PATH, then
// $HOME/.cache/blindlist/weed (where .ci/run builds it). When none exists,
// tests fail if the CI environment variable is set and skip otherwise.
package s3test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/blindlist/blindlist/internal/store/s3"
	"github.com/blindlist/blindlist/internal/store/testport"
)

// Credentials and bucket of every test server.
const (
	AccessKey = "blindlist-test"
	SecretKey = "blindlist-test-secret-key-0123456789"
	Bucket    = "blindlist-test"
	Region    = "us-east-1"
)

// startTimeout bounds the wait for the S3 endpoint to accept a bucket.
const startTimeout = 90 * time.Second

// Server is a SeaweedFS server owned by one test.
type Server struct {
	// Endpoint is the S3 base URL, "http://127.0.0.1:port".
	Endpoint string

	bin   string
	dir   string
	ports [8]int // master, volume, filer, s3 and their gRPC ports
	logf  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error
}

// Binary returns the path of the weed binary, or "" when there is none.
func Binary() string {
	if p := os.Getenv("BLINDLIST_WEED"); p != "" {
		return p
	}
	if p, err := exec.LookPath("weed"); err == nil {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "blindlist", "weed")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Start runs a fresh server for t, creates the bucket, and kills the
// server in t's cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("s3test: no weed binary ($BLINDLIST_WEED, PATH, ~/.cache/blindlist/weed), and CI is set: .ci/run builds it")
		}
		t.Skip("s3test: no weed binary ($BLINDLIST_WEED, PATH, ~/.cache/blindlist/weed); set CI to make this a failure")
	}
	s := &Server{bin: bin, dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(s.dir, "s3.json"), []byte(identities), 0o600); err != nil {
		t.Fatal(err)
	}
	s.logf = filepath.Join(s.dir, "weed.log")
	var err error
	for range 3 { // the ports picked may be taken before weed binds them
		if err = s.pickPorts(); err != nil {
			break
		}
		if err = s.Restart(); err == nil {
			break
		}
		s.Kill()
	}
	if err != nil {
		log, _ := os.ReadFile(s.logf)
		if len(log) > 4000 {
			log = log[len(log)-4000:]
		}
		t.Fatalf("s3test: %v\nweed log tail:\n%s", err, log)
	}
	t.Cleanup(s.Kill)
	return s
}

// identities is SeaweedFS's S3 identity file: one key with every right.
const identities = `{"identities":[{"name":"blindlist","credentials":[{"accessKey":"` + AccessKey +
	`","secretKey":"` + SecretKey + `"}],"actions":["Admin","Read","Write","List","Tagging"]}]}`

// pickPorts chooses the server's ports below the kernel's ephemeral range
// (package testport), so that a restart can bind them again.
func (s *Server) pickPorts() error {
	var taken []int
	for i := range s.ports {
		p, err := testport.Free(taken...)
		if err != nil {
			return fmt.Errorf("s3test: %w", err)
		}
		s.ports[i] = p
		taken = append(taken, p)
	}
	s.Endpoint = "http://127.0.0.1:" + strconv.Itoa(s.ports[3])
	return nil
}

// Restart starts the server (after Kill: on the same ports and data) and
// waits until the bucket accepts requests.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	p := func(i int) string { return strconv.Itoa(s.ports[i]) }
	logf, err := os.OpenFile(s.logf, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("s3test: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(s.bin, "server",
		"-dir="+filepath.Join(s.dir, "data"),
		"-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port="+p(0), "-master.port.grpc="+p(4),
		"-volume.port="+p(1), "-volume.port.grpc="+p(5),
		"-filer.port="+p(2), "-filer.port.grpc="+p(6),
		"-s3", "-s3.port="+p(3), "-s3.port.grpc="+p(7),
		"-s3.config="+filepath.Join(s.dir, "s3.json"),
		"-s3.port.iceberg=0", "-s3.port.lance=0", // fixed default ports, not needed
		"-master.volumeSizeLimitMB=64", "-volume.max=20",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := os.MkdirAll(filepath.Join(s.dir, "data"), 0o700); err != nil {
		return fmt.Errorf("s3test: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("s3test: starting weed: %w", err)
	}
	s.cmd, s.exited = cmd, make(chan error, 1)
	go func(c *exec.Cmd, ch chan error) { ch <- c.Wait() }(cmd, s.exited)

	c, err := s.clientLocked()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = c.CreateBucket(ctx)
		if err == nil {
			err = c.Put(ctx, ".ready", []byte("ok"))
		}
		cancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-s.exited:
			s.exited <- werr
			return fmt.Errorf("s3test: weed exited: %v (last S3 error: %v)", werr, err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("s3test: S3 endpoint %s not ready after %v: %v", s.Endpoint, startTimeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Kill kills the server with SIGKILL, as a crash would; its data stays.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Config returns a client configuration for the server's bucket.
func (s *Server) Config() s3.Config {
	return s3.Config{Endpoint: s.Endpoint, Region: Region, Bucket: Bucket, AccessKey: AccessKey, SecretKey: SecretKey,
		Timeout: 10 * time.Second}
}

// Client returns a client for the server's bucket.
func (s *Server) Client(t testing.TB) *s3.Client {
	t.Helper()
	c, err := s3.New(s.Config())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *Server) clientLocked() (*s3.Client, error) { return s3.New(s.Config()) }
