package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/oprf"
	"github.com/blindlist/blindlist/pir/pb"
)

const pirProcessUsage = `Usage: blindlist pir process [--config FILE.json | --input FILE [flags]]

Builds processed keyword-PIR shards like Apple's PIRProcessDatabase: shards the rows by keyword
hash, places each shard's rows into cuckoo tables (every row is placed or the command fails) and
packs them into MulPIR plaintexts. Writes <stem>-<N>.bin and <stem>-<N>.params.txtpb per shard,
and removes the files of higher shard numbers left by an earlier run with more shards (a server
would load them beside the new ones).

Either give Apple's PIRProcessDatabase JSON config (--config; its inputDatabase, outputDatabase,
outputPirParameters with SHARD_ID, rlweParameters, sharding, shardingFunction,
cuckooTableArguments, keyCompression, useMaxSerializedBucketSize, outputEvaluationKeyConfig,
unevenDimensions, symmetricPirArguments are honoured; databaseType must be keyword) or flags:

  --input FILE              KeywordDatabase (.txtpb text or .binpb binary), or a plain key list
                            (one key per line, trimmed, empty lines skipped) with value --value
  --value STR               value of every key of a plain key list (default "1", as Apple's sample)
  --out DIR                 output directory (default .)
  --stem NAME               output file stem (default url)
  --preset NAME             rlwe preset (default n_4096_logq_27_28_28_logt_5)
  --shard-count N           number of shards
  --entries-per-shard N     average rows per shard (Apple's sample uses 50000); default 1 shard
  --double-mod N            double-mod sharding with N other shards (default SHA-256 sharding)
  --hash-functions K        cuckoo hash functions = cuckoo tables (default 2)
  --max-bucket-size B       max serialized bucket size in bytes (default: Apple's rule)
  --use-max-bucket-size     make every entry the max bucket size
  --key-compression MODE    noCompression (default), hybridCompression or maxCompression
  --key-config-out FILE     also write the union EvaluationKeyConfig (text proto)
  --symmetric-key FILE      symmetric PIR (VOPRF P-384, AES-192-GCM values, as Apple's
                            symmetricPirArguments): use the key in FILE (Apple's hex format),
                            or create it (mode 0600) if FILE does not exist. The service needs the
                            same file (usecase symmetricPirArguments.databaseEncryptionKeyFilePath)

Common flags:
  --workers N               shards processed in parallel (default: all cores)
  --progress                print progress (rows read, shards done, ETA) to stderr; always on
                            a terminal
  --trials N                validation lookups per shard with a test client (default: the JSON
                            config's trialsPerShard, else 0); prints noise budget, sizes, time

Example:
  blindlist pir process --input keys.txt --entries-per-shard 50000 --out shards
  blindlist pir process --config process-config.json
  blindlist pir process --input keys.txt --symmetric-key spir-key.txt --out shards
`

// appleProcessConfig is the subset of PIRProcessDatabase's JSON config we
// honour (pir-spec §7.3); unknown keys are an error.
type appleProcessConfig struct {
	InputDatabase              string `json:"inputDatabase"`
	OutputDatabase             string `json:"outputDatabase"`
	OutputPirParameters        string `json:"outputPirParameters"`
	OutputEvaluationKeyConfig  string `json:"outputEvaluationKeyConfig"`
	RlweParameters             string `json:"rlweParameters"`
	DatabaseType               string `json:"databaseType"`
	Algorithm                  string `json:"algorithm"`
	KeyCompression             string `json:"keyCompression"`
	UseMaxSerializedBucketSize bool   `json:"useMaxSerializedBucketSize"`
	TrialsPerShard             int    `json:"trialsPerShard"`
	UnevenDimensions           *bool  `json:"unevenDimensions"`
	Sharding                   *struct {
		ShardCount         int `json:"shardCount"`
		EntryCountPerShard int `json:"entryCountPerShard"`
	} `json:"sharding"`
	ShardingFunction      json.RawMessage        `json:"shardingFunction"`
	SymmetricPirArguments *appleSymmetricPirArgs `json:"symmetricPirArguments"`
	Cuckoo                *struct {
		HashFunctionCount       int `json:"hashFunctionCount"`
		MaxEvictionCount        int `json:"maxEvictionCount"`
		MaxSerializedBucketSize int `json:"maxSerializedBucketSize"`
		SlotCount               int `json:"slotCount"`
		BucketCount             *struct {
			AllowExpansion *struct {
				TargetLoadFactor float64 `json:"targetLoadFactor"`
				ExpansionFactor  float64 `json:"expansionFactor"`
			} `json:"allowExpansion"`
			FixedSize *struct {
				BucketCount int `json:"bucketCount"`
			} `json:"fixedSize"`
		} `json:"bucketCount"`
	} `json:"cuckooTableArguments"`
}

