package pir

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"
)

// TestAnswerRequiresShardGaloisKeys checks that the server expands queries
// only with the Galois elements of the shard's key config, and refuses a key
// that lacks one of them. A key holding only small elements (here the
// max-compression ones) could otherwise make each split repeat its
// automorphism many times: more work per query than the config allows.
func TestAnswerRequiresShardGaloisKeys(t *testing.T) {
	ctx := context.Background()
	dbs, err := ProcessKeywords(ctx, testRows(3000, func(int) int { return 1 }), ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(dbs, ServerOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := ClientConfigFromResponse(s.Config().ConfigResponse("u"), "u")
	if err != nil {
		t.Fatal(err)
	}
	p := cc.Shards[0]
	small := mulPirKeyConfig(p.expandedCount(), p.he.n, MaxCompression)
	if cc.KeyConfig.contains(small) && small.contains(cc.KeyConfig) {
		t.Fatalf("test needs a shard whose key config differs from max compression, got %v", small)
	}
	hostile := *cc
	hostile.KeyConfig = small
	c, err := NewClient(&hostile, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.EvaluationKey(0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.ParseEvaluationKey(up.GetEvaluationKey())
	if err != nil {
		t.Fatal(err)
	}
	_, req, err := c.NewQuery([]byte("host1.example/path7"), nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.Answer(ctx, req, key)
	if !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("key with elements %v for a shard needing %v: err %v after %v, want ErrKeyMismatch",
			small.GaloisElements, p.KeyConfig.GaloisElements, err, time.Since(start))
	}
}

// TestAnswerRefusesKeyOfOtherParameters uses a key parsed by a server of
// set B (moduli 40961, 2^33) with set A's server (27/28-bit moduli), as a key
// cache kept across a reload to another preset would: the Galois elements
// fit, but the residues belong to other moduli.
func TestAnswerRefusesKeyOfOtherParameters(t *testing.T) {
	a, b := loadVectorSet(t, "A"), loadVectorSet(t, "B")
	key, err := b.server.ParseEvaluationKey(b.keys.GetKeys()[0].GetEvaluationKey())
	if err != nil {
		t.Fatal(err)
	}
	if !key.KeyConfig().contains(a.server.shards[0].params.KeyConfig) {
		t.Fatalf("test needs B's key elements %v to cover A's config %v", key.elements, a.server.shards[0].params.KeyConfig)
	}
	if _, err := a.server.Answer(context.Background(), a.requests.GetRequests()[0].GetPirRequest(), key); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("err %v, want ErrKeyMismatch", err)
	}
}
