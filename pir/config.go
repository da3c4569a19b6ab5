package pir

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/pir/oprf"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

// Config is a usecase's published PIR configuration, built from its shards
// exactly as Apple's example service builds it (pir-spec §6.5,
// PirUsecase.swift), so config_id and evaluation_key_config_hash match
// Apple's for the same shard files.
type Config struct {
	// Proto is the Config message (pir_config and config_id) of /config.
	Proto *apipb.Config
	// KeyConfig is the union of the shards' evaluation-key configs, sent in
	// KeyStatus.key_config.
	KeyConfig *hepb.EvaluationKeyConfig
	// ID is config_id: SHA-256 of the serialized PIRConfig.
	ID []byte
	// KeyConfigHash is SHA-256 of the serialized KeyConfig, the identifier a
	// device's evaluation key is uploaded under.
	KeyConfigHash []byte
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// sha256Proto returns SHA-256 of m's deterministic serialization.
func sha256Proto(m proto.Message) ([]byte, error) {
	b, err := deterministic.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("pir: serializing %T: %w", m, err)
	}
	d := sha256.Sum256(b)
	return d[:], nil
}

// BuildConfig builds a usecase's configuration from its shards' parameters,
// in shard order. All shards must share encryption parameters, hash function
// count and sharding function.
func BuildConfig(shards []*Params) (*Config, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("pir: no shards to build a config from")
	}
	p0 := shards[0]
	var keys KeyConfig
	shardConfigs := make([]*apipb.PIRShardConfig, len(shards))
	allEqual := true
	for i, p := range shards {
		if !p.he.equal(p0.he) || p.HashFunctionCount != p0.HashFunctionCount || p.Sharding != p0.Sharding {
			return nil, fmt.Errorf("pir: shard %d has other encryption, hash or sharding parameters than shard 0", i)
		}
		if !bytes.Equal(p.SymmetricPublicKey, p0.SymmetricPublicKey) {
			return nil, fmt.Errorf("pir: shard %d has another symmetric-PIR public key than shard 0", i)
		}
		keys = keys.union(p.KeyConfig)
		shardConfigs[i] = &apipb.PIRShardConfig{
			NumEntries: uint64(p.EntryCount),
			EntrySize:  uint64(p.EntrySize),
			Dimensions: []uint64{uint64(p.Dimensions[0]), uint64(p.Dimensions[1])},
			ShardId:    proto.String(""),
		}
		if !proto.Equal(shardConfigs[i], shardConfigs[0]) {
			allEqual = false
		}
	}
	keyConfig := keyConfigProto(p0.he, keys)
	keyHash, err := sha256Proto(keyConfig)
	if err != nil {
		return nil, err
	}
	pc := &apipb.PIRConfig{
		EncryptionParameters:    p0.he.proto(),
		KeywordPirParams:        keywordParamsProto(p0),
		Algorithm:               pirpb.PirAlgorithm_PIR_ALGORITHM_MUL_PIR,
		BatchSize:               uint64(p0.HashFunctionCount),
		EvaluationKeyConfigHash: keyHash,
	}
	if len(shards) > 1 && allEqual {
		pc.PirShardConfigs = &apipb.PIRShardConfigs{ShardConfigs: &apipb.PIRShardConfigs_RepeatedShardConfig{
			RepeatedShardConfig: &apipb.PIRFixedShardConfig{ShardConfig: shardConfigs[0], ShardCount: uint32(len(shards))}}}
	} else {
		pc.ShardConfigs = shardConfigs
	}
	id, err := sha256Proto(pc)
	if err != nil {
		return nil, err
	}
	return &Config{
		Proto:         &apipb.Config{Config: &apipb.Config_PirConfig{PirConfig: pc}, ConfigId: id},
		KeyConfig:     keyConfig,
		ID:            id,
		KeyConfigHash: keyHash,
	}, nil
}

