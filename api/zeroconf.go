package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/blindlist/blindlist/generation"
	"github.com/blindlist/blindlist/internal/atomicfile"
	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/oprf"
)

// ZeroConfigOptions describe the one-command mode of `blindlist serve --db`.
type ZeroConfigOptions struct {
	// DB is a directory with processed shards (`<stem>-<i>.bin` and
	// `.params.txtpb`), or the output of `blindlist build` (keys.txt),
	// which is then processed once into State and reused on restarts.
	DB string
	// Stem is the shard file stem. Empty: "url".
	Stem string
	// Usecase is the usecase name ("<app bundle id>.url.filtering").
	Usecase string
	// Listen is the public listener's host:port.
	Listen string
	// State is the durable state directory (keys, issuer keys, OHTTP
	// seed, processed shards, the generated user-token file).
	State string
	// SymmetricKeyFile is the symmetric-PIR key the shards in DB were
	// processed with (`blindlist build --symmetric-key`); it becomes the
	// usecase's symmetricPirArguments. Empty for plain keyword PIR.
	SymmetricKeyFile string
	// Logf, if set, is told about the slow step: processing keys.txt
	// into shards (seconds for a million keys), before and after.
	Logf func(format string, args ...any)
}

// Zero-config processing: Apple's URL-filter sample configuration
// (pir-spec §9).
const (
	zeroConfigPreset          = "n_4096_logq_27_28_28_logt_5"
	zeroConfigEntriesPerShard = 50000
	zeroConfigUserTokensFile  = "user-tokens"
)

// ZeroConfig builds the configuration of `blindlist serve --db DIR`: one
// vendor "default" with one usecase, bbolt state, Privacy Pass with one
// tier whose user token is generated once into State/user-tokens, and the
// OHTTP gateway serving the listen address in-process. Processing keys.txt
// is deterministic in its outcome only up to cuckoo placement, so the
// processed shards are kept in State under the SHA-256 of keys.txt: a
// restart serves the same configuration id.
func ZeroConfig(ctx context.Context, o ZeroConfigOptions) (*FileConfig, error) {
	if o.Stem == "" {
		o.Stem = defaultFileStem
	}
	var err error
	if o.DB, err = filepath.Abs(o.DB); err != nil {
		return nil, fmt.Errorf("api: zero config: %w", err)
	}
	if o.State, err = filepath.Abs(o.State); err != nil {
		return nil, fmt.Errorf("api: zero config: %w", err)
	}
	// Refuse a database directory without shards or keys.txt before
	// creating anything (the state directory defaults to one inside it).
	if !generation.IsRoot(o.DB) && countShards(o.DB, o.Stem) == 0 {
		if _, err := os.Stat(filepath.Join(o.DB, "keys.txt")); err != nil {
			return nil, fmt.Errorf("api: zero config: %s has neither %s-0.params.txtpb nor keys.txt (run 'blindlist build --out %s' first)", o.DB, o.Stem, o.DB)
		}
	}
	if err := os.MkdirAll(o.State, 0o700); err != nil {
		return nil, fmt.Errorf("api: zero config: %w", err)
	}
	dir, shards, err := zeroConfigShards(ctx, o)
	if err != nil {
		return nil, err
	}
	tokens := filepath.Join(o.State, zeroConfigUserTokensFile)
	if _, err := os.Stat(tokens); errors.Is(err, os.ErrNotExist) {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		line := "# user token for NEURLFilterManager's pirAuthenticationToken\n" + base64.StdEncoding.EncodeToString(b[:]) + "\n"
		if err := atomicfile.WriteBytes(tokens, secretFileMode, []byte(line)); err != nil {
			return nil, fmt.Errorf("api: zero config: writing user token: %w", err)
		}
	}
	host, _, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("api: zero config: listen %q: %w", o.Listen, err)
	}
	if host == "" {
		host = "localhost"
	}
	sym := ""
	if o.SymmetricKeyFile != "" {
		abs, err := filepath.Abs(o.SymmetricKeyFile)
		if err != nil {
			return nil, fmt.Errorf("api: zero config: %w", err)
		}
		sym = fmt.Sprintf(`, "symmetricPirArguments": {"databaseEncryptionKeyFilePath": %q}`, abs)
	}
	cfg := fmt.Sprintf(`{
	  "listen": %q, "dataDir": %q,
	  "vendors": [{"name": "default",
	    "usecases": [{"name": %q, "directory": %q, "fileStem": %q, "shardCount": %d%s}],
	    "tiers": [{"name": "tier1", "tokensFile": %q}]}],
	  "ohttp": {"enabled": true, "targets": [%q, %q]}
	}`, o.Listen, o.State, o.Usecase, dir, o.Stem, shards, sym, tokens, host, o.Listen)
	return ParseFileConfig([]byte(cfg), o.State)
}

