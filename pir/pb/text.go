package pb

// MarshalText: a stable protobuf text-format writer for the small config
// files blindlist writes (<stem>-<N>.params.txtpb, evaluation_key_config.txtpb).
//
// protobuf-go's prototext deliberately varies its output between binaries
// (one or two spaces after a colon, chosen from a hash of the executable, "to
// discourage byte comparisons"), so a file it writes, and any SHA-256 recorded
// for it, changed from one build of blindlist to the next although the message
// was the same. MarshalText writes one fixed form instead, the one Apple's
// tools write (SwiftProtobuf's TextFormatEncoder; it reproduces
// shared/vectors/pir/*/evaluation_key_config.txtpb and url-*.params.txtpb byte
// for byte):
//
//	encryption_parameters {
//	  polynomial_degree: 4096
//	  coefficient_moduli: [134176769, 268369921, 268361729]
//	  security_level: SECURITY_LEVEL_QUANTUM128
//	}
//	galois_elements: [1025, 2049, 4097]
//	has_relin_key: true
//
// Set fields only, in field-number order; two-space indent; "name {" for a
// message (an empty one still gets its own closing line); a repeated scalar
// as one "name: [a, b]" list; enums by name; one trailing newline.
// prototext.Unmarshal reads it back.

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// MarshalText returns m in the stable text form described above. It refuses
// what it does not lay out as SwiftProtobuf would: maps, groups,
// floating-point fields, unknown fields and extensions. None occur in the HE
// and PIR config messages.
func MarshalText(m proto.Message) ([]byte, error) {
	var b bytes.Buffer
	if err := writeTextMessage(&b, m.ProtoReflect(), 0); err != nil {
		return nil, fmt.Errorf("pb: text format of %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return b.Bytes(), nil
}

// writeTextMessage writes the set fields of m, each line indented by depth
// levels of two spaces.
func writeTextMessage(b *bytes.Buffer, m protoreflect.Message, depth int) error {
	if len(m.GetUnknown()) > 0 {
		return fmt.Errorf("%s has unknown fields", m.Descriptor().FullName())
	}
	fields := m.Descriptor().Fields()
	ordered := make([]protoreflect.FieldDescriptor, fields.Len())
	for i := range ordered {
		ordered[i] = fields.Get(i)
	}
	slices.SortFunc(ordered, func(x, y protoreflect.FieldDescriptor) int { return int(x.Number() - y.Number()) })
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if fd.IsExtension() {
			err = fmt.Errorf("extension %s", fd.FullName())
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	indent := strings.Repeat("  ", depth)
	for _, fd := range ordered {
		if !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsMap():
			return fmt.Errorf("map field %s", fd.Name())
		case fd.Kind() == protoreflect.GroupKind:
			return fmt.Errorf("group field %s", fd.Name())
		case fd.Kind() == protoreflect.MessageKind && fd.IsList():
			for i := range v.List().Len() {
				if err := writeTextSubmessage(b, fd, v.List().Get(i).Message(), depth); err != nil {
					return err
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			if err := writeTextSubmessage(b, fd, v.Message(), depth); err != nil {
				return err
			}
		case fd.IsList():
			b.WriteString(indent + fd.TextName() + ": [")
			for i := range v.List().Len() {
				if i > 0 {
					b.WriteString(", ")
				}
				if err := writeTextScalar(b, fd, v.List().Get(i)); err != nil {
					return err
				}
			}
			b.WriteString("]\n")
		default:
			b.WriteString(indent + fd.TextName() + ": ")
			if err := writeTextScalar(b, fd, v); err != nil {
				return err
			}
			b.WriteByte('\n')
		}
	}
	return nil
}

// writeTextSubmessage writes "name {", m's fields one level deeper, and "}".
func writeTextSubmessage(b *bytes.Buffer, fd protoreflect.FieldDescriptor, m protoreflect.Message, depth int) error {
	indent := strings.Repeat("  ", depth)
	b.WriteString(indent + fd.TextName() + " {\n")
	if err := writeTextMessage(b, m, depth+1); err != nil {
		return err
	}
	b.WriteString(indent + "}\n")
	return nil
}

// writeTextScalar writes one value of a non-message field.
func writeTextScalar(b *bytes.Buffer, fd protoreflect.FieldDescriptor, v protoreflect.Value) error {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			b.WriteString(string(ev.Name()))
		} else {
			b.WriteString(strconv.FormatInt(int64(v.Enum()), 10))
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case protoreflect.StringKind, protoreflect.BytesKind:
		s := v.String()
		if fd.Kind() == protoreflect.BytesKind {
			s = string(v.Bytes())
		}
		b.Write(AppendTextString(b.AvailableBuffer(), s))
	default:
		return fmt.Errorf("field %s of kind %v", fd.Name(), fd.Kind())
	}
	return nil
}

// AppendTextString appends s to dst as a quoted protobuf text-format string:
// \" \\ \n \r \t escaped by name, other bytes below 0x20 or from 0x7f on as
// three-digit octal escapes (so non-UTF-8 bytes survive), the rest as is.
func AppendTextString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c < 0x20 || c >= 0x7f {
				dst = append(dst, '\\', '0'+c>>6, '0'+c>>3&7, '0'+c&7)
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '"')
}
