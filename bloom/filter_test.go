package bloom

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/blindlist/blindlist/internal/testvec"
	"howett.net/plist"
)

// kat10Seed is the seed of the sample's whole-filter known answer.
const kat10Seed = 1267652889

var kat10Items = []string{
	"example.com", "example2.com", "example3.com", "example4.com", "example5.com",
	"example6.com", "example7.com", "example8.com", "example9.com",
	"example10.com/resource?query=bugs",
}

// TestSampleFilterKnownAnswer is SwiftBloomFilterTests filter100
// (client-spec §2.5): 10 items, p = 0.001, seed 1267652889.
func TestSampleFilterKnownAnswer(t *testing.T) {
	for _, workers := range []int{1, 4} {
		f, err := Build(kat10Items, 0.001, kat10Seed, workers)
		if err != nil {
			t.Fatal(err)
		}
		if p := f.Params(); p.BitCount != 144 || p.HashCount != 10 || f.ByteCount() != 18 {
			t.Fatalf("params %+v, %d bytes; want m=144 k=10 18 bytes", p, f.ByteCount())
		}
		if got := base64.StdEncoding.EncodeToString(f.Bits()); got != "JGguOvZzlBEHYkUWJC5vw/eH" {
			t.Errorf("bits = %s, want JGguOvZzlBEHYkUWJC5vw/eH", got)
		}
		for _, k := range kat10Items {
			if !f.TestString(k) || !f.Test([]byte(k)) {
				t.Errorf("Test(%q) = false for an added key", k)
			}
		}
	}
}

// appleLines applies the input rules of Apple's BloomFilterTool described in
// shared/vectors/README.md: trim surrounding whitespace, skip empty lines,
// keep duplicates.
func appleLines(s string) []string {
	var keys []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimFunc(l, unicode.IsSpace); l != "" {
			keys = append(keys, l)
		}
	}
	return keys
}

type vectorExpected struct {
	Items      int     `json:"items"`
	Tolerance  float64 `json:"false_positive_tolerance"`
	Seed       uint32  `json:"murmur_seed"`
	BitCount   uint32  `json:"bit_count"`
	HashCount  uint32  `json:"hash_count"`
	ByteCount  int     `json:"byte_count"`
	BitsSHA256 string  `json:"bits_sha256"`
}

// TestAppleVectors rebuilds shared/vectors/bloom from keys.txt and compares
// the bits and every plist value with what Apple's Swift code wrote.
func TestAppleVectors(t *testing.T) {
	var want vectorExpected
	if err := json.Unmarshal(testvec.Read(t, "bloom", "expected.json"), &want); err != nil {
		t.Fatal(err)
	}
	keys := appleLines(string(testvec.Read(t, "bloom", "keys.txt")))
	if len(keys) != want.Items {
		t.Fatalf("%d keys after Apple's input rules, want %d", len(keys), want.Items)
	}
	wantBits := testvec.Read(t, "bloom", "bloom_filter.bin")
	apple, err := UnmarshalPlist(testvec.Read(t, "bloom", "bloom_filter.plist"))
	if err != nil {
		t.Fatalf("reading Apple's plist: %v", err)
	}
	for _, workers := range []int{1, 2, 3} {
		f, err := New(len(keys), want.Tolerance, want.Seed)
		if err != nil {
			t.Fatal(err)
		}
		f.AddAll(keys, workers)
		if workers > 1 {
			// 5,003 keys is below the parallel threshold: force the split.
			g, _ := New(len(keys), want.Tolerance, want.Seed)
			g.addAllSplit(keys, workers)
			if !bytes.Equal(g.Bits(), f.Bits()) {
				t.Fatalf("%d workers: bits differ from the sequential build", workers)
			}
		}
		p := f.Params()
		if p.BitCount != want.BitCount || p.HashCount != want.HashCount || f.ByteCount() != want.ByteCount {
			t.Fatalf("params %+v bytes %d, want %+v", p, f.ByteCount(), want)
		}
		if !bytes.Equal(f.Bits(), wantBits) {
			t.Fatalf("bits differ from bloom_filter.bin")
		}
		if f.Tag() != want.BitsSHA256 {
			t.Errorf("tag %s, want %s", f.Tag(), want.BitsSHA256)
		}
		if f.ItemCount() != apple.ItemCount() || f.Tolerance() != apple.Tolerance() ||
			f.Params() != apple.Params() || f.ByteCount() != apple.ByteCount() || !bytes.Equal(f.Bits(), apple.Bits()) {
			t.Errorf("filter differs from Apple's plist: ours %+v n=%d p=%v, Apple %+v n=%d p=%v",
				f.Params(), f.ItemCount(), f.Tolerance(), apple.Params(), apple.ItemCount(), apple.Tolerance())
		}
		// Our plist must decode to the same values and types as Apple's.
		ours, err := f.MarshalPlist()
		if err != nil {
			t.Fatal(err)
		}
		assertSamePlist(t, ours, testvec.Read(t, "bloom", "bloom_filter.plist"))
	}
}

