package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blindlist/blindlist/api"
	"github.com/blindlist/blindlist/generation"
	"github.com/blindlist/blindlist/pir"
)

// writeDomains writes a plain domain list.
func writeDomains(t *testing.T, path string, domains []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(domains, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// buildOK runs 'blindlist build' and fails the test on a non-zero exit.
func buildOK(t *testing.T, args ...string) (stderr string) {
	t.Helper()
	code, _, errs := runCLI(t, "", append([]string{"build", "--no-test-identity"}, args...)...)
	if code != 0 {
		t.Fatalf("build %v: exit %d: %s", args, code, errs)
	}
	return errs
}

func readPIRManifest(t *testing.T, dir string) *pirManifest {
	t.Helper()
	var m pirManifest
	if err := json.Unmarshal(mustRead(t, filepath.Join(cur(t, dir), pirManifestFile)), &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func readKeys(t *testing.T, dir string) []string {
	t.Helper()
	return strings.Fields(string(mustRead(t, filepath.Join(cur(t, dir), "keys.txt"))))
}

func shardOf(t *testing.T, key string, shards int) int {
	t.Helper()
	s, err := pir.ShardingFunction{}.ShardIndex([]byte(key), shards)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkPIRManifest recomputes every recorded digest from keys.txt and the
// files on disk.
func checkPIRManifest(t *testing.T, dir string, shards int) *pirManifest {
	t.Helper()
	m := readPIRManifest(t, dir)
	keys := readKeys(t, dir)
	if m.ShardCount != shards || len(m.Shards) != shards || m.Keys != len(keys) {
		t.Fatalf("manifest: %d shards (%d listed), %d keys; want %d shards, %d keys", m.ShardCount, len(m.Shards), m.Keys, shards, len(keys))
	}
	perShard := make([][]string, shards)
	for _, k := range keys {
		s := shardOf(t, k, shards)
		perShard[s] = append(perShard[s], k)
	}
	for i, s := range m.Shards {
		slices.Sort(perShard[i])
		var rows bytes.Buffer
		for _, k := range perShard[i] {
			fmt.Fprintf(&rows, "%s%s%s%s", be32(len(k)), k, be32(1), "1")
		}
		want := sha256.Sum256(rows.Bytes())
		// A shard updated in place from the key delta (no .bin) records
		// no digest: its full key list was never read.
		updated := s.KeysSHA256 == "" && s.Bin.Name == ""
		if s.Keys != len(perShard[i]) || (!updated && s.KeysSHA256 != hex.EncodeToString(want[:])) {
			t.Errorf("shard %d: %d keys, digest %s; want %d keys, %x", i, s.Keys, s.KeysSHA256, len(perShard[i]), want)
		}
		for _, f := range []generation.FileInfo{s.Bin, s.Params, s.Serve, s.ServeBase, m.EvaluationKeyConfig} {
			if f.Name == "" {
				if f == s.Params || f == s.Serve {
					t.Errorf("shard %d: no params or serve-ready file recorded", i)
				}
				continue // no .bin (an updated shard), no base (a whole serve-ready file)
			}
			b := mustRead(t, filepath.Join(cur(t, dir), f.Name))
			if sum := sha256.Sum256(b); int64(len(b)) != f.Bytes || hex.EncodeToString(sum[:]) != f.SHA256 {
				t.Errorf("%s: %d bytes, sha256 %x; manifest says %d, %s", f.Name, len(b), sum, f.Bytes, f.SHA256)
			}
		}
	}
	return m
}

func be32(n int) string { return string([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) }

// lookupAll serves dir's shards in process and queries every keyword with
// the Go client, as a device would: present ones must return "1", absent
// ones nothing.
func lookupAll(t *testing.T, dir string, present, absent []string) {
	t.Helper()
	dbs, err := pir.LoadShards(context.Background(), cur(t, dir), "url")
	if err != nil {
		t.Fatal(err)
	}
	lookupIn(t, dbs, present, absent)
}

// lookupServed is lookupAll on the shards as serve opens them: from their
// memory-mapped serve-ready files.
func lookupServed(t *testing.T, dir string, shards int, present, absent []string) {
	t.Helper()
	var dbs []*pir.Database
	for i := range shards {
		bin, params := pir.ShardPaths(cur(t, dir), "url", i)
		db, err := pir.OpenDatabase(bin, params)
		if err != nil {
			t.Fatal(err)
		}
		if !db.Mapped() {
			t.Fatalf("shard %d is not served from its .serve file", i)
		}
		dbs = append(dbs, db)
	}
	lookupIn(t, dbs, present, absent)
}

// lookupIn serves dbs in process and queries every keyword with the Go
// client.
func lookupIn(t *testing.T, dbs []*pir.Database, present, absent []string) {
	t.Helper()
	ctx := context.Background()
	s, err := pir.NewServer(dbs, pir.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := pir.ClientConfigFromResponse(s.Config().ConfigResponse("u"), "u")
	if err != nil {
		t.Fatal(err)
	}
	c, err := pir.NewClient(cc, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	upload, err := c.EvaluationKey(1, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.ParseEvaluationKey(upload.GetEvaluationKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, kw := range present {
		v, ok, err := c.Lookup(ctx, s, key, []byte(kw), rand.Reader)
		if err != nil || !ok || string(v) != "1" {
			t.Errorf("present %q: value %q found %v err %v", kw, v, ok, err)
		}
	}
	for _, kw := range absent {
		if v, ok, err := c.Lookup(ctx, s, key, []byte(kw), rand.Reader); err != nil || ok {
			t.Errorf("absent %q: value %q found %v err %v", kw, v, ok, err)
		}
	}
}

// TestBuildPIRIncremental changes one key and checks that only its shard is
// rewritten, that the shard keeps its parameters (same config_id), and that
// every key answers correctly through real PIR queries.
func TestBuildPIRIncremental(t *testing.T) {
	tmp := t.TempDir()
	src, out := filepath.Join(tmp, "list.txt"), filepath.Join(tmp, "out")
	var domains []string
	for i := range 40 {
		domains = append(domains, fmt.Sprintf("site%02d.example.com", i))
	}
	writeDomains(t, src, domains)
	const shards = 3
	buildOK(t, "--source", "domains:"+src, "--out", out, "--shards", "3")
	before := checkPIRManifest(t, out, shards)

	// Age every shard file, so a rewrite shows in its mtime.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	binBefore := make([][]byte, shards)
	for i := range shards {
		bin, params := pir.ShardPaths(cur(t, out), "url", i)
		binBefore[i] = mustRead(t, bin)
		for _, p := range []string{bin, params} {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Replace one key by a new one routed to the same shard.
	removed := domains[7]
	target := shardOf(t, removed, shards)
	added := ""
	for i := 0; added == ""; i++ {
		if c := fmt.Sprintf("new%d.example.org", i); shardOf(t, c, shards) == target {
			added = c
		}
	}
	domains[7] = added
	writeDomains(t, src, domains)
	errs := buildOK(t, "--source", "domains:"+src, "--out", out, "--shards", "3", "--progress")
	if !strings.Contains(errs, "(1 processed, 2 unchanged)") || strings.Contains(errs, "full rebuild") {
		t.Errorf("rebuild stderr:\n%s", errs)
	}
	after := checkPIRManifest(t, out, shards)
	for i := range shards {
		bin, params := pir.ShardPaths(cur(t, out), "url", i)
		fi, err := os.Stat(bin)
		if err != nil {
			t.Fatal(err)
		}
		changed := !bytes.Equal(mustRead(t, bin), binBefore[i])
		touched := !fi.ModTime().Equal(old)
		if want := i == target; changed != want || touched != want {
			t.Errorf("shard %d: bytes changed %v, mtime changed %v; want %v", i, changed, touched, want)
		}
		if pi, err := os.Stat(params); err != nil || (i != target && !pi.ModTime().Equal(old)) {
			t.Errorf("shard %d params rewritten: %v", i, err)
		}
	}
	if after.ConfigID != before.ConfigID || after.Shards[target].Params.SHA256 != before.Shards[target].Params.SHA256 {
		t.Errorf("shard %d did not keep its parameters: config_id %s -> %s", target, before.ConfigID, after.ConfigID)
	}
	if !strings.Contains(errs, "config_id "+after.ConfigID[:16]+"… unchanged") {
		t.Errorf("stderr does not report the unchanged config_id:\n%s", errs)
	}
	// --pir-rebuild gives the files of a build into an empty directory.
	fresh := filepath.Join(tmp, "fresh")
	buildOK(t, "--source", "domains:"+src, "--out", fresh, "--shards", "3")
	errs = buildOK(t, "--source", "domains:"+src, "--out", out, "--shards", "3", "--pir-rebuild")
	if !strings.Contains(errs, "every shard asked for: full rebuild") {
		t.Errorf("--pir-rebuild stderr:\n%s", errs)
	}
	for i := range shards {
		a, _ := pir.ShardPaths(cur(t, out), "url", i)
		b, _ := pir.ShardPaths(cur(t, fresh), "url", i)
		if !bytes.Equal(mustRead(t, a), mustRead(t, b)) {
			t.Errorf("shard %d after --pir-rebuild differs from a fresh build", i)
		}
	}
	lookupAll(t, out, readKeys(t, out), []string{removed, "absent.example.net"})
}

// TestBuildPIRUpdateInPlace adds and removes a few keys of a list whose
// shards are large enough for the in-place fast path: every changed shard
// is updated from the previous generation's (params file shared, same
// config_id), the others are kept, and every key answers through real PIR
// queries as it does from a build of the same list into an empty
// directory.
func TestBuildPIRUpdateInPlace(t *testing.T) {
	tmp := t.TempDir()
	src, out := filepath.Join(tmp, "list.txt"), filepath.Join(tmp, "out")
	var domains []string
	for i := range 900 {
		domains = append(domains, fmt.Sprintf("host%03d.example.com", i))
	}
	writeDomains(t, src, domains)
	const shards = 3
	buildOK(t, "--source", "domains:"+src, "--out", out, "--shards", "3")
	before := checkPIRManifest(t, out, shards)
	prevGen := cur(t, out)

	removed := []string{domains[3], domains[400], domains[777]}
	domains = slices.DeleteFunc(domains, func(d string) bool { return slices.Contains(removed, d) })
	var added []string
	for i := range 7 {
		added = append(added, fmt.Sprintf("new%d.example.org", i))
	}
	domains = append(domains, added...)
	writeDomains(t, src, domains)
	errs := buildOK(t, "--source", "domains:"+src, "--out", out, "--shards", "3", "--progress")
	after := checkPIRManifest(t, out, shards)
	touched := map[int]bool{}
	for _, k := range append(slices.Clone(removed), added...) {
		touched[shardOf(t, k, shards)] = true
	}
	want := fmt.Sprintf("(0 processed, %d unchanged), %d updated in place", shards-len(touched), len(touched))
	if !strings.Contains(errs, want) || !strings.Contains(errs, "config_id "+before.ConfigID[:16]+"… unchanged") {
		t.Errorf("stderr lacks %q and an unchanged config_id:\n%s", want, errs)
	}
	for i := range shards {
		bin, params := pir.ShardPaths(cur(t, out), "url", i)
		prevBin, prevParams := pir.ShardPaths(prevGen, "url", i)
		sameServe := bytes.Equal(mustRead(t, pir.ServePath(bin)), mustRead(t, pir.ServePath(prevBin)))
		if sameServe == touched[i] {
			t.Errorf("shard %d: .serve unchanged %v, touched %v", i, sameServe, touched[i])
		}
		// An updated shard has no .bin (Apple's layout would be the whole
		// shard again); a kept one keeps its own.
		if _, err := os.Stat(bin); (err == nil) == touched[i] || (after.Shards[i].Bin.Name == "") != touched[i] {
			t.Errorf("shard %d: .bin present %v, touched %v", i, err == nil, touched[i])
		}
		a, errA := os.Stat(params)
		b, errB := os.Stat(prevParams)
		if errA != nil || errB != nil || !os.SameFile(a, b) {
			t.Errorf("shard %d: params file not shared with the previous generation (%v, %v)", i, errA, errB)
		}
		if after.Shards[i].Serve.SHA256 == "" {
			t.Errorf("shard %d: no serve-ready file recorded", i)
		}
	}
	keys := readKeys(t, out)
	var sample []string
	for i := 0; i < len(keys); i += 60 {
		sample = append(sample, keys[i])
	}
	present := append(sample, added...)
	absent := append(slices.Clone(removed), "absent.example.net")
	lookupAll(t, out, present, absent)
	lookupServed(t, out, shards, present, absent)
	fresh := filepath.Join(tmp, "fresh")
	buildOK(t, "--source", "domains:"+src, "--out", fresh, "--shards", "3")
	lookupAll(t, fresh, present, absent)
	if m := readPIRManifest(t, fresh); m.ConfigID != after.ConfigID {
		t.Logf("a fresh build has config_id %s, the updated one %s (sizes chosen anew)", m.ConfigID, after.ConfigID)
	}

	// A previous shard whose files no longer match its record is not
	// updated from them: it is reprocessed, the other touched shards are
	// still updated in place.
	next := "later.example.org"
	target := shardOf(t, next, shards)
	serve := pir.ServePath(func() string { b, _ := pir.ShardPaths(cur(t, out), "url", target); return b }())
	b := mustRead(t, serve)
	b[len(b)-1] ^= 1
	if err := os.WriteFile(serve, b, 0o644); err != nil {
		t.Fatal(err)
	}
	domains = append(domains, next, "later2.example.org")
	writeDomains(t, src, domains)
	errs = buildOK(t, "--source", "domains:"+src, "--out", out, "--shards", "3")
	for _, want := range []string{fmt.Sprintf("shard %d: not updated in place (url-%d.serve differs", target, target), "(1 processed, "} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	checkPIRManifest(t, out, shards)
	lookupAll(t, out, append(present, next, "later2.example.org"), absent)
	lookupServed(t, out, shards, append(present, next, "later2.example.org"), absent)
}

// TestBuildPIRRebuilds covers the cases that reprocess more than the
// changed keys: tampered files, an unreadable manifest, changed settings,
// a changed shard count (stale shards removed), and --no-pir.
func TestBuildPIRRebuilds(t *testing.T) {
	tmp := t.TempDir()
	src, out := filepath.Join(tmp, "list.txt"), filepath.Join(tmp, "out")
	var domains []string
	for i := range 12 {
		domains = append(domains, fmt.Sprintf("ads%d.example.net", i))
	}
	writeDomains(t, src, domains)
	build := func(args ...string) string {
		return buildOK(t, append([]string{"--source", "domains:" + src, "--out", out}, args...)...)
	}
	build("--shards", "3")

	// A tampered shard file is reprocessed; the others are kept.
	bin1, _ := pir.ShardPaths(cur(t, out), "url", 1)
	b := mustRead(t, bin1)
	b[len(b)-1] ^= 1
	os.WriteFile(bin1, b, 0o644)
	os.Mkdir(filepath.Join(out, generation.GenerationsDir, ".staging-crashed"), 0o755)
	errs := build("--shards", "3")
	for _, want := range []string{"shard 1: url-1.bin differs", "(1 processed, 2 unchanged)", "removed generations/.staging-crashed"} {
		if !strings.Contains(errs, want) {
			t.Errorf("tampered shard: stderr lacks %q:\n%s", want, errs)
		}
	}
	checkPIRManifest(t, out, 3)

	steps := []struct {
		name   string
		prep   func()
		args   []string
		shards int
		want   string
	}{
		{"unreadable manifest", func() { os.WriteFile(filepath.Join(cur(t, out), pirManifestFile), []byte("{"), 0o644) },
			[]string{"--shards", "3"}, 3, "pir-manifest.json is unreadable"},
		{"settings changed", nil, []string{"--shards", "3", "--hash-functions", "1"}, 3, "PIR settings changed (hash functions 2 -> 1)"},
		{"fewer shards", nil, []string{"--shards", "2", "--hash-functions", "1"}, 2, "shard count changed (3 -> 2)"},
		{"shards from elsewhere", func() { os.Remove(filepath.Join(cur(t, out), pirManifestFile)) },
			[]string{"--entries-per-shard", "5"}, 2, "holds url shards but no pir-manifest.json"},
	}
	for _, s := range steps {
		if s.prep != nil {
			s.prep()
		}
		errs := build(s.args...)
		if !strings.Contains(errs, s.want) || !strings.Contains(errs, ": full rebuild\n") {
			t.Errorf("%s: stderr lacks %q:\n%s", s.name, s.want, errs)
		}
		checkPIRManifest(t, out, s.shards)
	}
	if bin, params := pir.ShardPaths(cur(t, out), "url", 2); fileExists(bin) || fileExists(params) {
		t.Error("stale shard 2 left behind")
	}
	if ents, _ := filepath.Glob(filepath.Join(out, generation.GenerationsDir, ".*")); len(ents) != 0 {
		t.Errorf("temporary files left: %v", ents)
	}
	lookupAll(t, out, domains[:3], []string{"ads99.example.net"})

	// The output is what 'blindlist serve --db' serves as is.
	fc, err := api.ZeroConfig(context.Background(), api.ZeroConfigOptions{DB: out, Usecase: "com.example.app.url.filtering",
		Listen: "127.0.0.1:0", State: filepath.Join(tmp, "state")})
	if err != nil {
		t.Fatal(err)
	}
	if u := fc.Vendors[0].Usecases[0]; u.Directory != out || u.ShardCount != 2 {
		t.Errorf("serve --db would use %s with %d shards, want %s with 2", u.Directory, u.ShardCount, out)
	}

	// --no-pir makes a generation without shards; the previous one keeps
	// its own.
	bin1, _ = pir.ShardPaths(cur(t, out), "url", 1)
	binBefore := mustRead(t, bin1)
	build("--no-pir")
	if m, _ := filepath.Glob(filepath.Join(cur(t, out), "url-*")); len(m) != 0 || !bytes.Equal(mustRead(t, bin1), binBefore) {
		t.Errorf("--no-pir generation has shards %v, or changed the previous one", m)
	}
	empty := filepath.Join(tmp, "nopir")
	buildOK(t, "--source", "domains:"+src, "--out", empty, "--no-pir")
	if m, _ := filepath.Glob(filepath.Join(cur(t, empty), "url-*")); len(m) != 0 || fileExists(filepath.Join(cur(t, empty), pirManifestFile)) {
		t.Errorf("--no-pir wrote PIR files: %v", m)
	}
}

// TestBuildPIREmptyShards builds more shards than keys: shards with no key
// are still written (the service needs every index) and answer "absent".
func TestBuildPIREmptyShards(t *testing.T) {
	tmp := t.TempDir()
	src, out := filepath.Join(tmp, "list.txt"), filepath.Join(tmp, "out")
	domains := []string{"a.example", "b.example", "c.example"}
	writeDomains(t, src, domains)
	buildOK(t, "--source", "domains:"+src, "--out", out, "--shards", "6", "--hash-functions", "3")
	m := checkPIRManifest(t, out, 6)
	var absent []string
	for i, s := range m.Shards {
		if s.Keys > 0 {
			continue
		}
		for j := 0; ; j++ {
			if kw := fmt.Sprintf("x%d.example", j); shardOf(t, kw, 6) == i {
				absent = append(absent, kw)
				break
			}
		}
	}
	if len(absent) < 3 {
		t.Fatalf("%d empty shards, want at least 3 (6 shards, 3 keys)", len(absent))
	}
	lookupAll(t, out, domains, absent[:1])
}

func TestBuildPIRFlagErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--shards", "2", "--entries-per-shard", "10"}, "not both"},
		{[]string{"--shards", "-1"}, "--shards -1"},
		{[]string{"--shards", "70000"}, "--shards 70000"},
		{[]string{"--entries-per-shard", "0"}, "--entries-per-shard 0"},
		{[]string{"--hash-functions", "9"}, "--hash-functions 9"},
		{[]string{"--preset", "n_4096_logq_27_28_28_logt_16"}, "want one of"},
		{[]string{"--stem", "../x"}, "plain file name"},
	} {
		code, _, errs := runCLI(t, "", append([]string{"build", "--out", dir}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.msg) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want one line, exit 2 and %q", tc.args, code, errs, tc.msg)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("a rejected flag still wrote %d files", len(ents))
	}
}

// BenchmarkBuildHosts1MPIR runs the whole 'blindlist build' (parse,
// normalise, Bloom, key files, PIR processing into 20 shards) on a generated
// 1,000,000-line hosts file. "full" starts from an empty directory each
// time; "one-line-changed" rebuilds after one hosts line changed, which
// reprocesses the one or two shards of the removed and added keys.
func BenchmarkBuildHosts1MPIR(b *testing.B) {
	dir := b.TempDir()
	hosts := filepath.Join(dir, "hosts.txt")
	writeHostsFile(b, hosts, 1_000_000)
	orig, err := os.ReadFile(hosts)
	if err != nil {
		b.Fatal(err)
	}
	changed := filepath.Join(dir, "hosts-changed.txt")
	os.WriteFile(changed, bytes.Replace(orig, []byte(" host1234.ads-"), []byte(" edited1234.ads-"), 1), 0o644)
	out := filepath.Join(dir, "out")
	build := func(src string) {
		if code, _, errs := runCLI(b, "", "build", "--source", src, "--out", out, "--shards", "20"); code != 0 {
			b.Fatal(errs)
		}
	}
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			os.RemoveAll(out)
			build(hosts)
		}
	})
	b.Run("one-line-changed", func(b *testing.B) {
		build(hosts)
		srcs := []string{changed, hosts}
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			build(srcs[i%2])
			i++
		}
	})
}

// Names of the generation package the tests below use.
type pirManifest = generation.PIRManifest

const (
	pirManifestFile  = generation.PIRManifestFile
	pirKeyConfigFile = generation.KeyConfigFile
	pirStagingPrefix = ".pir-staging-" // generation's, unexported
)

// cur returns the current generation directory of a build's output.
func cur(t testing.TB, out string) string {
	t.Helper()
	d, err := generation.Resolve(out)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestBuildPIRUpdateMismatchedKeys: the previous generation's keys.txt is
// not the list its shards were built from (one key replaced by another,
// sorted, same count). An in-place update trusting it would add only the
// key the list lacks, leaving out the one it wrongly holds (a listed URL
// answered "allow") and keeping the removed one; the list is checked
// against its record in generation.json, and the changed shard is
// reprocessed.
func TestBuildPIRUpdateMismatchedKeys(t *testing.T) {
	tmp := t.TempDir()
	src, out := filepath.Join(tmp, "list.txt"), filepath.Join(tmp, "out")
	var domains []string
	for i := range 300 {
		domains = append(domains, fmt.Sprintf("host%03d.example.com", i))
	}
	writeDomains(t, src, domains)
	buildOK(t, "--source", "domains:"+src, "--out", out, "--shards", "1")
	removed, held, added := domains[5], "cee.example.org", "dee.example.org"
	keysPath := filepath.Join(cur(t, out), "keys.txt")
	keys := readKeys(t, out)
	keys[slices.Index(keys, removed)] = held
	slices.Sort(keys)
	if err := os.Remove(keysPath); err != nil { // a new file, not the linked one
		t.Fatal(err)
	}
	writeDomains(t, keysPath, keys)
	domains = slices.DeleteFunc(domains, func(d string) bool { return d == removed })
	domains = append(domains, held, added)
	writeDomains(t, src, domains)
	errs := buildOK(t, "--source", "domains:"+src, "--out", out, "--shards", "1")
	for _, want := range []string{"no in-place shard updates: previous key list differs from its record", "(1 processed, 0 unchanged)"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	lookupAll(t, out, []string{held, added, domains[0]}, []string{removed})
}
