package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/internal/store/redistest"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// TestServeRedisCluster runs `serve --config` with
// keyStore.redisClusterAddrs on a real Redis Cluster (3 masters, 3
// replicas) and plays a device through the OHTTP gateway: tokens redeemed
// (each acknowledged after WAIT, spentReplicaAcks defaulting to 1) and
// their replays refused; when one master loses its data, none of the
// earlier tokens is accepted again, and the device goes on with fresh
// tokens.
func TestServeRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 6-node Redis Cluster and a server")
	}
	cl := redistest.StartCluster(t, 3, 1)
	ctx := context.Background()
	if err := cl.WaitHealthy(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	if code, _, stderr := runCLI(t, "", "build", "--out", "db"); code != 0 {
		t.Fatalf("build: %s", stderr)
	}
	const userToken = "dXNlcnRva2VuLXVzZXJ0b2tlbi11c2VydG9rZW4="
	if err := os.WriteFile("tokens", []byte(userToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addrs := `"` + strings.Join(cl.Addrs, `", "`) + `"`
	cfg := fmt.Sprintf(`{"listen": "127.0.0.1:0", "dataDir": "data",
	  "keyStore": {"backend": "redis", "redisClusterAddrs": [%s], "spentAckTimeout": "2s"},
	  "ohttp": {"enabled": true, "targets": ["127.0.0.1"]},
	  "vendors": [{"name": "v", "usecases": [{"name": %q, "directory": "db", "shardCount": 1}],
	    "tiers": [{"name": "t", "tokensFile": "tokens"}]}]}`, addrs, serveTestUsecase)
	if err := os.WriteFile("serve.json", []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, "--config", "serve.json")
	d := newDevice(t, p, userToken)
	cfgReq, _ := proto.Marshal(&apipb.ConfigRequest{})
	redeem := func(tok string) int {
		t.Helper()
		code, _ := d.do(http.MethodPost, "/config", cfgReq, map[string]string{
			"Authorization": tok, "User-Agent": "com.apple.ciphermld/1.0 iOS/26.1 ...",
			"User-Identifier": "9C1B7C1E-0000-4000-8000-000000000001"})
		return code
	}

	// The replicas come online a moment after the cluster is healthy;
	// until then a spend is not acknowledged (503).
	var spent []string
	deadline := time.Now().Add(30 * time.Second)
	for len(spent) < 20 {
		tok := d.token()
		switch code := redeem(tok); code {
		case http.StatusOK:
			spent = append(spent, tok)
		case http.StatusServiceUnavailable:
			if time.Now().After(deadline) {
				t.Fatal("spends still unacknowledged 30 s after the cluster started")
			}
			time.Sleep(100 * time.Millisecond)
		default:
			t.Fatalf("fresh token: %d", code)
		}
	}
	for i, tok := range spent {
		if code := redeem(tok); code != http.StatusUnauthorized {
			t.Fatalf("replay of token %d: %d, want 401", i, code)
		}
	}

	masters, err := cl.Masters(ctx)
	if err != nil || len(masters) == 0 {
		t.Fatalf("masters %v, %v", masters, err)
	}
	c := redis.NewClient(&redis.Options{Addr: masters[0]})
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	for i, tok := range spent {
		if code := redeem(tok); code == http.StatusOK {
			t.Fatalf("token %d accepted again after a master lost its data", i)
		}
	}
	// The device fetches the (new) token key and goes on.
	deadline = time.Now().Add(30 * time.Second)
	for {
		bearer := map[string]string{"Authorization": "Bearer " + userToken}
		if code, body := d.do(http.MethodGet, privacypass.TokenKeyPath, nil, bearer); code != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatalf("token key after the data loss: %d %s; log: %s", code, body, p.stderr.String())
			}
			time.Sleep(200 * time.Millisecond)
			continue
		}
		code := redeem(d.token())
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fresh tokens after the data loss still answered %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
