package generation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/pir"
)

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBuildPIRFailureKeepsPrevious fails a rebuild after some shards are
// staged and checks that the previous output is untouched and nothing is
// left behind; the next build then succeeds incrementally.
func TestBuildPIRFailureKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	var keys []string
	for i := range 30 {
		keys = append(keys, fmt.Sprintf("k%02d.example", i))
	}
	quiet := func(string, ...any) {}
	newBuilder := func() *pirBuilder {
		return &pirBuilder{dir: dir, logf: quiet, workers: 1, settings: PIRSettings{Preset: DefaultPreset, HashFunctions: 2,
			Sharding: "sha256", KeyCompression: pir.NoCompression.String(), Value: PIRValue, Stem: "url"}}
	}
	ctx := context.Background()
	if _, err := newBuilder().run(ctx, keys, 4); err != nil {
		t.Fatal(err)
	}
	snapshot := func() map[string]string {
		m := map[string]string{}
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			m[e.Name()] = string(mustRead(t, filepath.Join(dir, e.Name())))
		}
		return m
	}
	before := snapshot()
	changed := slices.Clone(keys)
	for i := range changed {
		changed[i] = strings.ToUpper(changed[i][:1]) + changed[i][1:] // every shard changes
	}
	b := newBuilder()
	staged := 0
	b.testingOnlyShardDone = func(int) error {
		if staged++; staged == 3 {
			return errors.New("simulated crash")
		}
		return nil
	}
	if _, err := b.run(ctx, changed, 4); err == nil || !strings.Contains(err.Error(), "simulated crash") {
		t.Fatalf("run: %v, want the simulated crash", err)
	}
	after := snapshot()
	if len(after) != len(before) {
		t.Errorf("files %d -> %d after a failed build", len(before), len(after))
	}
	for name, b := range before {
		if after[name] != b {
			t.Errorf("%s changed by a failed build", name)
		}
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := newBuilder().run(canceled, changed, 4); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled run: %v", err)
	}
	m, err := newBuilder().run(ctx, changed, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range m.Shards {
		if s.Keys > 0 && s.KeysSHA256 == readPIRManifestFrom(t, before).Shards[i].KeysSHA256 {
			t.Errorf("shard %d still has the old keys", i)
		}
	}
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
		pb := &pirBuilder{dir: dir, settings: PIRSettings{Stem: "url"}}
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
