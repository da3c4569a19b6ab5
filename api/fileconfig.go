package api

import (
	"encoding/json"
	"fmt"
	"time"
)

// FileConfig is the configuration file of `blindlist serve` (JSON). Every
// field is documented; [ParseFileConfig] decodes it strictly (an unknown key
// is an error) and checks every value with a specific message. A value that
// is absent gets the documented default; a value that is present but wrong is
// an error, never replaced by a default.
//
// Paths are relative to the directory of the configuration file.
//
// A minimal file:
//
//	{
//	  "listen": "127.0.0.1:8080",
//	  "dataDir": "/var/lib/blindlist",
//	  "vendors": [{
//	    "name": "example",
//	    "usecases": [{"name": "com.example.app.url.filtering", "directory": "db", "fileStem": "url", "shardCount": 1}],
//	    "tiers": [{"name": "tier1", "tokensFile": "/run/secrets/tier1-tokens"}]
//	  }]
//	}
type FileConfig struct {
	// Listen is the host:port of the public listener: the PIR service
	// (/config, /key, /queries, /report), the Privacy Pass issuer and, when
	// enabled, the OHTTP gateway. Required.
	Listen string `json:"listen"`

	// AdminListen is the host:port of the operator listener: /metrics,
	// /healthz, /readyz and POST /reload. Empty disables it. Keep it on a
	// loopback or private address: it is not authenticated.
	AdminListen string `json:"adminListen,omitempty"`

	// DataDir holds the durable state: the evaluation-key database (bbolt),
	// the Privacy Pass issuer keys and the OHTTP key seed. Required; created
	// if missing.
	DataDir string `json:"dataDir"`

	// Vendors are the tenants served by this process. Each has its own
	// usecases and user tokens. Usecase names are unique across vendors.
	// At least one is required.
	Vendors []VendorConfig `json:"vendors"`

	// ReportDirectory, if set, receives one text-protobuf file per /report
	// call (URLFilterReportWithMetadata, as Apple's example service writes
	// them). Empty: reports are counted and dropped.
	ReportDirectory string `json:"reportDirectory,omitempty"`

	// KeyStore selects where evaluation keys live.
	KeyStore KeyStoreConfig `json:"keyStore"`

	// Prefilter configures GET /prefilter/{usecase} (PrefilterConfig) for
	// the usecases whose directory is laid out in generations.
	Prefilter PrefilterConfig `json:"prefilter,omitzero"`

	// Limits bounds request sizes, time and concurrency.
	Limits LimitsConfig `json:"limits"`

	// PrivacyPass configures the token issuer and the token check on every
	// PIR request.
	PrivacyPass PrivacyPassConfig `json:"privacyPass"`

	// OHTTP configures the Oblivious HTTP gateway in front of the service.
	OHTTP OHTTPConfig `json:"ohttp"`
}

// VendorConfig is one tenant: an app team with its own usecases and user
// tokens.
type VendorConfig struct {
	// Name identifies the vendor in logs and metrics. Lowercase letters,
	// digits, '-' and '_'; required and unique.
	Name string `json:"name"`

	// Hosts, if set, are the Host header values (without port) under which
	// this vendor is reached. A /config call asking for "all usecases" then
	// returns only the usecases of the vendor owning the request's host
	// (Apple asks for one host name per development team). Empty: the
	// vendor's usecases are listed for every host.
	Hosts []string `json:"hosts,omitempty"`

	// Usecases are the PIR databases of this vendor. At least one.
	Usecases []UsecaseConfig `json:"usecases"`

	// Tiers are the vendor's user-token tiers (the bearer tokens apps
	// pass as pirAuthenticationToken). Required when Privacy Pass is
	// enabled.
	Tiers []TierConfig `json:"tiers,omitempty"`
}

// UsecaseConfig is one PIR database: the output of `blindlist build` or of
// Apple's PIRProcessDatabase (`<fileStem>-<i>.bin` and
// `<fileStem>-<i>.params.txtpb` for i in [0, shardCount)).
type UsecaseConfig struct {
	// Name is the usecase the device asks for:
	// "<app bundle identifier>.url.filtering". Required.
	Name string `json:"name"`

	// Directory holds the shard files. Required.
	Directory string `json:"directory"`

	// FileStem is the shard file prefix. Default "url".
	FileStem string `json:"fileStem,omitempty"`

	// ShardCount is the number of shards. Required, at least 1.
	ShardCount int `json:"shardCount"`

	// VersionCount is how many configurations of this usecase stay
	// answerable across reloads (the newest is served by /config; older
	// ones keep answering /queries for devices that have not refreshed).
	// Evicted ones answer 410 Gone. Default 2, at least 1.
	VersionCount int `json:"versionCount,omitempty"`

	// SymmetricPirArguments makes the usecase answer OPRF requests
	// (symmetric PIR, pir-spec §5), as the key of the same name in Apple's
	// service configuration. Required when the shards were processed for
	// symmetric PIR (their params carry symmetric_pir_client_config); an
	// error for plain shards. The key file is read again on every reload.
	SymmetricPirArguments *SymmetricPirArguments `json:"symmetricPirArguments,omitempty"`
}

