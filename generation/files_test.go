package generation

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestWriteKeyFilesStreams checks that keys.txt is exactly the keys one per
// line and that writing it does not hold the file in memory: the bytes
// allocated stay far below the file's size (building it in a
// strings.Builder and copying it allocated about twice the size).
func TestWriteKeyFilesStreams(t *testing.T) {
	keys := make([]string, 100_000)
	size := 0
	for i := range keys {
		keys[i] = fmt.Sprintf("host%07d.ads-%d.example.org/path/%d", i, i%9973, i)
		size += len(keys[i]) + 1
	}
	dir := t.TempDir()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var rec fileRecords
	if err := writeKeyFiles(&rec, dir, keys); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got, want := string(mustRead(t, filepath.Join(dir, "keys.txt"))), strings.Join(keys, "\n")+"\n"; got != want {
		t.Errorf("keys.txt: %d bytes, want %d (the keys, one per line)", len(got), len(want))
	}
	// The records are the files' own size and SHA-256.
	for _, name := range []string{KeysFile, KeywordDBFile} {
		b := mustRead(t, filepath.Join(dir, name))
		sum := sha256.Sum256(b)
		if got := rec.all()[name]; got != (FileInfo{Name: name, Bytes: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}) {
			t.Errorf("%s recorded as %+v, the file has %d bytes, SHA-256 %x", name, got, len(b), sum)
		}
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(size/4) {
		t.Errorf("writeKeyFiles allocated %d bytes for %d bytes of keys.txt, want < %d (streamed)", alloc, size, size/4)
	}
}
