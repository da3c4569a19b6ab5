package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Misuse (an unknown or mistyped flag, a missing or extra argument) is
// reported the same way by every command: one line on stderr saying what is
// wrong and where the help is, exit code 2. The usage text itself goes to
// stdout, and only when asked for with -h.

// usagef reports misuse of the command cmd ("build", "pir process") as one
// line and returns exit code 2.
func (e *env) usagef(cmd, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "blindlist: error: %s: %s (see 'blindlist %s -h')\n", cmd, fmt.Sprintf(format, args...), cmd)
	return 2
}

// noArgs reports an unexpected positional argument of a command that takes
// none. It returns the exit code and false when there is one.
func (e *env) noArgs(cmd string, pos []string) (int, bool) {
	if len(pos) == 0 {
		return 0, true
	}
	return e.usagef(cmd, "unexpected argument %q: this command takes flags only", pos[0]), false
}

// parseArgs parses flags that may appear before, between or after the
// positional arguments, which it returns in order. On -h it prints usage to
// stdout and returns ok false with code 0; on a bad flag it reports the
// misuse in one line (usagef) and returns ok false with code 2.
func parseArgs(e *env, fs *flag.FlagSet, usage string, args []string) (pos []string, code int, ok bool) {
	// The flag package would print its own message and the defaults.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(e.stdout, usage)
				return nil, 0, false
			}
			return nil, e.usagef(fs.Name(), "%s", flagError(fs, err)), false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagError rewords an error of [flag.FlagSet.Parse] with the double-dash
// spelling the help texts use, and suggests the closest flag for a typo.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		msg = "unknown flag --" + name
		if s := closestFlag(fs, name); s != "" {
			msg += ", did you mean --" + s + "?"
		}
		return msg
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "--" + name + " needs a value"
	}
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		// invalid value "x" for flag -n: parse error
		if v, f, ok := strings.Cut(rest, " for flag -"); ok {
			return "invalid value " + v + " for --" + f
		}
	}
	if rest, ok := strings.CutPrefix(msg, "invalid boolean value "); ok {
		if v, f, ok := strings.Cut(rest, " for -"); ok {
			return "invalid boolean value " + v + " for --" + f
		}
	}
	return msg
}

// closestFlag returns the defined flag name nearest to name (edit distance
// at most 2, or name being a prefix of exactly one flag), or "".
func closestFlag(fs *flag.FlagSet, name string) string {
	name, _, _ = strings.Cut(name, "=")
	best, bestD := "", 3
	var prefixed []string
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, name) {
			prefixed = append(prefixed, f.Name)
		}
		if d := editDistance(name, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
	})
	if best == "" && len(prefixed) == 1 {
		return prefixed[0]
	}
	return best
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
