package pir_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"

	"github.com/blindlist/blindlist/pir"
)

// A whole keyword-PIR round trip in process: process rows into a shard,
// serve it, and look keywords up with the Go client.
func Example() {
	ctx := context.Background()
	rows := []pir.Row{
		{Keyword: []byte("www.example.com"), Value: []byte("1")},
		{Keyword: []byte("ads.example.net/track"), Value: []byte("1")},
		{Keyword: []byte("www.apple.com/url-filter-test"), Value: []byte("1")},
	}
	shards, err := pir.ProcessKeywords(ctx, rows, pir.ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err != nil {
		log.Fatal(err)
	}
	server, err := pir.NewServer(shards, pir.ServerOptions{})
	if err != nil {
		log.Fatal(err)
	}

	// The device learns the config from /config, uploads its key to /key.
	cfg, err := pir.ClientConfigFromResponse(server.Config().ConfigResponse("com.example.app.url.filtering"), "com.example.app.url.filtering")
	if err != nil {
		log.Fatal(err)
	}
	client, err := pir.NewClient(cfg, rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	upload, err := client.EvaluationKey(1763856000, rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	key, err := server.ParseEvaluationKey(upload.GetEvaluationKey())
	if err != nil {
		log.Fatal(err)
	}

	for _, kw := range []string{"www.apple.com/url-filter-test", "www.example.org"} {
		value, found, err := client.Lookup(ctx, server, key, []byte(kw), rand.Reader)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: found=%v value=%q\n", kw, found, value)
	}
	// Output:
	// www.apple.com/url-filter-test: found=true value="1"
	// www.example.org: found=false value=""
}

func ExampleHashIndices() {
	// The two cuckoo buckets (one per table) a keyword may live in.
	fmt.Println(pir.HashIndices([]byte("www.apple.com/url-filter-test"), 1000, 2))
	// Output: [71 357]
}

func ExampleShardingFunction_ShardIndex() {
	shard, _ := pir.ShardingFunction{}.ShardIndex([]byte{0, 0, 0, 0}, 41)
	fmt.Println(shard)
	// Output: 2
}
