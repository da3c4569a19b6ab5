package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
	"github.com/blindlist/blindlist/pir/pb/pirpb"
)

// TestProtoElementsOfAppleBodies counts the elements of Apple's own /key and
// /queries bodies: they must stay far below the bound, and the count must
// see the nested ciphertexts (a count of top-level fields only would be
// useless).
func TestProtoElementsOfAppleBodies(t *testing.T) {
	for _, c := range []struct {
		file string
		m    proto.Message
	}{
		{"evaluation_keys.binpb", &apipb.EvaluationKeys{}},
		{"requests.binpb", &apipb.Requests{}},
	} {
		b := testvec.Read(t, "pir", "A", c.file)
		budget := maxProtoElements
		if err := countProtoElements(b, c.m.ProtoReflect().Descriptor(), &budget, 0); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		used := maxProtoElements - budget
		t.Logf("%s: %d bytes, %d elements", c.file, len(b), used)
		if used < 5 || used > maxProtoElements/16 {
			t.Errorf("%s: %d elements, want a handful and far below %d", c.file, used, maxProtoElements)
		}
		if err := unmarshalBounded(b, c.m, c.file); err != nil {
			t.Errorf("%s: %v", c.file, err)
		}
	}
}

// TestProtoElementsBound sends bodies that cost two bytes per element on
// the wire (top level, and nested inside one request) to a loopback server:
// each gets a 400 naming the message, without proto.Unmarshal allocating
// hundreds of MB first (10 MiB of empty Requests made 600 MiB of heap).
func TestProtoElementsBound(t *testing.T) {
	e := newEnv(t, envOptions{})
	flat := bytes.Repeat([]byte{0x0a, 0x00}, 5<<20) // field 1, empty message
	cts := make([]*hepb.SerializedCiphertext, maxProtoElements)
	for i := range cts {
		cts[i] = &hepb.SerializedCiphertext{}
	}
	nested, err := proto.Marshal(&apipb.Requests{Requests: []*apipb.Request{{
		Usecase: testUsecase,
		Request: &apipb.Request_PirRequest{PirRequest: &apipb.PIRRequest{
			Query: &pirpb.EncryptedIndices{Ciphertexts: cts},
		}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, what string
		body       []byte
	}{
		{"/queries", "Requests", flat},
		{"/key", "EvaluationKeys", flat},
		{"/queries", "Requests", nested},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		code, _, body := e.post(c.path, c.body, nil)
		runtime.ReadMemStats(&after)
		var eb errorBody
		if err := json.Unmarshal(body, &eb); err != nil {
			t.Fatalf("%s: body %q: %v", c.path, body, err)
		}
		if code != http.StatusBadRequest || !strings.HasPrefix(eb.Error.Message, c.what+" has more than") {
			t.Errorf("%s (%d bytes): %d %q", c.path, len(c.body), code, eb.Error.Message)
		}
		if grown := after.TotalAlloc - before.TotalAlloc; grown > 8*uint64(len(c.body))+64<<20 {
			t.Errorf("%s: %d MiB allocated for a %d MiB body", c.path, grown>>20, len(c.body)>>20)
		}
	}
}

func TestCountProtoElementsMalformed(t *testing.T) {
	md := (&apipb.Requests{}).ProtoReflect().Descriptor()
	for _, b := range [][]byte{{0x0a}, {0x0a, 0x05, 0x00}, {0x0a, 0x02, 0x12, 0x05}, {0xff}} {
		budget := maxProtoElements
		err := countProtoElements(b, md, &budget, 0)
		if err == nil || errors.Is(err, errTooManyElements) {
			t.Errorf("%x: %v, want a parse error", b, err)
		}
	}
}
