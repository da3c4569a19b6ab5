package pir_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/blindlist/blindlist/pir"
)

// Updating a written shard with a few added and removed keywords: the new
// files are the previous ones with only the changed plaintexts rewritten,
// and the parameters (so the config_id) stay the same.
func ExampleUpdateShard() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pir-update-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	var rows []pir.Row
	for i := range 1000 {
		rows = append(rows, pir.Row{Keyword: fmt.Appendf(nil, "host%d.example", i), Value: []byte("1")})
	}
	shard, err := pir.ProcessShard(ctx, rows, 0, pir.ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err != nil {
		log.Fatal(err)
	}
	prevBin, params := pir.ShardPaths(dir, "v1", 0)
	if err := pir.WriteServeFile(pir.ServePath(prevBin), shard); err != nil {
		log.Fatal(err)
	}
	if err := pir.WriteShardFiles(prevBin, params, shard); err != nil {
		log.Fatal(err)
	}

	// Next generation: one keyword added, one removed.
	prev, err := pir.OpenDatabase(prevBin, params)
	if err != nil {
		log.Fatal(err)
	}
	change := pir.ShardChange{
		Add:    []pir.Row{{Keyword: []byte("new.example"), Value: []byte("1")}},
		Remove: [][]byte{[]byte("host7.example")},
	}
	u, err := pir.UpdateShard(ctx, prev, change, pir.UpdateOptions{})
	if err != nil {
		log.Fatal(err) // errors.Is(err, pir.ErrUpdateFull): reprocess the shard instead
	}
	bin := filepath.Join(dir, "v2-0.bin")
	if err := u.WriteServe(pir.ServePath(bin), pir.ServePath(prevBin)); err != nil {
		log.Fatal(err)
	}
	if err := u.WriteBin(bin, prevBin); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("plaintexts rewritten: %d of %d\n", u.ChangedPlaintexts, 2*u.Params().Dimensions[0]*u.Params().Dimensions[1])

	// Serve the new files (same params file) and look keywords up.
	next, err := pir.OpenDatabase(bin, params)
	if err != nil {
		log.Fatal(err)
	}
	server, err := pir.NewServer([]*pir.Database{next}, pir.ServerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := pir.ClientConfigFromResponse(server.Config().ConfigResponse("com.example.filter"), "com.example.filter")
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
	for _, kw := range []string{"new.example", "host7.example", "host8.example"} {
		_, found, err := client.Lookup(ctx, server, key, []byte(kw), rand.Reader)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: found=%v\n", kw, found)
	}
	// Output:
	// plaintexts rewritten: 2 of 8
	// new.example: found=true
	// host7.example: found=false
	// host8.example: found=true
}

// Writing an update in patch form: only the changed plaintexts go to the
// new serve-ready file, over a hard link to the previous whole file (its
// base), as `blindlist build` does for each shard a small change touches.
func ExampleShardUpdate_WriteServeUpdate() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pir-patch-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	var rows []pir.Row
	for i := range 20000 {
		rows = append(rows, pir.Row{Keyword: fmt.Appendf(nil, "host%d.example", i), Value: []byte("1")})
	}
	shard, err := pir.ProcessShard(ctx, rows, 0, pir.ProcessConfig{Preset: "n_4096_logq_27_28_28_logt_5"})
	if err != nil {
		log.Fatal(err)
	}
	prevBin, params := pir.ShardPaths(dir, "v1", 0)
	prevServe := pir.ServePath(prevBin)
	if err := pir.WriteServeFile(prevServe, shard); err != nil {
		log.Fatal(err)
	}
	if err := pir.WriteShardFiles(prevBin, params, shard); err != nil {
		log.Fatal(err)
	}
	raw, err := os.ReadFile(prevServe)
	if err != nil {
		log.Fatal(err)
	}
	sum := sha256.Sum256(raw) // a build takes it from its manifest

	prev, err := pir.OpenDatabase(prevBin, params)
	if err != nil {
		log.Fatal(err)
	}
	u, err := pir.UpdateShard(ctx, prev, pir.ShardChange{Add: []pir.Row{{Keyword: []byte("new.example"), Value: []byte("1")}}}, pir.UpdateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	bin := filepath.Join(dir, "v2-0.bin") // only its .serve (and the base) are written
	base, err := u.WriteServeUpdate(pir.ServePath(bin), prevServe, hex.EncodeToString(sum[:]))
	if err != nil {
		log.Fatal(err)
	}
	if base != "" { // "" : written whole, no base needed
		if err := os.Link(base, pir.ServeBasePath(pir.ServePath(bin))); err != nil {
			log.Fatal(err)
		}
	}
	patch, err := os.Stat(pir.ServePath(bin))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("patch over the previous file: %v, %d plaintext(s), %.0f%% of its size\n",
		base == prevServe, u.ChangedPlaintexts, 100*float64(patch.Size())/float64(len(raw)))

	next, err := pir.OpenDatabase(bin, params) // maps the patch and its base
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("served from mapped files:", next.Mapped())
	// Output:
	// patch over the previous file: true, 1 plaintext(s), 1% of its size
	// served from mapped files: true
}
