package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blindlist/blindlist/internal/testvec"
)

// provokeH2CompressionError speaks prior-knowledge h2c to addr and sends a
// HEADERS frame whose HPACK block does not decode (0x80, indexed field 0),
// which the server answers with GOAWAY COMPRESSION_ERROR and logs. It
// returns the client's address as the server saw it.
func provokeH2CompressionError(t *testing.T, addr string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg := []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	msg = append(msg, 0, 0, 0, 0x4, 0, 0, 0, 0, 0)             // SETTINGS, empty
	msg = append(msg, 0, 0, 1, 0x1, 0x4|0x1, 0, 0, 0, 1, 0x80) // HEADERS, stream 1, END_HEADERS|END_STREAM
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(msg); err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, conn) // until the server closes
	return conn.LocalAddr().String()
}

// waitForLog waits until logs holds want.
func waitForLog(t *testing.T, logs func() string, want string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s := logs(); strings.Contains(s, want) {
			return s
		}
	}
	t.Fatalf("no %q in the log: %q", want, logs())
	return ""
}

// TestServersRedactClientAddresses provokes a real HTTP/2 protocol error on
// every server blindlist runs (serve, gateway, relay) and checks that its
// log line reaches stderr without the client's address.
func TestServersRedactClientAddresses(t *testing.T) {
	check := func(name, addr string, logs func() string) {
		t.Helper()
		client := provokeH2CompressionError(t, addr)
		out := waitForLog(t, logs, "COMPRESSION_ERROR")
		_, port, _ := net.SplitHostPort(client)
		if strings.Contains(out, client) || strings.Contains(out, ":"+port+":") || !strings.Contains(out, "from <client>") {
			t.Errorf("%s: the log names the client %s: %q", name, client, out)
		}
	}
	p := startServe(t, "--db", testvec.Path(t, "pir", "A"), "--usecase", serveTestUsecase, "--listen", "127.0.0.1:0", "--state", t.TempDir())
	check("serve", p.addr, p.stderr.String)

	relayAddr, relayLog := startCommandLog(t, "relay", "relay", "--listen", "127.0.0.1:0", "--gateway", "http://127.0.0.1:1/gateway")
	check("relay", relayAddr, relayLog.String)

	seed := filepath.Join(t.TempDir(), "seed")
	os.WriteFile(seed, bytes.Repeat([]byte{7}, 32), 0o600)
	gwAddr, gwLog := startCommandLog(t, "gateway", "gateway", "--listen", "127.0.0.1:0", "--seed-file", seed,
		"--target", "service.example", "--upstream", "http://127.0.0.1:1")
	check("gateway", gwAddr, gwLog.String)
}

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files
// and returns their paths and a pool holding the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "blindlist test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS checks that serve terminates TLS itself with --tls-cert and
// --tls-key and speaks h2 there, as docs/deploy.md says.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	p := startServe(t, "--db", testvec.Path(t, "pir", "A"), "--usecase", serveTestUsecase, "--listen", "127.0.0.1:0",
		"--state", t.TempDir(), "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.Contains(p.stderr.String(), "serving on https://") {
		t.Errorf("startup line: %q", p.stderr.String())
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + p.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Proto != "HTTP/2.0" {
		t.Errorf("GET /healthz over TLS: %s %s, want 200 over HTTP/2.0", resp.Proto, resp.Status)
	}
	// Plain HTTP on the TLS port is refused.
	if resp, err := http.Get("http://" + p.addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on the TLS listener")
		}
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--tls-cert", certFile}, 2, "give both --tls-cert and --tls-key, or neither"},
		{[]string{"--tls-cert", certFile, "--tls-key", certFile}, 1, "--tls-cert/--tls-key:"},
	} {
		args := append([]string{"serve", "--db", "db", "--usecase", serveTestUsecase}, tc.args...)
		if code, _, stderr := runCLI(t, "", args...); code != tc.code || !strings.Contains(stderr, tc.msg) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, %q; want %d and %q", tc.args, code, stderr, tc.code, tc.msg)
		}
	}
}

// TestServeRoutesGoRedisLog checks that go-redis's own lines (here: it
// cannot dial the configured Redis) reach serve's structured log, not a
// bare stderr line of their own.
func TestServeRoutesGoRedisLog(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if code, _, stderr := runCLI(t, "", "build", "--out", "db"); code != 0 {
		t.Fatalf("build: %s", stderr)
	}
	os.WriteFile("tokens", []byte("dXNlcnRva2VuLXVzZXJ0b2tlbi11c2VydG9rZW4=\n"), 0o600)
	cfg := `{"listen": "127.0.0.1:0", "dataDir": "data", "keyStore": {"backend": "redis", "redisAddr": "127.0.0.1:1"},
	  "vendors": [{"name": "v", "usecases": [{"name": "` + serveTestUsecase + `", "directory": "db", "shardCount": 1}],
	    "tiers": [{"name": "t", "tokensFile": "tokens"}]}]}`
	os.WriteFile("serve.json", []byte(cfg), 0o600)
	code, _, stderr := runCLI(t, "", "serve", "--memory-limit", "-1", "--log-format", "json", "--config", "serve.json")
	if code != 1 {
		t.Fatalf("serve with an unreachable Redis: exit %d: %s", code, stderr)
	}
	found := false
	for line := range strings.Lines(stderr) {
		if strings.Contains(line, "failed to dial") {
			found = strings.HasPrefix(line, "{") && strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, `"component":"go-redis"`)
			if !found {
				t.Errorf("go-redis line outside the JSON log: %q", line)
			}
		}
	}
	if !found {
		t.Errorf("no go-redis record in %q", stderr)
	}
}
