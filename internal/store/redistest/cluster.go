package redistest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/blindlist/blindlist/internal/store/testport"
)

// Cluster is a real Redis Cluster owned by one test: masters × (1 +
// replicasPerMaster) redis-server processes in cluster mode on loopback,
// joined by `redis-cli --cluster create`, killed when the test ends.
type Cluster struct {
	// Addrs are the nodes' host:port, in start order.
	Addrs []string

	mu    sync.Mutex
	procs map[string]*exec.Cmd
	exits map[string]chan error
}

// clusterNodeTimeout is the nodes' cluster-node-timeout: how long a master
// must be unreachable before its replica takes over. Short, for tests.
const clusterNodeTimeout = 2 * time.Second

// StartCluster runs a cluster of masters masters, each with
// replicasPerMaster replicas, and waits until every node reports
// cluster_state:ok. Like [Start], it fails under CI when redis-server or
// redis-cli is missing and skips otherwise.
func StartCluster(t testing.TB, masters, replicasPerMaster int) *Cluster {
	t.Helper()
	bin := lookPath(t, "redis-server")
	cli := lookPath(t, "redis-cli")
	c := &Cluster{procs: map[string]*exec.Cmd{}, exits: map[string]chan error{}}
	t.Cleanup(c.stopAll)
	dir := t.TempDir()
	for i := range masters * (1 + replicasPerMaster) {
		port, err := clusterPort()
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		nodeDir := filepath.Join(dir, fmt.Sprintf("node%d", i))
		if err := os.MkdirAll(nodeDir, 0o700); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin,
			"--port", strconv.Itoa(port),
			"--bind", "127.0.0.1",
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(nodeDir, "nodes.conf"),
			"--cluster-node-timeout", strconv.Itoa(int(clusterNodeTimeout/time.Millisecond)),
			"--save", "",
			"--appendonly", "no",
			"--dir", nodeDir,
		)
		if err := cmd.Start(); err != nil {
			t.Fatalf("redistest: starting cluster node: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		c.mu.Lock()
		c.procs[addr], c.exits[addr] = cmd, exited
		c.mu.Unlock()
		c.Addrs = append(c.Addrs, addr)
	}
	for _, a := range c.Addrs {
		if err := waitPing(a); err != nil {
			t.Fatalf("redistest: %v", err)
		}
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicasPerMaster), "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.WaitHealthy(context.Background(), 30*time.Second); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return c
}

func lookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redistest: %s not found on PATH, and CI is set: install redis-server (.ci/run does)", name)
		}
		t.Skipf("redistest: %s not found on PATH (set CI to make this a failure)", name)
	}
	return p
}

// clusterPort picks a port p with p and its cluster-bus port p+10000 free.
func clusterPort() (int, error) {
	for range 100 {
		p := 20000 + rand.IntN(20000)
		if testport.Available(p) && testport.Available(p+10000) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free port pair for a cluster node")
}

func waitPing(addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster node %s did not answer PING: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitHealthy waits until every running node reports cluster_state:ok and
// every slot is served.
func (c *Cluster) WaitHealthy(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		bad := ""
		for _, a := range c.Running() {
			cl := redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1})
			info, err := cl.ClusterInfo(ctx).Result()
			_ = cl.Close()
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") {
				bad = a
				break
			}
		}
		if bad == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster node %s not healthy after %v", bad, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Running returns the addresses of the nodes not killed.
func (c *Cluster) Running() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, a := range c.Addrs {
		if _, ok := c.procs[a]; ok {
			out = append(out, a)
		}
	}
	return out
}

// Masters returns the running nodes that are masters now.
func (c *Cluster) Masters(ctx context.Context) ([]string, error) {
	var out []string
	for _, a := range c.Running() {
		cl := redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1})
		role, err := cl.Do(ctx, "ROLE").Slice()
		_ = cl.Close()
		if err != nil {
			return nil, fmt.Errorf("redistest: ROLE on %s: %w", a, err)
		}
		if len(role) > 0 && role[0] == "master" {
			out = append(out, a)
		}
	}
	return out, nil
}

// Kill kills the node at addr with SIGKILL, as a crash would.
func (c *Cluster) Kill(addr string) {
	c.mu.Lock()
	cmd, exited := c.procs[addr], c.exits[addr]
	delete(c.procs, addr)
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

func (c *Cluster) stopAll() {
	for _, a := range c.Running() {
		c.Kill(a)
	}
}

// Client returns a cluster client seeded with every node, closed in t's
// cleanup.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}
