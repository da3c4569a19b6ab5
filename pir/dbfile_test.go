package pir

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/blindlist/blindlist/internal/testvec"
)

var vectorSets = []string{"A", "B", "D", "E", "F", "bench100k"}

// TestLoadAppleShards loads every shard Apple's PIRProcessDatabase wrote and
// writes it back byte for byte.
func TestLoadAppleShards(t *testing.T) {
	for _, set := range vectorSets {
		t.Run(set, func(t *testing.T) {
			if testing.Short() && set == "bench100k" {
				t.Skip("bench100k round trip in -short")
			}
			dir := testvec.Path(t, "pir", set)
			dbs, err := LoadShards(context.Background(), dir, "url")
			if err != nil {
				t.Fatal(err)
			}
			for i, db := range dbs {
				bin, _ := ShardPaths(dir, "url", i)
				want, err := os.ReadFile(bin)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if _, err := db.WriteTo(&buf); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("shard %d: rewritten .bin differs from Apple's", i)
				}
			}
		})
	}
}

func TestReadDatabaseBadInput(t *testing.T) {
	dir := testvec.Path(t, "pir", "A")
	bin, params := ShardPaths(dir, "url", 0)
	p, err := ReadParamsFile(params)
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte(nil), good...), 0),
		"version":   append([]byte{2}, good[1:]...),
		"count":     append([]byte{1, 9, 0, 0, 0}, good[5:]...),
		"tag":       append(append([]byte(nil), good[:5]...), append([]byte{7}, good[6:]...)...),
	}
	// a residue equal to its modulus: first 27 bits all ones ≥ q0.
	over := append([]byte(nil), good...)
	first := 5
	for first < len(over) && over[first] == 0 {
		first++
	}
	copy(over[first+1:], []byte{0xff, 0xff, 0xff, 0xff})
	bad["residue"] = over
	for name, b := range bad {
		if _, err := ReadDatabase(bytes.NewReader(b), p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzReadDatabase(f *testing.F) {
	dir := testvec.Path(f, "pir", "D")
	bin, params := ShardPaths(dir, "url", 0)
	p, err := ReadParamsFile(params)
	if err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(bin)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[:100])
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		db, err := ReadDatabase(bytes.NewReader(b), p)
		if err != nil {
			return
		}
		var out bytes.Buffer
		db.WriteTo(&out)
		if !bytes.Equal(out.Bytes(), b) {
			t.Fatal("decode then encode changed the bytes")
		}
	})
}
