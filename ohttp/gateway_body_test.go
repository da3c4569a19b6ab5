package ohttp

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

// TestReadBodyDeclaredLength checks that a declared Content-Length does not
// allocate the declared size up front: a client declaring 15 MiB and
// sending 10 bytes used to cost 15 MiB per request before the first byte.
// Bodies of the declared length, small or large, still read whole.
func TestReadBodyDeclaredLength(t *testing.T) {
	const limit = 16 << 20
	for _, c := range []struct {
		name     string
		declared int64
		body     []byte
		ok       bool
	}{
		{"small exact", 100, bytes.Repeat([]byte{1}, 100), true},
		{"large exact", 3 << 20, bytes.Repeat([]byte{2}, 3<<20), true},
		{"small short", 100, []byte("0123456789"), false},
		{"large short", 15 << 20, []byte("0123456789"), false},
		{"unknown length", -1, bytes.Repeat([]byte{3}, 5000), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, GatewayPath, bytes.NewReader(c.body))
			r.ContentLength = c.declared
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got, err := readBody(httptest.NewRecorder(), r, limit, nil)
			runtime.ReadMemStats(&after)
			if c.ok {
				if err != nil || !bytes.Equal(got, c.body) {
					t.Fatalf("read %d bytes, %v", len(got), err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("short body: %v, want ErrMalformed", err)
			}
			if grown := after.TotalAlloc - before.TotalAlloc; grown > maxBodyPrealloc+64<<10 {
				t.Errorf("%d bytes allocated for a %d-byte body declared as %d", grown, len(c.body), c.declared)
			}
		})
	}
	r := httptest.NewRequest(http.MethodPost, GatewayPath, bytes.NewReader(nil))
	r.ContentLength = limit + 1
	var mbe *http.MaxBytesError
	if _, err := readBody(httptest.NewRecorder(), r, limit, nil); !errors.As(err, &mbe) {
		t.Errorf("declared length over the cap: %v", err)
	}
}
