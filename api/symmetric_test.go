package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/oprf"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// symmetricDB writes a small symmetric-PIR database and its key file into a
// fresh directory and returns the usecase config for it.
func symmetricDB(t testing.TB, rows int) (UsecaseConfig, *oprf.PrivateKey) {
	t.Helper()
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "spir-key.txt")
	key, _, err := oprf.CreateKeyFile(keyPath, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var rs []pir.Row
	for i := range rows {
		rs = append(rs, pir.Row{Keyword: fmt.Appendf(nil, "host%d.example", i), Value: []byte{byte(i), 1}})
	}
	dbs, err := pir.ProcessKeywords(context.Background(), rs, pir.ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", Symmetric: key})
	if err != nil {
		t.Fatal(err)
	}
	if err := pir.WriteShard(dir, "url", 0, dbs[0]); err != nil {
		t.Fatal(err)
	}
	return UsecaseConfig{Name: testUsecase, Directory: dir, FileStem: "url", ShardCount: 1,
		SymmetricPirArguments: &SymmetricPirArguments{DatabaseEncryptionKeyFilePath: keyPath}}, key
}

// TestQueriesOPRF answers OPRF requests over a loopback server with Privacy
// Pass on: the client verifies every proof and finds present keywords, and
// the errors are Apple's.
func TestQueriesOPRF(t *testing.T) {
	uc, key := symmetricDB(t, 40)
	u, err := OpenUsecase(context.Background(), uc)
	if err != nil {
		t.Fatal(err)
	}
	reg := &Registry{}
	if err := reg.Replace([]Entry{{Name: testUsecase, Vendor: "example", VersionCount: 2, Usecase: u}}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{reg: reg})
	cfgResp := e.config(&apipb.ConfigRequest{Usecases: []string{testUsecase}}, nil)
	sc := cfgResp.GetConfigs()[testUsecase].GetPirConfig().GetKeywordPirParams().GetSymmetricPirClientConfig()
	if !bytes.Equal(sc.GetServerPublicKey(), key.PublicKey()) || sc.GetConfigType() != 1 {
		t.Fatalf("/config symmetric config %v", sc)
	}
	cc, err := pir.ClientConfigFromResponse(cfgResp, testUsecase)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pir.NewClient(cc, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Two OPRF requests in one call, no evaluation key uploaded: Apple's
	// service needs none for OPRF.
	var qs []*pir.OPRFQuery
	reqs := &apipb.Requests{}
	for _, kw := range []string{"host3.example", "absent.example"} {
		q, r, err := c.NewOPRFRequest([]byte(kw), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
		reqs.Requests = append(reqs.Requests, &apipb.Request{Usecase: testUsecase, Request: &apipb.Request_OprfRequest{OprfRequest: r}})
	}
	code, _, body := e.post("/queries", mustMarshalT(t, reqs), nil)
	if code != http.StatusOK {
		t.Fatalf("/queries: %d %s", code, body)
	}
	var resps apipb.Responses
	if err := proto.Unmarshal(body, &resps); err != nil {
		t.Fatal(err)
	}
	if len(resps.GetResponses()) != 2 {
		t.Fatalf("%d responses", len(resps.GetResponses()))
	}
	for i, r := range resps.GetResponses() {
		or := r.GetOprfResponse()
		if len(or.GetEvaluatedElement()) != oprf.ElementSize || len(or.GetProof()) != oprf.ProofSize {
			t.Fatalf("response %d sizes %d, %d", i, len(or.GetEvaluatedElement()), len(or.GetProof()))
		}
		out, err := c.FinishOPRF(qs[i], or)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		want, _ := key.Output([]byte([]string{"host3.example", "absent.example"}[i]))
		if !bytes.Equal(out.ObliviousKeyword(), want.ObliviousKeyword()) {
			t.Fatalf("response %d: wrong output", i)
		}
	}

	for _, tc := range []struct {
		name    string
		req     *apipb.Request
		hdr     map[string]string
		status  int
		message string
	}{
		{"malformed element", &apipb.Request{Usecase: testUsecase, Request: &apipb.Request_OprfRequest{OprfRequest: &apipb.OPRFRequest{QueryElement: []byte{2, 3}}}}, nil, 400, ""},
		{"identity element", &apipb.Request{Usecase: testUsecase, Request: &apipb.Request_OprfRequest{OprfRequest: &apipb.OPRFRequest{QueryElement: []byte{0}}}}, nil, 400, ""},
		{"unknown usecase", &apipb.Request{Usecase: "com.other.url.filtering", Request: &apipb.Request_OprfRequest{OprfRequest: &apipb.OPRFRequest{}}}, nil, 400, "Unknown usecase: com.other.url.filtering"},
		{"no token", reqs.GetRequests()[0], map[string]string{"Authorization": ""}, 401, "No private token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := e.post("/queries", mustMarshalT(t, &apipb.Requests{Requests: []*apipb.Request{tc.req}}), tc.hdr)
			if code != tc.status {
				t.Fatalf("status %d, want %d: %s", code, tc.status, body)
			}
			if tc.message != "" {
				if got := errorMessage(t, body); got != tc.message {
					t.Fatalf("message %q, want %q", got, tc.message)
				}
			}
		})
	}
}

// TestOpenUsecaseSymmetric checks the loading rules: symmetric shards need
// their key, the key must be theirs, and plain shards take none. Reopening
// (a restart or reload) serves the same config.
func TestOpenUsecaseSymmetric(t *testing.T) {
	ctx := context.Background()
	uc, _ := symmetricDB(t, 20)
	u1, err := OpenUsecase(ctx, uc)
	if err != nil {
		t.Fatal(err)
	}
	u2, err := OpenUsecase(ctx, uc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(u1.Config().GetConfigId(), u2.Config().GetConfigId()) || !u2.Symmetric() {
		t.Fatal("reopened symmetric usecase differs")
	}

	noKey := uc
	noKey.SymmetricPirArguments = nil
	if _, err := OpenUsecase(ctx, noKey); err == nil || !strings.Contains(err.Error(), "symmetricPirArguments") {
		t.Fatalf("symmetric shards without key: %v", err)
	}
	other, _ := symmetricDB(t, 5) // another key
	wrongKey := uc
	wrongKey.SymmetricPirArguments = other.SymmetricPirArguments
	if _, err := OpenUsecase(ctx, wrongKey); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("symmetric shards with another key: %v", err)
	}
	missing := uc
	missing.SymmetricPirArguments = &SymmetricPirArguments{DatabaseEncryptionKeyFilePath: filepath.Join(t.TempDir(), "none")}
	if _, err := OpenUsecase(ctx, missing); err == nil {
		t.Fatal("missing key file accepted")
	}
	plain := openSet(t, "A", 1)
	if plain.Symmetric() {
		t.Fatal("plain usecase reports symmetric")
	}
	if _, err := plain.EvaluateOPRF(&apipb.OPRFRequest{}); !errors.Is(err, pir.ErrSymmetricNotConfigured) {
		t.Fatalf("plain usecase OPRF: %v", err)
	}
}

func mustMarshalT(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestZeroConfigSymmetric serves keys.txt as symmetric PIR in zero-config
// mode: the shards are processed with the key (into a directory named by
// the keys and the public key), and the usecase answers OPRF requests.
func TestZeroConfigSymmetric(t *testing.T) {
	db, state := t.TempDir(), filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(filepath.Join(db, "keys.txt"), []byte("example.com\nwww.example.org/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(t.TempDir(), "spir.txt")
	if _, _, err := oprf.CreateKeyFile(keyPath, rand.Reader); err != nil {
		t.Fatal(err)
	}
	opts := ZeroConfigOptions{DB: db, Usecase: testUsecase, Listen: "127.0.0.1:0", State: state}
	plain, err := ZeroConfig(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.SymmetricKeyFile = keyPath
	fc, err := ZeroConfig(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if fc.Vendors[0].Usecases[0].Directory == plain.Vendors[0].Usecases[0].Directory {
		t.Fatal("symmetric shards share the plain shards' directory")
	}
	entries, err := LoadEntries(t.Context(), fc)
	if err != nil {
		t.Fatal(err)
	}
	if !entries[0].Usecase.Symmetric() {
		t.Fatal("zero-config usecase is not symmetric")
	}
}
