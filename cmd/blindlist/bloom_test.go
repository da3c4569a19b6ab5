package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blindlist/blindlist/bloom"
	"github.com/blindlist/blindlist/generation"
	"github.com/blindlist/blindlist/internal/testvec"
)

// runCLI runs the blindlist command line in process.
func runCLI(t testing.TB, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestBloomAppleVectors runs the drop-in on shared/vectors/bloom/keys.txt
// with Apple's seed and compares every output with Apple's files.
func TestBloomAppleVectors(t *testing.T) {
	dir := t.TempDir()
	pl, pb, bits := filepath.Join(dir, "f.plist"), filepath.Join(dir, "in.txtpb"), filepath.Join(dir, "bits")
	code, out, errs := runCLI(t, "", "bloom", "--seed", "42", "-f", pl, "-d", pb, "--bits-out", bits, "--json",
		testvec.Path(t, "bloom", "keys.txt"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var m bloom.Manifest
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	var want struct {
		Items      int    `json:"items"`
		BitCount   uint32 `json:"bit_count"`
		BitsSHA256 string `json:"bits_sha256"`
	}
	json.Unmarshal(testvec.Read(t, "bloom", "expected.json"), &want)
	if m.Items != want.Items || m.BitCount != want.BitCount || m.BitsSHA256 != want.BitsSHA256 || m.MurmurSeed != 42 {
		t.Errorf("summary %+v, want %+v", m, want)
	}
	gotBits, _ := os.ReadFile(bits)
	if !bytes.Equal(gotBits, testvec.Read(t, "bloom", "bloom_filter.bin")) {
		t.Error("--bits-out differs from bloom_filter.bin")
	}
	ours, _ := os.ReadFile(pl)
	f, err := bloom.UnmarshalPlist(ours)
	if err != nil {
		t.Fatal(err)
	}
	apple, _ := bloom.UnmarshalPlist(testvec.Read(t, "bloom", "bloom_filter.plist"))
	if f.Params() != apple.Params() || f.ItemCount() != apple.ItemCount() || f.Tolerance() != apple.Tolerance() ||
		!bytes.Equal(f.Bits(), apple.Bits()) {
		t.Errorf("plist differs from Apple's")
	}
	// input.txtpb: one row per non-empty line, in order, duplicates kept.
	txt, _ := os.ReadFile(pb)
	if n := strings.Count(string(txt), "rows {"); n != want.Items {
		t.Errorf("input.txtpb has %d rows, want %d", n, want.Items)
	}
	if !strings.Contains(string(txt), `keyword: "\303\274n\303\257code.example/p\303\244th"`) {
		t.Error("non-ASCII key not octal-escaped in input.txtpb")
	}
}

func TestBloomInputRules(t *testing.T) {
	dir := t.TempDir()
	chdir(t, dir)
	// CRLF, lone CR, Unicode spaces, empty and blank lines, a duplicate.
	in := "a.example\r\n\u00a0 b.example \t\rc.example\n\n   \na.example\n"
	code, out, errs := runCLI(t, in, "bloom", "--seed", "7", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "4 keys") || !strings.Contains(out, "seed 7") {
		t.Errorf("summary %q", out)
	}
	f, err := bloom.UnmarshalPlist(mustRead(t, "bloom_filter.plist"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := bloom.Build([]string{"a.example", "b.example", "c.example", "a.example"}, 0.001, 7, 1)
	if !bytes.Equal(f.Bits(), want.Bits()) || f.ItemCount() != 4 {
		t.Errorf("bits or itemCount differ from Apple's rules")
	}
	txt := string(mustRead(t, "input.txtpb"))
	wantTxt := "rows {\n  keyword: \"a.example\"\n  value: \"1\"\n}\n"
	if !strings.HasPrefix(txt, wantTxt) || strings.Count(txt, `"a.example"`) != 2 {
		t.Errorf("input.txtpb:\n%s", txt)
	}
	// gzip input and a random seed, printed.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("x.example\n"))
	zw.Close()
	os.WriteFile("in.gz", gz.Bytes(), 0o644)
	code, out, _ = runCLI(t, "", "bloom", "in.gz")
	if code != 0 || !strings.Contains(out, "1 keys") || !strings.Contains(out, "seed ") {
		t.Errorf("gzip input: exit %d, %q", code, out)
	}
}

func TestBloomErrors(t *testing.T) {
	chdir(t, t.TempDir())
	os.WriteFile("empty", []byte("\n  \n"), 0o644)
	os.WriteFile("bad", []byte("ok\n\xff\xfe\n"), 0o644)
	// A gzip bomb: 64 KiB compressed to about 100 bytes, over a 4 KiB cap.
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(bytes.Repeat([]byte("a.example\n"), 64<<10/10))
	zw.Close()
	os.WriteFile("bomb.gz", bomb.Bytes(), 0o644)
	os.WriteFile("big", bytes.Repeat([]byte("a.example\n"), 1000), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"bloom", "empty"}, 1, "has no keys"},
		{[]string{"bloom", "-t", "1", "empty"}, 2, "outside (0, 1)"},
		{[]string{"bloom", "-t", "0", "empty"}, 2, "outside (0, 1)"},
		{[]string{"bloom", "missing"}, 1, "reading input"},
		{[]string{"bloom", "bad"}, 1, "line 2 is not valid UTF-8"},
		{[]string{"bloom", "--seed", "x", "empty"}, 1, "seed"},
		{[]string{"bloom", "--max-bytes", "4096", "bomb.gz"}, 1, "reading gzip input: input exceeds --max-bytes 4096"},
		{[]string{"bloom", "--max-bytes", "4096", "big"}, 1, "reading input: input exceeds --max-bytes 4096"},
		{[]string{"bloom", "--max-bytes", "0", "big"}, 1, "must be positive"},
		{[]string{"bloom"}, 2, "bloom: want one key file, got 0 arguments (see 'blindlist bloom -h')"},
		{[]string{"bloom", "--nope", "x"}, 2, "bloom: unknown flag --nope"},
	} {
		code, _, errs := runCLI(t, "", tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.msg)
		}
		if code == 1 && strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: want one error line, got %q", tc.args, errs)
		}
	}
	code, out, _ := runCLI(t, "", "bloom", "-h")
	if code != 0 || !strings.Contains(out, "blindlist bloom") {
		t.Errorf("-h: exit %d", code)
	}
	// 300M keys cannot be built here; the bit-count error is the library's,
	// covered in bloom.TestSizeErrors.
}

func TestWriteTextProtoBytes(t *testing.T) {
	var b bytes.Buffer
	if err := generation.WriteKeywordDB(&b, []string{"a\"b\\c\td\x01é"}); err != nil {
		t.Fatal(err)
	}
	want := "rows {\n  keyword: \"a\\\"b\\\\c\\td\\001\\303\\251\"\n  value: \"1\"\n}\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	// Same layout as Apple's PIRProcessDatabase input in shared/vectors.
	apple := string(testvec.Read(t, "pir", "A", "input.txtpb"))
	var keys []string
	for l := range strings.SplitSeq(apple, "\n") {
		if k, ok := strings.CutPrefix(l, `  keyword: "`); ok {
			keys = append(keys, strings.TrimSuffix(k, `"`))
		}
	}
	b.Reset()
	generation.WriteKeywordDB(&b, keys)
	if b.String() != apple {
		t.Error("rewriting pir/A/input.txtpb's keys does not reproduce the file")
	}
}

func FuzzAppleKeys(f *testing.F) {
	f.Add([]byte("a\r\nb\rc\n\n d \n"))
	f.Add([]byte("\xff\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := appleKeys(data)
		if err != nil {
			return
		}
		for _, k := range keys {
			if k == "" || strings.ContainsAny(k, "\r\n") || strings.TrimSpace(k) != k {
				t.Fatalf("bad key %q", k)
			}
		}
	})
}

func chdir(t *testing.T, dir string) {
	t.Helper()
	t.Chdir(dir)
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkBloomCommand is Apple's BloomFilterTool reference shape: 200,003
// keys at tolerance 1e-5 (17 hashes), whole command including reading the
// input and writing the plist and input.txtpb. Apple's Swift code takes
// 1.85 s for the filter alone on this machine.
func BenchmarkBloomCommand(b *testing.B) {
	dir := b.TempDir()
	in := filepath.Join(dir, "urls.txt")
	var sb strings.Builder
	for i := range 200_003 {
		fmt.Fprintf(&sb, "site%d.example-%d.com/path/%d\n", i, i%1009, i%31)
	}
	os.WriteFile(in, []byte(sb.String()), 0o644)
	for _, workers := range []string{"1", "0"} {
		b.Run("workers="+workers, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				code, _, errs := runCLI(b, "", "bloom", "-t", "1e-5", "--seed", "1", "--workers", workers,
					"-f", filepath.Join(dir, "f.plist"), "-d", filepath.Join(dir, "in.txtpb"), in)
				if code != 0 {
					b.Fatal(errs)
				}
			}
		})
	}
}