// SymmetricPirArguments names a usecase's symmetric-PIR key.
type SymmetricPirArguments struct {
	// DatabaseEncryptionKeyFilePath is the key file the shards were
	// processed with (Apple's format: the P-384 scalar as 96 hex digits, as
	// written by PIRProcessDatabase or `blindlist build --symmetric-key`).
	// Relative to the configuration file. Required. Keep it mode 0600.
	DatabaseEncryptionKeyFilePath string `json:"databaseEncryptionKeyFilePath"`

	// ConfigType is optional; the only value is
	// "OPRF_P384_AES_GCM_192_NONCE_96_TAG_128".
	ConfigType string `json:"configType,omitempty"`
}

// TierConfig is one user-token tier.
type TierConfig struct {
	// Name is the tier name ("tier1"). Required, unique within the vendor.
	Name string `json:"name"`

	// TokensFile is a file with one user token per line (blank lines and
	// lines starting with '#' are ignored). Tokens are secrets, so they
	// are not written in this file. Required.
	TokensFile string `json:"tokensFile"`

	// QueriesPerSecond is the sustained rate of Privacy Pass tokens
	// issued to each user token of the tier, checked at /issue before
	// signing (privacypass.IssueLimit): every PIR call spends one token,
	// so this bounds each user's calls, and one user over it (429 on
	// /issue) affects no other. PIR calls themselves are not limited
	// (their tokens are unlinkable). Each replica counts on its own. 0:
	// unlimited.
	QueriesPerSecond float64 `json:"queriesPerSecond,omitempty"`

	// Burst is the number of tokens one user may have issued at once
	// above the sustained rate (devices fetch tokens in batches). Default:
	// max(1, QueriesPerSecond).
	Burst int `json:"burst,omitempty"`
}

// KeyStoreConfig selects the evaluation-key store.
type KeyStoreConfig struct {
	// Backend is "bbolt" (default: one file under DataDir, single process)
	// or "redis" (shared by several replicas).
	Backend string `json:"backend,omitempty"`

	// Path is the bbolt file. Default "<dataDir>/evaluation-keys.db".
	Path string `json:"path,omitempty"`

	// RedisAddr is the host:port of the Redis server (backend "redis").
	RedisAddr string `json:"redisAddr,omitempty"`

	// RedisClusterAddrs, instead of RedisAddr, are host:port addresses of
	// nodes of a Redis Cluster (a few are enough; the client learns the
	// rest). Spent tokens are spread over the cluster's masters in hash-tag
	// groups, each group checked against its own copy of the epoch record
	// (docs/deploy.md §9); SpentReplicaAcks defaults to 1 with a cluster,
	// since a failover would otherwise lose acknowledged spends.
	RedisClusterAddrs []string `json:"redisClusterAddrs,omitempty"`

	// RedisPasswordEnv names the environment variable holding the Redis
	// password, if any.
	RedisPasswordEnv string `json:"redisPasswordEnv,omitempty"`

	// TTL is how long a key is kept after its upload. Default "720h"
	// (30 days). Devices re-upload when /config reports the key missing.
	TTL Duration `json:"ttl,omitempty"`

	// MaxKeyBytes caps one serialized evaluation key. Default 4 MiB
	// (an N=4096 key with 8 Galois elements is about 0.7 MB).
	MaxKeyBytes int64 `json:"maxKeyBytes,omitempty"`

	// ObjectStore, when set, keeps evaluation keys in an S3-compatible
	// bucket instead of the backend (for millions of devices: keys cost
	// object-store bytes, not RAM). Spent tokens stay in the backend:
	// "redis" for several replicas, "bbolt" for one process.
	ObjectStore *ObjectStoreConfig `json:"objectStore,omitempty"`

	// SpentReplicaAcks, with backend "redis", acknowledges a token spend
	// only once that many Redis replicas hold it (WAIT), so a failover
	// cannot let a token be spent twice; a spend not confirmed within
	// SpentAckTimeout fails closed with 503. 0 (default): no wait.
	SpentReplicaAcks int `json:"spentReplicaAcks,omitempty"`

	// SpentAckTimeout bounds that wait. Default "500ms".
	SpentAckTimeout Duration `json:"spentAckTimeout,omitempty"`
}

