package pb_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

// TestMarshalTextApple parses every evaluation-key config and shard
// parameter file Apple's PIRProcessDatabase wrote for the vector sets
// (presets with t = 17 and t = 11, one and two hash functions, three shards
// in set B) and checks that MarshalText writes each back byte for
// byte, that prototext reads our text back to the same message, and that the
// text is the same on every call.
func TestMarshalTextApple(t *testing.T) {
	dir := testvec.Path(t, "pir")
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.txtpb"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range files {
		var msg proto.Message
		switch name := filepath.Base(path); {
		case name == "evaluation_key_config.txtpb":
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
			got, err := pb.MarshalText(msg)
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
			if again, _ := pb.MarshalText(msg); string(again) != string(got) {
				t.Error("two calls differ")
			}
		})
	}
	if n < 10 {
		t.Errorf("found %d config files under %s, want at least 10", n, dir)
	}
}

// TestMarshalTextRefuses checks that fields the writer does not lay out
// as SwiftProtobuf would are an error, not a guess.
func TestMarshalTextRefuses(t *testing.T) {
	m := &hepb.EvaluationKeyConfig{HasRelinKey: true}
	m.ProtoReflect().SetUnknown([]byte{0xf8, 0x01, 0x01}) // field 31, varint 1
	if _, err := pb.MarshalText(m); err == nil {
		t.Error("unknown fields: no error")
	}
}

// TestAppendTextString checks the string escaping against prototext, which
// must read every escaped string back to the same bytes.
func TestAppendTextString(t *testing.T) {
	for _, s := range []string{"", "example.com/path?q=1", `q"uote\back`, "tab\tnl\ncr\r", "\x00\x1f\x7f\xff", "straße"} {
		got := string(pb.AppendTextString(nil, s))
		var row pirpb.KeywordDatabaseRow
		if err := prototext.Unmarshal([]byte("keyword: "+got), &row); err != nil {
			t.Errorf("%q -> %s: %v", s, got, err)
			continue
		}
		if string(row.GetKeyword()) != s {
			t.Errorf("%q -> %s -> %q", s, got, row.GetKeyword())
		}
	}
}
