package pir

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/blindlist/blindlist/pir/oprf"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

func symmetricKey(t testing.TB) *oprf.PrivateKey {
	t.Helper()
	k, err := oprf.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSymmetricEndToEnd processes a symmetric-PIR database, writes and
// reloads its files, and looks up present and absent keywords through the
// OPRF round, keyword PIR on the oblivious keyword and value decryption.
func TestSymmetricEndToEnd(t *testing.T) {
	ctx := context.Background()
	key := symmetricKey(t)
	rows := testRows(300, func(i int) int { return 1 + i%5 })
	dbs, err := ProcessKeywords(ctx, rows, ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", ShardCount: 2, Symmetric: key})
	if err != nil {
		t.Fatal(err)
	}
	// The stored rows are transformed: plain keywords are absent, oblivious
	// keywords present with encrypted values.
	for _, r := range rows[:20] {
		okw, enc, err := key.ProcessRow(r.Keyword, r.Value)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := dbs[0].Params().Sharding.ShardIndex(okw, len(dbs))
		if v, ok := lookupPlain(t, dbs[s], okw); !ok || !bytes.Equal(v, enc) {
			t.Fatalf("oblivious keyword of %q not stored with its encrypted value", r.Keyword)
		}
		ps, _ := dbs[0].Params().Sharding.ShardIndex(r.Keyword, len(dbs))
		if _, ok := lookupPlain(t, dbs[ps], r.Keyword); ok {
			t.Fatalf("plain keyword %q stored", r.Keyword)
		}
	}
	dir := t.TempDir()
	for i, db := range dbs {
		if err := WriteShard(dir, "url", i, db); err != nil {
			t.Fatal(err)
		}
	}
	_, pf := ShardPaths(dir, "url", 0)
	text, _ := os.ReadFile(pf)
	if !bytes.Contains(text, []byte("symmetric_pir_client_config")) ||
		!bytes.Contains(text, []byte("SYMMETRIC_PIR_CONFIG_TYPE_OPRF_P384_AES_GCM_192_NONCE_96_TAG_128")) {
		t.Fatalf("params file lacks the symmetric config:\n%s", text)
	}
	loaded, err := LoadShards(ctx, dir, "url")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(loaded[1].Params().SymmetricPublicKey, key.PublicKey()) {
		t.Fatal("loaded shard lost the public key")
	}
	s, err := NewServer(loaded, ServerOptions{SymmetricKey: key})
	if err != nil {
		t.Fatal(err)
	}
	sc := s.Config().Proto.GetPirConfig().GetKeywordPirParams().GetSymmetricPirClientConfig()
	if !bytes.Equal(sc.GetServerPublicKey(), key.PublicKey()) || sc.GetConfigType() != 1 {
		t.Fatalf("config's symmetric config %v", sc)
	}
	cc, err := ClientConfigFromResponse(s.Config().ConfigResponse("u"), "u")
	if err != nil {
		t.Fatal(err)
	}
	if cc.Symmetric == nil {
		t.Fatal("client config is not symmetric")
	}
	c, err := NewClient(cc, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	upload, err := c.EvaluationKey(1, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := s.ParseEvaluationKey(upload.GetEvaluationKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Row{rows[0], rows[137], rows[299]} {
		v, ok, err := c.Lookup(ctx, s, ek, r.Keyword, rand.Reader)
		if err != nil || !ok || !bytes.Equal(v, r.Value) {
			t.Fatalf("lookup %q: %x %v %v, want %x", r.Keyword, v, ok, err, r.Value)
		}
	}
	if v, ok, err := c.Lookup(ctx, s, ek, []byte("absent.example"), rand.Reader); err != nil || ok {
		t.Fatalf("absent keyword: %x %v %v", v, ok, err)
	}

	// Without the key the shards load, but OPRF requests fail.
	nokey, err := NewServer(loaded, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oq, oreq, err := c.NewOPRFRequest([]byte("x"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nokey.EvaluateOPRF(oreq); !errors.Is(err, ErrSymmetricNotConfigured) {
		t.Fatalf("no key: got %v", err)
	}
	// Another key: refused at load, and its answers refused by the client.
	other := symmetricKey(t)
	if _, err := NewServer(loaded, ServerOptions{SymmetricKey: other}); err == nil {
		t.Fatal("a key not matching the shards was accepted")
	}
	ev, proof, err := other.Evaluate(oreq.GetQueryElement(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.FinishOPRF(oq, &apipb.OPRFResponse{EvaluatedElement: ev, Proof: proof}); !errors.Is(err, oprf.ErrProof) {
		t.Fatalf("other key's answer: got %v, want ErrProof", err)
	}
	if _, err := s.EvaluateOPRF(&apipb.OPRFRequest{QueryElement: []byte{2, 1}}); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("malformed element: got %v, want ErrBadRequest", err)
	}
	// A key for plain shards is refused.
	plain, err := ProcessKeywords(ctx, rows[:50], ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewServer(plain, ServerOptions{SymmetricKey: key}); err == nil {
		t.Fatal("a symmetric key for plain shards was accepted")
	}
}

func TestSymmetricParamsRefused(t *testing.T) {
	key := symmetricKey(t)
	dbs, err := ProcessKeywords(context.Background(), testRows(40, func(int) int { return 1 }),
		ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", Symmetric: key})
	if err != nil {
		t.Fatal(err)
	}
	good := dbs[0].Params().Proto()
	if _, err := ParamsFromProto(good); err != nil {
		t.Fatalf("good params refused: %v", err)
	}
	for name, edit := range map[string]func(){
		"config type unspecified": func() { good.KeywordPirParams.SymmetricPirClientConfig.ConfigType = 0 },
		"short public key": func() {
			good.KeywordPirParams.SymmetricPirClientConfig.ServerPublicKey = key.PublicKey()[:48]
		},
		"not a point": func() {
			good.KeywordPirParams.SymmetricPirClientConfig.ServerPublicKey = append([]byte{2}, bytes.Repeat([]byte{0xff}, 48)...)
		},
	} {
		good = dbs[0].Params().Proto()
		edit()
		if _, err := ParamsFromProto(good); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Shards with different keys cannot form one config.
	other, err := ProcessKeywords(context.Background(), testRows(40, func(int) int { return 1 }),
		ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", Symmetric: symmetricKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := BuildConfig([]*Params{dbs[0].Params(), other[0].Params()}); err == nil {
		t.Error("shards with different symmetric keys formed one config")
	}
}

// BenchmarkSymmetricRows measures the offline symmetric-PIR transform that
// processing adds before sharding (one VOPRF evaluation and one AES-192-GCM
// seal per row), per 100 000 rows of Apple's sample shape (value "1").
//
//	go test -run XXX -bench SymmetricRows -benchtime 1x ./pir
func BenchmarkSymmetricRows(b *testing.B) {
	key := symmetricKey(b)
	rows := testRows(100_000, func(int) int { return 1 })
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("rows=100k/workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := SymmetricRows(context.Background(), rows, key, workers); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
