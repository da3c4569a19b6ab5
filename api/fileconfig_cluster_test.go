package api

import (
	"strings"
	"testing"
)

// TestKeyStoreRedisCluster checks keyStore.redisClusterAddrs: addresses
// checked, spentReplicaAcks 1 by default with a cluster (an explicit value
// kept), and the misuses refused.
func TestKeyStoreRedisCluster(t *testing.T) {
	abs := func(p string) string { return p }
	tests := []struct {
		name     string
		k        KeyStoreConfig
		wantAcks int
		wantErr  string
	}{
		{"cluster", KeyStoreConfig{Backend: "redis", RedisClusterAddrs: []string{"10.0.0.1:6379", "10.0.0.2:6379"}}, 1, ""},
		{"cluster with 2 acks", KeyStoreConfig{Backend: "redis", RedisClusterAddrs: []string{"r:6379"}, SpentReplicaAcks: 2}, 2, ""},
		{"one server", KeyStoreConfig{Backend: "redis", RedisAddr: "r:6379"}, 0, ""},
		{"both", KeyStoreConfig{Backend: "redis", RedisAddr: "r:6379", RedisClusterAddrs: []string{"r:6379"}}, 0, "not both"},
		{"bad address", KeyStoreConfig{Backend: "redis", RedisClusterAddrs: []string{"r"}}, 0, "redisClusterAddrs"},
		{"bbolt", KeyStoreConfig{RedisClusterAddrs: []string{"r:6379"}}, 0, "backend \"redis\" only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := tt.k
			err := k.normalize(t.TempDir(), abs)
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr == "" && k.SpentReplicaAcks != tt.wantAcks:
				t.Errorf("spentReplicaAcks %d, want %d", k.SpentReplicaAcks, tt.wantAcks)
			}
		})
	}
}
