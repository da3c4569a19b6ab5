package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeCommands returns the lines of README.md's sh blocks, comments and
// blank lines left out.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```sh"):
			in = true
		case strings.HasPrefix(line, "```"):
			in = false
		case in && strings.TrimSpace(line) != "" && !strings.HasPrefix(line, "#"):
			cmd, _, _ := strings.Cut(line, " #") // trailing comment
			cmds = append(cmds, strings.TrimSpace(cmd))
		}
	}
	return cmds
}

// TestREADMEBuildIsStatic runs README's build line (with -o pointing into
// a temporary folder) and checks the claim beside it: one static binary
// (no ELF interpreter, no shared libraries), whose version names the
// commit. GOFLAGS is reset to Go's default for it: a user's go has
// -buildvcs=auto.
func TestREADMEBuildIsStatic(t *testing.T) {
	var line string
	for _, c := range readmeCommands(t) {
		if strings.Contains(c, "go build") {
			line = c
		}
	}
	if !strings.HasPrefix(line, "CGO_ENABLED=0 go build -o blindlist ./cmd/blindlist") {
		t.Fatalf("README's build line is %q; want it static (CGO_ENABLED=0 go build -o blindlist ./cmd/blindlist)", line)
	}
	bin := filepath.Join(t.TempDir(), "blindlist")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/blindlist")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=auto")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary names an ELF interpreter: it is dynamically linked")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) != 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	// go stamps the revision when the module sits in a git checkout whose
	// .git is a directory; in a linked worktree (.git is a file) it does
	// not look, so there the version can only say (devel).
	if fi, err := os.Stat(filepath.Join("..", "..", ".git")); err != nil || !fi.IsDir() {
		t.Logf("not a primary git checkout (.git is not a directory): the revision is not stamped; version printed %q", out)
		return
	}
	head, err := exec.Command("git", "-C", filepath.Join("..", ".."), "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD: %v (the tests run in a git checkout)", err)
	}
	if want := "(git " + string(head[:12]); !strings.Contains(string(out), want) {
		t.Errorf("blindlist version printed %q; want the revision %s", out, want)
	}
}

// TestREADMECommandsParse runs every blindlist command README.md shows
// with -h appended where it would otherwise need files, the network or a
// server: each must be a valid command line (exit 0, its usage on stdout).
// The commands that run quickly on their own (query --help, pir process
// --help) run as typed.
func TestREADMECommandsParse(t *testing.T) {
	n := 0
	for _, c := range readmeCommands(t) {
		fields := strings.Fields(c)
		if len(fields) < 2 || (fields[0] != "./blindlist" && fields[0] != "blindlist") {
			continue
		}
		args := fields[1:]
		for i, a := range args {
			args[i] = strings.Trim(a, `'"`)
		}
		if args[len(args)-1] != "--help" && args[len(args)-1] != "-h" {
			// Flags are parsed before -h takes effect, so a misspelt
			// flag or a bad value still fails here.
			args = append(args, "-h")
		}
		code, stdout, stderr := runCLI(t, "", args...)
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "Usage: blindlist "+args[0]) {
			t.Errorf("README: %s: exit %d, stderr %q", c, code, stderr)
		}
		n++
	}
	if n < 5 {
		t.Errorf("found only %d blindlist commands in README.md", n)
	}
}

// shellFields splits a command line as sh would for the simple quoting the
// help texts use ('...' and "...").
func shellFields(s string) []string {
	var fields []string
	var cur strings.Builder
	inField := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inField = r, true
		case r == ' ' || r == '\t':
			if inField {
				fields = append(fields, cur.String())
				cur.Reset()
				inField = false
			}
		default:
			cur.WriteRune(r)
			inField = true
		}
	}
	if inField {
		fields = append(fields, cur.String())
	}
	return fields
}

// helpExamples returns the command lines under "Example:" or "Examples:"
// in a usage text, continuation lines joined and "a && b" split.
func helpExamples(usage string) []string {
	var out []string
	in := false
	pending := ""
	for line := range strings.Lines(usage) {
		line = strings.TrimRight(line, "\n")
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "Example:" || trimmed == "Examples:":
			in = true
			continue
		case in && !strings.HasPrefix(line, " ") && trimmed != "":
			in = false
		}
		if !in || trimmed == "" {
			continue
		}
		pending += " " + strings.TrimSuffix(trimmed, "\\")
		if strings.HasSuffix(trimmed, "\\") {
			continue
		}
		for part := range strings.SplitSeq(pending, "&&") {
			if p := strings.TrimSpace(part); strings.HasPrefix(p, "blindlist ") {
				out = append(out, p)
			}
		}
		pending = ""
	}
	return out
}

// TestHelpExamplesParse takes every example of every help text and runs it
// with -h appended: every flag it names must exist and take the value
// given, and every subcommand must exist (the commands themselves need
// files, servers or minutes; TestServeRelativePaths and the per-command
// tests run the main ones as typed).
func TestHelpExamplesParse(t *testing.T) {
	var usages [][]string
	for _, c := range commands() {
		usages = append(usages, []string{c.name})
	}
	for _, sub := range []string{"process", "config", "query", "answer", "decrypt"} {
		usages = append(usages, []string{"pir", sub})
	}
	for _, sub := range []string{"keygen", "key", "issue", "verify"} {
		usages = append(usages, []string{"token", sub})
	}
	usages = append(usages, []string{"pir"}, []string{"token"})
	n := 0
	for _, u := range usages {
		_, usage, _ := runCLI(t, "", append(u, "-h")...)
		for _, ex := range helpExamples(usage) {
			args := shellFields(ex)[1:]
			args = append(args, "-h")
			if args[0] == "pir" || args[0] == "token" {
				if len(args) == 2 { // "blindlist pir -h"
					continue
				}
			}
			code, stdout, stderr := runCLI(t, "", args...)
			if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "Usage: blindlist ") {
				t.Errorf("%s -h, example %q: exit %d, stderr %q", strings.Join(u, " "), ex, code, stderr)
			}
			n++
		}
	}
	if n < 30 {
		t.Errorf("checked only %d examples", n)
	}
	t.Logf("%d help examples parse", n)
}
