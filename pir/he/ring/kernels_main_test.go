package ring

import (
	"fmt"
	"os"
	"testing"

	"github.com/blindlist/blindlist/pir/he/kernels"
)

// TestMain refuses to run the tests at a kernel level other than the one
// asked for: a BLINDLIST_KERNELS above what this CPU supports fails the
// run with the reason instead of silently testing another level.
func TestMain(m *testing.M) {
	if err := kernels.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
