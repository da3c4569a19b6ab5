// Command blindlist builds URL-filter prefilters and PIR databases and serves
// them to Apple's NEURLFilter clients.
//
// Every subcommand lives in its own file with its own flag.FlagSet; main only
// wires the process to [run], which tests call in process.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/blindlist/blindlist/pir/he/kernels"
)

// env is what a subcommand may touch of the outside world. Tests build one
// with buffers; main builds one from the process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand. run returns the process exit code: 0 success,
// 1 failure, 2 usage error.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

// commands lists every subcommand. Each entry points at a function in the
// subcommand's own file.
func commands() []command {
	cmds := []command{
		{"version", "print the version", runVersion},
	}
	cmds = append(cmds, extraCommands()...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	return cmds
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usageHeader = `blindlist: private URL filtering for Apple's NEURLFilter

Usage:
  blindlist <command> [flags] [args]

Commands:
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		printUsage(stdout)
		return 0
	case "help":
		// "help CMD [SUB]" is "CMD [SUB] -h".
		if len(args) == 1 {
			printUsage(stdout)
			return 0
		}
		args = append(args[1:len(args):len(args)], "-h")
	case "-version", "--version":
		args = []string{"version"}
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if err := kernels.Err(); err != nil {
				e.errorf("%v", err)
				e.hintf("unset %s or set it to a level this CPU supports (portable up to %s)", kernels.EnvVar, kernels.Detected())
				return 1
			}
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(stderr, "blindlist: error: unknown command %q (see 'blindlist -h')\n", args[0])
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, usageHeader)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'blindlist <command> -h' for a command's flags and examples.\n")
}

// errorf prints one "blindlist: error: ..." line to stderr and returns exit code 1.
func (e *env) errorf(format string, args ...any) int {
	fmt.Fprintf(e.stderr, "blindlist: error: "+format+"\n", args...)
	return 1
}

// hintf prints one "blindlist: hint: ..." line to stderr.
func (e *env) hintf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "blindlist: hint: "+format+"\n", args...)
}