// assertSamePlist compares two plists as generic values, types included
// (uint64 for integer, float64 for real, []byte for data).
func assertSamePlist(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w map[string]any
	if _, err := plist.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if _, err := plist.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if len(g) != len(w) {
		t.Fatalf("plist has %d keys, want %d", len(g), len(w))
	}
	for k, wv := range w {
		gv, ok := g[k]
		if !ok {
			t.Fatalf("plist lacks key %q", k)
		}
		if fmt.Sprintf("%T", gv) != fmt.Sprintf("%T", wv) {
			t.Errorf("plist key %q has type %T, want %T", k, gv, wv)
		}
		if gb, ok := gv.([]byte); ok {
			if !bytes.Equal(gb, wv.([]byte)) {
				t.Errorf("plist key %q data differs", k)
			}
		} else if gv != wv {
			t.Errorf("plist key %q = %v, want %v", k, gv, wv)
		}
	}
}

// addAllSplit runs the parallel path regardless of the size thresholds.
func (f *Filter) addAllSplit(keys []string, workers int) {
	f.addParallel(keys, workers)
}

func TestParallelBuildIsDeterministic(t *testing.T) {
	n := 3*minKeysPerWorker + 17
	if testing.Short() {
		n = minKeysPerWorker * 2
	}
	keys := syntheticKeys(n)
	one, err := Build(keys, 0.001, 7, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{2, 3, 8} {
		f, err := Build(keys, 0.001, 7, w)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.Bits(), one.Bits()) {
			t.Fatalf("%d workers: bits differ from 1 worker", w)
		}
	}
	for _, k := range keys[:1000] {
		if !one.TestString(k) {
			t.Fatalf("added key %q tests negative", k)
		}
	}
	// Keys never added: the observed rate stays near the target.
	var fp int
	for i := range 20000 {
		if one.TestString(fmt.Sprintf("absent-%d.example.org", i)) {
			fp++
		}
	}
	if fp > 60 { // expected 20; 60 is > 9 standard deviations away
		t.Errorf("%d false positives in 20000 absent keys at p = 0.001", fp)
	}
}

func syntheticKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("host%d.ads-%d.example.com/p%d", i, i%977, i%13)
	}
	return keys
}

func TestFromBits(t *testing.T) {
	if _, err := FromBits(Params{BitCount: 0, HashCount: 1}, nil); err == nil {
		t.Error("m = 0 accepted")
	}
	if _, err := FromBits(Params{BitCount: 8, HashCount: 0}, nil); err == nil {
		t.Error("k = 0 accepted")
	}
	if _, err := FromBits(Params{BitCount: 12, HashCount: 1}, make([]byte, 1)); err == nil {
		t.Error("short bit array accepted")
	}
	if _, err := FromBits(Params{BitCount: 12, HashCount: 1}, []byte{0, 0x10}); err == nil {
		t.Error("bit 12 of a 12-bit filter accepted")
	}
	f, err := FromBits(Params{BitCount: 12, HashCount: 1}, []byte{0xff, 0x0f})
	if err != nil {
		t.Fatal(err)
	}
	if !f.TestString("anything") || f.FillRatio() != 1 {
		t.Errorf("full filter: Test false or fill %v", f.FillRatio())
	}
}