// appleSymmetricPirArgs is PIRProcessDatabase's symmetricPirArguments:
// exactly one of the two paths, and an optional config type.
type appleSymmetricPirArgs struct {
	DatabaseEncryptionKeyFilePath       string `json:"databaseEncryptionKeyFilePath"`
	OutputDatabaseEncryptionKeyFilePath string `json:"outputDatabaseEncryptionKeyFilePath"`
	ConfigType                          string `json:"configType"`
}

// resolve reads or creates the key, as PIRProcessDatabase does: an existing
// key file is read; an output path gets a fresh key (replacing any file
// there, as Apple's tool does), written with mode 0600.
func (a *appleSymmetricPirArgs) resolve() (*oprf.PrivateKey, error) {
	switch {
	case a.ConfigType != "" && a.ConfigType != oprf.ConfigTypeName:
		return nil, fmt.Errorf("symmetricPirArguments: configType %q, only %s exists", a.ConfigType, oprf.ConfigTypeName)
	case a.DatabaseEncryptionKeyFilePath != "" && a.OutputDatabaseEncryptionKeyFilePath != "":
		return nil, errors.New("symmetricPirArguments: give databaseEncryptionKeyFilePath or outputDatabaseEncryptionKeyFilePath, not both")
	case a.DatabaseEncryptionKeyFilePath != "":
		return oprf.ReadKeyFile(a.DatabaseEncryptionKeyFilePath)
	case a.OutputDatabaseEncryptionKeyFilePath != "":
		k, err := oprf.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		if err := oprf.WriteKeyFile(a.OutputDatabaseEncryptionKeyFilePath, k); err != nil {
			return nil, err
		}
		return k, nil
	}
	return nil, errors.New("symmetricPirArguments: databaseEncryptionKeyFilePath or outputDatabaseEncryptionKeyFilePath is required")
}

// processJob is a resolved process run.
type processJob struct {
	input, value          string
	binTemplate, parTempl string // paths with SHARD_ID
	keyConfigOut          string
	trials                int  // validation lookups per shard
	progress              bool // print a line per finished shard
	cfg                   pir.ProcessConfig
}

