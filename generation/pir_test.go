package generation

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readPIRManifestFrom(t *testing.T, files map[string]string) *PIRManifest {
	t.Helper()
	var m PIRManifest
	if err := json.Unmarshal([]byte(files[PIRManifestFile]), &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// FuzzPIRManifest feeds arbitrary bytes as a previous pir-manifest.json:
// the builder must either reuse it or fall back to a full rebuild, never
// panic.
func FuzzPIRManifest(f *testing.F) {
	seed := &PIRManifest{Format: PIRManifestFormat, ShardCount: 1, Settings: PIRSettings{Stem: "url"},
		Shards: []ShardInfo{{Bin: FileInfo{Name: "url-0.bin"}, Params: FileInfo{Name: "url-0.params.txtpb"}}}}
	b, _ := json.Marshal(seed)
	f.Add(b, 1)
	f.Add([]byte(`{"format":1,"shard_count":2,"shards":[{"index":5}]}`), 2)
	f.Add([]byte("{"), 0)
	f.Fuzz(func(t *testing.T, data []byte, shards int) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, PIRManifestFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		pb := &pirBuilder{dir: t.TempDir(), prev: dir, settings: PIRSettings{Stem: "url"}}
		m, reason := pb.previous(shards)
		if (m != nil) == (reason != "") { // the file exists: reuse it or say why not
			t.Fatalf("manifest %v with reason %q", m != nil, reason)
		}
		if m != nil {
			for i := range m.Shards {
				_ = pb.matches(&m.Shards[i]) // names are checked, so this stays in dir
			}
		}
	})
}
