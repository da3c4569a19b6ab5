package e2e

import (
	"context"
	"testing"
	"time"
)

// TestBenchDevices runs the many-device bench small: with key-affine
// routing, no new keys and caches that hold every device, every measured
// lookup finds its parsed key (each device's warm-up parsed it on the
// replica the hash gives it), and every answer was checked.
func TestBenchDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 2-replica stack")
	}
	res, err := BenchDevices(context.Background(), DevicesBenchConfig{
		Keys: 200, Devices: 6, Replicas: 2, Routing: UserHash, Duration: 2 * time.Second,
		Concurrency: 2, RekeyShare: -1, KeyCacheEntries: 6,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *res)
	switch {
	case res.Lookups == 0 || res.Errors != 0:
		t.Fatalf("%d lookups, %d errors", res.Lookups, res.Errors)
	case res.KeyCacheMisses != 0 || res.KeyCacheHits < float64(res.Lookups):
		t.Errorf("key-affine, caches holding every device: %v hits, %v misses for %d lookups; want no miss",
			res.KeyCacheHits, res.KeyCacheMisses, res.Lookups)
	case res.Uploads != 0:
		t.Errorf("%d uploads with no rekeying", res.Uploads)
	case res.P50 <= 0 || res.P99 < res.P50 || res.QueryBytes == 0 || res.ResponseBytes == 0:
		t.Errorf("implausible result %+v", *res)
	}
	if _, err := BenchDevices(context.Background(), DevicesBenchConfig{Routing: External}); err == nil {
		t.Error("External routing accepted")
	}
}