func runPIRProcess(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pir process", flag.ContinueOnError)
	jsonPath := fs.String("config", "", "")
	input := fs.String("input", "", "")
	value := fs.String("value", "1", "")
	outDir := fs.String("out", ".", "")
	stem := fs.String("stem", "url", "")
	preset := fs.String("preset", "n_4096_logq_27_28_28_logt_5", "")
	shardCount := fs.Int("shard-count", 0, "")
	perShard := fs.Int("entries-per-shard", 0, "")
	doubleMod := fs.Uint("double-mod", 0, "")
	hashes := fs.Int("hash-functions", 0, "")
	maxBucket := fs.Int("max-bucket-size", 0, "")
	useMax := fs.Bool("use-max-bucket-size", false, "")
	compression := fs.String("key-compression", "noCompression", "")
	keyConfigOut := fs.String("key-config-out", "", "")
	workers := fs.Int("workers", 0, "")
	progress := fs.Bool("progress", false, "")
	trials := fs.Int("trials", -1, "")
	symKey := fs.String("symmetric-key", "", "")
	pos, code, ok := parseArgs(e, fs, pirProcessUsage, args)
	if !ok {
		return code
	}
	if code, ok := e.noArgs("pir process", pos); !ok {
		return code
	}
	var job *processJob
	if *jsonPath != "" {
		if *input != "" || *symKey != "" {
			return e.usagef("pir process", "give --config or --input (and --symmetric-key), not both")
		}
		var err error
		if job, err = readAppleProcessConfig(*jsonPath); err != nil {
			return e.errorf("%v", err)
		}
	} else {
		if *input == "" {
			return e.usagef("pir process", "--input or --config is required")
		}
		kc, err := pir.ParseKeyCompression(*compression)
		if err != nil {
			return e.errorf("%v", err)
		}
		base := filepath.Join(*outDir, *stem)
		job = &processJob{
			input: *input, value: *value,
			binTemplate: base + "-SHARD_ID.bin", parTempl: base + "-SHARD_ID.params.txtpb",
			keyConfigOut: *keyConfigOut,
			cfg: pir.ProcessConfig{
				Preset: *preset, ShardCount: *shardCount, EntryCountPerShard: *perShard,
				Sharding:                   pir.ShardingFunction{OtherShardCount: uint32(*doubleMod)},
				Cuckoo:                     pir.CuckooConfig{HashFunctionCount: *hashes, MaxSerializedBucketSize: *maxBucket},
				KeyCompression:             kc,
				UseMaxSerializedBucketSize: *useMax,
			},
		}
		if *doubleMod > 1<<31 {
			return e.errorf("--double-mod %d is too large", *doubleMod)
		}
		if *symKey != "" {
			k, created, err := oprf.CreateKeyFile(*symKey, rand.Reader)
			if err != nil {
				return e.errorf("--symmetric-key: %v", err)
			}
			if created {
				fmt.Fprintf(e.stderr, "blindlist: created symmetric PIR key %s (mode 0600); keep it secret and give it to the service\n", *symKey)
			}
			job.cfg.Symmetric = k
		}
	}
	job.cfg.Workers = *workers
	if *trials >= 0 {
		job.trials = *trials
	}
	job.progress = *progress || isTerminal(e.stderr)
	return job.run(ctx, e)
}

