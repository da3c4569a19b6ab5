package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// TestErrorEchoBounded sends huge usecase names and configuration ids: the
// error messages still quote them as Apple's do, but bounded, so the error
// body stays small (it was 4 bytes of message per byte of configuration id).
func TestErrorEchoBounded(t *testing.T) {
	e := newEnv(t, envOptions{})
	if code, _, body := e.post("/key", testvec.Read(t, "pir", "A", "evaluation_keys.binpb"), nil); code != http.StatusOK {
		t.Fatalf("/key: %d %s", code, body)
	}
	long := "com.example." + strings.Repeat("x", 1<<20) + ".url.filtering"
	edit := func(f func(*apipb.Request)) []byte {
		var reqs apipb.Requests
		if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "requests.binpb"), &reqs); err != nil {
			t.Fatal(err)
		}
		reqs.Requests = reqs.Requests[:1]
		f(reqs.Requests[0])
		b, err := proto.Marshal(&reqs)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	configReq, err := proto.Marshal(&apipb.ConfigRequest{Usecases: []string{strings.Repeat("y", 60<<10)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path string
		body       []byte
		status     int
		prefix     string
	}{
		{"usecase", "/queries", edit(func(r *apipb.Request) { r.Usecase = long }), 400, "Unknown usecase: com.example.xxx"},
		{"config id", "/queries", edit(func(r *apipb.Request) { r.GetPirRequest().ConfigurationHash = make([]byte, 1<<20) }), 410,
			"Configuration id: [0, 0, 0"},
		{"config usecase", "/config", configReq, 404, "One or more usecases not found. Requested usecases: yyy"},
	} {
		code, _, body := e.post(c.path, c.body, nil)
		var eb errorBody
		if err := json.Unmarshal(body, &eb); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if code != c.status || !strings.HasPrefix(eb.Error.Message, c.prefix) {
			t.Errorf("%s: %d %.80q", c.name, code, eb.Error.Message)
		}
		if len(body) > 2<<10 {
			t.Errorf("%s: error body of %d bytes", c.name, len(body))
		}
	}
}
