package pb_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb"
	_ "github.com/blindlist/blindlist/pir/pb/apipb"
	_ "github.com/blindlist/blindlist/pir/pb/hepb"
	_ "github.com/blindlist/blindlist/pir/pb/pirpb"
)

// appleTypes lists every generated message type, sorted by full name so a
// fuzz input's type index is stable.
func appleTypes() []protoreflect.MessageType {
	var types []protoreflect.MessageType
	protoregistry.GlobalTypes.RangeMessages(func(mt protoreflect.MessageType) bool {
		if strings.HasPrefix(string(mt.Descriptor().FullName()), "apple.swift_homomorphic_encryption.") {
			types = append(types, mt)
		}
		return true
	})
	slices.SortFunc(types, func(a, b protoreflect.MessageType) int {
		return strings.Compare(string(a.Descriptor().FullName()), string(b.Descriptor().FullName()))
	})
	return types
}

// FuzzUnmarshal feeds arbitrary bytes to every generated message type. A
// parse must not panic; a successful parse must re-serialize with
// [pb.Marshal] to bytes that parse again and serialize identically, and
// [pb.Canonical] must leave [pb.Marshal]'s output unchanged.
func FuzzUnmarshal(f *testing.F) {
	types := appleTypes()
	if len(types) < 40 {
		f.Fatalf("only %d generated message types registered", len(types))
	}
	index := func(name protoreflect.FullName) uint16 {
		for i, mt := range types {
			if mt.Descriptor().FullName() == name {
				return uint16(i)
			}
		}
		f.Fatalf("type %s not registered", name)
		return 0
	}
	// Seed with Apple's small binary vectors, each under its own type.
	root := testvec.Dir(f)
	for _, rel := range []string{
		"pir/A/config_request.binpb", "pir/A/config_response.binpb", "pir/B/config_response.binpb",
		"he/n_4096_logq_27_28_28_logt_5/ct_a_seeded.binpb",
	} {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(index(vectorMessage(rel).ProtoReflect().Descriptor().FullName()), data)
	}
	f.Add(uint16(0), []byte{})
	f.Add(index("apple.swift_homomorphic_encryption.v1.SerializedGaloisKey"), []byte{0x0a, 0x03, 0x08, 0xac, 0x02, 0x0a, 0x02, 0x08, 0x03})

	f.Fuzz(func(t *testing.T, typ uint16, data []byte) {
		mt := types[int(typ)%len(types)]
		_, _ = pb.Canonical(data, mt.Descriptor()) // must not panic on any input
		m := mt.New().Interface()
		if err := proto.Unmarshal(data, m); err != nil {
			return
		}
		b1, err := pb.Marshal(m)
		if err != nil {
			t.Fatalf("%s: Marshal after successful Unmarshal: %v", mt.Descriptor().FullName(), err)
		}
		m2 := mt.New().Interface()
		if err := proto.Unmarshal(b1, m2); err != nil {
			t.Fatalf("%s: our own bytes do not parse: %v", mt.Descriptor().FullName(), err)
		}
		b2, err := pb.Marshal(m2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("%s: Marshal is not stable across a round trip", mt.Descriptor().FullName())
		}
		c, err := pb.Canonical(b1, mt.Descriptor())
		if err != nil || !bytes.Equal(c, b1) {
			t.Fatalf("%s: Canonical changed Marshal's output (err %v)", mt.Descriptor().FullName(), err)
		}
	})
}
