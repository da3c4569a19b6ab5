package pb_test

import (
	"bytes"
	"crypto/sha256"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

// vectorMessage returns an empty message of the type a vector file holds,
// following shared/vectors/README.md, or nil when the name is not listed there.
// rel is the slash-separated path below the vectors folder.
func vectorMessage(rel string) proto.Message {
	dir, name := path.Split(rel)
	switch {
	case strings.HasPrefix(dir, "he/"):
		switch {
		case name == "encryption_parameters.txtpb":
			return new(hepb.EncryptionParameters)
		case name == "secret_key.binpb":
			return new(hepb.SerializedSecretKey)
		case name == "evaluation_key_config.txtpb":
			return new(hepb.EvaluationKeyConfig)
		case name == "evaluation_key.binpb":
			return new(hepb.SerializedEvaluationKey)
		case strings.HasPrefix(name, "plaintext_") && strings.HasSuffix(name, ".binpb"):
			return new(hepb.SerializedPlaintext)
		case strings.HasPrefix(name, "ct_") && strings.HasSuffix(name, ".binpb"):
			return new(hepb.SerializedCiphertext)
		}
	case strings.HasPrefix(dir, "pir/"):
		switch {
		case name == "input.txtpb":
			return new(pirpb.KeywordDatabase)
		case strings.HasSuffix(name, ".params.txtpb"):
			return new(pirpb.PirParameters)
		case name == "evaluation_key_config.txtpb":
			return new(hepb.EvaluationKeyConfig)
		case name == "config_request.binpb":
			return new(apipb.ConfigRequest)
		case name == "config_response.binpb", name == "config_response.txtpb":
			return new(apipb.ConfigResponse)
		case name == "secret_key.binpb":
			return new(hepb.SerializedSecretKey)
		case name == "evaluation_keys.binpb":
			return new(apipb.EvaluationKeys)
		case name == "requests.binpb":
			return new(apipb.Requests)
		case name == "responses.binpb":
			return new(apipb.Responses)
		case strings.HasSuffix(dir, "/debug/") && name == "request0_expanded.binpb":
			return new(hepb.SerializedCiphertextVec)
		}
	}
	return nil
}

// unknownFields reports the path of the first message in m (recursively)
// that carries unknown fields, or "" when there is none.
func unknownFields(m protoreflect.Message, at string) string {
	if len(m.GetUnknown()) > 0 {
		return at
	}
	found := ""
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := at + "." + string(fd.Name())
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				return true
			}
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				found = unknownFields(mv.Message(), name+"["+k.String()+"]")
				return found == ""
			})
		case fd.IsList():
			if fd.Message() == nil {
				return true
			}
			l := v.List()
			for i := 0; i < l.Len() && found == ""; i++ {
				found = unknownFields(l.Get(i).Message(), name)
			}
		case fd.Message() != nil:
			found = unknownFields(v.Message(), name)
		}
		return found == ""
	})
	return found
}

// TestVectorsParse proves the field numbers: every protobuf file in
// shared/vectors parses into the message README.md names, leaves no unknown
// field anywhere, and (binary files) re-marshals deterministically to Apple's
// exact bytes.
func TestVectorsParse(t *testing.T) {
	root := testvec.Dir(t)
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".txtpb" || ext == ".binpb") {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	if len(files) < 100 {
		t.Fatalf("found only %d protobuf files under %s", len(files), root)
	}
	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			msg := vectorMessage(rel)
			if msg == nil {
				t.Fatalf("no message type known for %s (update vectorMessage from shared/vectors/README.md)", rel)
			}
			data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(rel, ".txtpb") {
				err = prototext.UnmarshalOptions{}.Unmarshal(data, msg)
			} else {
				err = proto.UnmarshalOptions{DiscardUnknown: false}.Unmarshal(data, msg)
			}
			if err != nil {
				t.Fatalf("parsing as %s: %v", msg.ProtoReflect().Descriptor().FullName(), err)
			}
			if at := unknownFields(msg.ProtoReflect(), string(msg.ProtoReflect().Descriptor().Name())); at != "" {
				t.Fatalf("unknown fields at %s", at)
			}
			if proto.Size(msg) == 0 && len(data) > 0 {
				t.Fatalf("parsed to an empty message")
			}
			if strings.HasSuffix(rel, ".binpb") {
				checkBytes(t, rel, msg, data)
			}
		})
	}
}

