package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
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
}

// TierConfig is one user-token tier.
type TierConfig struct {
	// Name is the tier name ("tier1"). Required, unique within the vendor.
	Name string `json:"name"`

	// TokensFile is a file with one user token per line (blank lines and
	// lines starting with '#' are ignored). Tokens are secrets, so they
	// are not written in this file. Required.
	TokensFile string `json:"tokensFile"`

	// QueriesPerSecond is the sustained rate of PIR-service calls allowed
	// for the whole tier (tokens are unlinkable, so the limit is per tier,
	// not per user). 0: unlimited.
	QueriesPerSecond float64 `json:"queriesPerSecond,omitempty"`

	// Burst is the number of calls allowed at once above the sustained
	// rate. Default: max(1, QueriesPerSecond).
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

	// RedisPasswordEnv names the environment variable holding the Redis
	// password, if any.
	RedisPasswordEnv string `json:"redisPasswordEnv,omitempty"`

	// TTL is how long a key is kept after its upload. Default "720h"
	// (30 days). Devices re-upload when /config reports the key missing.
	TTL Duration `json:"ttl,omitempty"`

	// MaxKeyBytes caps one serialized evaluation key. Default 4 MiB
	// (an N=4096 key with 8 Galois elements is about 0.7 MB).
	MaxKeyBytes int64 `json:"maxKeyBytes,omitempty"`
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

	// ShutdownTimeout bounds the graceful shutdown (calls in flight are
	// finished first). Default "30s".
	ShutdownTimeout Duration `json:"shutdownTimeout,omitempty"`
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

	// KeyOverlap is how long a replaced key still verifies tokens (devices
	// cache tokens for up to 24 h). Default "48h"; at least "24h".
	KeyOverlap Duration `json:"keyOverlap,omitempty"`
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

// Defaults for absent values; each is documented on its field.
const (
	defaultFileStem          = "url"
	defaultVersionCount      = 2
	defaultKeyTTL            = 30 * 24 * time.Hour
	defaultMaxKeyBytes       = 4 << 20
	defaultKeyCacheSize      = 64
	defaultMaxKeyBody        = 10 << 20
	defaultMaxQueriesBody    = 10 << 20
	defaultMaxConfigBody     = 64 << 10
	defaultMaxReportBody     = 1 << 20
	defaultMaxRequests       = 64
	defaultRequestTimeout    = 30 * time.Second
	defaultShutdownTimeout   = 30 * time.Second
	defaultIssuerKeyLifetime = 30 * 24 * time.Hour
	defaultIssuerKeyOverlap  = 48 * time.Hour
	minIssuerKeyOverlap      = 24 * time.Hour
	usecaseSuffix            = ".url.filtering"
)

var (
	vendorNameRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
	// usecaseNameRE: a reverse-DNS bundle identifier followed by the suffix.
	usecaseNameRE = regexp.MustCompile(`^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\.url\.filtering$`)
)

// ParseFileConfig decodes a configuration file strictly, fills in the
// documented defaults, resolves relative paths against baseDir and checks
// every value. Errors name the offending field.
func ParseFileConfig(data []byte, baseDir string) (*FileConfig, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c FileConfig
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("api: config: %w", describeJSONError(data, err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("api: config: unexpected data after the JSON object")
	}
	if err := strictKeys[FileConfig](data); err != nil {
		return nil, fmt.Errorf("api: config: %w", err)
	}
	if err := c.normalize(baseDir); err != nil {
		return nil, fmt.Errorf("api: config: %w", err)
	}
	return &c, nil
}

// describeJSONError adds the line number to syntax and type errors.
func describeJSONError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("line %d: %w", lineOf(data, se.Offset), err)
	case errors.As(err, &te):
		return fmt.Errorf("line %d: field %q: %s is not a valid %s", lineOf(data, te.Offset), te.Field, te.Value, te.Type)
	}
	return err
}

func lineOf(data []byte, offset int64) int {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}

