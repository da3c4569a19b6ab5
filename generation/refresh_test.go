package generation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/blindlist/blindlist/blocklist"
)

// origin is a list server with an ETag or a Last-Modified validator.
type origin struct {
	mu           sync.Mutex
	body         string
	etag         string // "" serves Last-Modified instead
	lastModified string
	status       int // 0: 200
	conditional  int // requests that carried a validator
	notModified  int
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.status != 0 {
		w.WriteHeader(o.status)
		return
	}
	inm, ims := r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
	if inm != "" || ims != "" {
		o.conditional++
	}
	if (o.etag != "" && inm == o.etag) || (o.etag == "" && ims != "" && ims == o.lastModified) {
		o.notModified++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if o.etag != "" {
		w.Header().Set("ETag", o.etag)
	} else {
		w.Header().Set("Last-Modified", o.lastModified)
	}
	fmt.Fprint(w, o.body)
}

func (o *origin) set(f func(o *origin)) { o.mu.Lock(); f(o); o.mu.Unlock() }

func domains(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s%03d.example.com\n", prefix, i)
	}
	return b.String()
}

// TestRefresh runs refreshes against a real local HTTP origin: the first
// builds, an unchanged list costs one conditional request and no build, a
// change builds incrementally, and failed, empty or shrunk fetches keep
// the current generation unless forced.
func TestRefresh(t *testing.T) {
	for _, validator := range []string{"etag", "last-modified"} {
		t.Run(validator, func(t *testing.T) {
			o := &origin{body: domains("a", 40)}
			if validator == "etag" {
				o.etag = `"v1"`
			} else {
				o.lastModified = "Mon, 07 Dec 2026 01:00:00 GMT"
			}
			srv := httptest.NewServer(o)
			defer srv.Close()
			src, err := blocklist.ParseSource("domains:" + srv.URL + "/lists/blocklist.txt")
			if err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()
			ctx := context.Background()
			rc := RefreshConfig{Build: Config{Block: []blocklist.Source{src}, Workers: 1, PIR: PIRConfig{Shards: 2}}}
			refresh := func() (*RefreshResult, error) {
				t.Helper()
				return Refresh(ctx, root, rc)
			}
			current := func() string {
				t.Helper()
				id, err := CurrentID(root)
				if err != nil {
					t.Fatal(err)
				}
				return id
			}
			res, err := refresh()
			if err != nil || res.Published == nil || res.Fetched != 1 {
				t.Fatalf("first refresh: %+v, %v", res, err)
			}
			rc.Build.PIR = PIRConfig{} // later refreshes inherit the layout
			res, err = refresh()
			if err != nil || res.Published != nil || res.NotModified != 1 || o.notModified != 1 {
				t.Fatalf("unchanged list: %+v, %v, origin saw %d conditional, %d not modified", res, err, o.conditional, o.notModified)
			}
			o.set(func(o *origin) {
				o.body = domains("a", 40) + "new.example.org\n"
				o.etag, o.lastModified = strings.ReplaceAll(o.etag, "v1", "v2"), strings.ReplaceAll(o.lastModified, "01:00", "02:00")
			})
			res, err = refresh()
			if err != nil || res.Published == nil {
				t.Fatalf("changed list: %+v, %v", res, err)
			}
			if m := res.Published.Manifest; m.Added != 1 || m.Removed != 0 || m.ShardCount != 2 {
				t.Errorf("changed list: +%d -%d, %d shards", m.Added, m.Removed, m.ShardCount)
			}
			good := current()

			refused := []struct {
				name string
				set  func(o *origin)
				want error
				text string
			}{
				{"server error", func(o *origin) { o.status = 503 }, nil, "503"},
				{"empty", func(o *origin) { o.status, o.body, o.etag, o.lastModified = 0, "", o.etag+"e", o.lastModified+"e" }, ErrRefused, "came back empty"},
				{"truncated", func(o *origin) { o.body, o.etag, o.lastModified = domains("a", 10), o.etag+"t", o.lastModified+"t" }, ErrRefused, "more than 50%"},
			}
			for _, r := range refused {
				o.set(r.set)
				res, err := refresh()
				if err == nil || (r.want != nil && !errors.Is(err, r.want)) || !strings.Contains(err.Error(), r.text) {
					t.Errorf("%s: %+v, %v; want %q", r.name, res, err, r.text)
				}
				if id := current(); id != good {
					t.Errorf("%s: current %s, want %s kept", r.name, id, good)
				}
				if _, err := Open(root); err != nil {
					t.Errorf("%s: current generation no longer verifies: %v", r.name, err)
				}
			}
			rc.Force = true
			res, err = refresh()
			if err != nil || res.Published == nil || res.Published.Manifest.Keys != 10 {
				t.Fatalf("forced truncated list: %+v, %v", res, err)
			}
		})
	}
}
