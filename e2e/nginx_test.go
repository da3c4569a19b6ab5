package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nginx is a real NGINX (Debian's package) owned by one test: one
// listener on loopback in front of the replicas, routing by consistent
// hashing on the User-Identifier header, as deploy/nginx/blindlist.conf.
type nginx struct {
	URL        string
	dir, conf  string
	port       int
	cmd        *exec.Cmd
	exited     chan error
	generation int
}

// startNginx runs nginx in front of upstreams. It fails under CI when nginx
// is missing and skips otherwise.
func startNginx(t *testing.T, upstreams []string) *nginx {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nginx", "/sbin/nginx"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("e2e: nginx not found, and CI is set: install Debian's nginx (.ci/run does)")
		}
		t.Skip("e2e: nginx not found (set CI to make this a failure)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	n := &nginx{dir: t.TempDir(), port: port, URL: "http://127.0.0.1:" + strconv.Itoa(port)}
	n.conf = filepath.Join(n.dir, "nginx.conf")
	if err := n.writeConf(upstreams); err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(bin, "-p", n.dir, "-c", n.conf, "-e", filepath.Join(n.dir, "error.log"))
	n.cmd.Stdout, n.cmd.Stderr = os.Stderr, os.Stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("e2e: starting nginx: %v", err)
	}
	n.exited = make(chan error, 1)
	go func() { n.exited <- n.cmd.Wait() }()
	t.Cleanup(func() {
		_ = n.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-n.exited:
		case <-time.After(5 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.exited
		}
	})
	if err := n.waitGeneration(); err != nil {
		b, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
		t.Fatalf("e2e: %v\n%s", err, b)
	}
	return n
}

// writeConf writes the configuration for upstreams, one generation more.
func (n *nginx) writeConf(upstreams []string) error {
	n.generation++
	var servers strings.Builder
	for _, u := range upstreams {
		fmt.Fprintf(&servers, "    server %s max_fails=0;\n", u)
	}
	conf := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  client_max_body_size 11m;
  # Bodies (evaluation keys, queries) and answers stay in memory: no temp
  # files, which the unprivileged workers could not write here.
  client_body_buffer_size 11m;
  proxy_buffering off;

  # Key-affine routing: every call of one device (its random
  # User-Identifier) goes to the replica holding its parsed key.
  upstream blindlist {
    hash $http_user_identifier consistent;
%[2]s    keepalive 16;
  }
  server {
    listen 127.0.0.1:%[3]d;
    location / {
      proxy_pass http://blindlist;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_read_timeout 60s;
      add_header X-Test-Generation %[4]d always;
    }
  }
}
`, n.dir, servers.String(), n.port, n.generation)
	return os.WriteFile(n.conf, []byte(conf), 0o600)
}

// setUpstreams rewrites the upstream list and reloads nginx (SIGHUP), as
// a configuration management or ingress controller does when a replica
// leaves, then waits until the new workers answer.
func (n *nginx) setUpstreams(upstreams []string) error {
	if err := n.writeConf(upstreams); err != nil {
		return err
	}
	old := n.workers()
	if err := n.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return fmt.Errorf("e2e: reloading nginx: %w", err)
	}
	if err := n.waitGeneration(); err != nil {
		return err
	}
	// One answer from a new worker does not mean the old ones stopped
	// accepting: until they exit, a new connection may still reach an
	// old worker and its old upstreams (a 502 once one of them is gone).
	deadline := time.Now().Add(20 * time.Second)
	for pid := range old {
		for syscall.Kill(pid, 0) == nil {
			if time.Now().After(deadline) {
				return fmt.Errorf("e2e: nginx worker %d still running after the reload", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// workers returns the process ids of the master's children (its worker
// processes), from /proc.
func (n *nginx) workers() map[int]bool {
	pid := n.cmd.Process.Pid
	raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	ids := map[int]bool{}
	for _, f := range strings.Fields(string(raw)) {
		if id, err := strconv.Atoi(f); err == nil {
			ids[id] = true
		}
	}
	return ids
}

// waitGeneration waits until nginx answers with the current generation.
func (n *nginx) waitGeneration() error {
	want := strconv.Itoa(n.generation)
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.URL+"/healthz", nil)
		resp, err := c.Do(req)
		got := ""
		if err == nil {
			got = resp.Header.Get("X-Test-Generation")
			resp.Body.Close()
		}
		cancel()
		if got == want {
			return nil
		}
		select {
		case err := <-n.exited:
			n.exited <- err
			return fmt.Errorf("nginx exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nginx did not serve generation %s (last: %q, %v)", want, got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
