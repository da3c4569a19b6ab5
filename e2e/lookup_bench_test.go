package e2e

import (
	"context"
	"testing"
)

// BenchmarkLookup measures one device lookup of a blocked URL (one PIR
// keyword after the prefilter) on the demo list: directly against a replica,
// and through relay → gateway → balancer → replica. Tokens, config and key
// upload are amortised over the run, as on a device.
func BenchmarkLookup(b *testing.B) {
	db := demoDB(b)
	s := startStack(b, StackConfig{DB: db, NewStores: boltStores(b)})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		dev  *Device
	}{
		{"direct", s.DirectDevice(0, testUserToken)},
		{"relay", s.Device(testUserToken)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v, err := tc.dev.Check(ctx, "https://tracker.example.net/pixel.gif")
				if err != nil || !v.Blocked {
					b.Fatalf("%v, %v", v, err)
				}
			}
		})
	}
}
