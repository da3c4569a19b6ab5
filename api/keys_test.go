package api

import (
	"net/http"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// TestLostKeyResetsKeyStatus loses an uploaded key's bytes but not its
// timestamp entry (what a Redis eviction, or a crash between the two writes,
// leaves): the query fails with "Evaluation key not found", and from then on
// /config reports timestamp 0 so the device uploads a new key. Before, /config
// kept reporting the old timestamp and the device never re-uploaded.
func TestLostKeyResetsKeyStatus(t *testing.T) {
	e := newEnv(t, envOptions{})
	keys := testvec.Read(t, "pir", "A", "evaluation_keys.binpb")
	if code, _, body := e.post("/key", keys, nil); code != http.StatusOK {
		t.Fatalf("/key: %d %s", code, body)
	}
	timestamp := func() uint64 {
		return e.config(&apipb.ConfigRequest{Usecases: []string{testUsecase}}, nil).GetKeyInfo()[0].GetTimestamp()
	}
	if timestamp() == 0 {
		t.Fatal("no timestamp after upload")
	}
	var ek apipb.EvaluationKeys
	if err := proto.Unmarshal(keys, &ek); err != nil {
		t.Fatal(err)
	}
	d := keyDigest("3F2504E0-4F89-11D3-9A0C-0305E82C3301", ek.GetKeys()[0].GetMetadata().GetIdentifier())
	if err := e.s.vault.store.Delete(t.Context(), storeKey('k', d)); err != nil {
		t.Fatal(err)
	}
	code, _, body := e.post("/queries", testvec.Read(t, "pir", "A", "requests.binpb"), nil)
	if code != http.StatusBadRequest {
		t.Fatalf("/queries with a lost key: %d %s", code, body)
	}
	if ts := timestamp(); ts != 0 {
		t.Errorf("/config still reports timestamp %d for a lost key", ts)
	}
	if code, _, body := e.post("/key", keys, nil); code != http.StatusOK {
		t.Fatalf("re-upload: %d %s", code, body)
	}
	if code, _, body := e.post("/queries", testvec.Read(t, "pir", "A", "requests.binpb"), nil); code != http.StatusOK {
		t.Errorf("/queries after re-upload: %d %s", code, body)
	}
}
