package api

import (
	"regexp"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

// platform is the device OS parsed from User-Agent, as Apple's example
// service does (Sources/Util/Platform.swift): "com.apple.ciphermld/1.0
// iOS/18.2 ..." or "... (Macintosh; OS X 15.2; ...) ...".
type platform struct {
	macOS        bool
	major, minor int
}

var (
	iOSUserAgentRE   = regexp.MustCompile(`^.*iOS/(\d+)\.(\d+)\.?(\d)?.*$`)
	macOSUserAgentRE = regexp.MustCompile(`^.*Macintosh; OS X (\d+)\.(\d+)\.?(\d)?.*$`)
)

// parsePlatform returns nil when the User-Agent names no known OS version;
// configs are then sent unchanged.
func parsePlatform(ua string) *platform {
	for _, c := range []struct {
		re    *regexp.Regexp
		macOS bool
	}{{iOSUserAgentRE, false}, {macOSUserAgentRE, true}} {
		m := c.re.FindStringSubmatch(ua)
		if m == nil {
			continue
		}
		major, err1 := strconv.Atoi(m[1])
		minor, err2 := strconv.Atoi(m[2])
		if err1 != nil || err2 != nil {
			return nil
		}
		return &platform{macOS: c.macOS, major: major, minor: minor}
	}
	return nil
}

// supportsFixedShardConfig reports support for PIRFixedShardConfig and the
// double-mod sharding function: iOS 18.2 and macOS 15.2 onwards.
func (p *platform) supportsFixedShardConfig() bool {
	major, minor := 18, 2
	if p.macOS {
		major, minor = 15, 2
	}
	return p.major > major || (p.major == major && p.minor >= minor)
}

// compatibleConfig rewrites a config for an older OS, as Apple's
// makeCompatible does: repeated_shard_config expands into shard_configs, and
// a non-SHA-256 sharding function cannot be served (500). cfg is not
// modified; a rewritten copy is returned. config_id stays the one computed
// before the rewrite, as in Apple's service.
func compatibleConfig(cfg *apipb.Config, p *platform) (*apipb.Config, error) {
	if p == nil || p.supportsFixedShardConfig() {
		return cfg, nil
	}
	pc := cfg.GetPirConfig()
	if pc == nil {
		return cfg, nil
	}
	if f := pc.GetKeywordPirParams().GetShardingFunction(); f != nil {
		if _, sha := f.GetFunction().(*pirpb.PIRShardingFunction_Sha256); !sha && f.GetFunction() != nil {
			return nil, newHTTPError(500, catInternal, "Platform does not support sharding functions other than SHA256.")
		}
	}
	rep := pc.GetPirShardConfigs().GetRepeatedShardConfig()
	if rep == nil {
		return cfg, nil
	}
	out := proto.Clone(cfg).(*apipb.Config)
	opc := out.GetPirConfig()
	opc.ShardConfigs = make([]*apipb.PIRShardConfig, rep.GetShardCount())
	for i := range opc.ShardConfigs {
		opc.ShardConfigs[i] = proto.Clone(rep.GetShardConfig()).(*apipb.PIRShardConfig)
	}
	opc.PirShardConfigs = nil
	return out, nil
}
