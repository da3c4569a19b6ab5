package bfv

import "testing"

// TestCachesKeyResidues follows the key-switching path choice of
// Params.precompute for the top level: a second copy of the key residues
// exists exactly when the 52-bit or the 32-bit path serves every modulus.
func TestCachesKeyResidues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		moduli []uint64
		want   bool
	}{
		{"URL-filter preset, 27/28-bit", []uint64{134176769, 268369921, 268361729}, true},
		{"16_33_33, 33-bit", []uint64{65537, 8589606913, 8589379585}, haveIFMA},
		{"3x55-bit", []uint64{36028797018652673, 36028797017571329, 36028797017456641}, false},
		{"one modulus: no key switching", []uint64{134176769}, false},
	} {
		if got := CachesKeyResidues(tc.moduli); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
