package pir

import (
	"fmt"
	"os"
	"strings"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/pir/he/ring"
	"github.com/blindlist/blindlist/pir/heproto"
	"github.com/blindlist/blindlist/pir/pb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

// Params are the public parameters of one processed keyword shard, the
// content of Apple's `<stem>-<N>.params.txtpb` PirParameters (pir-spec §7.2).
type Params struct {
	he heParams
	// EntryCount is the number of buckets per cuckoo table (num_entries).
	EntryCount int
	// EntrySize is the bytes per bucket entry (entry_size).
	EntrySize int
	// Dimensions are the MulPIR dimensions d0, d1 of each table.
	Dimensions [2]int
	// HashFunctionCount is the number of cuckoo tables, and the PIR batch size.
	HashFunctionCount int
	// Sharding routes keywords to shards.
	Sharding ShardingFunction
	// KeyConfig is the evaluation-key config this shard needs.
	KeyConfig KeyConfig
	// SymmetricPublicKey is the 49-byte VOPRF public key of a symmetric-PIR
	// shard (KeywordPirParameters.symmetric_pir_client_config, pir-spec §5):
	// its keywords are oblivious keywords and its values are encrypted (see
	// package oprf). Nil for plain keyword PIR.
	SymmetricPublicKey []byte
}

// Preset returns the Apple preset name of the shard's encryption parameters.
func (p *Params) Preset() string { return p.he.presetName() }

func (p *Params) layout() layout {
	return layout{entryCount: p.EntryCount, entrySize: p.EntrySize, dims: p.Dimensions, bytesPerPlaintext: p.he.bytesPerPlaintext()}
}

// ChunkCount is the number of response ciphertexts per query index.
func (p *Params) ChunkCount() int { return p.layout().chunkCount() }

// expandedCount is the number of expanded query slots: batch · (d0 + d1).
func (p *Params) expandedCount() int {
	return p.HashFunctionCount * (p.Dimensions[0] + p.Dimensions[1])
}

func (p *Params) check() error {
	if err := p.layout().check(); err != nil {
		return err
	}
	if p.HashFunctionCount < 1 || p.HashFunctionCount > 8 {
		return fmt.Errorf("pir: hash function count %d, want 1 to 8", p.HashFunctionCount)
	}
	if q := ceilDiv(p.expandedCount(), p.he.n); q > maxQueryCiphertexts {
		return fmt.Errorf("pir: dimensions %v with batch size %d need %d query ciphertexts, at most %d",
			p.Dimensions, p.HashFunctionCount, q, maxQueryCiphertexts)
	}
	need := mulPirKeyConfig(p.expandedCount(), p.he.n, MaxCompression)
	// A device makes one key-switching key per element: bound them as the
	// server bounds an upload's Galois keys.
	if len(p.KeyConfig.GaloisElements) > heproto.MaxGaloisKeys {
		return fmt.Errorf("pir: evaluation key config has %d Galois elements, at most %d", len(p.KeyConfig.GaloisElements), heproto.MaxGaloisKeys)
	}
	for _, g := range p.KeyConfig.GaloisElements {
		if !ring.ValidGaloisElement(uint64(g), p.he.n) {
			return fmt.Errorf("pir: evaluation key config has invalid Galois element %d", g)
		}
	}
	if !p.KeyConfig.Relin {
		return fmt.Errorf("pir: evaluation key config lacks the relinearization key")
	}
	// The expansion can use any element 2^k+1 ≤ target; the smallest one
	// needed must be present.
	if len(p.KeyConfig.GaloisElements) == 0 || p.KeyConfig.GaloisElements[0] > need.GaloisElements[0] {
		return fmt.Errorf("pir: evaluation key config %v cannot expand %d query slots (needs Galois element %d)",
			p.KeyConfig.GaloisElements, p.expandedCount(), need.GaloisElements[0])
	}
	return nil
}

// keyConfigProto returns the EvaluationKeyConfig message of k under he.
func keyConfigProto(he heParams, k KeyConfig) *hepb.EvaluationKeyConfig {
	return &hepb.EvaluationKeyConfig{
		EncryptionParameters: he.proto(),
		GaloisElements:       append([]uint32(nil), k.GaloisElements...),
		HasRelinKey:          k.Relin,
	}
}

func shardingProto(f ShardingFunction) *pirpb.PIRShardingFunction {
	if f.OtherShardCount == 0 {
		return &pirpb.PIRShardingFunction{Function: &pirpb.PIRShardingFunction_Sha256{Sha256: &pirpb.PIRShardingFunctionSHA256{}}}
	}
	return &pirpb.PIRShardingFunction{Function: &pirpb.PIRShardingFunction_DoubleMod{
		DoubleMod: &pirpb.PIRShardingFunctionDoubleMod{OtherShardCount: f.OtherShardCount}}}
}

func shardingFromProto(m *pirpb.PIRShardingFunction) (ShardingFunction, error) {
	if d := m.GetDoubleMod(); d != nil {
		if d.GetOtherShardCount() == 0 {
			return ShardingFunction{}, fmt.Errorf("pir: double-mod sharding with other shard count 0")
		}
		return ShardingFunction{OtherShardCount: d.GetOtherShardCount()}, nil
	}
	return ShardingFunction{}, nil // unset or sha256
}

func keywordParamsProto(p *Params) *pirpb.KeywordPirParameters {
	return &pirpb.KeywordPirParameters{
		NumHashFunctions:         uint64(p.HashFunctionCount),
		SymmetricPirClientConfig: symmetricProto(p.SymmetricPublicKey),
		ShardingFunction:         shardingProto(p.Sharding),
	}
}

// Proto returns the PirParameters message Apple's PIRProcessDatabase writes
// for the shard.
func (p *Params) Proto() *pirpb.PirParameters {
	return &pirpb.PirParameters{
		EncryptionParameters: p.he.proto(),
		NumEntries:           uint64(p.EntryCount),
		EntrySize:            uint64(p.EntrySize),
		Dimensions:           []uint64{uint64(p.Dimensions[0]), uint64(p.Dimensions[1])},
		KeywordPirParams:     keywordParamsProto(p),
		Algorithm:            pirpb.PirAlgorithm_PIR_ALGORITHM_MUL_PIR,
		BatchSize:            uint64(p.HashFunctionCount),
		EvaluationKeyConfig:  keyConfigProto(p.he, p.KeyConfig),
	}
}

// maxQueryCiphertexts bounds the ciphertexts of one query, ⌈b·(d0+d1)/N⌉.
// Even a table of maxPlaintexts plaintexts needs 16 at N = 4096 with 8 hash
// functions; a hostile config could otherwise ask a device to encrypt (and
// the server to expand) tens of thousands.
const maxQueryCiphertexts = 64

// maxEntries bounds num_entries and entry_size read from files, so that a
// hostile params file cannot make us allocate without limit.
const maxEntries = 1 << 28

// ParamsFromProto validates a PirParameters message of a keyword shard.
func ParamsFromProto(m *pirpb.PirParameters) (*Params, error) {
	he, err := heParamsFromProto(m.GetEncryptionParameters())
	if err != nil {
		return nil, err
	}
	if m.GetAlgorithm() != pirpb.PirAlgorithm_PIR_ALGORITHM_MUL_PIR {
		return nil, fmt.Errorf("pir: algorithm %v, want MUL_PIR", m.GetAlgorithm())
	}
	if m.GetEncodingEntrySize() {
		return nil, fmt.Errorf("pir: encoded entry sizes (index PIR) are not supported")
	}
	kw := m.GetKeywordPirParams()
	if kw == nil {
		return nil, fmt.Errorf("pir: keyword_pir_params missing (index-PIR databases are not supported)")
	}
	symKey, err := symmetricFromProto(kw.GetSymmetricPirClientConfig())
	if err != nil {
		return nil, err
	}
	dims := m.GetDimensions()
	if len(dims) != 2 {
		return nil, fmt.Errorf("pir: %d dimensions, want 2", len(dims))
	}
	if m.GetNumEntries() > maxEntries || m.GetEntrySize() > maxEntries || dims[0] > maxEntries || dims[1] > maxEntries {
		return nil, fmt.Errorf("pir: num_entries %d, entry_size %d or dimensions %v too large", m.GetNumEntries(), m.GetEntrySize(), dims)
	}
	if kw.GetNumHashFunctions() != m.GetBatchSize() {
		return nil, fmt.Errorf("pir: batch size %d differs from hash function count %d", m.GetBatchSize(), kw.GetNumHashFunctions())
	}
	if m.GetBatchSize() > 8 {
		return nil, fmt.Errorf("pir: batch size %d, want at most 8", m.GetBatchSize())
	}
	sh, err := shardingFromProto(kw.GetShardingFunction())
	if err != nil {
		return nil, err
	}
	p := &Params{
		he:                 he,
		EntryCount:         int(m.GetNumEntries()),
		EntrySize:          int(m.GetEntrySize()),
		Dimensions:         [2]int{int(dims[0]), int(dims[1])},
		HashFunctionCount:  int(m.GetBatchSize()),
		Sharding:           sh,
		SymmetricPublicKey: symKey,
	}
	kc := m.GetEvaluationKeyConfig()
	if kc == nil {
		p.KeyConfig = mulPirKeyConfig(p.expandedCount(), he.n, NoCompression)
	} else {
		khe, err := heParamsFromProto(kc.GetEncryptionParameters())
		if err != nil {
			return nil, fmt.Errorf("pir: evaluation key config: %w", err)
		}
		if !khe.equal(he) {
			return nil, fmt.Errorf("pir: evaluation key config has other encryption parameters")
		}
		p.KeyConfig = KeyConfig{Relin: kc.GetHasRelinKey()}.union(KeyConfig{GaloisElements: kc.GetGaloisElements()})
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return p, nil
}

// ReadParamsFile reads a PirParameters file: protobuf text format when the
// name ends in .txtpb, binary otherwise (Apple's rule, pir-spec §7.2).
func ReadParamsFile(path string) (*Params, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pir: %w", err)
	}
	m := &pirpb.PirParameters{}
	if strings.HasSuffix(path, ".txtpb") {
		err = prototext.Unmarshal(b, m)
	} else {
		err = proto.Unmarshal(b, m)
	}
	if err != nil {
		return nil, fmt.Errorf("pir: parsing %s: %w", path, err)
	}
	p, err := ParamsFromProto(m)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return p, nil
}

// marshalParams encodes p as text (txt) or binary protobuf.
func marshalParams(p *Params, txt bool) ([]byte, error) {
	if txt {
		// pb.MarshalText, not prototext: prototext varies its spacing from
		// one binary to the next, so the file's bytes would change with
		// each build of blindlist.
		return pb.MarshalText(p.Proto())
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(p.Proto())
}
