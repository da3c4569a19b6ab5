package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// outputFiles returns every regular file of dir by name, and the names of
// its subdirectories.
func outputFiles(t *testing.T, dir string) (files map[string]string, dirs []string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files = map[string]string{}
	for _, e := range ents {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
			continue
		}
		files[e.Name()] = string(mustRead(t, filepath.Join(dir, e.Name())))
	}
	return files, dirs
}

// TestBuildPIRFailureKeepsPrefilter fails the PIR step of a rebuild with new
// keys and checks that the whole output directory, the prefilter and key
// list included, is left as the previous build wrote it, with no staging
// directory behind; the next build then moves the new prefilter in.
func TestBuildPIRFailureKeepsPrefilter(t *testing.T) {
	src := t.TempDir()
	out := filepath.Join(t.TempDir(), "out")
	list := func(name, prefix string) string {
		var b strings.Builder
		for i := range 20 {
			fmt.Fprintf(&b, "%s%02d.example.com\n", prefix, i)
		}
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return "domains:" + p
	}
	a, b := list("a.txt", "old"), list("b.txt", "new")
	build := func(source string, hook func(int) error) (int, string) {
		var stdout, stderr bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
		code := runBuildHooked(context.Background(), e, []string{"--source", source, "--out", out, "--shards", "2", "--workers", "1"}, hook)
		return code, stderr.String()
	}
	if code, errs := build(a, nil); code != 0 {
		t.Fatalf("first build: exit %d: %s", code, errs)
	}
	before, _ := outputFiles(t, out)
	for _, name := range buildStagedFiles {
		if _, ok := before[name]; !ok {
			t.Fatalf("first build wrote no %s", name)
		}
	}

	code, errs := build(b, func(int) error { return errors.New("simulated PIR failure") })
	if code != 1 || !strings.Contains(errs, "simulated PIR failure") {
		t.Fatalf("failing build: exit %d, stderr %q", code, errs)
	}
	after, dirs := outputFiles(t, out)
	if len(dirs) != 0 {
		t.Errorf("failed build left directories %v", dirs)
	}
	if len(after) != len(before) {
		t.Errorf("files %d -> %d after a failed build", len(before), len(after))
	}
	for name, content := range before {
		if after[name] != content {
			t.Errorf("%s changed by a build whose PIR step failed", name)
		}
	}

	if code, errs := build(b, nil); code != 0 {
		t.Fatalf("third build: exit %d: %s", code, errs)
	}
	final, dirs := outputFiles(t, out)
	if len(dirs) != 0 {
		t.Errorf("build left directories %v", dirs)
	}
	if !strings.Contains(final["keys.txt"], "new00.example.com") || strings.Contains(final["keys.txt"], "old00.example.com") {
		t.Errorf("keys.txt after the successful build:\n%s", final["keys.txt"])
	}
	for _, name := range buildStagedFiles {
		if final[name] == before[name] {
			t.Errorf("%s unchanged by a build with other keys", name)
		}
	}
}