// ConfigResponse returns the /config answer for one usecase whose device has
// no stored key (KeyStatus.timestamp 0), as in Apple's vectors.
func (c *Config) ConfigResponse(usecase string) *apipb.ConfigResponse {
	return &apipb.ConfigResponse{
		Configs: map[string]*apipb.Config{usecase: c.Proto},
		KeyInfo: []*apipb.KeyStatus{{KeyConfig: c.KeyConfig}},
	}
}

// ClientConfig is what a device learns from a usecase's /config answer: the
// parameters of every shard plus the identifiers it echoes back.
type ClientConfig struct {
	// Shards are the per-shard parameters, in shard-index order.
	Shards []*Params
	// ID is the config_id, sent back as PIRRequest.configuration_hash.
	ID []byte
	// KeyConfig is the evaluation-key config the device generates keys for.
	KeyConfig KeyConfig
	// KeyConfigHash identifies the uploaded evaluation key.
	KeyConfigHash []byte
	// Symmetric is the server's VOPRF public key when the usecase is
	// symmetric PIR (pir-spec §5): each lookup first asks /queries for an
	// OPRF evaluation. Nil for plain keyword PIR.
	Symmetric *oprf.PublicKey
}

// maxConfigShards bounds the shard count a config may announce.
const maxConfigShards = 1 << 16

// ClientConfigFromResponse extracts usecase's configuration from a
// ConfigResponse. The key config comes from the key_info entry for the
// usecase when present (the one whose SHA-256 equals the config's
// evaluation_key_config_hash), else it is recomputed from the shards.
func ClientConfigFromResponse(resp *apipb.ConfigResponse, usecase string) (*ClientConfig, error) {
	c, ok := resp.GetConfigs()[usecase]
	if !ok {
		return nil, fmt.Errorf("pir: config response has no usecase %q", usecase)
	}
	pc := c.GetPirConfig()
	if pc == nil {
		return nil, fmt.Errorf("pir: usecase %q has no PIR config", usecase)
	}
	he, err := heParamsFromProto(pc.GetEncryptionParameters())
	if err != nil {
		return nil, err
	}
	if pc.GetAlgorithm() != pirpb.PirAlgorithm_PIR_ALGORITHM_MUL_PIR {
		return nil, fmt.Errorf("pir: algorithm %v, want MUL_PIR", pc.GetAlgorithm())
	}
	kw := pc.GetKeywordPirParams()
	if kw == nil {
		return nil, fmt.Errorf("pir: usecase %q is not keyword PIR", usecase)
	}
	symKey, err := symmetricFromProto(kw.GetSymmetricPirClientConfig())
	if err != nil {
		return nil, err
	}
	sh, err := shardingFromProto(kw.GetShardingFunction())
	if err != nil {
		return nil, err
	}
	if kw.GetNumHashFunctions() != pc.GetBatchSize() || pc.GetBatchSize() < 1 || pc.GetBatchSize() > 8 {
		return nil, fmt.Errorf("pir: batch size %d with %d hash functions", pc.GetBatchSize(), kw.GetNumHashFunctions())
	}
	scs := pc.GetShardConfigs()
	if r := pc.GetPirShardConfigs().GetRepeatedShardConfig(); r != nil {
		if r.GetShardCount() == 0 || r.GetShardCount() > maxConfigShards {
			return nil, fmt.Errorf("pir: repeated shard config with %d shards", r.GetShardCount())
		}
		scs = make([]*apipb.PIRShardConfig, r.GetShardCount())
		for i := range scs {
			scs[i] = r.GetShardConfig()
		}
	}
	if len(scs) == 0 || len(scs) > maxConfigShards {
		return nil, fmt.Errorf("pir: config has %d shards", len(scs))
	}
	cc := &ClientConfig{ID: c.GetConfigId(), KeyConfigHash: pc.GetEvaluationKeyConfigHash()}
	if symKey != nil {
		if cc.Symmetric, err = oprf.ParsePublicKey(symKey); err != nil {
			return nil, fmt.Errorf("pir: symmetric PIR server public key: %w", err)
		}
	}
	for _, ks := range resp.GetKeyInfo() {
		kc := ks.GetKeyConfig()
		if h, err := sha256Proto(kc); err == nil && string(h) == string(cc.KeyConfigHash) {
			cc.KeyConfig = KeyConfig{Relin: kc.GetHasRelinKey()}.union(KeyConfig{GaloisElements: kc.GetGaloisElements()})
			break
		}
	}
	var union KeyConfig
	for i, sc := range scs {
		d := sc.GetDimensions()
		if len(d) != 2 || d[0] > maxEntries || d[1] > maxEntries || sc.GetNumEntries() > maxEntries || sc.GetEntrySize() > maxEntries {
			return nil, fmt.Errorf("pir: shard %d config %v unsupported (want 2 bounded dimensions)", i, d)
		}
		p := &Params{
			he:                 he,
			EntryCount:         int(sc.GetNumEntries()),
			EntrySize:          int(sc.GetEntrySize()),
			Dimensions:         [2]int{int(d[0]), int(d[1])},
			HashFunctionCount:  int(pc.GetBatchSize()),
			Sharding:           sh,
			SymmetricPublicKey: symKey,
		}
		p.KeyConfig = mulPirKeyConfig(p.expandedCount(), he.n, NoCompression)
		if cc.KeyConfig.Relin {
			p.KeyConfig = cc.KeyConfig
		}
		if err := p.check(); err != nil {
			return nil, fmt.Errorf("pir: shard %d: %w", i, err)
		}
		union = union.union(p.KeyConfig)
		cc.Shards = append(cc.Shards, p)
	}
	if !cc.KeyConfig.Relin {
		cc.KeyConfig = union
	}
	return cc, nil
}

