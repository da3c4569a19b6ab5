package pir

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

// The seeds here are tens of kilobytes (ciphertexts, keys), and Go's
// minimizer spends its default minute on every new interesting input of
// that size, which stalls a 30 s run after a handful of executions. Run
// these targets with a bounded minimization:
//
//	go test -run XXX -fuzz '^FuzzParseQuery$' -fuzztime 30s -fuzzminimizetime 10x ./pir

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

// FuzzParseQuery feeds arbitrary EncryptedIndices bytes to the request
// checks and ciphertext parsing of an answer (everything before the
// expansion), which FuzzAnswerRequest reaches only a few times per second.
func FuzzParseQuery(f *testing.F) {
	v := loadVectorSet(f, "D")
	for _, r := range v.requests.GetRequests()[:2] {
		b, _ := proto.Marshal(r.GetPirRequest().GetQuery())
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	p := v.server.shards[0].params
	f.Fuzz(func(t *testing.T, b []byte) {
		q := &pirpb.EncryptedIndices{}
		if proto.Unmarshal(b, q) != nil {
			return
		}
		cts, err := v.server.parseQuery(p, q)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		for i, ct := range cts {
			if len(ct.Polys) != 2 || ct.Level() != len(v.server.he.moduli)-1 {
				t.Fatalf("ciphertext %d: %d polynomials at level %d", i, len(ct.Polys), ct.Level())
			}
		}
	})
}
