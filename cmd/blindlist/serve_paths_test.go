package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tree lists every path under dir, relative to it.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(dir, p); rel != "." {
			paths = append(paths, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// TestServeRelativePaths runs README's "Typical use" with relative paths:
// build --out db/, then serve --db db/ (state in db/state), --state st and
// a configuration file with a relative dataDir. Every file lands where the
// path says, once (no db/state/db/state/...).
func TestServeRelativePaths(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if code, _, stderr := runCLI(t, "", "build", "--out", "db/"); code != 0 {
		t.Fatalf("build: exit %d: %s", code, stderr)
	}
	p := startServe(t, "--db", "db/", "--usecase", serveTestUsecase, "--listen", "127.0.0.1:0")
	if code := p.stop(); code != 0 {
		t.Fatalf("serve --db db/: exit %d: %s", code, p.stderr.String())
	}
	for _, want := range []string{"db/state/evaluation-keys.db", "db/state/user-tokens", "db/state/ohttp-seed", "db/state/issuer-keys"} {
		if _, err := os.Stat(want); err != nil {
			t.Errorf("serve --db db/: %v", err)
		}
	}
	for _, p := range tree(t, dir) {
		if strings.Contains(p, "state/db") || strings.Count(p, "state") > 1 {
			t.Errorf("serve --db db/ made %s", p)
		}
	}

	p = startServe(t, "--db", "db", "--usecase", serveTestUsecase, "--listen", "127.0.0.1:0", "--state", "st")
	if code := p.stop(); code != 0 {
		t.Fatalf("serve --state st: exit %d: %s", code, p.stderr.String())
	}
	if _, err := os.Stat("st/evaluation-keys.db"); err != nil {
		t.Errorf("serve --state st: %v", err)
	}

	// A configuration file in conf/ with "dataDir": "data" keeps its
	// state in conf/data, also when named by a relative path.
	if err := os.MkdirAll("conf", 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile("conf/tokens", []byte("dXNlcnRva2VuLXVzZXJ0b2tlbi11c2VydG9rZW4=\n"), 0o600)
	cfg := `{"listen": "127.0.0.1:0", "dataDir": "data",
	  "vendors": [{"name": "v", "usecases": [{"name": "` + serveTestUsecase + `", "directory": "../db", "shardCount": 1}],
	    "tiers": [{"name": "t", "tokensFile": "tokens"}]}]}`
	if err := os.WriteFile("conf/serve.json", []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p = startServe(t, "--config", "conf/serve.json")
	if code := p.stop(); code != 0 {
		t.Fatalf("serve --config conf/serve.json: exit %d: %s", code, p.stderr.String())
	}
	got := tree(t, filepath.Join(dir, "conf"))
	if !slices.Contains(got, "data/evaluation-keys.db") || slices.ContainsFunc(got, func(p string) bool { return strings.Count(p, "data") > 1 }) {
		t.Errorf("serve --config conf/serve.json wrote %v", got)
	}
}

// TestServeRefusalCreatesNothing checks that serve refusing a database
// directory leaves the file system as it was.
func TestServeRefusalCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.Mkdir("empty", 0o755)
	for _, args := range [][]string{
		{"--db", filepath.Join(dir, "nonexistent"), "--usecase", serveTestUsecase},
		{"--db", "nonexistent/", "--usecase", serveTestUsecase},
		{"--db", "empty", "--usecase", serveTestUsecase},
		{"--db", "empty", "--usecase", serveTestUsecase, "--state", "st"},
	} {
		code, _, stderr := runCLI(t, "", append([]string{"serve", "--memory-limit", "-1"}, args...)...)
		if code != 1 || !strings.Contains(stderr, "has neither url-0.params.txtpb nor keys.txt") {
			t.Errorf("%q: exit %d, %s", args, code, stderr)
		}
		if got := tree(t, dir); !slices.Equal(got, []string{"empty"}) {
			t.Errorf("%q left %v", args, got)
		}
	}
}

// TestServeSaysWhatItLoads checks that serve reports its slow startup
// phases before "serving on": processing keys.txt into shards (seconds for
// a million keys) and loading the shards.
func TestServeSaysWhatItLoads(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if code, _, stderr := runCLI(t, "", "build", "--no-pir", "--out", "db"); code != 0 {
		t.Fatalf("build: %s", stderr)
	}
	p := startServe(t, "--db", "db", "--usecase", serveTestUsecase, "--listen", "127.0.0.1:0")
	log := p.stderr.String()
	var last int
	for _, want := range []string{"blindlist: processing ", " keys of ", "blindlist: processed 1 shards in ",
		"blindlist: loading the PIR shards (", "blindlist: loaded 1 usecase(s) in ", "blindlist: serving on "} {
		i := strings.Index(log, want)
		if i < last {
			t.Errorf("want %q after the earlier lines in %q", want, log)
			continue
		}
		last = i
	}
	// A second start reuses the processed shards and says only that it loads.
	if code := p.stop(); code != 0 {
		t.Fatal(p.stderr.String())
	}
	p = startServe(t, "--db", "db", "--usecase", serveTestUsecase, "--listen", "127.0.0.1:0")
	if log := p.stderr.String(); strings.Contains(log, "processing") || !strings.Contains(log, "blindlist: loaded 1 usecase(s)") {
		t.Errorf("second start: %q", log)
	}
}
