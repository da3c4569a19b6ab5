package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entries returns the names in dir, failing the test on error.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFile(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 3*bufferBytes/16+7) // spans several buffer flushes
	tests := []struct {
		name string
		old  string // existing content; "" means no file
		perm os.FileMode
		data string
	}{
		{"new public", "", 0o644, "hello\n"},
		{"new secret", "", 0o600, "secret\n"},
		{"new group", "", 0o640, "x"},
		{"replace", "old contents that are longer\n", 0o644, "new\n"},
		{"replace narrows mode", "old", 0o600, "new"},
		{"empty", "old", 0o644, ""},
		{"larger than the buffer", "old", 0o644, big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f.txt")
			if tt.old != "" {
				if err := os.WriteFile(path, []byte(tt.old), 0o666); err != nil {
					t.Fatal(err)
				}
			}
			// Several small writes, as a line writer would make.
			err := WriteFile(path, tt.perm, func(w io.Writer) error {
				for s := tt.data; s != ""; {
					n := min(len(s), 1000)
					if _, err := io.WriteString(w, s[:n]); err != nil {
						return err
					}
					s = s[n:]
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.data {
				t.Errorf("content: %d bytes, want %d", len(got), len(tt.data))
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tt.perm {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), tt.perm)
			}
			if names := entries(t, dir); len(names) != 1 || names[0] != "f.txt" {
				t.Errorf("directory holds %q, want only f.txt", names)
			}
		})
	}
}

func TestWriteBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.bin")
	data := []byte{0, 1, 2, 0xff}
	if err := WriteBytes(path, 0o600, data); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(data) {
		t.Errorf("content %x, want %x", got, data)
	}
}

// TestWriteFileFailure checks that every failure leaves the old file as it
// was, no temporary file behind, and an error naming the path.
func TestWriteFileFailure(t *testing.T) {
	errWrite := errors.New("write failed")
	tests := []struct {
		name   string
		target string // relative to the test directory
		setup  func(t *testing.T, dir string)
		write  func(io.Writer) error
		want   error // errors.Is target
	}{
		{
			name:   "write returns an error after writing",
			target: "f.txt",
			write: func(w io.Writer) error {
				io.WriteString(w, strings.Repeat("partial", bufferBytes)) // forces a flush to the temporary file
				return errWrite
			},
			want: errWrite,
		},
		{
			name:   "write returns an error at once",
			target: "f.txt",
			write:  func(io.Writer) error { return errWrite },
			want:   errWrite,
		},
		{
			name:   "directory missing",
			target: "missing/f.txt",
			write:  func(io.Writer) error { return nil },
			want:   fs.ErrNotExist,
		},
		{
			name:   "parent is a file",
			target: "f.txt/g.txt",
			write:  func(io.Writer) error { return nil },
		},
		{
			name:   "target is a non-empty directory",
			target: "d",
			setup: func(t *testing.T, dir string) {
				if err := os.MkdirAll(filepath.Join(dir, "d", "x"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			write: func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			old := filepath.Join(dir, "f.txt")
			if err := os.WriteFile(old, []byte("old\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			before := entries(t, dir)
			path := filepath.Join(dir, tt.target)
			err := WriteFile(path, 0o644, tt.write)
			if err == nil {
				t.Fatal("WriteFile succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), "atomicfile: ") || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not start with atomicfile: and name %s", err, path)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want it to wrap %v", err, tt.want)
			}
			if got, err := os.ReadFile(old); err != nil || string(got) != "old\n" {
				t.Errorf("old file now %q, %v; want it untouched", got, err)
			}
			if after := entries(t, dir); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("directory holds %q after the failure, want %q (no temporary file)", after, before)
			}
		})
	}
}

// TestWriteFileUnwritableDirectory checks the error when the directory
// refuses new entries. Root ignores directory permissions, so it skips there.
func TestWriteFileUnwritableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write in a read-only directory")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	err := WriteBytes(path, 0o644, []byte("new"))
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "atomicfile: writing "+path) {
		t.Fatalf("error %v, want atomicfile: writing %s: ... permission denied", err, path)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("file now %q, want it untouched", got)
	}
}

func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	err := SyncDir(missing)
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "atomicfile: syncing directory "+missing) {
		t.Errorf("SyncDir(missing) = %v, want atomicfile: syncing directory %s: ... not exist", err, missing)
	}
}