// lockedWriter serializes writes to w: shards are processed and validated
// on concurrent goroutines, and e.stderr need not be safe for concurrent use
// (tests pass a bytes.Buffer).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (job *processJob) run(ctx context.Context, e *env) int {
	stderr := &lockedWriter{w: e.stderr}
	start := time.Now()
	if job.progress {
		job.cfg.Progress = func(done, total int) {
			left := time.Since(start) * time.Duration(total-done) / time.Duration(done)
			fmt.Fprintf(stderr, "blindlist: processed shard %d of %d, ETA %s\n", done, total, left.Round(time.Second))
		}
	}
	// A batch run holds the shards in progress and the spill buffers; a
	// tighter GC target trades a little CPU for less peak memory.
	defer debug.SetGCPercent(debug.SetGCPercent(25))
	spill, err := job.route(ctx, stderr)
	if err != nil {
		return e.errorf("%v", err)
	}
	defer spill.Close()
	fmt.Fprintf(e.stderr, "blindlist: read %d rows from %s in %.1f s\n", spill.Rows(), job.input, time.Since(start).Seconds())
	// Each shard is written as soon as it is built, then dropped.
	var mu sync.Mutex
	var ps []*pir.Params
	var staleOnce sync.Once
	var staleErr error
	err = spill.Process(ctx, func(i, n int, db *pir.Database, shardRows []pir.Row) error {
		if n > 1 && (!strings.Contains(job.binTemplate, "SHARD_ID") || !strings.Contains(job.parTempl, "SHARD_ID")) {
			return fmt.Errorf("%d shards but the output paths have no SHARD_ID", n)
		}
		staleOnce.Do(func() {
			// The output folders are created only once there is
			// something to write into them.
			for _, d := range []string{filepath.Dir(job.binTemplate), filepath.Dir(job.parTempl)} {
				if staleErr = os.MkdirAll(d, 0o755); staleErr != nil {
					return
				}
			}
			staleErr = job.removeStaleShards(n, stderr)
		})
		if staleErr != nil {
			return staleErr
		}
		bin, par := job.shardPaths(i)
		if job.trials > 0 {
			rep, err := pir.ValidateShard(ctx, db, shardRows, job.trials, rand.Reader)
			if err != nil {
				return fmt.Errorf("shard %d: %w", i, err)
			}
			fmt.Fprintf(stderr, "blindlist: shard %d validated: %d lookups, min noise budget %.1f bits, query %d B, key %d B, response %d B, %.1f ms per answer\n",
				i, rep.Trials, rep.MinNoiseBudget, rep.QueryBytes, rep.KeyBytes, rep.ResponseBytes, float64(rep.MeanAnswer.Microseconds())/1000)
		}
		if err := pir.WriteShardFiles(bin, par, db); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if ps == nil {
			ps = make([]*pir.Params, n)
		}
		ps[i] = db.Params()
		return nil
	})
	if err != nil {
		return e.errorf("%v", err)
	}
	cfg, err := pir.BuildConfig(ps)
	if err != nil {
		return e.errorf("%v", err)
	}
	if job.keyConfigOut != "" {
		b, err := pb.MarshalText(cfg.KeyConfig) // stable bytes; prototext's spacing varies by build
		if err != nil {
			return e.errorf("%v", err)
		}
		if err := os.WriteFile(job.keyConfigOut, b, 0o644); err != nil {
			return e.errorf("%v", err)
		}
	}
	fmt.Fprintf(e.stderr, "blindlist: wrote %d shards (%s) in %.1f s\n", len(ps), ps[0].Preset(), time.Since(start).Seconds())
	fmt.Fprintf(e.stdout, "shards %d\nconfig_id %x\nevaluation_key_config_hash %x\n", len(ps), cfg.ID, cfg.KeyConfigHash)
	if job.cfg.Symmetric != nil {
		fmt.Fprintf(e.stdout, "symmetric_pir_server_public_key %x\n", job.cfg.Symmetric.PublicKey())
	}
	return 0
}

// route reads the input database row by row into per-shard spill files
// (pir.RowSpill) in a temporary directory beside the output (in the
// nearest existing folder above it): memory holds a bounded write buffer,
// never all rows.
func (job *processJob) route(ctx context.Context, stderr io.Writer) (*pir.RowSpill, error) {
	sp, err := pir.NewRowSpill(existingDir(filepath.Dir(job.binTemplate)), job.cfg)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(job.input)
	if err != nil {
		sp.Close()
		return nil, err
	}
	defer f.Close()
	n, last := 0, time.Now()
	err = pir.ReadKeywordRows(f, keywordFormat(job.input), []byte(job.value), func(r pir.Row) error {
		if n++; job.progress && n%4096 == 0 && time.Since(last) >= time.Second {
			last = time.Now()
			fmt.Fprintf(stderr, "blindlist: reading %s: %d rows\n", job.input, n)
		}
		return sp.Add(ctx, r)
	})
	if err != nil {
		sp.Close()
		return nil, err
	}
	return sp, nil
}