func (c *FileConfig) normalize(baseDir string) error {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(baseDir, p)
	}
	if err := checkHostPort("listen", c.Listen, true); err != nil {
		return err
	}
	if err := checkHostPort("adminListen", c.AdminListen, false); err != nil {
		return err
	}
	if c.DataDir == "" {
		return errors.New("dataDir is required")
	}
	c.DataDir = abs(c.DataDir)
	c.ReportDirectory = abs(c.ReportDirectory)
	if len(c.Vendors) == 0 {
		return errors.New("vendors: at least one vendor is required")
	}
	vendors := map[string]bool{}
	usecases := map[string]string{}
	hosts := map[string]string{}
	for i := range c.Vendors {
		v := &c.Vendors[i]
		where := fmt.Sprintf("vendors[%d]", i)
		if !vendorNameRE.MatchString(v.Name) {
			return fmt.Errorf("%s.name %q: want 1-64 of a-z 0-9 - _", where, v.Name)
		}
		if vendors[v.Name] {
			return fmt.Errorf("%s.name %q: duplicate vendor", where, v.Name)
		}
		vendors[v.Name] = true
		for j, h := range v.Hosts {
			h = strings.ToLower(h)
			if h == "" || strings.ContainsAny(h, ":/ ") {
				return fmt.Errorf("%s.hosts[%d] %q: want a bare host name (no port, scheme or path)", where, j, v.Hosts[j])
			}
			if other, ok := hosts[h]; ok {
				return fmt.Errorf("%s.hosts[%d] %q: already used by vendor %q", where, j, h, other)
			}
			hosts[h] = v.Name
			v.Hosts[j] = h
		}
		if len(v.Usecases) == 0 {
			return fmt.Errorf("%s.usecases: at least one usecase is required", where)
		}
		for j := range v.Usecases {
			u := &v.Usecases[j]
			uwhere := fmt.Sprintf("%s.usecases[%d]", where, j)
			if !usecaseNameRE.MatchString(u.Name) {
				return fmt.Errorf("%s.name %q: want \"<app bundle identifier>%s\" (the device asks for exactly this name)", uwhere, u.Name, usecaseSuffix)
			}
			if other, ok := usecases[u.Name]; ok {
				return fmt.Errorf("%s.name %q: already used by vendor %q", uwhere, u.Name, other)
			}
			usecases[u.Name] = v.Name
			if u.Directory == "" {
				return fmt.Errorf("%s.directory is required", uwhere)
			}
			u.Directory = abs(u.Directory)
			if u.FileStem == "" {
				u.FileStem = defaultFileStem
			}
			if strings.ContainsAny(u.FileStem, `/\`) {
				return fmt.Errorf("%s.fileStem %q: must not contain a path separator", uwhere, u.FileStem)
			}
			if u.ShardCount < 1 || u.ShardCount > 1<<16 {
				return fmt.Errorf("%s.shardCount %d: want 1 to 65536", uwhere, u.ShardCount)
			}
			switch {
			case u.VersionCount == 0:
				u.VersionCount = defaultVersionCount
			case u.VersionCount < 1 || u.VersionCount > 16:
				return fmt.Errorf("%s.versionCount %d: want 1 to 16", uwhere, u.VersionCount)
			}
		}
		tiers := map[string]bool{}
		for j := range v.Tiers {
			t := &v.Tiers[j]
			twhere := fmt.Sprintf("%s.tiers[%d]", where, j)
			if !vendorNameRE.MatchString(t.Name) {
				return fmt.Errorf("%s.name %q: want 1-64 of a-z 0-9 - _", twhere, t.Name)
			}
			if tiers[t.Name] {
				return fmt.Errorf("%s.name %q: duplicate tier", twhere, t.Name)
			}
			tiers[t.Name] = true
			if t.TokensFile == "" {
				return fmt.Errorf("%s.tokensFile is required", twhere)
			}
			t.TokensFile = abs(t.TokensFile)
			if t.QueriesPerSecond < 0 {
				return fmt.Errorf("%s.queriesPerSecond %v: must not be negative", twhere, t.QueriesPerSecond)
			}
			if t.Burst < 0 {
				return fmt.Errorf("%s.burst %d: must not be negative", twhere, t.Burst)
			}
			if t.Burst == 0 {
				t.Burst = max(1, int(t.QueriesPerSecond))
			}
		}
		if !c.PrivacyPass.Disabled && len(v.Tiers) == 0 {
			return fmt.Errorf("%s.tiers: at least one tier is required while privacyPass is enabled", where)
		}
	}
	if err := c.KeyStore.normalize(c.DataDir, abs); err != nil {
		return fmt.Errorf("keyStore: %w", err)
	}
	if err := c.Limits.normalize(); err != nil {
		return fmt.Errorf("limits: %w", err)
	}
	if err := c.PrivacyPass.normalize(); err != nil {
		return fmt.Errorf("privacyPass: %w", err)
	}
	if c.OHTTP.KeyID == nil {
		c.OHTTP.KeyID = new(int)
		*c.OHTTP.KeyID = 1
	}
	if *c.OHTTP.KeyID < 0 || *c.OHTTP.KeyID > 255 {
		return fmt.Errorf("ohttp.keyId %d: want 0 to 255", *c.OHTTP.KeyID)
	}
	if c.OHTTP.Enabled && len(c.OHTTP.Targets) == 0 {
		for h := range hosts {
			c.OHTTP.Targets = append(c.OHTTP.Targets, h)
		}
		slices.Sort(c.OHTTP.Targets)
		if len(c.OHTTP.Targets) == 0 {
			return errors.New("ohttp.targets: required when no vendor lists hosts (the authorities devices address inner requests to)")
		}
	}
	for i, t := range c.OHTTP.Targets {
		if t == "" || strings.ContainsAny(t, "/ \t") {
			return fmt.Errorf("ohttp.targets[%d] %q: want host or host:port", i, t)
		}
	}
	return nil
}

func checkHostPort(field, v string, required bool) error {
	if v == "" {
		if required {
			return fmt.Errorf("%s is required (host:port)", field)
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(v); err != nil {
		return fmt.Errorf("%s %q: want host:port: %w", field, v, err)
	}
	return nil
}

func (k *KeyStoreConfig) normalize(dataDir string, abs func(string) string) error {
	switch k.Backend {
	case "", "bbolt":
		k.Backend = "bbolt"
		if k.RedisAddr != "" || k.RedisPasswordEnv != "" {
			return errors.New("redisAddr and redisPasswordEnv apply to backend \"redis\" only")
		}
		if k.Path == "" {
			k.Path = filepath.Join(dataDir, "evaluation-keys.db")
		}
		k.Path = abs(k.Path)
	case "redis":
		if k.Path != "" {
			return errors.New("path applies to backend \"bbolt\" only")
		}
		if err := checkHostPort("redisAddr", k.RedisAddr, true); err != nil {
			return err
		}
	default:
		return fmt.Errorf("backend %q: want \"bbolt\" or \"redis\"", k.Backend)
	}
	switch {
	case k.TTL == 0:
		k.TTL = Duration(defaultKeyTTL)
	case time.Duration(k.TTL) < time.Hour:
		return fmt.Errorf("ttl %v: want at least 1h (devices would re-upload keys constantly)", time.Duration(k.TTL))
	}
	switch {
	case k.MaxKeyBytes == 0:
		k.MaxKeyBytes = defaultMaxKeyBytes
	case k.MaxKeyBytes < 1024:
		return fmt.Errorf("maxKeyBytes %d: want at least 1024", k.MaxKeyBytes)
	}
	return nil
}

func (l *LimitsConfig) normalize() error {
	sizes := []struct {
		name string
		v    *int64
		def  int64
	}{
		{"maxKeyBodyBytes", &l.MaxKeyBodyBytes, defaultMaxKeyBody},
		{"maxQueriesBodyBytes", &l.MaxQueriesBodyBytes, defaultMaxQueriesBody},
		{"maxConfigBodyBytes", &l.MaxConfigBodyBytes, defaultMaxConfigBody},
		{"maxReportBodyBytes", &l.MaxReportBodyBytes, defaultMaxReportBody},
	}
	for _, s := range sizes {
		switch {
		case *s.v == 0:
			*s.v = s.def
		case *s.v < 1024 || *s.v > 1<<30:
			return fmt.Errorf("%s %d: want 1024 to 1073741824", s.name, *s.v)
		}
	}
	switch {
	case l.MaxRequestsPerCall == 0:
		l.MaxRequestsPerCall = defaultMaxRequests
	case l.MaxRequestsPerCall < 1 || l.MaxRequestsPerCall > 4096:
		return fmt.Errorf("maxRequestsPerCall %d: want 1 to 4096", l.MaxRequestsPerCall)
	}
	switch {
	case l.RequestTimeout == 0:
		l.RequestTimeout = Duration(defaultRequestTimeout)
	case time.Duration(l.RequestTimeout) < time.Second:
		return fmt.Errorf("requestTimeout %v: want at least 1s", time.Duration(l.RequestTimeout))
	}
	switch {
	case l.ShutdownTimeout == 0:
		l.ShutdownTimeout = Duration(defaultShutdownTimeout)
	case l.ShutdownTimeout < 0:
		return fmt.Errorf("shutdownTimeout %v: must not be negative", time.Duration(l.ShutdownTimeout))
	}
	if l.MaxConcurrentAnswers < 0 {
		return fmt.Errorf("maxConcurrentAnswers %d: must not be negative", l.MaxConcurrentAnswers)
	}
	return nil
}

func (p *PrivacyPassConfig) normalize() error {
	if p.KeyLifetime == 0 {
		p.KeyLifetime = Duration(defaultIssuerKeyLifetime)
	}
	if p.KeyOverlap == 0 {
		p.KeyOverlap = Duration(defaultIssuerKeyOverlap)
	}
	if time.Duration(p.KeyLifetime) < time.Hour {
		return fmt.Errorf("keyLifetime %v: want at least 1h", time.Duration(p.KeyLifetime))
	}
	if time.Duration(p.KeyOverlap) < minIssuerKeyOverlap {
		return fmt.Errorf("keyOverlap %v: want at least 24h (devices cache tokens for a day)", time.Duration(p.KeyOverlap))
	}
	return nil
}
