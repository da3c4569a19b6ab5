package kernels

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestDecide(t *testing.T) {
	tests := []struct {
		env      string
		detected Level
		want     Level
		errPart  string
	}{
		{"", IFMA, IFMA, ""},
		{"", Portable, Portable, ""},
		{"portable", IFMA, Portable, ""},
		{"AVX2", AVX512, AVX2, ""},
		{"avx512", IFMA, AVX512, ""},
		{"ifma", IFMA, IFMA, ""},
		{"ifma", AVX2, AVX2, "refused: this CPU and build support at most avx2"},
		{"avx2", Portable, Portable, "at most portable"},
		{"sse", AVX2, AVX2, `unknown level "sse"`},
		// arm64's ladder is portable < neon: no x86 level is accepted
		// there, and neon nowhere else.
		{"", NEON, NEON, ""},
		{"neon", NEON, NEON, ""},
		{"portable", NEON, Portable, ""},
		{"avx2", NEON, NEON, "refused: this CPU and build support at most neon"},
		{"ifma", NEON, NEON, "at most neon"},
		{"neon", IFMA, IFMA, "at most ifma"},
		{"neon", Portable, Portable, "at most portable"},
	}
	for _, tt := range tests {
		d := decide(tt.env, tt.detected)
		if d.selected != tt.want || d.detected != tt.detected {
			t.Errorf("decide(%q, %v) selects %v (detected %v), want %v", tt.env, tt.detected, d.selected, d.detected, tt.want)
		}
		switch {
		case tt.errPart == "" && d.err != nil:
			t.Errorf("decide(%q, %v): unexpected error %v", tt.env, tt.detected, d.err)
		case tt.errPart != "" && (d.err == nil || !strings.Contains(d.err.Error(), tt.errPart)):
			t.Errorf("decide(%q, %v): error %v, want one containing %q", tt.env, tt.detected, d.err, tt.errPart)
		}
	}
}

// TestLadder checks each architecture's levels: x86-64 portable..top,
// arm64 portable and neon.
func TestLadder(t *testing.T) {
	for top, want := range map[Level][]Level{
		Portable: {Portable},
		AVX2:     {Portable, AVX2},
		IFMA:     {Portable, AVX2, AVX512, IFMA},
		NEON:     {Portable, NEON},
	} {
		if got := ladder(top); !slices.Equal(got, want) {
			t.Errorf("ladder(%v) = %v, want %v", top, got, want)
		}
	}
}

func TestParseLevelRoundTrip(t *testing.T) {
	for l := range Level(len(names)) {
		got, err := ParseLevel(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %v, %v", l, got, err)
		}
	}
}

// TestProcessDecision reports the decision of this test process and fails
// when the requested level was refused (so `BLINDLIST_KERNELS=ifma go test`
// on a CPU without IFMA fails loudly instead of testing another level).
func TestProcessDecision(t *testing.T) {
	if err := Err(); err != nil {
		t.Fatal(err)
	}
	if Selected() > Detected() {
		t.Fatalf("selected %v above detected %v", Selected(), Detected())
	}
	if s := Supported(); len(s) == 0 || s[len(s)-1] != Detected() {
		t.Fatalf("Supported() = %v, want portable..%v", s, Detected())
	}
	t.Logf("kernels: detected %v, selected %v", Detected(), Selected())
}

func ExampleSelected() {
	// A program reports a refused BLINDLIST_KERNELS before doing any work.
	if err := Err(); err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(Selected() >= Portable)
	// Output: true
}
