package bloom

import (
	"bytes"
	"fmt"
	"testing"
)

// TestLoaderMatchesAddString checks that a Loader sets exactly the bits of
// AddString, key by key, for filters of one region and of many (with a
// last region cut short), hash counts from 1 to 23, worker counts from 1
// to 5, keys handed over in batches of every size, and flushes forced by
// the pending limit as well as by Flush.
func TestLoaderMatchesAddString(t *testing.T) {
	for _, tc := range []struct {
		name    string
		params  Params
		keys    int
		batch   int
		workers int
		limit   int
	}{
		{"one region", Params{BitCount: 1 << 20, HashCount: 7, Seed: 1}, 20000, 4096, 2, loaderPendingProbes},
		{"exactly one region", Params{BitCount: 1 << loaderRegionShift, HashCount: 3, Seed: 2}, 20000, 1000, 3, loaderPendingProbes},
		{"two regions, one bit in the second", Params{BitCount: 1<<loaderRegionShift + 1, HashCount: 5, Seed: 3}, 30000, 7000, 2, loaderPendingProbes},
		{"many regions, last one short", Params{BitCount: 9<<loaderRegionShift + 12345, HashCount: 10, Seed: 4}, 50000, 1 << 14, 2, loaderPendingProbes},
		{"limit forces flushes", Params{BitCount: 5<<loaderRegionShift + 7, HashCount: 10, Seed: 5}, 50000, 3000, 4, 10000},
		{"one worker", Params{BitCount: 3 << loaderRegionShift, HashCount: 23, Seed: 6}, 20000, 20000, 1, 1 << 16},
		{"more workers than regions", Params{BitCount: 2<<loaderRegionShift + 9, HashCount: 1, Seed: 7}, 40000, 40000, 5, loaderPendingProbes},
		{"largest bit count", Params{BitCount: 1<<32 - 1, HashCount: 4, Seed: 8}, 30000, 10000, 2, loaderPendingProbes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := syntheticKeys(tc.keys)
			want, err := FromBits(tc.params, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				want.AddString(k)
			}
			got, err := FromBits(tc.params, nil)
			if err != nil {
				t.Fatal(err)
			}
			l := got.NewLoader(tc.workers)
			l.limit = tc.limit
			for i := 0; i < len(keys); i += tc.batch {
				l.AddStrings(keys[i:min(len(keys), i+tc.batch)])
			}
			l.Flush()
			l.Flush() // a second flush sets nothing
			if !bytes.Equal(got.Bits(), want.Bits()) {
				t.Fatalf("loader bits differ from AddString's (tag %s, want %s)", got.Tag(), want.Tag())
			}
			for _, k := range keys[:100] {
				if !got.TestString(k) {
					t.Fatalf("%q not found after Flush", k)
				}
			}
		})
	}
}

// TestLoaderDefersBits checks that probes wait for Flush on a filter of
// several regions: the loader really orders them, it does not set them
// as they come.
func TestLoaderDefersBits(t *testing.T) {
	f, err := FromBits(Params{BitCount: 4 << loaderRegionShift, HashCount: 10, Seed: 9}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := f.NewLoader(2)
	l.AddStrings([]string{"example.com", "example.org"})
	if f.FillRatio() != 0 {
		t.Fatal("bits set before Flush")
	}
	l.Flush()
	if !f.TestString("example.com") || !f.TestString("example.org") {
		t.Fatal("keys not set by Flush")
	}
}

func ExampleLoader() {
	f, err := New(1_000_000, 0.001, 42)
	if err != nil {
		fmt.Println(err)
		return
	}
	l := f.NewLoader(0)
	l.AddStrings([]string{"example.com", "tracker.example.net/ads"})
	l.Flush() // before the filter is read
	fmt.Println(f.TestString("example.com"), f.TestString("tracker.example.net/ads"))
	// Output: true true
}
