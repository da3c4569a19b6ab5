package api

import (
	"bytes"
	"net/http"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/internal/testvec"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// TestDatabaseSwap publishes three databases in turn under one usecase name
// with versionCount 2: /config serves the newest, /queries for the previous
// configuration keeps being routed, and the evicted one answers 410.
func TestDatabaseSwap(t *testing.T) {
	a, d, ee := openSet(t, "A", 1), openSet(t, "D", 1), openSet(t, "E", 1)
	reg := &Registry{}
	entry := func(u Usecase) []Entry {
		return []Entry{{Name: testUsecase, Vendor: "example", VersionCount: 2, Usecase: u}}
	}
	if err := reg.Replace(entry(a)); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{reg: reg})
	if code, _, body := e.post("/key", testvec.Read(t, "pir", "A", "evaluation_keys.binpb"), nil); code != http.StatusOK {
		t.Fatalf("/key: %d %s", code, body)
	}
	requests := testvec.Read(t, "pir", "A", "requests.binpb")
	var one apipb.Requests
	if err := proto.Unmarshal(requests, &one); err != nil {
		t.Fatal(err)
	}
	one.Requests = one.Requests[:1]
	oneBody, err := proto.Marshal(&one)
	if err != nil {
		t.Fatal(err)
	}
	// routed reports whether a set-A query reaches a database (any status
	// other than the lookup failures 400 unknown usecase / 410 gone).
	status := func() int {
		code, _, _ := e.post("/queries", oneBody, nil)
		return code
	}
	before := status()
	if before == http.StatusGone {
		t.Fatalf("set A query before any swap: 410")
	}

	for i, next := range []Usecase{d, ee} {
		if err := e.s.Replace(entry(next)); err != nil {
			t.Fatal(err)
		}
		got := e.config(&apipb.ConfigRequest{Usecases: []string{testUsecase}}, nil).GetConfigs()[testUsecase]
		if !bytes.Equal(got.GetConfigId(), next.Config().GetConfigId()) {
			t.Errorf("swap %d: /config serves %x, want the newest %x", i, got.GetConfigId(), next.Config().GetConfigId())
		}
		code := status()
		switch {
		case i == 0 && code != before:
			t.Errorf("after one swap, a set-A query got %d, want %d as before (version kept)", code, before)
		case i == 1 && code != http.StatusGone:
			t.Errorf("after two swaps, a set-A query got %d, want 410", code)
		}
	}
	ids := reg.Versions()[testUsecase]
	if len(ids) != 2 || !bytes.Equal(ids[0], d.Config().GetConfigId()) || !bytes.Equal(ids[1], ee.Config().GetConfigId()) {
		t.Errorf("kept versions %x, want [D E]", ids)
	}
}

func TestRegistryReplace(t *testing.T) {
	a, d := openSet(t, "A", 1), openSet(t, "D", 1)
	reg := &Registry{}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(reg.Replace([]Entry{{Name: testUsecase, VersionCount: 3, Usecase: a}}))
	must(reg.Replace([]Entry{{Name: testUsecase, VersionCount: 3, Usecase: d}}))
	// Republishing A makes it the newest again, without a duplicate.
	must(reg.Replace([]Entry{{Name: testUsecase, VersionCount: 3, Usecase: a}}))
	ids := reg.Versions()[testUsecase]
	if len(ids) != 2 || !bytes.Equal(ids[1], a.Config().GetConfigId()) {
		t.Errorf("versions %x, want [D A]", ids)
	}
	// A failing set changes nothing.
	if err := reg.Replace([]Entry{{Name: "x.y.url.filtering", VersionCount: 1, Usecase: d}, {Name: testUsecase, VersionCount: 0, Usecase: d}}); err == nil {
		t.Error("version count 0 accepted")
	}
	if err := reg.Replace([]Entry{{Name: testUsecase, VersionCount: 1, Usecase: d}, {Name: testUsecase, VersionCount: 1, Usecase: a}}); err == nil {
		t.Error("duplicate name accepted")
	}
	if got := reg.Versions(); len(got) != 1 || len(got[testUsecase]) != 2 {
		t.Errorf("failed replace changed the registry: %x", got)
	}
	// A name left out is removed.
	must(reg.Replace([]Entry{{Name: "other.app.url.filtering", VersionCount: 1, Usecase: d}}))
	if _, ok := reg.load().latest(testUsecase); ok || reg.Len() != 1 {
		t.Error("usecase left out of the set is still served")
	}
}

