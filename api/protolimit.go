package api

import (
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// maxProtoElements bounds the length-delimited elements (nested messages,
// map entries, strings and bytes) of one request body, counted over all
// nesting levels. proto.Unmarshal allocates one Go value per element, and an
// empty element costs two bytes on the wire but 60-100 bytes of heap: a
// 10 MiB body of empty Request messages made 600 MiB of garbage. The largest
// legitimate body, 64 evaluation keys of 8 Galois keys each, has a few
// thousand elements.
const maxProtoElements = 1 << 16

// maxProtoDepth bounds message nesting while counting; Apple's messages nest
// fewer than 10 levels.
const maxProtoDepth = 32

// errTooManyElements is wrapped by [countProtoElements] when a body exceeds
// the element or depth bound.
var errTooManyElements = errors.New("api: protobuf message has too many elements")

// unmarshalBounded decodes a request body into m after checking, without
// allocating, that it stays within [maxProtoElements]. Both failures are
// the client's: a 400 naming the message type only.
func unmarshalBounded(b []byte, m proto.Message, what string) error {
	budget := maxProtoElements
	if err := countProtoElements(b, m.ProtoReflect().Descriptor(), &budget, 0); err != nil {
		if errors.Is(err, errTooManyElements) {
			return &httpError{status: http.StatusBadRequest, category: catTooLarge,
				message: fmt.Sprintf("%s has more than %d protobuf elements", what, maxProtoElements), err: err}
		}
		return malformed(what, err)
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return malformed(what, err)
	}
	return nil
}

// countProtoElements walks the wire form of a message of type md and takes
// one unit of *budget per length-delimited field occurrence, descending into
// message and map fields. It reads b in place and fails with
// [errTooManyElements] when the budget or [maxProtoDepth] is exceeded, or
// with a protowire error on malformed input. Work is linear in len(b).
func countProtoElements(b []byte, md protoreflect.MessageDescriptor, budget *int, depth int) error {
	if depth > maxProtoDepth {
		return fmt.Errorf("%w: nested deeper than %d", errTooManyElements, maxProtoDepth)
	}
	fields := md.Fields()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if *budget--; *budget < 0 {
			return fmt.Errorf("%w: more than %d", errTooManyElements, maxProtoElements)
		}
		fd := fields.ByNumber(num)
		if fd == nil || fd.Message() == nil || fd.Kind() != protoreflect.MessageKind {
			continue // string, bytes, packed scalars or an unknown field: one allocation
		}
		if err := countProtoElements(v, fd.Message(), budget, depth+1); err != nil {
			return err
		}
	}
	return nil
}