// ObjectStoreConfig locates the bucket holding evaluation keys. Give the
// bucket a lifecycle rule that expires objects under Prefix after the key
// TTL (rounded up to days); the service also checks the TTL on every read.
type ObjectStoreConfig struct {
	// Endpoint is the S3 API base URL, for example
	// "https://s3.eu-west-1.amazonaws.com" or "http://minio:9000".
	// Objects are addressed path-style. Required.
	Endpoint string `json:"endpoint"`
	// Region is the signing region. Default "us-east-1".
	Region string `json:"region,omitempty"`
	// Bucket is the bucket name. Required.
	Bucket string `json:"bucket"`
	// Prefix starts every object name. Default "blindlist/".
	Prefix string `json:"prefix,omitempty"`
	// AccessKeyEnv and SecretKeyEnv name the environment variables
	// holding the credentials. Required.
	AccessKeyEnv string `json:"accessKeyEnv"`
	SecretKeyEnv string `json:"secretKeyEnv"`
	// Timeout bounds one object-store call. Default "10s".
	Timeout Duration `json:"timeout,omitempty"`
}

// LimitsConfig bounds the work one request may cause.
type LimitsConfig struct {
	// MaxKeyBodyBytes caps a /key body. Default 10 MiB (Apple's example
	// service's limit).
	MaxKeyBodyBytes int64 `json:"maxKeyBodyBytes,omitempty"`

	// MaxQueriesBodyBytes caps a /queries body. Default 10 MiB.
	MaxQueriesBodyBytes int64 `json:"maxQueriesBodyBytes,omitempty"`

	// MaxConfigBodyBytes caps a /config body. Default 64 KiB.
	MaxConfigBodyBytes int64 `json:"maxConfigBodyBytes,omitempty"`

	// MaxReportBodyBytes caps a /report body. Default 1 MiB.
	MaxReportBodyBytes int64 `json:"maxReportBodyBytes,omitempty"`

	// MaxRequestsPerCall caps the number of Request messages in one
	// /queries call and of keys in one /key call. Default 64.
	MaxRequestsPerCall int `json:"maxRequestsPerCall,omitempty"`

	// RequestTimeout bounds one call from the first byte to the last
	// (reading, computing, writing). Default "30s".
	RequestTimeout Duration `json:"requestTimeout,omitempty"`

	// MaxConcurrentAnswers caps the PIR answers computed at once; a call
	// waits for a slot until its deadline, then gets 503. Default: the
	// number of CPUs.
	MaxConcurrentAnswers int `json:"maxConcurrentAnswers,omitempty"`

	// MaxQueuedAnswers caps the PIR answers admitted (waiting for a slot
	// or computing). A /queries call is admitted with all its requests or
	// answered 503 with Retry-After at once when they do not fit; slots go
	// round-robin across the admitted calls, so one device's lookup never
	// waits behind another client's whole batch. Default: 8 times
	// maxRequestsPerCall; at least maxRequestsPerCall.
	MaxQueuedAnswers int `json:"maxQueuedAnswers,omitempty"`

	// ShutdownTimeout bounds the graceful shutdown (calls in flight are
	// finished first). Default "30s".
	ShutdownTimeout Duration `json:"shutdownTimeout,omitempty"`

	// DrainDelay is how long a stopping process (SIGINT, SIGTERM) keeps
	// accepting calls while /readyz answers 503, before it closes its
	// listeners and waits up to ShutdownTimeout for calls in flight: load
	// balancers and Kubernetes endpoints notice the failed probe and stop
	// sending first, so no call hits a closed port. Default "5s" (a
	// readiness probe every 2 s fails twice); "0s" closes at once (tests).
	// Keep DrainDelay + ShutdownTimeout below the pod's
	// terminationGracePeriodSeconds.
	DrainDelay *Duration `json:"drainDelay,omitempty"`

	// MemoryLimitBytes is the Go soft memory limit `serve` sets
	// (runtime/debug.SetMemoryLimit): the garbage collector works harder
	// near it instead of letting the heap grow to twice the live data.
	// 0 (default): twice the loaded shard bytes plus the key cache
	// budget (KeyCacheBytes) plus 32 MiB ([AutoMemoryLimit]),
	// recomputed on reload. -1: no limit. The
	// GOMEMLIMIT environment variable, when set, wins over this field.
	// Keep it below the container's memory limit.
	MemoryLimitBytes int64 `json:"memoryLimitBytes,omitempty"`

	// KeyCacheBytes caps the memory of the parsed evaluation keys kept
	// between calls, each counted at its [ParsedKeyBytes] estimate; the
	// least recently used are evicted first. A parsed key that has
	// answered is about nine times its upload: 6.3 MB for a key of a
	// 100 000-key shard of the URL-filter preset, 3.2 MB for 1 000 keys.
	// A key larger than the whole budget is used but not kept. Default
	// 256 MiB (42 keys of a 100 000-key shard); -1 turns the cache off,
	// so every call parses its key again. At least 1 MiB otherwise. The
	// automatic memory limit counts it.
	KeyCacheBytes int64 `json:"keyCacheBytes,omitempty"`
}

