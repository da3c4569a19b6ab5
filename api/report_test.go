package api

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func urlFilterReport(urls ...string) []byte {
	var b []byte
	for _, u := range urls {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, u)
	}
	return b
}

func TestReport(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, envOptions{cfg: Config{ReportDirectory: dir}})
	cases := []struct {
		name   string
		ct     string
		body   []byte
		status int
	}{
		{"protobuf", "", urlFilterReport("example.com/", `we"ird\`+"\x01"), 200},
		{"json", "application/json; charset=utf-8", []byte(`["a.example","b.example/x"]`), 200},
		{"bad json", "application/json", []byte(`["a.example",`), 400},
		{"json not strings", "application/json", []byte(`[1,2]`), 400},
		{"bad protobuf", "application/octet-stream", []byte{0x0a, 0x05, 'a'}, 400},
		{"invalid utf-8", "", urlFilterReport("\xff\xfe"), 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// No User-Identifier needed on /report.
			code, _, body := e.post("/report", c.body, map[string]string{"Content-Type": c.ct, "User-Identifier": ""})
			if code != c.status {
				t.Fatalf("status %d, want %d", code, c.status)
			}
			if len(body) != 0 {
				t.Errorf("body %q, want empty", body)
			}
		})
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.txtpb"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("%d report files, want 2", len(files))
	}
	var all string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all += string(b)
	}
	for _, want := range []string{`urls: "example.com/"`, `urls: "we\"ird\\\001"`, `urls: "b.example/x"`, `user_agent: "` + testUA + `"`, "received_at {"} {
		if !strings.Contains(all, want) {
			t.Errorf("reports do not contain %s:\n%s", want, all)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestReportNeedsToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	if code, _, _ := e.post("/report", urlFilterReport("a"), map[string]string{"Authorization": ""}); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
}

func FuzzParseReport(f *testing.F) {
	f.Add("", urlFilterReport("example.com/", "b"))
	f.Add("application/json", []byte(`["x"]`))
	f.Add("", []byte{0x0a, 0x05, 'a'})
	f.Fuzz(func(t *testing.T, ct string, b []byte) {
		urls, err := parseReport(ct, b)
		if err != nil {
			return
		}
		// Whatever parsed renders as text without raw control bytes.
		text := string(reportText("ua", time0, urls))
		for _, r := range text {
			if r < 0x20 && r != '\n' {
				t.Fatalf("control byte %#x in report text", r)
			}
		}
	})
}

// TestTextString checks the text-format quoting of report fields, and that
// a long invalid UTF-8 value (a User-Agent is attacker-chosen and may be
// megabytes long inside an OHTTP request) is quoted in linear time: the
// former per-byte validity check made this case quadratic (hours for 4 MiB).
func TestTextString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", `""`},
		{`a"b\c`, `"a\"b\\c"`},
		{"line\nfeed\x01\x7f", `"line\nfeed\001\177"`},
		{"caf\u00e9", "\"caf\u00e9\""},
		{"caf\xc3", `"caf\303"`},
		{"\u00e9\xff", `"\303\251\377"`},
	} {
		if got := textString(c.in); got != c.want {
			t.Errorf("textString(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	long := strings.Repeat("\xff", 4<<20)
	got := textString(long)
	if want := 2 + 4*len(long); len(got) != want {
		t.Errorf("quoted %d invalid bytes into %d bytes, want %d", len(long), len(got), want)
	}
}
