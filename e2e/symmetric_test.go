package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/pir/oprf"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

func symmetricDB(t testing.TB) *Built {
	t.Helper()
	dir := t.TempDir()
	db, err := BuildKeys(context.Background(), []string{"blocked.example", "ads.example/path", "tracker.example"},
		filepath.Join(dir, "db"), BuildOptions{SymmetricKeyFile: filepath.Join(dir, "spir-key.txt")})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestSymmetricThroughRelay looks present and absent URLs up on a
// symmetric-PIR database through the whole loopback stack (relay, OHTTP
// gateway, balancer, service with Privacy Pass): each lookup is an OPRF
// round, keyword PIR on the oblivious keyword, and value decryption.
func TestSymmetricThroughRelay(t *testing.T) {
	db := symmetricDB(t)
	s := startStack(t, StackConfig{DB: db, NewStores: boltStores(t)})
	dev := s.Device(testUserToken)
	dev.Prefilter = nil // every sub-URL goes to PIR, absent ones included
	ctx := context.Background()
	for _, tt := range []struct {
		url     string
		matched []string
	}{
		{"https://blocked.example/", []string{"blocked.example"}},
		{"https://ads.example/path", []string{"ads.example/path"}},
		{"https://www.apple.com/", nil},
	} {
		v, err := dev.Check(ctx, tt.url)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		if strings.Join(v.Matched, ",") != strings.Join(tt.matched, ",") || v.Blocked != (tt.matched != nil) {
			t.Fatalf("%s: matched %q (candidates %q), want %q", tt.url, v.Matched, v.Candidates, tt.matched)
		}
	}
}

// TestSymmetricWrongProofRefused puts a tampering proxy between a device and
// a replica: the device must refuse an OPRF answer whose proof does not
// verify (a flipped proof byte, or a correct-looking answer made with
// another key), and must not report a verdict.
func TestSymmetricWrongProofRefused(t *testing.T) {
	db := symmetricDB(t)
	s := startStack(t, StackConfig{DB: db, NewStores: boltStores(t)})
	other, err := oprf.GenerateKey(strings.NewReader(strings.Repeat("another key ", 8)))
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse("http://" + s.Replicas[0].Addr())
	for _, tc := range []struct {
		name   string
		tamper func(req *apipb.OPRFRequest, resp *apipb.OPRFResponse)
	}{
		{"proof flipped", func(_ *apipb.OPRFRequest, r *apipb.OPRFResponse) { r.Proof[5] ^= 1 }},
		{"other key", func(req *apipb.OPRFRequest, r *apipb.OPRFResponse) {
			ev, proof, err := other.Evaluate(req.GetQueryElement(), bytes.NewReader(bytes.Repeat([]byte{7}, 48)))
			if err != nil {
				panic(err)
			}
			r.EvaluatedElement, r.Proof = ev, proof
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The first OPRF request of the call: "other key" answers it with
			// another key (the other answers then evaluate the wrong element).
			var lastOPRF atomic.Pointer[apipb.OPRFRequest]
			rp := httputil.NewSingleHostReverseProxy(target)
			rp.ModifyResponse = func(resp *http.Response) error {
				if resp.Request.URL.Path != "/queries" || resp.StatusCode != http.StatusOK {
					return nil
				}
				rb, err := io.ReadAll(resp.Body)
				if err != nil {
					return err
				}
				resp.Body.Close()
				var resps apipb.Responses
				if err := proto.Unmarshal(rb, &resps); err != nil {
					return err
				}
				for _, x := range resps.GetResponses() {
					if or := x.GetOprfResponse(); or != nil {
						tc.tamper(lastOPRF.Load(), or)
					}
				}
				if rb, err = proto.Marshal(&resps); err != nil {
					return err
				}
				resp.Body = io.NopCloser(bytes.NewReader(rb))
				resp.ContentLength = int64(len(rb))
				resp.Header.Set("Content-Length", fmt.Sprint(len(rb)))
				return nil
			}
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/queries" {
					body, _ := io.ReadAll(r.Body)
					var reqs apipb.Requests
					if proto.Unmarshal(body, &reqs) == nil && len(reqs.GetRequests()) > 0 {
						if or := reqs.GetRequests()[0].GetOprfRequest(); or != nil {
							lastOPRF.Store(or)
						}
					}
					r.Body = io.NopCloser(bytes.NewReader(body))
				}
				rp.ServeHTTP(w, r)
			}))
			defer proxy.Close()
			dev := &Device{Service: proxy.URL, Usecase: testUsecase, UserToken: testUserToken, Client: proxy.Client()}
			_, err := dev.Check(context.Background(), "https://blocked.example/")
			if !errors.Is(err, oprf.ErrProof) {
				t.Fatalf("got %v, want oprf.ErrProof", err)
			}
		})
	}
}
