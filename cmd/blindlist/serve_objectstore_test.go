package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/blindlist/blindlist/internal/store/s3test"
)

// TestServeObjectStore runs `serve --config` with keyStore.objectStore on a
// real SeaweedFS: a device's lookup (key upload, then queries) answers
// "deny" with the key kept in the bucket; with the object store down the
// same lookup fails (the service cannot read or store keys), and it works
// again once the store is back.
func TestServeObjectStore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts SeaweedFS and a server")
	}
	srv := s3test.Start(t)
	t.Setenv("BLINDLIST_TEST_S3_ACCESS", s3test.AccessKey)
	t.Setenv("BLINDLIST_TEST_S3_SECRET", s3test.SecretKey)
	dir := t.TempDir()
	root, list := filepath.Join(dir, "db"), filepath.Join(dir, "list.txt")
	if err := os.WriteFile(list, []byte("ads.example.com\ntracker.example.net\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "", "build", "--source", "domains:"+list, "--no-test-identity", "--out", root); code != 0 {
		t.Fatalf("build: exit %d: %s", code, errs)
	}
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`{"listen": %q, "dataDir": %q,
		"keyStore": {"objectStore": {"endpoint": %q, "bucket": %q, "accessKeyEnv": "BLINDLIST_TEST_S3_ACCESS", "secretKeyEnv": "BLINDLIST_TEST_S3_SECRET"}},
		"privacyPass": {"disabled": true},
		"limits": {"drainDelay": "0s"},
		"vendors": [{"name": "v", "usecases": [{"name": %q, "directory": %q, "shardCount": 1}]}]}`,
		addr, filepath.Join(dir, "state"), srv.Endpoint, s3test.Bucket, wiringUsecase, root)
	path := filepath.Join(dir, "serve.json")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var stderr bytes.Buffer
	wg.Go(func() {
		if code := run(ctx, []string{"serve", "--config", path}, strings.NewReader(""), io.Discard, &stderr); ctx.Err() == nil {
			t.Errorf("serve exited early with %d: %s", code, stderr.String())
		}
	})
	waitHTTP(t, "http://"+addr+"/readyz")

	lookup := func() (int, string) {
		code, stdout, errs := runCLI(t, "", "query", "--service", "http://"+addr, "--usecase", wiringUsecase, "--no-tokens", "--json", "https://ads.example.com/")
		if code != 0 {
			return code, errs
		}
		var v verdictJSON
		if err := json.Unmarshal([]byte(stdout), &v); err != nil {
			t.Fatalf("query output %q: %v", stdout, err)
		}
		return 0, v.Verdict
	}
	if code, out := lookup(); code != 0 || out != "deny" {
		t.Fatalf("lookup with the key in the object store: exit %d, %s", code, out)
	}
	srv.Kill()
	if code, out := lookup(); code == 0 || !strings.Contains(out, "503") {
		t.Errorf("lookup with the object store down: exit %d, %s; want a failure with 503", code, out)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if code, out := lookup(); code != 0 || out != "deny" {
		t.Fatalf("lookup after the object store recovered: exit %d, %s", code, out)
	}
}
