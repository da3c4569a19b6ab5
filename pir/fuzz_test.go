package pir

import (
	"context"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

// FuzzAnswerRequest feeds arbitrary PIRRequest bytes to a server holding
// set D's shard and key: it must answer or fail, never panic.
func FuzzAnswerRequest(f *testing.F) {
	v := loadVectorSet(f, "D")
	key, err := v.server.ParseEvaluationKey(v.keys.GetKeys()[0].GetEvaluationKey())
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range v.requests.GetRequests()[:2] {
		b, _ := proto.Marshal(r.GetPirRequest())
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		req := &apipb.PIRRequest{}
		if proto.Unmarshal(b, req) != nil {
			return
		}
		resp, err := v.server.Answer(context.Background(), req, key)
		if err == nil && len(resp.GetReplies()) != 2 {
			t.Fatalf("%d replies", len(resp.GetReplies()))
		}
	})
}

// FuzzParseEvaluationKey parses arbitrary SerializedEvaluationKey bytes.
func FuzzParseEvaluationKey(f *testing.F) {
	v := loadVectorSet(f, "D")
	b, _ := proto.Marshal(v.keys.GetKeys()[0].GetEvaluationKey())
	f.Add(b)
	f.Add(b[:len(b)/3])
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &hepb.SerializedEvaluationKey{}
		if proto.Unmarshal(b, m) != nil {
			return
		}
		v.server.ParseEvaluationKey(m)
	})
}

// FuzzClientConfig parses arbitrary ConfigResponse bytes as a device would.
func FuzzClientConfig(f *testing.F) {
	for _, set := range vectorSets {
		f.Add(testvec.Read(f, "pir", set, "config_response.binpb"))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &apipb.ConfigResponse{}
		if proto.Unmarshal(b, m) != nil {
			return
		}
		cc, err := ClientConfigFromResponse(m, "com.example.blindlist.url.filtering")
		if err == nil {
			cc.ShardIndex([]byte("example.com"))
		}
	})
}

// FuzzParams parses arbitrary PirParameters text.
func FuzzParams(f *testing.F) {
	for _, set := range vectorSets {
		f.Add(testvec.Read(f, "pir", set, "url-0.params.txtpb"))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &pirpb.PirParameters{}
		if prototext.Unmarshal(b, m) != nil {
			return
		}
		p, err := ParamsFromProto(m)
		if err != nil {
			return
		}
		if _, err := ParamsFromProto(p.Proto()); err != nil {
			t.Fatalf("re-parsing our own params: %v", err)
		}
	})
}
