package api

import (
	"strings"
	"testing"
	"time"
)

const goodConfig = `{
  "listen": "127.0.0.1:8080",
  "adminListen": "127.0.0.1:9090",
  "dataDir": "state",
  "vendors": [{
    "name": "example",
    "hosts": ["PIR.Example.com"],
    "usecases": [{"name": "com.example.app.url.filtering", "directory": "db", "shardCount": 1}],
    "tiers": [{"name": "tier1", "tokensFile": "/run/secrets/tier1", "queriesPerSecond": 5}]
  }],
  "keyStore": {"ttl": "48h"},
  "limits": {"requestTimeout": "10s"}
}`

func TestParseFileConfig(t *testing.T) {
	c, err := ParseFileConfig([]byte(goodConfig), "/etc/blindlist")
	if err != nil {
		t.Fatal(err)
	}
	u := c.Vendors[0].Usecases[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"dataDir", c.DataDir, "/etc/blindlist/state"},
		{"directory", u.Directory, "/etc/blindlist/db"},
		{"fileStem default", u.FileStem, "url"},
		{"versionCount default", u.VersionCount, 2},
		{"host lowercased", c.Vendors[0].Hosts[0], "pir.example.com"},
		{"tokensFile absolute kept", c.Vendors[0].Tiers[0].TokensFile, "/run/secrets/tier1"},
		{"burst default", c.Vendors[0].Tiers[0].Burst, 5},
		{"backend default", c.KeyStore.Backend, "bbolt"},
		{"key path default", c.KeyStore.Path, "/etc/blindlist/state/evaluation-keys.db"},
		{"ttl", time.Duration(c.KeyStore.TTL), 48 * time.Hour},
		{"requestTimeout", time.Duration(c.Limits.RequestTimeout), 10 * time.Second},
		{"key body default", c.Limits.MaxKeyBodyBytes, int64(10 << 20)},
		{"overlap default", time.Duration(c.PrivacyPass.KeyOverlap), 48 * time.Hour},
		{"drainDelay default", time.Duration(*c.Limits.DrainDelay), 5 * time.Second},
		{"keyPublishAhead default", time.Duration(c.PrivacyPass.KeyPublishAhead), 48 * time.Hour},
		{"keyClockSkew default", time.Duration(c.PrivacyPass.KeyClockSkew), time.Hour},
		{"maxQueuedAnswers default", c.Limits.MaxQueuedAnswers, 8 * 64},
		{"keyReloadInterval default", time.Duration(c.PrivacyPass.KeyReloadInterval), time.Minute},
		{"keyDirectory default", c.PrivacyPass.KeyDirectory, "/etc/blindlist/state/issuer-keys"},
		{"keyCacheBytes default", c.Limits.KeyCacheBytes, int64(256 << 20)},
		{"key cache budget", c.Limits.KeyCacheBudget(), int64(256 << 20)},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestParseFileConfigErrors(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(goodConfig, old) {
			t.Fatalf("test bug: %q not in the config", old)
		}
		return strings.Replace(goodConfig, old, new, 1)
	}
	cases := []struct {
		name, config, want string
	}{
		{"unknown key", replace(`"dataDir"`, `"dataDirectory"`), `unknown field "dataDirectory"`},
		{"trailing data", goodConfig + "{}", "unexpected data after the JSON object"},
		{"syntax", replace(`"listen":`, `"listen"`), "line 2"},
		{"wrong type", replace(`"shardCount": 1`, `"shardCount": "1"`), `field "vendors.usecases.shardCount"`},
		{"no listen", replace(`"listen": "127.0.0.1:8080",`, ``), "listen is required"},
		{"bad listen", replace(`127.0.0.1:8080`, `8080`), `listen "8080": want host:port`},
		{"usecase suffix", replace(`com.example.app.url.filtering`, `com.example.app.block`), `vendors[0].usecases[0].name "com.example.app.block": want "<app bundle identifier>.url.filtering"`},
		{"zero shards", replace(`"shardCount": 1`, `"shardCount": 0`), "vendors[0].usecases[0].shardCount 0: want 1 to 65536"},
		{"bad version count", replace(`"shardCount": 1`, `"shardCount": 1, "versionCount": -1`), "versionCount -1: want 1 to 16"},
		{"bad duration", replace(`"48h"`, `"two days"`), `time: invalid duration "two days"`},
		{"short ttl", replace(`"48h"`, `"1m"`), "keyStore: ttl 1m0s: want at least 1h"},
		{"bad backend", replace(`"ttl": "48h"`, `"backend": "etcd"`), `keyStore: backend "etcd"`},
		{"redis without addr", replace(`"ttl": "48h"`, `"backend": "redis"`), "keyStore: redisAddr is required"},
		{"object store without bucket", replace(`"ttl": "48h"`, `"objectStore": {"endpoint": "http://127.0.0.1:8333", "accessKeyEnv": "A", "secretKeyEnv": "S"}`), "keyStore: objectStore: bucket is required"},
		{"object store bad endpoint", replace(`"ttl": "48h"`, `"objectStore": {"endpoint": "s3.example", "bucket": "b", "accessKeyEnv": "A", "secretKeyEnv": "S"}`), `keyStore: objectStore: endpoint "s3.example"`},
		{"object store without credentials", replace(`"ttl": "48h"`, `"objectStore": {"endpoint": "https://s3.example", "bucket": "b"}`), "keyStore: objectStore: accessKeyEnv and secretKeyEnv are required"},
		{"replica acks on bbolt", replace(`"ttl": "48h"`, `"spentReplicaAcks": 1`), `keyStore: spentReplicaAcks applies to backend "redis" only`},
		{"redis with path", replace(`"ttl": "48h"`, `"backend": "redis", "redisAddr": "r:6379", "path": "x"`), `path applies to backend "bbolt" only`},
		{"tiers required", replace(`"tiers": [{"name": "tier1", "tokensFile": "/run/secrets/tier1", "queriesPerSecond": 5}]`, `"tiers": []`), "vendors[0].tiers: at least one tier is required while privacyPass is enabled"},
		{"negative rate", replace(`"queriesPerSecond": 5`, `"queriesPerSecond": -5`), "queriesPerSecond -5: must not be negative"},
		{"small body cap", replace(`"requestTimeout": "10s"`, `"maxKeyBodyBytes": 10`), "limits: maxKeyBodyBytes 10"},
		{"bad memory limit", replace(`"requestTimeout": "10s"`, `"memoryLimitBytes": 1000`), "limits: memoryLimitBytes 1000: want 0 (automatic), -1 (none) or at least 16 MiB"},
		{"small key cache", replace(`"requestTimeout": "10s"`, `"keyCacheBytes": 1048575`), "limits: keyCacheBytes 1048575: want 0 (default 256 MiB), -1 (no cache) or at least 1 MiB"},
		{"negative key cache", replace(`"requestTimeout": "10s"`, `"keyCacheBytes": -2`), "limits: keyCacheBytes -2"},
		{"negative drain delay", replace(`"requestTimeout": "10s"`, `"drainDelay": "-1s"`), "limits: drainDelay -1s: must not be negative"},
		{"publish ahead within reload", replace(`"keyStore"`, `"privacyPass": {"keyPublishAhead": "90s"}, "keyStore"`), "privacyPass: keyPublishAhead 1m30s: want at least twice keyReloadInterval (1m0s)"},
		{"publish ahead over lifetime", replace(`"keyStore"`, `"privacyPass": {"keyLifetime": "2h", "keyPublishAhead": "2h"}, "keyStore"`), "privacyPass: keyPublishAhead 2h0m0s: want less than keyLifetime (2h0m0s)"},
		{"short reload", replace(`"keyStore"`, `"privacyPass": {"keyReloadInterval": "10ms"}, "keyStore"`), "privacyPass: keyReloadInterval 10ms: want at least 1s"},
		{"short overlap", replace(`"keyStore"`, `"privacyPass": {"keyOverlap": "1h"}, "keyStore"`), "privacyPass: keyOverlap 1h0m0s: want at least 24h"},
		{"host with port", replace(`PIR.Example.com`, `pir.example.com:443`), "want a bare host name"},
		{"bad vendor name", replace(`"name": "example"`, `"name": "Example Inc"`), `vendors[0].name "Example Inc"`},
		{"ohttp key id", replace(`"keyStore"`, `"ohttp": {"keyId": 300}, "keyStore"`), "ohttp.keyId 300: want 0 to 255"},
		{"ohttp padding", replace(`"keyStore"`, `"ohttp": {"responsePadding": -1}, "keyStore"`), "ohttp.responsePadding -1: must not be negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseFileConfig([]byte(c.config), "/etc/blindlist")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

// TestParseFileConfigDrainDelayZero: an explicit "0s" closes at once; it
// is not replaced by the default.
func TestParseFileConfigDrainDelayZero(t *testing.T) {
	c, err := ParseFileConfig([]byte(strings.Replace(goodConfig, `"requestTimeout": "10s"`, `"drainDelay": "0s"`, 1)), "/")
	if err != nil {
		t.Fatal(err)
	}
	if *c.Limits.DrainDelay != 0 {
		t.Errorf("drainDelay %v, want 0", time.Duration(*c.Limits.DrainDelay))
	}
}

// TestParseFileConfigKeyCacheBytes: the key cache budget as written, -1
// turning the cache off (budget 0), never replaced by the default.
func TestParseFileConfigKeyCacheBytes(t *testing.T) {
	for _, c := range []struct {
		value        string
		field, total int64
	}{
		{"-1", -1, 0},
		{"1048576", 1 << 20, 1 << 20},
		{"1073741824", 1 << 30, 1 << 30},
	} {
		fc, err := ParseFileConfig([]byte(strings.Replace(goodConfig, `"requestTimeout": "10s"`, `"keyCacheBytes": `+c.value, 1)), "/")
		if err != nil {
			t.Fatal(err)
		}
		if fc.Limits.KeyCacheBytes != c.field || fc.Limits.KeyCacheBudget() != c.total {
			t.Errorf("keyCacheBytes %s: field %d, budget %d; want %d, %d", c.value, fc.Limits.KeyCacheBytes, fc.Limits.KeyCacheBudget(), c.field, c.total)
		}
	}
}

func TestParseFileConfigDuplicates(t *testing.T) {
	two := `{"listen": ":1", "dataDir": "d", "privacyPass": {"disabled": true}, "vendors": [
	  {"name": "a", "usecases": [{"name": "com.a.url.filtering", "directory": "x", "shardCount": 1}]},
	  {"name": "b", "usecases": [{"name": "com.a.url.filtering", "directory": "y", "shardCount": 1}]}]}`
	if _, err := ParseFileConfig([]byte(two), "/"); err == nil || !strings.Contains(err.Error(), `already used by vendor "a"`) {
		t.Errorf("duplicate usecase across vendors: %v", err)
	}
}

func FuzzParseFileConfig(f *testing.F) {
	f.Add([]byte(goodConfig))
	f.Add([]byte(`{"listen": ":1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseFileConfig(b, "/base")
		if err == nil && (c.Listen == "" || c.DataDir == "" || len(c.Vendors) == 0) {
			t.Errorf("accepted a config without required fields: %+v", c)
		}
	})
}

func TestParseFileConfigKeyCase(t *testing.T) {
	for _, c := range []struct{ old, new, want string }{
		{`"dataDir"`, `"datadir"`, `unknown field "datadir"`},
		{`"shardCount"`, `"ShardCount"`, `unknown field "vendors.0.usecases.0.ShardCount"`},
		{`"ttl"`, `"TTL"`, `unknown field "keyStore.TTL"`},
	} {
		_, err := ParseFileConfig([]byte(strings.Replace(goodConfig, c.old, c.new, 1)), "/")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.new, err, c.want)
		}
	}
}