// KeyCacheBudget returns the bytes the parsed-key cache may hold under
// these limits: KeyCacheBytes, its default when 0, and 0 when the cache is
// off (-1).
func (l LimitsConfig) KeyCacheBudget() int64 {
	switch {
	case l.KeyCacheBytes == 0:
		return DefaultKeyCacheBytes
	case l.KeyCacheBytes < 0:
		return 0
	}
	return l.KeyCacheBytes
}

// PrivacyPassConfig configures RFC 9578 token issuance and verification.
type PrivacyPassConfig struct {
	// Disabled turns off the issuer and the token check. Only for local
	// tests with a development build: devices in production always send
	// tokens.
	Disabled bool `json:"disabled,omitempty"`

	// KeyLifetime is how long an issuer key signs new tokens before a new
	// key replaces it. Default "720h".
	KeyLifetime Duration `json:"keyLifetime,omitempty"`

	// KeyOverlap is how long a replaced key still verifies tokens after
	// its successor started. It keeps issuing for keyOverlap - 24h of
	// that (devices that cached its token key still get tokens), and
	// every token it issued stays valid for the device's 24 h. Default
	// "48h"; at least "24h". A key is accepted for at most keyLifetime +
	// keyOverlap after it starts, and spent tokens are remembered that
	// long.
	KeyOverlap Duration `json:"keyOverlap,omitempty"`

	// KeyPublishAhead is how long before it starts signing a new issuer
	// key is written to the key directory and published in the issuer
	// directory (with its "not-before"), so every replica, and every
	// device or proxy that caches the directory, knows it before its
	// first token. Default "48h" (half keyLifetime when that is shorter);
	// at least twice keyReloadInterval and less than keyLifetime.
	KeyPublishAhead Duration `json:"keyPublishAhead,omitempty"`

	// KeyClockSkew backdates the "not-before" published for each key, so
	// a device whose clock is behind ours by up to this much does not
	// take a signing key for one not yet valid (the key still signs only
	// from its start). Default "1h".
	KeyClockSkew Duration `json:"keyClockSkew,omitempty"`

	// KeyReloadInterval is how often each process re-reads the issuer
	// key directory (picking up keys other replicas wrote) and applies
	// the rotation rules. Default "1m"; at least "1s".
	KeyReloadInterval Duration `json:"keyReloadInterval,omitempty"`

	// KeyDirectory holds the issuer keys (PEM files, 0600). Default
	// "<dataDir>/issuer-keys". Every replica must use the same directory
	// (a shared volume): a token issued by one replica is verified by
	// another.
	KeyDirectory string `json:"keyDirectory,omitempty"`
}

// OHTTPConfig configures the RFC 9458 gateway.
type OHTTPConfig struct {
	// Enabled serves the gateway on the public listener (POST /gateway,
	// GET /ohttp-configs). Default false.
	Enabled bool `json:"enabled,omitempty"`

	// KeyID is the OHTTP key identifier (0-255). Default 1. The key is
	// derived from a seed file under DataDir ("ohttp-seed"), so it is the
	// same across restarts.
	KeyID *int `json:"keyId,omitempty"`

	// Targets are the authorities ("host" or "host:port") of inner
	// requests the gateway serves in-process (the PIR service and issuer
	// host names registered with Apple). Default: every vendor host.
	// Required when enabled and no vendor lists hosts.
	Targets []string `json:"targets,omitempty"`

	// ResponsePadding pads every encapsulated answer to a multiple of this
	// many bytes (ohttp.Config.ResponsePadding), so Apple's relay sees size
	// buckets instead of sizes. Default 0: no padding.
	ResponsePadding int `json:"responsePadding,omitempty"`
}

// Duration is a time.Duration written in JSON as a Go duration string
// ("30s", "720h").
type Duration time.Duration

// UnmarshalJSON parses a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"30s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}
