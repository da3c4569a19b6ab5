package bloom

import (
	"bytes"
	"fmt"

	"howett.net/plist"
)

// PlistFile is the file name Apple's sample tool writes and its app
// extension reads from its bundle.
const PlistFile = "bloom_filter.plist"

// plistFilter mirrors the Codable keys of the current SimpleURLFilter
// sample's BloomFilter (client-spec §2.6). The Go types give the plist
// types PropertyListDecoder expects: integer, real, integer, integer,
// integer, integer, data.
type plistFilter struct {
	ItemCount              int     `plist:"itemCount"`
	FalsePositiveTolerance float64 `plist:"falsePositiveTolerance"`
	MurmurSeed             uint32  `plist:"murmurSeed"`
	BitCount               uint32  `plist:"bitCount"`
	ByteCount              int     `plist:"byteCount"`
	HashCount              uint32  `plist:"hashCount"`
	Data                   []byte  `plist:"data"`
}

// MarshalPlist returns the filter as the sample's bloom_filter.plist: an XML
// property list with keys itemCount, falsePositiveTolerance, murmurSeed,
// bitCount, byteCount, hashCount and data, readable by Foundation's
// PropertyListDecoder into the sample's BloomFilter.
func (f *Filter) MarshalPlist() ([]byte, error) {
	v := plistFilter{
		ItemCount:              f.items,
		FalsePositiveTolerance: f.tolerance,
		MurmurSeed:             f.params.Seed,
		BitCount:               f.params.BitCount,
		ByteCount:              len(f.bits),
		HashCount:              f.params.HashCount,
		Data:                   f.bits,
	}
	var buf bytes.Buffer
	enc := plist.NewEncoderForFormat(&buf, plist.XMLFormat)
	enc.Indent("\t")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("bloom: encoding plist: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// UnmarshalPlist reads a bloom_filter.plist in any property list format
// (XML, binary, OpenStep) and checks that its counts agree with its data:
// byteCount = ⌈bitCount/8⌉ = len(data), hashCount > 0, no bit set past
// bitCount.
func UnmarshalPlist(b []byte) (f *Filter, err error) {
	// howett.net/plist re-panics runtime errors from malformed input; a
	// prefilter file is outside input, so turn any panic into an error.
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("bloom: malformed plist: %v", r)
		}
	}()
	var v plistFilter
	if _, err := plist.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("bloom: decoding plist: %w", err)
	}
	if v.ByteCount != len(v.Data) {
		return nil, fmt.Errorf("bloom: plist byteCount %d but data has %d bytes", v.ByteCount, len(v.Data))
	}
	if v.ItemCount < 0 {
		return nil, fmt.Errorf("bloom: plist itemCount %d is negative", v.ItemCount)
	}
	f, err = newFilter(Params{BitCount: v.BitCount, HashCount: v.HashCount, Seed: v.MurmurSeed}, v.Data)
	if err != nil {
		return nil, err
	}
	f.items, f.tolerance = v.ItemCount, v.FalsePositiveTolerance
	return f, nil
}
