package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/hepb"
	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

// TestMarshalTextProtoApple parses every evaluation-key config and shard
// parameter file Apple's PIRProcessDatabase wrote for the vector sets
// (presets with t = 17 and t = 11, one and two hash functions, three shards
// in set B) and checks that marshalTextProto writes each back byte for
// byte, that prototext reads our text back to the same message, and that the
// text is the same on every call.
func TestMarshalTextProtoApple(t *testing.T) {
	dir := testvec.Path(t, "pir")
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.txtpb"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range files {
		var msg proto.Message
		switch name := filepath.Base(path); {
		case name == pirKeyConfigFile:
			msg = &hepb.EvaluationKeyConfig{}
		case strings.HasSuffix(name, ".params.txtpb"):
			msg = &pirpb.PirParameters{}
		default:
			continue // input.txtpb, config_response.txtpb (a map)
		}
		n++
		rel, _ := filepath.Rel(dir, path)
		t.Run(rel, func(t *testing.T) {
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := prototext.Unmarshal(want, msg); err != nil {
				t.Fatal(err)
			}
			got, err := marshalTextProto(msg)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("got\n%s\nwant (Apple's)\n%s", got, want)
			}
			back := msg.ProtoReflect().New().Interface()
			if err := prototext.Unmarshal(got, back); err != nil || !proto.Equal(back, msg) {
				t.Errorf("round trip: %v, %v", back, err)
			}
			if again, _ := marshalTextProto(msg); string(again) != string(got) {
				t.Error("two calls differ")
			}
		})
	}
	if n < 10 {
		t.Errorf("found %d config files under %s, want at least 10", n, dir)
	}
}

// TestMarshalTextProtoRefuses checks that fields the writer does not lay out
// as SwiftProtobuf would are an error, not a guess.
func TestMarshalTextProtoRefuses(t *testing.T) {
	m := &hepb.EvaluationKeyConfig{HasRelinKey: true}
	m.ProtoReflect().SetUnknown([]byte{0xf8, 0x01, 0x01}) // field 31, varint 1
	if _, err := marshalTextProto(m); err == nil {
		t.Error("unknown fields: no error")
	}
}

// TestBuildKeyConfigStable checks that evaluation_key_config.txtpb is
// written in Apple's layout for the default preset (prototext's output
// varies between binaries) and that its SHA-256 in pir-manifest.json is
// that of the file.
func TestBuildKeyConfigStable(t *testing.T) {
	out := t.TempDir()
	if code, _, errs := runCLI(t, "", "build", "--no-test-identity", "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	const want = `encryption_parameters {
  polynomial_degree: 4096
  plaintext_modulus: 17
  coefficient_moduli: [134176769, 268369921, 268361729]
  security_level: SECURITY_LEVEL_QUANTUM128
  he_scheme: HE_SCHEME_BFV
}
galois_elements: [`
	got := string(mustRead(t, filepath.Join(out, pirKeyConfigFile)))
	if len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("%s:\n%s\nwant it to start with\n%s", pirKeyConfigFile, got, want)
	}
	var kc hepb.EvaluationKeyConfig
	if err := prototext.Unmarshal([]byte(got), &kc); err != nil || !kc.HasRelinKey || len(kc.GaloisElements) == 0 {
		t.Errorf("prototext reads %v, %v", &kc, err)
	}
	info, err := describeFile(filepath.Join(out, pirKeyConfigFile), pirKeyConfigFile, false)
	if err != nil {
		t.Fatal(err)
	}
	man, err := os.ReadFile(filepath.Join(out, pirManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(man), info.SHA256) {
		t.Errorf("%s does not record the key config's SHA-256 %s", pirManifestFile, info.SHA256)
	}
}
