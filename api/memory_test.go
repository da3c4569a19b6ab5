package api

import "testing"

// TestAutoMemoryLimit: twice the shard bytes (a reload holds two versions),
// plus the whole key cache budget, plus the fixed headroom; a cache that is
// off adds nothing.
func TestAutoMemoryLimit(t *testing.T) {
	const h = MemoryHeadroomBytes
	cases := []struct {
		shard, cache, want int64
	}{
		{0, 0, h},
		{16_840_285, 0, 2*16_840_285 + h},
		{16_840_285, DefaultKeyCacheBytes, 2*16_840_285 + 256<<20 + h},
		{1 << 30, 64 << 20, 2<<30 + 64<<20 + h},
		{1 << 20, -1, 2<<20 + h},
	}
	for _, c := range cases {
		if got := AutoMemoryLimit(c.shard, c.cache); got != c.want {
			t.Errorf("AutoMemoryLimit(%d, %d) = %d, want %d", c.shard, c.cache, got, c.want)
		}
	}
}

// TestServerKeyCacheBytes: the budget a server reports (what `serve` adds
// to the memory limit) is the configured one after defaults, and 0 when
// either bound turns the cache off.
func TestServerKeyCacheBytes(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want int64
	}{
		{"default", Config{}, DefaultKeyCacheBytes},
		{"configured", Config{Limits: LimitsConfig{KeyCacheBytes: 8 << 20}}, 8 << 20},
		{"off by bytes", Config{Limits: LimitsConfig{KeyCacheBytes: -1}}, 0},
		{"off by entries", Config{KeyCacheSize: -1}, 0},
	}
	for _, c := range cases {
		e := newEnv(t, envOptions{cfg: c.cfg, noToken: true})
		if got := e.s.KeyCacheBytes(); got != c.want {
			t.Errorf("%s: KeyCacheBytes %d, want %d", c.name, got, c.want)
		}
	}
	kv := newEnv(t, envOptions{noToken: true}).s.vault.store
	if _, err := New(Config{Limits: LimitsConfig{KeyCacheBytes: 4096}}, Deps{Registry: &Registry{}, Keys: kv}); err == nil {
		t.Error("a 4096-byte key cache budget was accepted")
	}
}
