package api

import (
	"bytes"
	"net/http"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

// TestKeyCoverage checks /key and /queries against Apple's behaviour for
// keys that are not exactly the configuration's: a key naming no served
// configuration is stored (today's code refused it with 400); a key with
// more Galois elements than needed is stored and answers byte for byte as
// Apple's vector; a key lacking an element or the relinearization key is
// stored too and fails at query time with 500 (Apple's HE library throws
// there), saying what is missing.
func TestKeyCoverage(t *testing.T) {
	e := newEnv(t, envOptions{})
	var ek apipb.EvaluationKeys
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "evaluation_keys.binpb"), &ek); err != nil {
		t.Fatal(err)
	}
	requests := testvec.Read(t, "pir", "A", "requests.binpb")
	var want apipb.Responses
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "responses.binpb"), &want); err != nil {
		t.Fatal(err)
	}
	upload := func(user string, k *apipb.EvaluationKeys) {
		t.Helper()
		b, err := proto.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		if code, _, body := e.post("/key", b, map[string]string{"User-Identifier": user}); code != http.StatusOK {
			t.Fatalf("/key for %s: %d %s, want 200 (stored as Apple's service does)", user, code, body)
		}
	}
	ksks := func(k *apipb.EvaluationKeys) map[uint64]*hepb.SerializedKeySwitchKey {
		return k.GetKeys()[0].GetEvaluationKey().GetGaloisKey().GetKeySwitchKeys()
	}
	var elements []uint64
	for g := range ksks(&ek) {
		elements = append(elements, g)
	}
	slices.Sort(elements)

	t.Run("unknown configuration", func(t *testing.T) {
		k := proto.Clone(&ek).(*apipb.EvaluationKeys)
		k.GetKeys()[0].GetMetadata().Identifier = bytes.Repeat([]byte{1}, 32)
		upload("future-config", k)
	})

	t.Run("superset", func(t *testing.T) {
		k := proto.Clone(&ek).(*apipb.EvaluationKeys)
		extra := elements[len(elements)-1] + 2 // odd, and not an element the configuration asks for
		ksks(k)[extra] = proto.Clone(ksks(k)[elements[0]]).(*hepb.SerializedKeySwitchKey)
		upload("superset", k)
		code, _, body := e.post("/queries", requests, map[string]string{"User-Identifier": "superset"})
		if code != http.StatusOK {
			t.Fatalf("/queries with a superset key: %d %s", code, body)
		}
		var got apipb.Responses
		if err := proto.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(&got, &want) {
			t.Error("answers with a superset key differ from Apple's")
		}
	})

	t.Run("missing Galois element", func(t *testing.T) {
		k := proto.Clone(&ek).(*apipb.EvaluationKeys)
		delete(ksks(k), elements[1])
		upload("missing-galois", k)
		code, _, body := e.post("/queries", requests, map[string]string{"User-Identifier": "missing-galois"})
		msg := errorMessage(t, body)
		if code != http.StatusInternalServerError || !bytes.Contains([]byte(msg), []byte("lacks Galois elements")) {
			t.Errorf("/queries with a key lacking element %d: %d %q, want 500 naming it", elements[1], code, msg)
		}
	})

	t.Run("missing relinearization key", func(t *testing.T) {
		k := proto.Clone(&ek).(*apipb.EvaluationKeys)
		if k.GetKeys()[0].GetEvaluationKey().GetRelinKey() == nil {
			t.Skip("vector set A's configuration has no relinearization key")
		}
		k.GetKeys()[0].GetEvaluationKey().RelinKey = nil
		upload("missing-relin", k)
		code, _, body := e.post("/queries", requests, map[string]string{"User-Identifier": "missing-relin"})
		if msg := errorMessage(t, body); code != http.StatusInternalServerError || !bytes.Contains([]byte(msg), []byte("relinearization")) {
			t.Errorf("/queries with a key lacking the relinearization key: %d %q, want 500", code, msg)
		}
	})
}
