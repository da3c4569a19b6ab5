package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"

	"github.com/blindlist/blindlist/pir/he/kernels"
)

func runVersion(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	fmt.Fprintf(e.stdout, "blindlist %s\n", v)
	fmt.Fprintf(e.stdout, "kernels: %s (this CPU supports up to %s; %s selects a lower one)\n", kernels.Selected(), kernels.Detected(), kernels.EnvVar)
	return 0
}
