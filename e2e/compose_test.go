package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blindlist/blindlist/bloom"
	"github.com/blindlist/blindlist/generation"
	"github.com/blindlist/blindlist/ohttp"
)

// The Docker harness: deploy/build-images.sh and deploy/compose.yaml run
// as documented (docs/deploy.md §3), on the engine this machine has. No
// image is pulled: both images are built from this checkout and this
// machine's Debian redis-server package. Every wait is bounded by a
// deadline; a deadline passed fails the test.

// dockerTools finds the Docker engine and a Compose front end. Without an
// engine that answers, the test fails when CI is set (.ci/run promises
// one) and is skipped otherwise.
func dockerTools(t *testing.T) (compose []string) {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("Docker is required in CI: "+format, args...)
		}
		t.Skipf("Docker not available: "+format, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		unavailable("docker info: %v: %s", err, bytes.TrimSpace(out))
	}
	if exec.CommandContext(ctx, "docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if exec.CommandContext(ctx, "docker-compose", "version").Run() == nil {
		return []string{"docker-compose"}
	}
	unavailable("neither `docker compose` nor `docker-compose` runs")
	return nil
}

// run runs a command with a deadline and returns its trimmed stdout; a
// failure fails the test with the command's stderr.
func run(t testing.TB, timeout time.Duration, env []string, name string, args ...string) string {
	t.Helper()
	out, err := tryRun(timeout, env, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tryRun(timeout time.Duration, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = "…" + msg[len(msg)-2000:]
		}
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// images are the images one test run builds, once, and removes at its end.
type images struct {
	Blindlist string // the runtime image
	Next      string // the same build with another version label: a new image
	Redis     string
	Bin       string // the binary packed into Blindlist, for the host's `blindlist query`
}

// buildImages runs deploy/build-images.sh (no registry) as documented.
func buildImages(t *testing.T) images {
	t.Helper()
	root := repoRoot(t)
	id := strconv.Itoa(os.Getpid())
	im := images{
		Blindlist: "blindlist-e2e:" + id,
		Next:      "blindlist-e2e:" + id + "-next",
		Redis:     "blindlist-e2e-redis:" + id,
		Bin:       filepath.Join(t.TempDir(), "blindlist"),
	}
	script := filepath.Join(root, "deploy", "build-images.sh")
	start := time.Now()
	run(t, 15*time.Minute, []string{"BLINDLIST_IMAGE=" + im.Blindlist, "REDIS_IMAGE=" + im.Redis,
		"IMAGE_VERSION=e2e-1", "BLINDLIST_BIN_DIR=" + filepath.Dir(im.Bin)}, script)
	t.Logf("images built in %s", time.Since(start).Round(100*time.Millisecond))
	run(t, 15*time.Minute, []string{"BLINDLIST_IMAGE=" + im.Next, "IMAGE_VERSION=e2e-2"}, script, "blindlist")
	t.Cleanup(func() {
		tryRun(time.Minute, nil, "docker", "image", "rm", "-f", im.Blindlist, im.Next, im.Redis)
	})
	return im
}

// composeStack is deploy/compose.yaml running under its own project name,
// database and secrets directories and loopback ports.
type composeStack struct {
	t       *testing.T
	compose []string
	project string
	env     []string
	dbDir   string
	secrets string
	images  images

	relayPort, gatewayPort, issuerPortA, issuerPortB int
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startCompose runs deploy/compose-init.sh and `compose up -d`, and waits
// until the relay answers. `compose down -v` at the end of the test.
func startCompose(t *testing.T, compose []string, im images) *composeStack {
	t.Helper()
	root := repoRoot(t)
	c := &composeStack{
		t: t, compose: compose, images: im,
		project: fmt.Sprintf("blindliste2e%d", os.Getpid()),
		dbDir:   t.TempDir(), secrets: t.TempDir(),
		relayPort: freePort(t), gatewayPort: freePort(t), issuerPortA: freePort(t), issuerPortB: freePort(t),
	}
	// The build job writes the database as the image's user (65532).
	if err := os.Chmod(c.dbDir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(c.secrets, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, time.Minute, nil, filepath.Join(root, "deploy", "compose-init.sh"), c.secrets)
	c.env = []string{
		"BLINDLIST_IMAGE=" + im.Blindlist, "REDIS_IMAGE=" + im.Redis,
		"BLINDLIST_DB_DIR=" + c.dbDir, "BLINDLIST_SECRETS_DIR=" + c.secrets,
		"BLINDLIST_RELAY_PORT=" + strconv.Itoa(c.relayPort), "BLINDLIST_GATEWAY_PORT=" + strconv.Itoa(c.gatewayPort),
		"BLINDLIST_ISSUER_PORT=" + strconv.Itoa(c.issuerPortA), "BLINDLIST_ISSUER_PORT_B=" + strconv.Itoa(c.issuerPortB),
	}
	t.Cleanup(func() {
		if t.Failed() {
			if logs, err := c.try(time.Minute, nil, "logs", "--no-color", "--tail=40"); err == nil {
				t.Logf("compose logs:\n%s", logs)
			}
		}
		if _, err := c.try(3*time.Minute, nil, "down", "-v", "--remove-orphans", "--timeout=5"); err != nil {
			t.Errorf("compose down: %v", err)
		}
	})
	start := time.Now()
	c.run(5*time.Minute, nil, "up", "-d")
	c.waitHTTP(fmt.Sprintf("http://127.0.0.1:%d/readyz", c.gatewayPort), 200, time.Minute)
	c.waitTCP(fmt.Sprintf("127.0.0.1:%d", c.relayPort), time.Minute)
	t.Logf("compose up (build job, Redis, 2 replicas healthy, gateway healthy, relay listening) in %s", time.Since(start).Round(100*time.Millisecond))
	return c
}

func (c *composeStack) args(extra ...string) []string {
	return append(append(append([]string{}, c.compose[1:]...), "-p", c.project, "-f", filepath.Join(repoRoot(c.t), "deploy", "compose.yaml")), extra...)
}

func (c *composeStack) run(timeout time.Duration, env []string, args ...string) string {
	c.t.Helper()
	out, err := c.try(timeout, env, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

func (c *composeStack) try(timeout time.Duration, env []string, args ...string) (string, error) {
	return tryRun(timeout, append(append([]string{}, c.env...), env...), c.compose[0], c.args(args...)...)
}

// container returns the id of the service's container.
func (c *composeStack) container(service string) string {
	c.t.Helper()
	id := c.run(time.Minute, nil, "ps", "-q", service)
	if id == "" || strings.Contains(id, "\n") {
		c.t.Fatalf("service %s: want one container, got %q", service, id)
	}
	return id
}

// ip returns the service container's address on the project's default
// network, reachable from this host as kubelet reaches a pod.
func (c *composeStack) ip(service string) string {
	c.t.Helper()
	return c.networkIP(c.container(service))
}

func (c *composeStack) networkIP(id string) string {
	c.t.Helper()
	ip := run(c.t, time.Minute, nil, "docker", "inspect", "-f",
		`{{with index .NetworkSettings.Networks "`+c.project+`_default"}}{{.IPAddress}}{{end}}`, id)
	if net.ParseIP(ip) == nil {
		c.t.Fatalf("container %s has no address on %s_default: %q", id, c.project, ip)
	}
	return ip
}

// inspect returns a docker inspect template's value for a container.
func (c *composeStack) inspect(id, format string) string {
	c.t.Helper()
	return run(c.t, time.Minute, nil, "docker", "inspect", "-f", format, id)
}

// waitHealthy waits until the service's container (the current one, which
// a recreation replaces) reports the health status healthy.
func (c *composeStack) waitHealthy(service string, within time.Duration) string {
	c.t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		id, err := c.try(time.Minute, nil, "ps", "-q", service)
		if err == nil && id != "" && !strings.Contains(id, "\n") {
			if last, err = tryRun(time.Minute, nil, "docker", "inspect", "-f", "{{.State.Status}}/{{.State.Health.Status}}", id); err == nil && last == "running/healthy" {
				return id
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	c.t.Fatalf("service %s not healthy within %s (last state %q)", service, within, last)
	return ""
}

// waitHTTP polls url until it answers status.
func (c *composeStack) waitHTTP(url string, status int, within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		code, err := httpStatus(url)
		if err == nil && code == status {
			return
		}
		last = fmt.Sprint(code, err)
		time.Sleep(250 * time.Millisecond)
	}
	c.t.Fatalf("%s did not answer %d within %s (last: %s)", url, status, within, last)
}

func (c *composeStack) waitTCP(addr string, within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	c.t.Fatalf("%s not listening within %s", addr, within)
}

func httpStatus(url string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// userToken is the bearer token compose-init.sh wrote.
func (c *composeStack) userToken() string {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.secrets, "user-token"))
	if err != nil {
		c.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// device returns a device outside the stack, as in docs/deploy.md §3:
// every call through the published relay and the gateway, the issuer
// directory fetched directly from a replica's published port (either: an
// Ingress in front of both in production), the prefilter the build job
// wrote.
func (c *composeStack) device() *Device {
	c.t.Helper()
	kc := c.keyConfig()
	dir, err := generation.Resolve(c.dbDir) // the build's current generation
	if err != nil {
		c.t.Fatal(err)
	}
	pf, err := bloom.ReadDir(dir)
	if err != nil {
		c.t.Fatal(err)
	}
	return &Device{
		Service:   "https://service.localhost",
		Issuer:    "https://issuer.localhost",
		Usecase:   testUsecase,
		UserToken: c.userToken(),
		Prefilter: pf,
		Client: &http.Client{Timeout: time.Minute, Transport: &ohttp.Client{
			RelayURL: fmt.Sprintf("http://127.0.0.1:%d/relay", c.relayPort), KeyConfig: kc}},
		DirectoryClient: &http.Client{Timeout: 10 * time.Second, Transport: failover(
			fmt.Sprintf("127.0.0.1:%d", c.issuerPortA), fmt.Sprintf("127.0.0.1:%d", c.issuerPortB))},
		DirectoryURL: "http://issuer.localhost",
	}
}

// directDevice talks to one replica at addr without relay or gateway, as
// a development build does.
func (c *composeStack) directDevice(addr string) *Device {
	return &Device{
		Service: "http://service.localhost", Issuer: "http://issuer.localhost",
		Usecase: testUsecase, UserToken: c.userToken(),
		Client: &http.Client{Timeout: time.Minute, Transport: failover(addr)},
	}
}

func (c *composeStack) keyConfig() ohttp.KeyConfig {
	c.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", c.gatewayPort, ohttp.KeysPath))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || resp.StatusCode != http.StatusOK {
		c.t.Fatalf("gateway key configuration: %d, %v", resp.StatusCode, err)
	}
	kcs, err := ohttp.ParseKeyConfigs(body)
	if err != nil || len(kcs) == 0 {
		c.t.Fatalf("gateway key configuration: %v", err)
	}
	return kcs[0]
}

// failover sends each request to the first of addrs that answers it, as a
// load balancer retries a GET on another backend when one is down. Only
// requests without a body move on to the next address; the request's Host
// is kept.
func failover(addrs ...string) http.RoundTripper {
	trs := make([]*http.Transport, len(addrs))
	for i, a := range addrs {
		trs[i] = &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, a)
		}}
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		var errs []error
		for i, tr := range trs {
			out := req.Clone(req.Context())
			out.URL = &url.URL{Scheme: "http", Host: req.URL.Host, Path: req.URL.Path, RawQuery: req.URL.RawQuery}
			resp, err := tr.RoundTrip(out)
			if err == nil || req.Body != nil && req.Body != http.NoBody {
				return resp, err
			}
			errs = append(errs, fmt.Errorf("%s: %w", addrs[i], err))
		}
		return nil, errors.Join(errs...)
	})
}