// TestRegistryConcurrentReplace: readers never see a torn state while a
// writer swaps databases (run with -race).
func TestRegistryConcurrentReplace(t *testing.T) {
	a, d := openSet(t, "A", 1), openSet(t, "D", 1)
	reg := &Registry{}
	if err := reg.Replace([]Entry{{Name: testUsecase, VersionCount: 2, Usecase: a}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := reg.load()
				u, ok := s.latest(testUsecase)
				if !ok {
					t.Error("usecase missing during swap")
					return
				}
				if _, err := s.version(testUsecase, u.Config().GetConfigId()); err != nil {
					t.Errorf("latest version not found by id: %v", err)
					return
				}
			}
		})
	}
	for i := range 200 {
		u := a
		if i%2 == 0 {
			u = d
		}
		if err := reg.Replace([]Entry{{Name: testUsecase, VersionCount: 2, Usecase: u}}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestConfigHosts(t *testing.T) {
	a, d := openSet(t, "A", 1), openSet(t, "D", 1)
	reg := &Registry{}
	if err := reg.Replace([]Entry{
		{Name: "com.team-a.app.url.filtering", Vendor: "a", Hosts: []string{"team-a.example"}, VersionCount: 1, Usecase: a},
		{Name: "com.team-b.app.url.filtering", Vendor: "b", Hosts: []string{"team-b.example"}, VersionCount: 1, Usecase: d},
	}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{reg: reg})
	for host, want := range map[string]string{"team-a.example": "com.team-a.app.url.filtering", "TEAM-B.example:443": "com.team-b.app.url.filtering"} {
		b, _ := proto.Marshal(&apipb.ConfigRequest{})
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/config", bytes.NewReader(b))
		req.Host = host
		req.Header.Set("User-Agent", testUA)
		req.Header.Set("User-Identifier", "u")
		req.Header.Set("Authorization", "PrivateToken token="+b64(e.tokens.mint()))
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var cr apipb.ConfigResponse
		body := readAll(t, resp)
		if err := proto.Unmarshal(body, &cr); err != nil {
			t.Fatal(err)
		}
		if len(cr.GetConfigs()) != 1 || cr.GetConfigs()[want] == nil {
			t.Errorf("host %s: configs for %v, want only %s", host, keysOf(cr.GetConfigs()), want)
		}
	}
}

// TestReloadInFlight swaps databases while /queries calls are running: every
// call completes with 200 (the versions it uses stay answerable).
func TestReloadInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("computes several PIR answers")
	}
	a, d := openSet(t, "A", 1), openSet(t, "D", 1)
	e := newEnv(t, envOptions{noToken: true})
	if code, _, body := e.post("/key", testvec.Read(t, "pir", "A", "evaluation_keys.binpb"), nil); code != http.StatusOK {
		t.Fatalf("/key: %d %s", code, body)
	}
	var reqs apipb.Requests
	if err := proto.Unmarshal(testvec.Read(t, "pir", "A", "requests.binpb"), &reqs); err != nil {
		t.Fatal(err)
	}
	reqs.Requests = reqs.Requests[:1]
	body, _ := proto.Marshal(&reqs)
	var wg sync.WaitGroup
	codes := make(chan int, 8)
	for range 8 {
		wg.Go(func() {
			code, _, _ := e.post("/queries", body, nil)
			codes <- code
		})
	}
	for i := range 20 {
		u := d
		if i%2 == 1 {
			u = a
		}
		if err := e.s.Replace([]Entry{{Name: testUsecase, VersionCount: 2, Usecase: u}}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("call during reloads: %d", c)
		}
	}
}
