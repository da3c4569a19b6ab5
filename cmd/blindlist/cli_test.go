package main

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestMisuseIsOneLine checks the misuse contract of every command: exit 2,
// nothing on stdout, and exactly one stderr line that says what is wrong
// and names the command's help.
func TestMisuseIsOneLine(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		help string // the command named in "(see 'blindlist X -h')"
		want string // what the line must say
	}{
		{[]string{"nope"}, "", `unknown command "nope"`},
		{[]string{"bench", "extra"}, "bench", `unexpected argument "extra"`},
		{[]string{"bench", "--keys", "0"}, "bench", "--keys must be at least 1"},
		{[]string{"bloom"}, "bloom", "want one key file, got 0 arguments"},
		{[]string{"bloom", "-t"}, "bloom", "--t needs a value"},
		{[]string{"build", "hosts.txt"}, "build", `unexpected argument "hosts.txt"`},
		{[]string{"build", "--sorce", "hosts.txt"}, "build", "unknown flag --sorce, did you mean --source?"},
		{[]string{"build", "--source", "foo:file", "--out", dir}, "build", "unknown format foo (one of auto, hosts, domains, abp, urls, urlhaus, ut1, dnsmasq, unbound, rpz)"},
		{[]string{"build", "--keep-covered=maybe"}, "build", `invalid boolean value "maybe" for --keep-covered`},
		{[]string{"check"}, "check", "no URL given"},
		{[]string{"check", "--prefiltr", "x", "a.example"}, "check", "did you mean --prefilter?"},
		{[]string{"demo", "bad url"}, "demo", `"bad url" needs an http or https scheme`},
		{[]string{"gateway", "extra"}, "gateway", `unexpected argument "extra"`},
		{[]string{"hash"}, "hash", "no string given"},
		{[]string{"hash", "--bits", "x", "a"}, "hash", `invalid value "x" for --bits`},
		{[]string{"pir"}, "pir", "no command given"},
		{[]string{"pir", "nope"}, "pir", `unknown command "nope"`},
		{[]string{"pir", "process", "keys.txt"}, "pir process", `unexpected argument "keys.txt"`},
		{[]string{"pir", "process", "--out", dir}, "pir process", "--input or --config is required"},
		{[]string{"pir", "config"}, "pir config", "--db is required"},
		{[]string{"pir", "answer"}, "pir answer", "--db is required"},
		{[]string{"pir", "query"}, "pir query", "--config is required"},
		{[]string{"pir", "decrypt"}, "pir decrypt", "--config is required"},
		{[]string{"query"}, "query", "no URL given"},
		{[]string{"query", "https://a.example/"}, "query", "no service: give --service URL"},
		{[]string{"relay"}, "relay", "no gateway"},
		{[]string{"relay", "x"}, "relay", `unexpected argument "x"`},
		{[]string{"serve"}, "serve", "give exactly one of --config and --db"},
		{[]string{"serve", "--db", "db/"}, "serve", "--db needs --usecase"},
		{[]string{"serve", "--db", "db/", "--usecase", "u", "extra"}, "serve", `unexpected argument "extra"`},
		{[]string{"serve", "--dbb", "db/"}, "serve", "unknown flag --dbb, did you mean --db?"},
		{[]string{"token"}, "token", "no command given"},
		{[]string{"token", "nope"}, "token", `unknown command "nope"`},
		{[]string{"token", "keygen"}, "token keygen", "--out FILE is required"},
		{[]string{"token", "keygen", "--out", "k.pem", "x"}, "token keygen", `unexpected argument "x"`},
		{[]string{"token", "key"}, "token key", "--key PEM is required"},
		{[]string{"token", "issue", "--key", "k.pem"}, "token issue", "--key, --request and --out are required"},
		{[]string{"token", "verify", "--key", "k.pem"}, "token verify", "want exactly one TOKEN argument, got 0"},
		{[]string{"version", "x"}, "version", `unexpected argument "x"`},
		{[]string{"version", "--nope"}, "version", "unknown flag --nope"},
	} {
		code, stdout, stderr := runCLI(t, "", tc.args...)
		prefix := "blindlist: error: "
		if tc.help != "" {
			prefix += tc.help + ": "
		}
		see := "(see 'blindlist " + tc.help + " -h')\n"
		if tc.help == "" {
			see = "(see 'blindlist -h')\n"
		}
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, prefix) ||
			!strings.Contains(stderr, tc.want) || !strings.HasSuffix(stderr, see) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line %q...%q...%q", tc.args, code, stdout, stderr, prefix, tc.want, see)
		}
	}
	// Refusing created nothing (no --out directory, no key file).
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("misuse left files behind in %s: %v", dir, ents)
	}
}

// TestHelpOnce checks that every command's -h, --help and 'help CMD' print
// the usage once, on stdout, in the common style (Usage line, Example(s)),
// with nothing on stderr.
func TestHelpOnce(t *testing.T) {
	cmds := [][]string{{"token", "keygen"}, {"token", "key"}, {"token", "issue"}, {"token", "verify"},
		{"pir", "process"}, {"pir", "config"}, {"pir", "query"}, {"pir", "answer"}, {"pir", "decrypt"}, {"pir"}, {"token"}}
	for _, c := range commands() {
		cmds = append(cmds, []string{c.name})
	}
	for _, cmd := range cmds {
		name := strings.Join(cmd, " ")
		var first string
		for i, args := range [][]string{append(cmd[:len(cmd):len(cmd)], "-h"), append(cmd[:len(cmd):len(cmd)], "--help"), append([]string{"help"}, cmd...)} {
			code, stdout, stderr := runCLI(t, "", args...)
			if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "Usage: blindlist "+name) ||
				strings.Count(stdout, "Usage: ") != 1 || !strings.Contains(stdout, "Example") {
				t.Errorf("%q: exit %d, stderr %q, stdout %q; want the usage of %s once on stdout", args, code, stderr, stdout, name)
			}
			if i == 0 {
				first = stdout
			} else if stdout != first {
				t.Errorf("%q printed another text than %q", args, append(cmd, "-h"))
			}
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, stdout, stderr := runCLI(t, "", args...)
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "blindlist ") || !strings.Contains(stdout, runtime.Version()) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

func TestVersionLine(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "00bab30c0ffee0123456789abcdef0123456789a"},
		{Key: "vcs.time", Value: "2026-12-07T02:00:00Z"}, {Key: "vcs.modified", Value: "true"}}
	tail := " go1.26.0 " + runtime.GOOS + "/" + runtime.GOARCH
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "blindlist (devel) " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH},
		{"checkout", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			"blindlist (devel) (git 00bab30c0ffe, 2026-12-07T02:00:00Z, modified)" + tail},
		{"clean checkout", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: vcs[:3]},
			"blindlist (devel) (git 00bab30c0ffe, 2026-12-07T02:00:00Z)" + tail},
		{"go install of a tag", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}},
			"blindlist v1.2.3" + tail},
	} {
		if got := versionLine(tc.bi); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestPIRProcessCreatesOut checks that 'pir process --out DIR' creates DIR
// (its help example names a directory that does not exist yet).
func TestPIRProcessCreatesOut(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "keys.txt")
	if err := os.WriteFile(in, []byte("a.example\nb.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "new", "shards")
	if code, _, stderr := runCLI(t, "", "pir", "process", "--input", in, "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "url-0.params.txtpb")); err != nil {
		t.Errorf("no shard written: %v", err)
	}
}