// TestConfigResponseTextMatchesBinary checks that Apple's text and binary
// forms of each ConfigResponse agree: text parsed and marshaled
// deterministically gives the binary file's bytes.
func TestConfigResponseTextMatchesBinary(t *testing.T) {
	for _, set := range []string{"A", "B", "D", "E", "F", "bench100k"} {
		t.Run(set, func(t *testing.T) {
			var fromText, fromBinary apipb.ConfigResponse
			if err := prototext.Unmarshal(testvec.Read(t, "pir", set, "config_response.txtpb"), &fromText); err != nil {
				t.Fatal(err)
			}
			bin := testvec.Read(t, "pir", set, "config_response.binpb")
			if err := proto.Unmarshal(bin, &fromBinary); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(&fromText, &fromBinary) {
				t.Fatalf("text and binary ConfigResponse differ")
			}
			got, err := pb.Marshal(&fromText)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, bin) {
				t.Fatalf("text form marshals to %d bytes that differ from config_response.binpb (%d bytes)", len(got), len(bin))
			}
			// Apple's config_id and evaluation_key_config_hash are SHA-256 of
			// the serialized PIRConfig and EvaluationKeyConfig; both our
			// serializations (pb.Marshal and protobuf-go's deterministic one)
			// must reproduce them.
			for usecase, cfg := range fromBinary.GetConfigs() {
				checkHash(t, usecase+" config_id", cfg.GetPirConfig(), cfg.GetConfigId())
				for _, ks := range fromBinary.GetKeyInfo() {
					checkHash(t, usecase+" evaluation_key_config_hash", ks.GetKeyConfig(), cfg.GetPirConfig().GetEvaluationKeyConfigHash())
				}
			}
			// Apple's service sets shard_id present but empty; presence must survive.
			for usecase, cfg := range fromBinary.GetConfigs() {
				pc := cfg.GetPirConfig()
				if pc == nil {
					t.Fatalf("%s: no pir_config", usecase)
				}
				shards := pc.GetShardConfigs()
				if rc := pc.GetPirShardConfigs().GetRepeatedShardConfig(); rc != nil {
					shards = append(shards, rc.GetShardConfig())
				}
				for i, sc := range shards {
					if sc.ShardId == nil {
						t.Errorf("%s: shard config %d lost shard_id presence", usecase, i)
					}
				}
			}
		})
	}
}

// checkBytes asserts that our serialization of msg, parsed from Apple's bytes
// data, gives Apple's bytes. Files holding evaluation keys carry a
// map<uint64, SerializedKeySwitchKey> that SwiftProtobuf writes in Swift
// Dictionary order (unspecified), so for them the comparison is made after
// sorting map entries ([pb.Canonical]); every other file must match exactly.
func checkBytes(t *testing.T, rel string, msg proto.Message, data []byte) {
	t.Helper()
	got, err := pb.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	want := data
	if base := path.Base(rel); base == "evaluation_key.binpb" || base == "evaluation_keys.binpb" {
		want, err = pb.Canonical(data, msg.ProtoReflect().Descriptor())
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != len(data) {
			t.Fatalf("canonical form has %d bytes, Apple's file %d", len(want), len(data))
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("re-marshal differs from Apple's bytes (%d vs %d bytes)", len(got), len(want))
	}
	// protobuf-go's own deterministic order differs from SwiftProtobuf's only
	// for oneofs mixed with other fields; it must still parse to the same message.
	det, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	back := msg.ProtoReflect().New().Interface()
	if err := proto.Unmarshal(det, back); err != nil || !proto.Equal(back, msg) {
		t.Fatalf("deterministic round trip changed the message (err %v)", err)
	}
}

// checkHash asserts SHA-256(serialize(m)) == want for both serializations.
func checkHash(t *testing.T, what string, m proto.Message, want []byte) {
	t.Helper()
	if len(want) != sha256.Size {
		t.Fatalf("%s: Apple's digest has %d bytes", what, len(want))
	}
	ours, err := pb.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	det, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"pb.Marshal": ours, "deterministic": det} {
		if got := sha256.Sum256(b); !bytes.Equal(got[:], want) {
			t.Errorf("%s via %s: got %x, want %x", what, name, got, want)
		}
	}
}