// zeroConfigShards finds or makes the processed shards for o.DB.
func zeroConfigShards(ctx context.Context, o ZeroConfigOptions) (dir string, shards int, err error) {
	src := o.DB
	if generation.IsRoot(o.DB) {
		// Served from the root: OpenUsecase follows current, verifies
		// the generation and checks this count against it, so the count
		// is read here without verifying (hashing the files twice would
		// double the start-up time of a large generation).
		id, err := generation.CurrentID(o.DB)
		if err != nil {
			return "", 0, fmt.Errorf("api: zero config: %w", err)
		}
		m, err := generation.ReadManifest(o.DB, id)
		if err != nil {
			return "", 0, fmt.Errorf("api: zero config: %w", err)
		}
		if n := m.ShardCount; n > 0 {
			if m.Stem != o.Stem {
				return "", 0, fmt.Errorf("api: zero config: generation %s of %s names its shards %q, not %q (--stem)", id, o.DB, m.Stem, o.Stem)
			}
			return o.DB, n, nil
		}
		// Built with --no-pir: its keys.txt is processed here, so the
		// generation is verified first.
		g, err := generation.OpenID(o.DB, id)
		if err != nil {
			return "", 0, fmt.Errorf("api: zero config: %w", err)
		}
		src = g.Dir
	} else if n := countShards(o.DB, o.Stem); n > 0 {
		return o.DB, n, nil
	}
	keysPath := filepath.Join(src, "keys.txt")
	keys, err := os.ReadFile(keysPath)
	if err != nil {
		return "", 0, fmt.Errorf("api: zero config: %s has neither %s-0.params.txtpb nor keys.txt (run 'blindlist build --out %s' first)", o.DB, o.Stem, o.DB)
	}
	pc := pir.ProcessConfig{Preset: zeroConfigPreset, EntryCountPerShard: zeroConfigEntriesPerShard}
	h := sha256.New()
	h.Write(keys)
	if o.SymmetricKeyFile != "" {
		// Symmetric shards depend on the key too: another key, another
		// directory.
		if pc.Symmetric, err = oprf.ReadKeyFile(o.SymmetricKeyFile); err != nil {
			return "", 0, fmt.Errorf("api: zero config: %w", err)
		}
		h.Write(pc.Symmetric.PublicKey())
	}
	sum := h.Sum(nil)
	dir = filepath.Join(o.State, "db-"+hex.EncodeToString(sum[:8]))
	if n := countShards(dir, o.Stem); n > 0 {
		return dir, n, nil
	}
	var rows []pir.Row
	sc := bufio.NewScanner(bytes.NewReader(keys))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		k := bytes.TrimSpace(sc.Bytes())
		if len(k) == 0 || k[0] == '#' {
			continue
		}
		rows = append(rows, pir.Row{Keyword: bytes.Clone(k), Value: []byte("1")})
	}
	if err := sc.Err(); err != nil {
		return "", 0, fmt.Errorf("api: zero config: reading %s: %w", keysPath, err)
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	logf("processing %d keys of %s into PIR shards in %s (once; later starts reuse them)", len(rows), keysPath, dir)
	start := time.Now()
	dbs, err := pir.ProcessKeywords(ctx, rows, pc)
	if err == nil {
		logf("processed %d shards in %.1f s", len(dbs), time.Since(start).Seconds())
	}
	if err != nil {
		return "", 0, fmt.Errorf("api: zero config: processing %s: %w", keysPath, err)
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return "", 0, err
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return "", 0, err
	}
	for i, db := range dbs {
		if err := pir.WriteShard(tmp, o.Stem, i, db); err != nil {
			return "", 0, fmt.Errorf("api: zero config: %w", err)
		}
	}
	// pir.WriteShard replaces each file durably today, but this directory
	// is published by one rename, so make its contents durable here
	// whatever the shard writer does: every file and the directory before
	// the rename, the rename itself after (the parent). A crash leaves
	// either no directory (processed again) or complete shards, never a
	// directory of empty or short files that a restart would serve.
	if err := syncTree(tmp); err != nil {
		return "", 0, fmt.Errorf("api: zero config: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", 0, fmt.Errorf("api: zero config: %w", err)
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return "", 0, fmt.Errorf("api: zero config: %w", err)
	}
	return dir, len(dbs), nil
}

// testingOnlySynced, when set, is told every path syncFile or syncDir made
// durable, so a test can check what was fsynced and in which order.
var testingOnlySynced func(path string)

// syncTree fsyncs every regular file directly in dir, then dir itself.
func syncTree(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, ent := range ents {
		if ent.Type().IsRegular() {
			if err := syncFile(filepath.Join(dir, ent.Name())); err != nil {
				return err
			}
		}
	}
	return syncDir(dir)
}

// syncFile fsyncs the existing regular file at path.
func syncFile(path string) error {
	if err := atomicfile.SyncFile(path); err != nil {
		return err
	}
	if testingOnlySynced != nil {
		testingOnlySynced(path)
	}
	return nil
}

// syncDir fsyncs the directory dir ([atomicfile.SyncDir]).
func syncDir(dir string) error {
	if err := atomicfile.SyncDir(dir); err != nil {
		return err
	}
	if testingOnlySynced != nil {
		testingOnlySynced(dir)
	}
	return nil
}

// countShards returns how many consecutive shards 0, 1, … exist in dir.
func countShards(dir, stem string) int {
	n := 0
	for {
		bin, params := pir.ShardPaths(dir, stem, n)
		if _, err := os.Stat(params); err != nil {
			return n
		}
		if _, err := os.Stat(bin); err != nil {
			// An updated shard of a generation has its serve-ready file
			// without a .bin (pir.OpenDatabase reads either).
			if _, err := os.Stat(pir.ServePath(bin)); err != nil {
				return n
			}
		}
		n++
	}
}
