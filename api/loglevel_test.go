package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// lockedBuffer is a bytes.Buffer for concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestClientCausedErrorsStayAtInfo sends requests any client can send at
// will (shard_id, which we do not implement, and a malformed body) many
// times and checks that each gives one INFO line and none an ERROR line,
// so a client cannot fill the error log.
func TestClientCausedErrorsStayAtInfo(t *testing.T) {
	logs := new(lockedBuffer)
	e := newEnv(t, envOptions{logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if code, _, body := e.post("/key", testvec.Read(t, "pir", "A", "evaluation_keys.binpb"), nil); code != http.StatusOK {
		t.Fatalf("/key: %d %s", code, body)
	}
	var reqs apipb.Requests
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "requests.binpb"), &reqs); err != nil {
		t.Fatal(err)
	}
	reqs.GetRequests()[0].GetPirRequest().ShardId = proto.String("x")
	shardID, err := proto.Marshal(&reqs)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for range n {
		if code, _, _ := e.post("/queries", shardID, nil); code != http.StatusNotImplemented {
			t.Fatalf("shard_id: status %d, want 501", code)
		}
		if code, _, _ := e.post("/queries", []byte{0x0a, 0xff}, nil); code != http.StatusBadRequest {
			t.Fatalf("malformed: status %d, want 400", code)
		}
	}
	counts := map[string]int{}
	for line := range strings.Lines(logs.String()) {
		var rec struct {
			Level    string `json:"level"`
			Status   int    `json:"status"`
			Category string `json:"category"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec.Level == "ERROR" {
			t.Errorf("client-caused call logged at ERROR: %s", line)
		}
		counts[rec.Level+" "+rec.Category]++
	}
	if counts["INFO not_implemented"] != n || counts["INFO body"] != n {
		t.Errorf("log lines by level and category: %v; want %d INFO not_implemented and %d INFO body", counts, n, n)
	}
}

func TestServerFault(t *testing.T) {
	for _, tc := range []struct {
		status   int
		category string
		want     bool
	}{
		{500, catNone, true},
		{504, catTimeout, true},
		{501, catNotImpl, false},
		{503, catOverloaded, false},
		{500, catKeyMismatch, false},
		{400, catBadQuery, false},
	} {
		if got := serverFault(tc.status, tc.category); got != tc.want {
			t.Errorf("serverFault(%d, %s) = %v, want %v", tc.status, tc.category, got, tc.want)
		}
	}
}