// ShardIndex routes keyword to its shard with the config's sharding function.
func (cc *ClientConfig) ShardIndex(keyword []byte) int {
	i, _ := cc.Shards[0].Sharding.ShardIndex(keyword, len(cc.Shards))
	return i
}

// MarshalConfigResponse serializes resp with every field in field-number
// order and map entries sorted by key, the bytes Apple's service
// (SwiftProtobuf) writes. Go's deterministic marshalling emits a oneof after
// the regular fields of Config, which is valid protobuf but not
// byte-identical.
func MarshalConfigResponse(resp *apipb.ConfigResponse) ([]byte, error) {
	keys := make([]string, 0, len(resp.GetConfigs()))
	for k := range resp.GetConfigs() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []byte
	for _, k := range keys {
		cfg, err := marshalConfig(resp.GetConfigs()[k])
		if err != nil {
			return nil, err
		}
		var entry []byte
		entry = protowire.AppendTag(entry, 1, protowire.BytesType)
		entry = protowire.AppendString(entry, k)
		entry = protowire.AppendTag(entry, 2, protowire.BytesType)
		entry = protowire.AppendBytes(entry, cfg)
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, entry)
	}
	for _, ks := range resp.GetKeyInfo() {
		b, err := deterministic.Marshal(ks)
		if err != nil {
			return nil, fmt.Errorf("pir: serializing key status: %w", err)
		}
		out = protowire.AppendTag(out, 2, protowire.BytesType)
		out = protowire.AppendBytes(out, b)
	}
	return out, nil
}

// marshalConfig serializes a Config in field-number order.
func marshalConfig(c *apipb.Config) ([]byte, error) {
	var out []byte
	if pc := c.GetPirConfig(); pc != nil {
		b, err := deterministic.Marshal(pc)
		if err != nil {
			return nil, fmt.Errorf("pir: serializing PIR config: %w", err)
		}
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, b)
	} else if c.GetConfig() != nil {
		return nil, fmt.Errorf("pir: only PIR configs can be serialized")
	}
	if len(c.GetConfigId()) > 0 {
		out = protowire.AppendTag(out, 3, protowire.BytesType)
		out = protowire.AppendBytes(out, c.GetConfigId())
	}
	if c.GetReuseExistingConfig() {
		out = protowire.AppendTag(out, 4, protowire.VarintType)
		out = protowire.AppendVarint(out, 1)
	}
	return out, nil
}
