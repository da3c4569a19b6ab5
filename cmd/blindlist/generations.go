package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/blindlist/blindlist/generation"
)

const generationsUsage = `Usage: blindlist generations list [--db DIR] [--json]
       blindlist generations rollback [--db DIR] ID
       blindlist generations verify [--db DIR] [ID]

'blindlist build --out DIR' writes each build as an immutable generation,
DIR/generations/<ID>/, and publishes it by switching DIR/current in one
atomic step; it keeps the last --keep (default 5). 'serve' follows current
within seconds and answers the previous configurations from the kept
generations (versionCount).

  list        the kept generations, oldest first; * marks the current one
  rollback ID verify generation ID against its manifest and make it current
  verify [ID] hash every file of generation ID (default: the current one)
              against its manifest, ignoring the verification stamps that
              let 'serve' skip unchanged files: catches what a stamp cannot
              see, such as media bit rot (see docs/deploy.md)

Flags:
  --db DIR    the build's output directory (default "out")
  --json      list as JSON

Examples:
  blindlist generations list --db out/
  blindlist generations rollback --db out/ 000003
  blindlist generations verify --db out/
`

func runGenerations(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("generations", flag.ContinueOnError)
	db := fs.String("db", "out", "")
	asJSON := fs.Bool("json", false, "")
	pos, code, ok := parseArgs(e, fs, generationsUsage, args)
	if !ok {
		return code
	}
	switch {
	case len(pos) == 1 && pos[0] == "list":
		list, err := generation.List(*db)
		if err != nil {
			return e.errorf("%v", err)
		}
		if len(list) == 0 {
			return e.errorf("%s holds no generations (run 'blindlist build --out %s' first)", *db, *db)
		}
		cur, _ := generation.CurrentID(*db)
		if *asJSON {
			out, _ := json.MarshalIndent(struct {
				Current     string                          `json:"current"`
				Generations []generation.GenerationManifest `json:"generations"`
			}{cur, list}, "", "  ")
			fmt.Fprintf(e.stdout, "%s\n", out)
			return 0
		}
		for _, m := range list {
			mark := " "
			if m.ID == cur {
				mark = "*"
			}
			fmt.Fprintf(e.stdout, "%s %s  %s  %d keys (+%d -%d)  %d shards  prefilter %.16s  config_id %.16s\n",
				mark, m.ID, m.Created, m.Keys, m.Added, m.Removed, m.ShardCount, m.Prefilter.Tag, m.ConfigID)
		}
		return 0
	case len(pos) == 2 && pos[0] == "rollback":
		if err := generation.Rollback(*db, pos[1]); err != nil {
			return e.errorf("%v", err)
		}
		fmt.Fprintf(e.stdout, "generation %s is current in %s\n", pos[1], *db)
		return 0
	}
	if len(pos) >= 1 && len(pos) <= 2 && pos[0] == "verify" {
		id := ""
		if len(pos) == 2 {
			id = pos[1]
		} else {
			var err error
			if id, err = generation.CurrentID(*db); err != nil {
				return e.errorf("%v", err)
			}
		}
		g, err := generation.OpenIDFull(*db, id)
		if err != nil {
			return e.errorf("%v", err)
		}
		fmt.Fprintf(e.stdout, "generation %s of %s verified: %d files, %d bytes hashed\n", id, *db, len(g.Manifest.Files), g.Hashed)
		return 0
	}
	fmt.Fprint(e.stderr, generationsUsage)
	return 2
}
