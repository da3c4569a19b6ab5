package bfv

import "testing"

// TestCachesKeyResidues follows the key-switching path choice of
// Params.precompute for the top level: a second copy of the key residues
// exists exactly when the 52-bit path serves every modulus, or the 32-bit
// one does and the wide AVX2 path (which reads the keys as they are) does
// not take precedence.
func TestCachesKeyResidues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		moduli []uint64
		want   bool
	}{
		{"URL-filter preset, 27/28-bit", []uint64{134176769, 268369921, 268361729}, haveIFMA || !haveWide},
		{"16_33_33, 33-bit", []uint64{65537, 8589606913, 8589379585}, haveIFMA},
		{"3x55-bit", []uint64{36028797018652673, 36028797017571329, 36028797017456641}, false},
		{"one modulus: no key switching", []uint64{134176769}, false},
	} {
		if got := CachesKeyResidues(4096, tc.moduli); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// Every preset, against the choice its own tables made.
	for _, name := range PresetNames() {
		p, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		ks := p.levels[p.MaxLevel()].ks
		if ks == nil {
			continue
		}
		want := ks.word52 || (!ks.wide && ks.word32)
		if got := CachesKeyResidues(p.n, p.moduli); got != want {
			t.Errorf("%s: CachesKeyResidues %v, but its key switch takes word52=%v wide=%v word32=%v", name, got, ks.word52, ks.wide, ks.word32)
		}
	}
}