// existingDir returns dir, or its nearest existing parent.
func existingDir(dir string) string {
	for {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// shardPaths returns the output files of shard i.
func (job *processJob) shardPaths(i int) (bin, params string) {
	return strings.ReplaceAll(job.binTemplate, "SHARD_ID", strconv.Itoa(i)),
		strings.ReplaceAll(job.parTempl, "SHARD_ID", strconv.Itoa(i))
}

// removeStaleShards removes the files of shards n, n+1, … left by an
// earlier run with more shards. Loading stops at the first missing index,
// so they would otherwise be served beside the new shards under a config
// with the old shard count, routing keywords to shards that do not hold
// them.
func (job *processJob) removeStaleShards(n int, stderr io.Writer) error {
	if !strings.Contains(job.binTemplate, "SHARD_ID") || !strings.Contains(job.parTempl, "SHARD_ID") {
		return nil
	}
	for i := n; ; i++ {
		bin, par := job.shardPaths(i)
		removed := false
		for _, path := range []string{bin, par} {
			err := os.Remove(path)
			switch {
			case err == nil:
				removed = true
			case !errors.Is(err, fs.ErrNotExist):
				return fmt.Errorf("removing stale shard %d from an earlier run: %w", i, err)
			}
		}
		if !removed {
			return nil
		}
		fmt.Fprintf(stderr, "blindlist: removed stale shard %d (%s, %s) left by an earlier run with more shards\n", i, bin, par)
	}
}

// keywordFormat is the format of the input database at path, by its
// name: .txtpb text, .binpb or .pb binary KeywordDatabase, otherwise a
// plain key list.
func keywordFormat(path string) pir.KeywordFormat {
	switch {
	case strings.HasSuffix(path, ".txtpb"):
		return pir.KeywordTextProto
	case strings.HasSuffix(path, ".binpb") || strings.HasSuffix(path, ".pb"):
		return pir.KeywordBinaryProto
	}
	return pir.KeyLines
}

// readAppleProcessConfig reads PIRProcessDatabase's JSON config.
func readAppleProcessConfig(path string) (*processJob, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c appleProcessConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	switch {
	case c.DatabaseType != "keyword":
		return nil, fmt.Errorf("%s: databaseType %q, only keyword is supported", path, c.DatabaseType)
	case c.Algorithm != "" && c.Algorithm != "mulPir":
		return nil, fmt.Errorf("%s: algorithm %q, only mulPir is supported", path, c.Algorithm)
	case c.InputDatabase == "" || c.OutputDatabase == "" || c.OutputPirParameters == "" || c.RlweParameters == "":
		return nil, fmt.Errorf("%s: inputDatabase, outputDatabase, outputPirParameters and rlweParameters are required", path)
	}
	job := &processJob{input: c.InputDatabase, value: "1", binTemplate: c.OutputDatabase, parTempl: c.OutputPirParameters,
		keyConfigOut: c.OutputEvaluationKeyConfig, trials: c.TrialsPerShard}
	if c.SymmetricPirArguments != nil {
		if job.cfg.Symmetric, err = c.SymmetricPirArguments.resolve(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	job.cfg.Preset = c.RlweParameters
	if c.KeyCompression != "" {
		if job.cfg.KeyCompression, err = pir.ParseKeyCompression(c.KeyCompression); err != nil {
			return nil, err
		}
	}
	job.cfg.UseMaxSerializedBucketSize = c.UseMaxSerializedBucketSize
	job.cfg.EvenDimensions = c.UnevenDimensions != nil && !*c.UnevenDimensions
	if c.Sharding != nil {
		job.cfg.ShardCount, job.cfg.EntryCountPerShard = c.Sharding.ShardCount, c.Sharding.EntryCountPerShard
	}
	if len(c.ShardingFunction) > 0 {
		var f struct {
			SHA256    *json.RawMessage `json:"sha256"`
			DoubleMod *uint32          `json:"doubleMod"`
		}
		if err := json.Unmarshal(c.ShardingFunction, &f); err != nil {
			return nil, fmt.Errorf("%s: shardingFunction: %v", path, err)
		}
		if f.DoubleMod != nil {
			job.cfg.Sharding.OtherShardCount = *f.DoubleMod
		}
	}
	if cu := c.Cuckoo; cu != nil {
		job.cfg.Cuckoo = pir.CuckooConfig{HashFunctionCount: cu.HashFunctionCount, MaxEvictionCount: cu.MaxEvictionCount,
			MaxSerializedBucketSize: cu.MaxSerializedBucketSize, SlotCount: cu.SlotCount}
		if bc := cu.BucketCount; bc != nil {
			if a := bc.AllowExpansion; a != nil {
				job.cfg.Cuckoo.TargetLoadFactor, job.cfg.Cuckoo.ExpansionFactor = a.TargetLoadFactor, a.ExpansionFactor
			}
			if f := bc.FixedSize; f != nil {
				job.cfg.Cuckoo.FixedBucketCount = f.BucketCount
			}
		}
	}
	return job, nil
}
