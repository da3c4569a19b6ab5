package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/blindlist/blindlist/pir/he/kernels"
)

const versionUsage = `Usage: blindlist version

Prints the module version, the VCS revision and commit time the binary was
built from (with "modified" when the checkout had uncommitted changes), and
the Go version. 'blindlist --version' is the same.

Example:
  blindlist version
`

func runVersion(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	pos, code, ok := parseArgs(e, fs, versionUsage, args)
	if !ok {
		return code
	}
	if code, ok := e.noArgs("version", pos); !ok {
		return code
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintln(e.stdout, versionLine(bi))
	fmt.Fprintf(e.stdout, "kernels: %s (this CPU supports up to %s; %s selects a lower one)\n", kernels.Selected(), kernels.Detected(), kernels.EnvVar)
	return 0
}

// versionLine describes the build: "blindlist v1.2.3 (git 0123abcd4567,
// 2026-12-07T02:00:00Z, modified) go1.26.0 linux/amd64". A binary built
// from a checkout has the module version "(devel)" but still the revision
// (go build stamps it unless -buildvcs=false); bi may be nil.
func versionLine(bi *debug.BuildInfo) string {
	v := "(devel)"
	goVersion := runtime.Version()
	var vcs []string
	if bi != nil {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		if rev := settings["vcs.revision"]; rev != "" {
			vcs = append(vcs, settings["vcs"]+" "+rev[:min(12, len(rev))])
			if t := settings["vcs.time"]; t != "" {
				vcs = append(vcs, t)
			}
			if settings["vcs.modified"] == "true" {
				vcs = append(vcs, "modified")
			}
		}
	}
	line := "blindlist " + v
	if len(vcs) > 0 {
		line += " (" + strings.Join(vcs, ", ") + ")"
	}
	return line + " " + goVersion + " " + runtime.GOOS + "/" + runtime.GOARCH
}
