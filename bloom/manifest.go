package bloom

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blindlist/blindlist/internal/atomicfile"
)

// File names [Filter.WriteDir] writes and [ReadDir] reads.
const (
	BitsFile     = "prefilter.bin"  // the raw bit array, as NEURLFilterPrefilter takes it
	ManifestFile = "prefilter.json" // the [Manifest]
)

// fileMode is the permission of the files WriteDir writes: a prefilter is
// public data that a server running as another user must be able to read.
const fileMode = 0o644

// ManifestFormat names the layout of [Manifest]; a reader refuses others.
const ManifestFormat = "blindlist-prefilter/1"

// Manifest describes a raw bit array in JSON, for servers and apps that hand
// the bits to NEURLFilterPrefilter. Field names follow
// shared/vectors/bloom/expected.json.
type Manifest struct {
	Format string `json:"format"`
	// Tag is the hex SHA-256 of the bit array ([Filter.Tag]); BitsSHA256
	// repeats it under the vectors' name.
	Tag                    string  `json:"tag"`
	BitsSHA256             string  `json:"bits_sha256"`
	Items                  int     `json:"items"`
	FalsePositiveTolerance float64 `json:"false_positive_tolerance"`
	MurmurSeed             uint32  `json:"murmur_seed"`
	BitCount               uint32  `json:"bit_count"`
	HashCount              uint32  `json:"hash_count"`
	ByteCount              int     `json:"byte_count"`
	// ExpectedFalsePositiveRate is (1 − e^(−k·n/m))^k for n = Items.
	ExpectedFalsePositiveRate float64 `json:"expected_false_positive_rate"`
	// Hashing documents the algorithm for readers in other languages.
	Hashing string `json:"hashing"`
	// BitsFile names the raw bit file beside the manifest, if any.
	BitsFile string `json:"bits_file,omitempty"`
}

const hashingNote = "idx_i = ((fnv1a32(key) + i*murmur3_x86_32(key, murmur_seed)) mod 2^32) mod bit_count, i = 0..hash_count-1; bit idx is bit idx%8 (LSB first) of byte idx/8"

// Manifest returns the filter's [Manifest]; bitsFile names the raw bit file
// it will sit beside ("" for none).
func (f *Filter) Manifest(bitsFile string) Manifest {
	tag := f.Tag()
	return Manifest{
		Format:                    ManifestFormat,
		Tag:                       tag,
		BitsSHA256:                tag,
		Items:                     f.items,
		FalsePositiveTolerance:    f.tolerance,
		MurmurSeed:                f.params.Seed,
		BitCount:                  f.params.BitCount,
		HashCount:                 f.params.HashCount,
		ByteCount:                 len(f.bits),
		ExpectedFalsePositiveRate: FalsePositiveRate(f.params.BitCount, f.params.HashCount, f.items),
		Hashing:                   hashingNote,
		BitsFile:                  bitsFile,
	}
}

// FromManifest checks bits against a decoded manifest (format, sizes and
// SHA-256) and returns the filter.
func FromManifest(m Manifest, bits []byte) (*Filter, error) {
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("bloom: manifest format %q, want %q", m.Format, ManifestFormat)
	}
	if m.ByteCount != len(bits) {
		return nil, fmt.Errorf("bloom: manifest byte_count %d but bit array has %d bytes", m.ByteCount, len(bits))
	}
	want, err := hex.DecodeString(m.Tag)
	if err != nil || len(want) != sha256.Size {
		return nil, fmt.Errorf("bloom: manifest tag %q is not a hex SHA-256", m.Tag)
	}
	got := sha256.Sum256(bits)
	if subtle.ConstantTimeCompare(got[:], want) != 1 {
		return nil, fmt.Errorf("bloom: bit array SHA-256 %x does not match manifest tag %s", got, m.Tag)
	}
	if m.Items < 0 {
		return nil, fmt.Errorf("bloom: manifest items %d is negative", m.Items)
	}
	f, err := newFilter(Params{BitCount: m.BitCount, HashCount: m.HashCount, Seed: m.MurmurSeed}, bits)
	if err != nil {
		return nil, err
	}
	f.items, f.tolerance = m.Items, m.FalsePositiveTolerance
	return f, nil
}

// DecodeManifest parses a manifest strictly: unknown fields are an error.
func DecodeManifest(b []byte) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("bloom: decoding manifest: %w", err)
	}
	return m, nil
}

// WriteDir writes the raw bits ([BitsFile]), the sample's plist
// ([PlistFile]) and the JSON manifest ([ManifestFile]) into dir, which must
// exist, each with mode 0644. Each file is replaced atomically and durably
// (written to a temporary name, fsynced, renamed into place, directory
// fsynced), so a reader sees the old file or the new one; the three files
// are replaced one after another, not together.
func (f *Filter) WriteDir(dir string) error {
	pl, err := f.MarshalPlist()
	if err != nil {
		return err
	}
	mj, err := json.MarshalIndent(f.Manifest(BitsFile), "", "  ")
	if err != nil {
		return fmt.Errorf("bloom: encoding manifest: %w", err)
	}
	for _, file := range []struct {
		name string
		data []byte
	}{{BitsFile, f.bits}, {PlistFile, pl}, {ManifestFile, append(mj, '\n')}} {
		if err := atomicfile.WriteBytes(filepath.Join(dir, file.name), fileMode, file.data); err != nil {
			return fmt.Errorf("bloom: %w", err)
		}
	}
	return nil
}

// ReadDir loads a prefilter written by [Filter.WriteDir]: the manifest and
// raw bits when present, otherwise the sample's plist alone.
func ReadDir(dir string) (*Filter, error) {
	mj, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		pl, perr := os.ReadFile(filepath.Join(dir, PlistFile))
		if perr != nil {
			return nil, fmt.Errorf("bloom: %s has neither %s nor %s: %w", dir, ManifestFile, PlistFile, perr)
		}
		return UnmarshalPlist(pl)
	}
	if err != nil {
		return nil, fmt.Errorf("bloom: reading manifest: %w", err)
	}
	m, err := DecodeManifest(mj)
	if err != nil {
		return nil, err
	}
	name := m.BitsFile
	if name == "" {
		name = BitsFile
	}
	if filepath.Base(name) != name {
		return nil, fmt.Errorf("bloom: manifest bits_file %q must be a plain file name", name)
	}
	bits, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("bloom: reading bits: %w", err)
	}
	return FromManifest(m, bits)
}
