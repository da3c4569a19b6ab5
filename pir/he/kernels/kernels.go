// Package kernels decides, once at program start, which level of vector
// kernels the HE layer (pir/he/ring, pir/he/bfv) and the PIR database scan
// use: portable Go, AVX2, AVX-512F or AVX-512 IFMA on x86-64, NEON
// (Advanced SIMD) on arm64.
//
// By default the highest level the CPU and the build support is used. The
// environment variable BLINDLIST_KERNELS (portable, avx2, avx512, ifma on
// x86-64; portable, neon on arm64) forces a lower one, so that one machine
// can test and benchmark every path it can run:
//
//	BLINDLIST_KERNELS=avx2 go test ./pir/...
//	BLINDLIST_KERNELS=portable go test -run XXX -bench Answer ./pir
//
// The variable is read once, when the program starts; the decision is
// read-only afterwards. A level the CPU cannot run is refused: [Err] returns
// the reason, the blindlist command exits with it, and the HE packages'
// tests fail with it (a refused request runs nothing at the wrong level;
// the decision then stays at [Detected]). Building with -tags purego makes
// [Detected] portable on every CPU.
//
// Each architecture has its own ladder of levels, lowest first: x86-64
// portable < avx2 < avx512 < ifma, arm64 portable < neon. Within a ladder
// each level includes the kernels of the levels below it (the AVX-512 NTT
// passes run beside AVX2 ones; IFMA kernels replace both where they
// apply); a level of another architecture's ladder is refused. NEON sorts
// below the x86-64 levels, so Selected() >= AVX2 means "an x86-64 vector
// level" on every architecture.
package kernels

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Level is a kernel level; a higher level uses wider or more instructions.
type Level int

// The kernel levels, lowest first.
const (
	Portable Level = iota // portable Go (every architecture, -tags purego)
	NEON                  // arm64 Advanced SIMD (the database scan and the NTT for moduli below 2^30)
	AVX2                  // x86-64 AVX2 and FMA (VPMULUDQ kernels for moduli below 2^30, float64 FMA kernels below 2^50, the database scan)
	AVX512                // AVX-512F on top of AVX2 (wide NTT passes, 64-bit rows)
	IFMA                  // AVX-512 IFMA (52-bit kernels for moduli below 2^50)
)

// EnvVar names the environment variable that forces a level.
const EnvVar = "BLINDLIST_KERNELS"

var names = [...]string{Portable: "portable", NEON: "neon", AVX2: "avx2", AVX512: "avx512", IFMA: "ifma"}

// String returns the level's name as [EnvVar] spells it.
func (l Level) String() string {
	if l >= 0 && int(l) < len(names) {
		return names[l]
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// ParseLevel returns the level named s (case-insensitive).
func ParseLevel(s string) (Level, error) {
	for l, name := range names {
		if strings.EqualFold(s, name) {
			return Level(l), nil
		}
	}
	return 0, fmt.Errorf("kernels: unknown level %q (want one of %s)", s, strings.Join(names[:], ", "))
}

// decision is the level chosen at program start; never written afterwards.
type decision struct {
	detected, selected Level
	err                error
}

var chosen = decide(os.Getenv(EnvVar), detect())

// decide returns the decision for the value of [EnvVar] (empty: unset) on
// a CPU supporting up to detected.
func decide(env string, detected Level) decision {
	d := decision{detected: detected, selected: detected}
	if env == "" {
		return d
	}
	want, err := ParseLevel(env)
	if err != nil {
		d.err = fmt.Errorf("%s=%s: %w", EnvVar, env, err)
		return d
	}
	if !slices.Contains(ladder(detected), want) {
		d.err = fmt.Errorf("kernels: %s=%s refused: this CPU and build support at most %s", EnvVar, env, detected)
		return d
	}
	d.selected = want
	return d
}

// Detected returns the highest level this CPU and build support.
func Detected() Level { return chosen.detected }

// Selected returns the level in use: [Detected], or the lower level
// [EnvVar] asked for.
func Selected() Level { return chosen.selected }

// Err returns why the level [EnvVar] asked for was refused (unknown name,
// or above [Detected]), or nil.
func Err() error { return chosen.err }

// Supported returns every level this CPU and build can run, lowest first.
func Supported() []Level { return ladder(Detected()) }

// ladder returns the levels up to top on top's architecture, lowest
// first: portable..top on x86-64, portable and neon on arm64.
func ladder(top Level) []Level {
	ls := []Level{Portable}
	if top == NEON {
		return append(ls, NEON)
	}
	for l := AVX2; l <= top; l++ {
		ls = append(ls, l)
	}
	return ls
}
