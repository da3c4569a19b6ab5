package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/blindlist/blindlist/internal/testvec"
)

// FuzzHandlers pushes arbitrary bodies through every endpoint (tokens off,
// device headers set): no panic, and only the statuses the endpoints
// document.
func FuzzHandlers(f *testing.F) {
	f.Add(uint8(0), testvec.Read(f, "pir", "A", "config_request.binpb"))
	f.Add(uint8(1), []byte{0x0a, 0x02, 0x0a, 0x00})
	f.Add(uint8(2), []byte{0x0a, 0x05, 0x12, 0x03, 0x0a, 0x01, 0x00})
	f.Add(uint8(3), urlFilterReport("example.com"))
	e := newEnv(f, envOptions{noToken: true})
	paths := []string{"/config", "/key", "/queries", "/report"}
	allowed := map[int]bool{200: true, 400: true, 404: true, 410: true, 413: true, 501: true}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := paths[int(which)%len(paths)]
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("User-Agent", testUA)
		req.Header.Set("User-Identifier", "fuzz")
		w := httptest.NewRecorder()
		e.s.Handler().ServeHTTP(w, req)
		if !allowed[w.Code] {
			t.Errorf("%s: status %d: %s", path, w.Code, w.Body.Bytes())
		}
	})
}
