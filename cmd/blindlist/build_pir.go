package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/blindlist/blindlist/generation"
	"github.com/blindlist/blindlist/pir"
)

// pirBuildFlags are the PIR flags of 'blindlist build'.
type pirBuildFlags struct {
	noPIR           bool
	rebuild         bool
	shards          int
	entriesPerShard int
	preset          string
	hashFunctions   int
	stem            string
	symmetricKey    string // key file path; "" for plain keyword PIR
}

// register adds the PIR flags to fs.
func (o *pirBuildFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&o.noPIR, "no-pir", false, "")
	fs.BoolVar(&o.rebuild, "pir-rebuild", false, "")
	fs.IntVar(&o.shards, "shards", 0, "")
	fs.IntVar(&o.entriesPerShard, "entries-per-shard", generation.DefaultEntriesPerShard, "")
	fs.StringVar(&o.preset, "preset", generation.DefaultPreset, "")
	fs.IntVar(&o.hashFunctions, "hash-functions", 2, "")
	fs.StringVar(&o.stem, "stem", "url", "")
	fs.StringVar(&o.symmetricKey, "symmetric-key", "", "")
}

// check validates the PIR flags after fs is parsed, before any work, and
// names the flags at fault.
func (o *pirBuildFlags) check(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case set["shards"] && set["entries-per-shard"]:
		return errors.New("give --shards or --entries-per-shard, not both")
	case o.shards < 0 || o.shards > 1<<16:
		return fmt.Errorf("--shards %d: want 1 to 65536", o.shards)
	case o.shards == 0 && o.entriesPerShard < 1:
		return fmt.Errorf("--entries-per-shard %d: want at least 1", o.entriesPerShard)
	case o.hashFunctions < 1 || o.hashFunctions > 8:
		return fmt.Errorf("--hash-functions %d: want 1 to 8", o.hashFunctions)
	case o.stem == "" || strings.ContainsAny(o.stem, `/\`) || strings.HasPrefix(o.stem, "."):
		return fmt.Errorf("--stem %q: want a plain file name prefix", o.stem)
	case o.noPIR && o.symmetricKey != "":
		return errors.New("--symmetric-key needs the PIR stage; drop --no-pir")
	case !slices.Contains(pir.Presets(), o.preset):
		return fmt.Errorf("--preset %q: want one of %s", o.preset, strings.Join(pir.Presets(), ", "))
	}
	return nil
}

// config returns the package settings for these flags.
func (o *pirBuildFlags) config() generation.PIRConfig {
	return generation.PIRConfig{
		Disabled: o.noPIR, Rebuild: o.rebuild, Shards: o.shards, EntriesPerShard: o.entriesPerShard,
		Preset: o.preset, HashFunctions: o.hashFunctions, Stem: o.stem, SymmetricKeyFile: o.symmetricKey,
	}
}
