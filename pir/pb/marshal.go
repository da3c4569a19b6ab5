package pb

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Marshal serializes m the way SwiftProtobuf (Apple's side) does: every
// message's fields in increasing field-number order, map entries sorted by
// key, unknown fields last.
//
// It differs from proto.MarshalOptions{Deterministic: true} in one respect:
// protobuf-go writes the fields of a oneof after all other fields, while
// SwiftProtobuf writes each field at its number. The two only differ for
// messages that mix a oneof with other fields (api.v1 Config: pir_config = 1
// before config_id = 3), so SHA-256 hashes of PIRConfig and
// EvaluationKeyConfig are the same either way; Marshal makes whole
// ConfigResponse bodies byte-identical to Apple's too. Map order cannot match
// in general: SwiftProtobuf writes map entries in Swift Dictionary order,
// which is unspecified, and Marshal sorts them.
func Marshal(m proto.Message) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("pb: marshal %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	out, err := reorder(b, m.ProtoReflect().Descriptor())
	if err != nil {
		return nil, fmt.Errorf("pb: reorder %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return out, nil
}

// Canonical rewrites the serialized message b of type md into [Marshal]'s
// order without decoding it into a message: fields in number order,
// sub-messages rewritten the same way, map entries sorted by key. Tests use
// it to compare Apple's bytes with ours regardless of map order. It returns
// an error when b is not well-formed protobuf wire data.
func Canonical(b []byte, md protoreflect.MessageDescriptor) ([]byte, error) {
	out, err := reorder(b, md)
	if err != nil {
		return nil, fmt.Errorf("pb: canonical %s: %w", md.FullName(), err)
	}
	return out, nil
}

// wireField is one encoded field: its number, the whole encoding (tag and
// value), and for map entries the entry's key field value for sorting.
type wireField struct {
	num     protowire.Number
	enc     []byte
	known   bool
	mapKey  protoreflect.FieldDescriptor // key descriptor when the field is a map
	keyWire []byte                       // the encoded key value (without tag)
}

// reorder is the recursive worker of [Marshal] and [Canonical].
func reorder(b []byte, md protoreflect.MessageDescriptor) ([]byte, error) {
	var fields []wireField
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		fd := md.Fields().ByNumber(num)
		vlen := protowire.ConsumeFieldValue(num, typ, b[n:])
		if vlen < 0 {
			return nil, protowire.ParseError(vlen)
		}
		f := wireField{num: num, known: fd != nil, enc: b[:n+vlen]}
		if fd != nil && typ == protowire.BytesType && fd.Message() != nil {
			v, _ := protowire.ConsumeBytes(b[n:])
			sub, err := reorder(v, fd.Message())
			if err != nil {
				return nil, err
			}
			enc := protowire.AppendTag(nil, num, typ)
			f.enc = protowire.AppendBytes(enc, sub)
			if fd.IsMap() {
				f.mapKey = fd.MapKey()
				f.keyWire = mapEntryKey(sub)
			}
		}
		fields = append(fields, f)
		b = b[n+vlen:]
	}
	slices.SortStableFunc(fields, func(x, y wireField) int {
		switch {
		case x.known != y.known:
			if x.known {
				return -1 // unknown fields go last, in their original order
			}
			return 1
		case !x.known:
			return 0
		case x.num != y.num:
			return cmp.Compare(x.num, y.num)
		case x.mapKey != nil:
			return compareMapKeys(x.mapKey, x.keyWire, y.keyWire)
		}
		return 0
	})
	var out []byte
	for _, f := range fields {
		out = append(out, f.enc...)
	}
	return out, nil
}

// mapEntryKey returns the encoded value of field 1 (the key) of a map entry,
// or nil when the key is absent (the zero value).
func mapEntryKey(entry []byte) []byte {
	for len(entry) > 0 {
		num, typ, n := protowire.ConsumeTag(entry)
		if n < 0 {
			return nil
		}
		vlen := protowire.ConsumeFieldValue(num, typ, entry[n:])
		if vlen < 0 {
			return nil
		}
		if num == 1 {
			return entry[n : n+vlen]
		}
		entry = entry[n+vlen:]
	}
	return nil
}

// compareMapKeys orders two encoded map keys of kind fd.Kind() as protobuf-go's
// deterministic marshaling does (numeric for integers, false before true,
// bytewise for strings). A missing key is the zero value.
func compareMapKeys(fd protoreflect.FieldDescriptor, x, y []byte) int {
	switch fd.Kind() {
	case protoreflect.StringKind:
		xs, _ := protowire.ConsumeBytes(x)
		ys, _ := protowire.ConsumeBytes(y)
		return bytes.Compare(xs, ys)
	case protoreflect.Fixed32Kind:
		xv, _ := protowire.ConsumeFixed32(x)
		yv, _ := protowire.ConsumeFixed32(y)
		return cmp.Compare(xv, yv)
	case protoreflect.Fixed64Kind:
		xv, _ := protowire.ConsumeFixed64(x)
		yv, _ := protowire.ConsumeFixed64(y)
		return cmp.Compare(xv, yv)
	case protoreflect.Sfixed32Kind:
		xv, _ := protowire.ConsumeFixed32(x)
		yv, _ := protowire.ConsumeFixed32(y)
		return cmp.Compare(int32(xv), int32(yv))
	case protoreflect.Sfixed64Kind:
		xv, _ := protowire.ConsumeFixed64(x)
		yv, _ := protowire.ConsumeFixed64(y)
		return cmp.Compare(int64(xv), int64(yv))
	}
	xv, _ := protowire.ConsumeVarint(x)
	yv, _ := protowire.ConsumeVarint(y)
	switch fd.Kind() {
	case protoreflect.Int32Kind:
		return cmp.Compare(int32(xv), int32(yv))
	case protoreflect.Int64Kind:
		return cmp.Compare(int64(xv), int64(yv))
	case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		return cmp.Compare(protowire.DecodeZigZag(xv), protowire.DecodeZigZag(yv))
	}
	return cmp.Compare(xv, yv) // bool, uint32, uint64
}