func TestPlistRoundTrip(t *testing.T) {
	f, err := Build(kat10Items, 0.001, kat10Seed, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.MarshalPlist()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"itemCount", "falsePositiveTolerance", "murmurSeed", "bitCount", "byteCount", "hashCount", "data"} {
		if !bytes.Contains(b, []byte("<key>"+key+"</key>")) {
			t.Errorf("plist lacks key %s:\n%s", key, b)
		}
	}
	g, err := UnmarshalPlist(b)
	if err != nil {
		t.Fatal(err)
	}
	if g.Params() != f.Params() || g.ItemCount() != 10 || g.Tolerance() != 0.001 || !bytes.Equal(g.Bits(), f.Bits()) {
		t.Errorf("round trip changed the filter: %+v n=%d p=%v", g.Params(), g.ItemCount(), g.Tolerance())
	}
	// Broken counts are refused.
	bad := bytes.Replace(b, []byte("<integer>18</integer>"), []byte("<integer>19</integer>"), 1)
	if _, err := UnmarshalPlist(bad); err == nil {
		t.Error("plist with wrong byteCount accepted")
	}
}

func TestWriteReadDir(t *testing.T) {
	dir := t.TempDir()
	f, err := Build(kat10Items, 0.001, kat10Seed, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	bits, err := os.ReadFile(filepath.Join(dir, BitsFile))
	if err != nil || hex.EncodeToString(bits) != "24682e3af673941107624516242e6fc3f787" {
		t.Fatalf("raw bits %x, %v", bits, err)
	}
	g, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if g.Tag() != f.Tag() || g.Params() != f.Params() || g.ItemCount() != 10 {
		t.Errorf("ReadDir gave %+v tag %s", g.Params(), g.Tag())
	}
	sum := sha256.Sum256(bits)
	if g.Tag() != hex.EncodeToString(sum[:]) {
		t.Errorf("tag is not the SHA-256 of the bits")
	}
	// A flipped bit no longer matches the manifest's tag.
	bits[0] ^= 1
	if err := os.WriteFile(filepath.Join(dir, BitsFile), bits, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDir(dir); err == nil {
		t.Error("ReadDir accepted bits that do not match the tag")
	}
	// Without a manifest, the plist alone is read.
	os.Remove(filepath.Join(dir, ManifestFile))
	if g, err := ReadDir(dir); err != nil || g.Tag() != f.Tag() {
		t.Errorf("ReadDir from plist: %v", err)
	}
}

func FuzzUnmarshalPlist(f *testing.F) {
	f.Add(testvec.Read(f, "bloom", "bloom_filter.plist"))
	g, _ := Build(kat10Items, 0.001, kat10Seed, 1)
	b, _ := g.MarshalPlist()
	f.Add(b)
	f.Add([]byte("bplist00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := UnmarshalPlist(b)
		if err != nil {
			return
		}
		if g.ByteCount() != ByteCount(g.Params().BitCount) {
			t.Fatalf("accepted %d bytes for %d bits", g.ByteCount(), g.Params().BitCount)
		}
		g.TestString("example.com")
		if _, err := g.MarshalPlist(); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzDecodeManifest(f *testing.F) {
	g, _ := Build(kat10Items, 0.001, kat10Seed, 1)
	mj, _ := json.Marshal(g.Manifest(BitsFile))
	f.Add(mj, g.Bits())
	f.Add([]byte(`{"format":"blindlist-prefilter/1"}`), []byte{})
	f.Fuzz(func(t *testing.T, mj, bits []byte) {
		m, err := DecodeManifest(mj)
		if err != nil {
			return
		}
		h, err := FromManifest(m, bits)
		if err != nil {
			return
		}
		if h.Tag() != m.Tag || h.ByteCount() != len(bits) {
			t.Fatalf("accepted manifest does not describe the bits")
		}
		h.TestString("example.com")
	})
}

func ExampleBuild() {
	keys := []string{"example.com", "ads.example.net/banner"}
	f, err := Build(keys, 0.001, 42, 0)
	if err != nil {
		panic(err)
	}
	p := f.Params()
	fmt.Println(p.BitCount, p.HashCount, f.ByteCount())
	fmt.Println(f.TestString("example.com"), f.TestString("example.org"))
	// Output:
	// 29 11 4
	// true false
}

func ExampleIndices() {
	// The sample's seed and size; the first probe is FNV-1a mod m.
	fmt.Println(Indices(nil, "example.com", 144, 10, 1267652889))
	// Output: [134 52 114 64 126 44 106 56 118 36]
}
