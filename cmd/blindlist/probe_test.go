package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			w.WriteHeader(http.StatusOK)
		case "/moved":
			http.Redirect(w, r, "/readyz", http.StatusFound)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	for _, tc := range []struct {
		args    []string
		code    int
		errText string
	}{
		{[]string{srv.URL + "/readyz"}, 0, ""},
		{[]string{"--timeout", "1s", srv.URL + "/readyz"}, 0, ""},
		{[]string{srv.URL + "/draining"}, 1, "503 Service Unavailable"},
		{[]string{srv.URL + "/moved"}, 1, "302 Found"},
		{[]string{closed.URL + "/readyz"}, 1, "connection refused"},
		{[]string{}, 2, "Usage"},
		{[]string{"https://example.net/readyz"}, 2, "Usage"},
		{[]string{srv.URL, srv.URL}, 2, "Usage"},
		{[]string{"--timeout", "0s", srv.URL}, 2, "Usage"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"probe"}, tc.args...), nil, &out, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.errText) {
			t.Errorf("probe %q: exit %d, stderr %q; want %d and %q", tc.args, code, errb.String(), tc.code, tc.errText)
		}
		if code == 1 && (strings.Count(errb.String(), "\n") != 1 || !strings.HasPrefix(errb.String(), "blindlist: error: probe: ")) {
			t.Errorf("probe %q: want one error line, got %q", tc.args, errb.String())
		}
	}
}
