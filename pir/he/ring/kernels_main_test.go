package ring

import (
	"testing"

	"github.com/blindlist/blindlist/pir/he/kernels/kernelstest"
)

func TestMain(m *testing.M) { kernelstest.Main(m) }

// TestKernelLevelFromEnvironment: the level in use is the one
// BLINDLIST_KERNELS asks for (and go test's cache keys on it).
func TestKernelLevelFromEnvironment(t *testing.T) { kernelstest.CheckLevelFromEnvironment(t) }
