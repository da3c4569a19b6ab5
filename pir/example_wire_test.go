package pir_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

// The same round trip step by step, with every message crossing the wire as
// bytes: process and write the shard files, load them as the service does,
// serve /config, upload the device's key, then query, answer and decrypt.
func Example_wire() {
	ctx := context.Background()
	const usecase = "com.example.app.url.filtering"
	rows := []pir.Row{
		{Keyword: []byte("www.example.com"), Value: []byte("1")},
		{Keyword: []byte("ads.example.net/track"), Value: []byte("1")},
	}

	// Offline: process the rows and write url-<N>.bin + url-<N>.params.txtpb.
	dir, err := os.MkdirTemp("", "shards")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	shards, err := pir.ProcessKeywords(ctx, rows, pir.ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5", ShardCount: 2})
	if err != nil {
		log.Fatal(err)
	}
	for i, db := range shards {
		if err := pir.WriteShard(dir, "url", i, db); err != nil {
			log.Fatal(err)
		}
	}

	// Service: load the files and publish the config (GET /config).
	loaded, err := pir.LoadShards(ctx, dir, "url")
	if err != nil {
		log.Fatal(err)
	}
	server, err := pir.NewServer(loaded, pir.ServerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	configBytes, err := pir.MarshalConfigResponse(server.Config().ConfigResponse(usecase))
	if err != nil {
		log.Fatal(err)
	}

	// Device: read the config, make a secret key and upload the evaluation
	// key (POST /key).
	configResp := &apipb.ConfigResponse{}
	if err := proto.Unmarshal(configBytes, configResp); err != nil {
		log.Fatal(err)
	}
	cfg, err := pir.ClientConfigFromResponse(configResp, usecase)
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
	// Service: parse the key once per upload.
	key, err := server.ParseEvaluationKey(upload.GetEvaluationKey())
	if err != nil {
		log.Fatal(err)
	}

	for _, kw := range []string{"ads.example.net/track", "www.example.org"} {
		// Device: one PIRRequest per keyword (POST /queries).
		query, req, err := client.NewQuery([]byte(kw), upload.GetMetadata(), rand.Reader)
		if err != nil {
			log.Fatal(err)
		}
		// Service: answer it. Its work and response size do not depend on
		// the keyword.
		resp, err := server.Answer(ctx, req, key)
		if err != nil {
			log.Fatal(err)
		}
		// Device: decrypt and look the keyword up in its buckets.
		value, found, err := client.Decrypt(query, resp)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: shard %d, found=%v value=%q\n", kw, query.ShardIndex, found, value)
	}
	// Output:
	// ads.example.net/track: shard 1, found=true value="1"
	// www.example.org: shard 0, found=false value=""
}
