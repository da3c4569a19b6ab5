package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/blindlist/blindlist/pir"
)

const pirConfigUsage = `Usage: blindlist pir config --db DIR [--stem url] --usecase NAME --out FILE

Writes the ConfigResponse (binary protobuf) our /config returns for the processed shards
DIR/<stem>-0.bin, DIR/<stem>-0.params.txtpb, ... (Apple's PIRProcessDatabase layout, or ours):
the same builder as the service, so config_id and evaluation_key_config_hash equal Apple's.
The hex config_id and key-config hash are printed to stdout.

Flags:
  --db DIR        directory of the processed shards
  --stem NAME     file stem of the shards (default url)
  --usecase NAME  usecase name, e.g. com.example.app.url.filtering
  --out FILE      ConfigResponse output

Example:
  blindlist pir config --db shards --usecase com.example.app.url.filtering --out config.binpb
`

func runPIRConfig(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pir config", flag.ContinueOnError)
	db := fs.String("db", "", "")
	stem := fs.String("stem", "url", "")
	usecase := fs.String("usecase", "", "")
	out := fs.String("out", "", "")
	pos, code, ok := parseArgs(e, fs, pirConfigUsage, args)
	if !ok {
		return code
	}
	if code, ok := e.noArgs("pir config", pos); !ok {
		return code
	}
	if err := requireFlags([2]string{"db", *db}, [2]string{"usecase", *usecase}, [2]string{"out", *out}); err != nil {
		return e.usagef("pir config", "%v", err)
	}
	dbs, err := pir.LoadShards(ctx, *db, *stem)
	if err != nil {
		return e.errorf("%v", err)
	}
	ps := make([]*pir.Params, len(dbs))
	for i, d := range dbs {
		ps[i] = d.Params()
	}
	cfg, err := pir.BuildConfig(ps)
	if err != nil {
		return e.errorf("%v", err)
	}
	b, err := pir.MarshalConfigResponse(cfg.ConfigResponse(*usecase))
	if err != nil {
		return e.errorf("%v", err)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return e.errorf("%v", err)
	}
	fmt.Fprintf(e.stdout, "config_id %x\nevaluation_key_config_hash %x\nshards %d\n", cfg.ID, cfg.KeyConfigHash, len(dbs))
	return 0
}
