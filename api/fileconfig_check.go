package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/blindlist/blindlist/pir/oprf"
)

// DefaultKeyCacheBytes is the parsed evaluation-key cache budget when
// [LimitsConfig.KeyCacheBytes] is 0: 42 keys of a 100 000-key shard of the
// URL-filter preset (6.3 MB each, [ParsedKeyBytes]), 84 of a 1 000-key one.
const DefaultKeyCacheBytes = 256 << 20

// MinKeyCacheBytes is the smallest [LimitsConfig.KeyCacheBytes] accepted
// (other than -1): below it no key of an N = 4096 preset fits (the
// smallest, 3 key-switching keys, is 2.4 MB), so a smaller value is surely
// a typo for -1 or for a larger number.
const MinKeyCacheBytes = 1 << 20

// Defaults for absent values; each is documented on its field.
const (
	defaultFileStem          = "url"
	defaultVersionCount      = 2
	defaultKeyTTL            = 30 * 24 * time.Hour
	defaultMaxKeyBytes       = 4 << 20
	defaultKeyCacheSize      = 1024
	defaultMaxKeyBody        = 10 << 20
	defaultMaxQueriesBody    = 10 << 20
	defaultMaxConfigBody     = 64 << 10
	defaultMaxReportBody     = 1 << 20
	defaultMaxRequests       = 64
	defaultRequestTimeout    = 30 * time.Second
	defaultShutdownTimeout   = 30 * time.Second
	defaultDrainDelay        = 5 * time.Second
	defaultIssuerKeyLifetime = 30 * 24 * time.Hour
	defaultIssuerKeyOverlap  = 48 * time.Hour
	minIssuerKeyOverlap      = 24 * time.Hour
	defaultIssuerKeyAhead    = 48 * time.Hour
	defaultIssuerKeySkew     = time.Hour
	defaultIssuerKeyReload   = time.Minute
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
	// Every path becomes absolute against an absolute base, so a default
	// derived from an already joined path (keyStore.path under dataDir) is
	// not joined with the base a second time.
	baseDir, err := filepath.Abs(baseDir)
	if err != nil {
		return err
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(baseDir, p)
	}
	c.Prefilter.BearerTokenFile = abs(c.Prefilter.BearerTokenFile)
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
	seen := configNames{vendors: map[string]bool{}, usecases: map[string]string{}, hosts: map[string]string{}}
	for i := range c.Vendors {
		if err := c.Vendors[i].normalize(fmt.Sprintf("vendors[%d]", i), &seen, abs, !c.PrivacyPass.Disabled); err != nil {
			return err
		}
	}
	hosts := seen.hosts
	if err := c.KeyStore.normalize(c.DataDir, abs); err != nil {
		return fmt.Errorf("keyStore: %w", err)
	}
	if err := c.Limits.normalize(); err != nil {
		return fmt.Errorf("limits: %w", err)
	}
	if err := c.PrivacyPass.normalize(); err != nil {
		return fmt.Errorf("privacyPass: %w", err)
	}
	if c.PrivacyPass.KeyDirectory == "" {
		c.PrivacyPass.KeyDirectory = filepath.Join(c.DataDir, "issuer-keys")
	}
	c.PrivacyPass.KeyDirectory = abs(c.PrivacyPass.KeyDirectory)
	if c.OHTTP.KeyID == nil {
		c.OHTTP.KeyID = new(int)
		*c.OHTTP.KeyID = 1
	}
	if *c.OHTTP.KeyID < 0 || *c.OHTTP.KeyID > 255 {
		return fmt.Errorf("ohttp.keyId %d: want 0 to 255", *c.OHTTP.KeyID)
	}
	if c.OHTTP.ResponsePadding < 0 {
		return fmt.Errorf("ohttp.responsePadding %d: must not be negative", c.OHTTP.ResponsePadding)
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

// configNames are the names a file must not repeat across vendors.
type configNames struct {
	vendors  map[string]bool
	usecases map[string]string // usecase name → vendor
	hosts    map[string]string // host → vendor
}

// normalize checks one vendor (where names it in messages), records its
// names in seen and fills in defaults.
func (v *VendorConfig) normalize(where string, seen *configNames, abs func(string) string, privacyPass bool) error {
	if !vendorNameRE.MatchString(v.Name) {
		return fmt.Errorf("%s.name %q: want 1-64 of a-z 0-9 - _", where, v.Name)
	}
	if seen.vendors[v.Name] {
		return fmt.Errorf("%s.name %q: duplicate vendor", where, v.Name)
	}
	seen.vendors[v.Name] = true
	for j, h := range v.Hosts {
		h = strings.ToLower(h)
		if h == "" || strings.ContainsAny(h, ":/ ") {
			return fmt.Errorf("%s.hosts[%d] %q: want a bare host name (no port, scheme or path)", where, j, v.Hosts[j])
		}
		if other, ok := seen.hosts[h]; ok {
			return fmt.Errorf("%s.hosts[%d] %q: already used by vendor %q", where, j, h, other)
		}
		seen.hosts[h] = v.Name
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
		if other, ok := seen.usecases[u.Name]; ok {
			return fmt.Errorf("%s.name %q: already used by vendor %q", uwhere, u.Name, other)
		}
		if err := u.normalize(uwhere, abs); err != nil {
			return err
		}
		seen.usecases[u.Name] = v.Name
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
		if err := t.normalize(twhere, abs); err != nil {
			return err
		}
		tiers[t.Name] = true
	}
	if privacyPass && len(v.Tiers) == 0 {
		return fmt.Errorf("%s.tiers: at least one tier is required while privacyPass is enabled", where)
	}
	return nil
}

// normalize checks one usecase (its name is checked by the caller) and
// fills in its defaults.
func (u *UsecaseConfig) normalize(where string, abs func(string) string) error {
	if u.Directory == "" {
		return fmt.Errorf("%s.directory is required", where)
	}
	u.Directory = abs(u.Directory)
	if u.FileStem == "" {
		u.FileStem = defaultFileStem
	}
	if strings.ContainsAny(u.FileStem, `/\`) {
		return fmt.Errorf("%s.fileStem %q: must not contain a path separator", where, u.FileStem)
	}
	if u.ShardCount < 1 || u.ShardCount > 1<<16 {
		return fmt.Errorf("%s.shardCount %d: want 1 to 65536", where, u.ShardCount)
	}
	switch {
	case u.VersionCount == 0:
		u.VersionCount = defaultVersionCount
	case u.VersionCount < 1 || u.VersionCount > 16:
		return fmt.Errorf("%s.versionCount %d: want 1 to 16", where, u.VersionCount)
	}
	if sa := u.SymmetricPirArguments; sa != nil {
		if sa.DatabaseEncryptionKeyFilePath == "" {
			return fmt.Errorf("%s.symmetricPirArguments.databaseEncryptionKeyFilePath is required", where)
		}
		if sa.ConfigType != "" && sa.ConfigType != oprf.ConfigTypeName {
			return fmt.Errorf("%s.symmetricPirArguments.configType %q: the only type is %s", where, sa.ConfigType, oprf.ConfigTypeName)
		}
		sa.DatabaseEncryptionKeyFilePath = abs(sa.DatabaseEncryptionKeyFilePath)
	}
	return nil
}

// normalize checks one tier (its name is checked by the caller) and fills
// in its defaults.
func (t *TierConfig) normalize(where string, abs func(string) string) error {
	if t.TokensFile == "" {
		return fmt.Errorf("%s.tokensFile is required", where)
	}
	t.TokensFile = abs(t.TokensFile)
	if t.QueriesPerSecond < 0 {
		return fmt.Errorf("%s.queriesPerSecond %v: must not be negative", where, t.QueriesPerSecond)
	}
	if t.Burst < 0 {
		return fmt.Errorf("%s.burst %d: must not be negative", where, t.Burst)
	}
	if t.Burst == 0 {
		t.Burst = max(1, int(t.QueriesPerSecond))
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
		if k.RedisAddr != "" || k.RedisPasswordEnv != "" || len(k.RedisClusterAddrs) > 0 {
			return errors.New("redisAddr, redisClusterAddrs and redisPasswordEnv apply to backend \"redis\" only")
		}
		if k.Path == "" {
			k.Path = filepath.Join(dataDir, "evaluation-keys.db")
		}
		k.Path = abs(k.Path)
	case "redis":
		if k.Path != "" {
			return errors.New("path applies to backend \"bbolt\" only")
		}
		if len(k.RedisClusterAddrs) > 0 {
			if k.RedisAddr != "" {
				return errors.New("give redisAddr (one server) or redisClusterAddrs (a cluster), not both")
			}
			for _, a := range k.RedisClusterAddrs {
				if err := checkHostPort("redisClusterAddrs", a, true); err != nil {
					return err
				}
			}
			if k.SpentReplicaAcks == 0 {
				k.SpentReplicaAcks = 1
			}
		} else if err := checkHostPort("redisAddr", k.RedisAddr, true); err != nil {
			return err
		}
	default:
		return fmt.Errorf("backend %q: want \"bbolt\" or \"redis\"", k.Backend)
	}
	if err := k.ObjectStore.normalize(); err != nil {
		return fmt.Errorf("objectStore: %w", err)
	}
	switch {
	case k.SpentReplicaAcks < 0:
		return fmt.Errorf("spentReplicaAcks %d: want 0 or more", k.SpentReplicaAcks)
	case k.SpentReplicaAcks > 0 && k.Backend != "redis":
		return errors.New("spentReplicaAcks applies to backend \"redis\" only")
	case k.SpentAckTimeout < 0:
		return errors.New("spentAckTimeout: want a positive duration")
	case k.SpentAckTimeout == 0:
		k.SpentAckTimeout = Duration(500 * time.Millisecond)
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
	switch {
	case l.DrainDelay == nil:
		d := Duration(defaultDrainDelay)
		l.DrainDelay = &d
	case *l.DrainDelay < 0:
		return fmt.Errorf("drainDelay %v: must not be negative", time.Duration(*l.DrainDelay))
	}
	if l.MemoryLimitBytes < -1 || (l.MemoryLimitBytes > 0 && l.MemoryLimitBytes < 16<<20) {
		return fmt.Errorf("memoryLimitBytes %d: want 0 (automatic), -1 (none) or at least 16 MiB", l.MemoryLimitBytes)
	}
	switch {
	case l.KeyCacheBytes == 0:
		l.KeyCacheBytes = DefaultKeyCacheBytes
	case l.KeyCacheBytes == -1:
	case l.KeyCacheBytes < MinKeyCacheBytes:
		return fmt.Errorf("keyCacheBytes %d: want 0 (default 256 MiB), -1 (no cache) or at least 1 MiB", l.KeyCacheBytes)
	}
	if l.MaxConcurrentAnswers < 0 {
		return fmt.Errorf("maxConcurrentAnswers %d: must not be negative", l.MaxConcurrentAnswers)
	}
	switch {
	case l.MaxQueuedAnswers == 0:
		l.MaxQueuedAnswers = 8 * l.MaxRequestsPerCall
	case l.MaxQueuedAnswers < l.MaxRequestsPerCall:
		return fmt.Errorf("maxQueuedAnswers %d: want at least maxRequestsPerCall (%d), or a full call could never run", l.MaxQueuedAnswers, l.MaxRequestsPerCall)
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
	if p.KeyReloadInterval == 0 {
		p.KeyReloadInterval = Duration(defaultIssuerKeyReload)
	}
	if p.KeyPublishAhead == 0 {
		p.KeyPublishAhead = Duration(min(defaultIssuerKeyAhead, time.Duration(p.KeyLifetime)/2))
	}
	switch {
	case p.KeyClockSkew == 0:
		p.KeyClockSkew = Duration(defaultIssuerKeySkew)
	case p.KeyClockSkew < 0:
		return fmt.Errorf("keyClockSkew %v: must not be negative", time.Duration(p.KeyClockSkew))
	}
	reload, ahead := time.Duration(p.KeyReloadInterval), time.Duration(p.KeyPublishAhead)
	if reload < time.Second {
		return fmt.Errorf("keyReloadInterval %v: want at least 1s", reload)
	}
	if ahead < 2*reload {
		return fmt.Errorf("keyPublishAhead %v: want at least twice keyReloadInterval (%v), so every replica loads a new key before it signs", ahead, reload)
	}
	if ahead >= time.Duration(p.KeyLifetime) {
		return fmt.Errorf("keyPublishAhead %v: want less than keyLifetime (%v)", ahead, time.Duration(p.KeyLifetime))
	}
	return nil
}

// normalize checks the object store's fields and fills the defaults; a nil
// configuration (no object store) is valid.
func (o *ObjectStoreConfig) normalize() error {
	if o == nil {
		return nil
	}
	if u, err := url.Parse(o.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint %q: want an http(s) URL", o.Endpoint)
	}
	switch {
	case o.Bucket == "":
		return errors.New("bucket is required")
	case o.AccessKeyEnv == "" || o.SecretKeyEnv == "":
		return errors.New("accessKeyEnv and secretKeyEnv are required (the credentials stay out of the file)")
	case o.Timeout < 0:
		return errors.New("timeout: want a positive duration")
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Prefix == "" {
		o.Prefix = "blindlist/"
	}
	if o.Timeout == 0 {
		o.Timeout = Duration(10 * time.Second)
	}
	return nil
}
