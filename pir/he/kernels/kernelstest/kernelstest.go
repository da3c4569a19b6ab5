// Package kernelstest is the test scaffolding shared by the packages whose
// fast paths depend on the kernel level (pir/he/ring, pir/he/bfv, pir): a
// TestMain that refuses a level the CPU cannot run, and a check that the
// level in use is the one the environment asks for.
package kernelstest

import (
	"fmt"
	"os"
	"testing"

	"github.com/blindlist/blindlist/pir/he/kernels"
)

// Main runs m, after refusing to run the tests at a kernel level other than
// the one asked for: a BLINDLIST_KERNELS above what this CPU supports fails
// the run with the reason instead of silently testing another level. Call
// it from TestMain.
func Main(m *testing.M) {
	if err := kernels.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// CheckLevelFromEnvironment fails t unless the kernel level in use is the
// one BLINDLIST_KERNELS asks for (the CPU's highest when unset). Reading the
// variable inside a test also makes it part of go test's cache key: the
// level is chosen at package init, before go test starts recording what a
// test reads, so without this a result cached at one level would be
// reported for another.
func CheckLevelFromEnvironment(t testing.TB) {
	t.Helper()
	want := kernels.Detected()
	if env := os.Getenv(kernels.EnvVar); env != "" {
		l, err := kernels.ParseLevel(env)
		if err != nil {
			t.Fatal(err)
		}
		want = l
	}
	if got := kernels.Selected(); got != want {
		t.Fatalf("kernel level %s in use, want %s", got, want)
	}
}
