package bhttp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// readHex reads a testdata vector; whitespace is ignored.
func readHex(t testing.TB, name string) []byte {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(string(text)), ""))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// rfcRequestFields are the header fields of RFC 9292 §5.1 (Figure "Sample
// HTTP Request"), lower-cased as the example encodes them.
var rfcRequestFields = []Field{
	{"user-agent", "curl/7.16.3 libcurl/7.16.3 OpenSSL/0.9.7l zlib/1.2.3"},
	{"host", "www.example.com"},
	{"accept-language", "en, mi"},
}

func TestRFC9292Requests(t *testing.T) {
	for _, tc := range []struct {
		file          string
		indeterminate bool
		padding       int
	}{
		{"rfc9292-5.1-request-known-length.hex", false, 0},
		{"rfc9292-5.1-request-indeterminate-length.hex", true, 10},
	} {
		t.Run(tc.file, func(t *testing.T) {
			in := readHex(t, tc.file)
			got, err := ParseRequest(in)
			if err != nil {
				t.Fatal(err)
			}
			want := &Request{
				Method: "GET", Scheme: "https", Authority: "", Path: "/hello.txt",
				Header: rfcRequestFields, Indeterminate: tc.indeterminate, Padding: tc.padding,
			}
			if !equalRequest(got, want) {
				t.Fatalf("decoded %+v, want %+v", got, want)
			}
			out, err := got.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, in) {
				t.Errorf("re-encoded\n%x\nwant\n%x", out, in)
			}
			// RFC 9292 §5.1: the last two bytes (empty content and trailer
			// section) can be truncated, and with them any padding.
			for cut := 1; cut <= 2+tc.padding; cut++ {
				short, err := ParseRequest(in[:len(in)-cut])
				if err != nil {
					t.Fatalf("truncated by %d: %v", cut, err)
				}
				if !reflect.DeepEqual(short.Header, want.Header) || len(short.Content) != 0 || len(short.Trailer) != 0 {
					t.Errorf("truncated by %d: decoded %+v", cut, short)
				}
			}
		})
	}
}

func TestRFC9292Responses(t *testing.T) {
	t.Run("informational", func(t *testing.T) {
		in := readHex(t, "rfc9292-5.2-response-informational-indeterminate-length.hex")
		want := &Response{
			Informational: []Informational{
				{102, []Field{{"running", `"sleep 15"`}}},
				{103, []Field{
					{"link", "</style.css>; rel=preload; as=style"},
					{"link", "</script.js>; rel=preload; as=script"},
				}},
			},
			Status: 200,
			Header: []Field{
				{"date", "Mon, 27 Jul 2009 12:28:53 GMT"},
				{"server", "Apache"},
				{"last-modified", "Wed, 22 Jul 2009 19:15:56 GMT"},
				{"etag", `"34aa387-d-1568eb00"`},
				{"accept-ranges", "bytes"},
				{"content-length", "51"},
				{"vary", "Accept-Encoding"},
				{"content-type", "text/plain"},
			},
			Content:       []byte("Hello World! My content includes a trailing CRLF.\r\n"),
			Indeterminate: true,
		}
		checkResponseVector(t, in, want)
	})
	t.Run("trailer", func(t *testing.T) {
		in := readHex(t, "rfc9292-5.2-response-trailer-known-length.hex")
		want := &Response{
			Status:  200,
			Content: []byte("This content contains CRLF.\r\n"),
			Trailer: []Field{{"trailer", "text"}},
		}
		checkResponseVector(t, in, want)
	})
}

func checkResponseVector(t *testing.T, in []byte, want *Response) {
	t.Helper()
	got, err := ParseResponse(in)
	if err != nil {
		t.Fatal(err)
	}
	if !equalResponse(got, want) {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}
	out, err := got.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, in) {
		t.Errorf("re-encoded\n%x\nwant\n%x", out, in)
	}
}

// TestRFC9458Messages decodes the two minimal messages of RFC 9458 Appendix A,
// both truncated right after the control data.
func TestRFC9458Messages(t *testing.T) {
	req, err := ParseRequest(mustHex(t, "00034745540568747470730b6578616d706c652e636f6d012f"))
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "GET" || req.Scheme != "https" || req.Authority != "example.com" || req.Path != "/" ||
		req.Header != nil || req.Content != nil || req.Indeterminate {
		t.Errorf("request %+v", req)
	}
	resp, err := ParseResponse(mustHex(t, "0140c8"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.Header != nil || resp.Content != nil {
		t.Errorf("response %+v", resp)
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestChunkedContent(t *testing.T) {
	// Indeterminate request with content in three chunks and a trailer.
	in := mustHex(t, "0204504f5354056874747073016101"+"2f"+"00"+"03616263"+"0164"+"026566"+"00"+"0178017a"+"00")
	r, err := ParseRequest(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Content) != "abcdef" || len(r.Trailer) != 1 || r.Trailer[0] != (Field{"x", "z"}) {
		t.Fatalf("decoded %+v", r)
	}
	// The joined content must not alias the input.
	in[len(in)-10] = 'Z'
	if string(r.Content) != "abcdef" {
		t.Errorf("content aliases input after joining chunks: %q", r.Content)
	}
}

func TestInvalid(t *testing.T) {
	long := strings.Repeat("0178017a", MaxFieldLines+1) // MaxFieldLines+1 lines "x: z"
	for _, tc := range []struct {
		name     string
		hex      string
		response bool
	}{
		{"empty", "", false},
		{"response framing as request", "01", false},
		{"request framing as response", "00", true},
		{"framing 4", "04", false},
		{"truncated varint", "40", false},
		{"method length beyond input", "0005474554", false},
		{"missing path", "000347455405687474707300", false},
		{"empty method", "0000056874747073000" + "12f", false},
		{"empty path", "0003474554056874747073" + "00" + "00", false},
		{"space in path", "0003474554056874747073" + "00" + "022f20", false},
		{"field section beyond input", "0003474554056874747073" + "00" + "012f" + "05" + "0178", false},
		{"empty field name", "0003474554056874747073" + "00" + "012f" + "02" + "0000", false},
		{"pseudo-field", "0003474554056874747073" + "00" + "012f" + "09" + "053a70617468012f", false},
		{"newline in value", "0003474554056874747073" + "00" + "012f" + "04" + "0178010a", false},
		{"leading space in value", "0003474554056874747073" + "00" + "012f" + "05" + "017802207a", false},
		{"bad name byte", "0003474554056874747073" + "00" + "012f" + "04" + "0128017a", false},
		{"content beyond input", "0003474554056874747073" + "00" + "012f" + "00" + "4010" + "61", false},
		{"huge varint content", "0003474554056874747073" + "00" + "012f" + "00" + "ffffffffffffffff", false},
		{"nonzero padding", "0003474554056874747073" + "00" + "012f" + "00" + "00" + "00" + "0001", false},
		{"chunk without terminator", "0203474554056874747073" + "00" + "012f" + "00" + "03616263", false},
		{"field section without terminator", "0203474554056874747073" + "00" + "012f" + "0178017a", false},
		{"too many field lines", "0203474554056874747073" + "00" + "012f" + long + "00", false},
		{"status 99", "0163", true},
		{"status 600", "01" + "4258", true},
		{"informational without final", "01" + "4064" + "00", true},
		{"too many informational", "01" + strings.Repeat("406400", MaxInformational+1) + "40c8", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := mustHex(t, tc.hex)
			var err error
			if tc.response {
				_, err = ParseResponse(in)
			} else {
				_, err = ParseRequest(in)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("got error %v, want ErrInvalid", err)
			}
		})
	}
}

func TestEncodeRejectsInvalid(t *testing.T) {
	for name, r := range map[string]*Request{
		"empty method":  {Scheme: "https", Path: "/"},
		"pseudo header": {Method: "GET", Scheme: "https", Path: "/", Header: []Field{{":path", "/"}}},
		"crlf value":    {Method: "GET", Scheme: "https", Path: "/", Header: []Field{{"x", "a\r\nb: c"}}},
	} {
		if _, err := r.MarshalBinary(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
	for name, r := range map[string]*Response{
		"status 0":           {},
		"status 100 final":   {Status: 100},
		"informational 200":  {Status: 200, Informational: []Informational{{Status: 200}}},
		"negative padding":   {Status: 200, Padding: -1},
		"empty trailer name": {Status: 200, Trailer: []Field{{"", "v"}}},
	} {
		if _, err := r.MarshalBinary(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{0xa5}, 70000) // needs a 4-byte varint length
	for _, indeterminate := range []bool{false, true} {
		req := &Request{
			Method: "POST", Scheme: "https", Authority: "service.example.net", Path: "/queries?x=1",
			Header:  []Field{{"Authorization", "PrivateToken token=abc"}, {"x-dup", "1"}, {"x-dup", "2"}},
			Content: big, Trailer: []Field{{"x-t", "v"}}, Indeterminate: indeterminate, Padding: 3,
		}
		enc, err := req.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseRequest(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !equalRequest(got, req) {
			t.Errorf("indeterminate=%v: round trip changed the request", indeterminate)
		}
		resp := &Response{
			Informational: []Informational{{Status: 103, Header: []Field{{"link", "</a>"}}}},
			Status:        404, Header: []Field{{"content-type", "application/octet-stream"}},
			Content: big[:100], Indeterminate: indeterminate,
		}
		enc, err = resp.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		gotResp, err := ParseResponse(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !equalResponse(gotResp, resp) {
			t.Errorf("indeterminate=%v: round trip changed the response", indeterminate)
		}
	}
}

func TestVarint(t *testing.T) {
	// RFC 9000 §A.1 examples.
	for _, tc := range []struct {
		hex string
		v   uint64
	}{
		{"c2197c5eff14e88c", 151288809941952652},
		{"9d7f3e7d", 494878333},
		{"7bbd", 15293},
		{"25", 37},
		{"4025", 37}, // non-minimal, still valid
	} {
		b := mustHex(t, tc.hex)
		v, n, ok := readVarint(b)
		if !ok || v != tc.v || n != len(b) {
			t.Errorf("readVarint(%s) = %d, %d, %v; want %d", tc.hex, v, n, ok, tc.v)
		}
		if tc.hex != "4025" {
			if got := appendVarint(nil, tc.v); !bytes.Equal(got, b) {
				t.Errorf("appendVarint(%d) = %x, want %s", tc.v, got, tc.hex)
			}
		}
	}
}

// equalRequest compares requests, treating nil and empty slices as equal.
func equalRequest(a, b *Request) bool {
	return a.Method == b.Method && a.Scheme == b.Scheme && a.Authority == b.Authority && a.Path == b.Path &&
		equalFields(a.Header, b.Header) && bytes.Equal(a.Content, b.Content) && equalFields(a.Trailer, b.Trailer) &&
		a.Indeterminate == b.Indeterminate && a.Padding == b.Padding
}

func equalResponse(a, b *Response) bool {
	if len(a.Informational) != len(b.Informational) {
		return false
	}
	for i := range a.Informational {
		if a.Informational[i].Status != b.Informational[i].Status ||
			!equalFields(a.Informational[i].Header, b.Informational[i].Header) {
			return false
		}
	}
	return a.Status == b.Status && equalFields(a.Header, b.Header) && bytes.Equal(a.Content, b.Content) &&
		equalFields(a.Trailer, b.Trailer) && a.Indeterminate == b.Indeterminate && a.Padding == b.Padding
}

func equalFields(a, b []Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func seedCorpus(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".hex") {
			f.Add(readHex(f, e.Name()))
		}
	}
}

// FuzzParseRequest checks that no input panics, and that whatever decodes
// re-encodes to bytes that decode to the same request.
func FuzzParseRequest(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := ParseRequest(in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		enc, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded request does not encode: %v", err)
		}
		again, err := ParseRequest(enc)
		if err != nil || !equalRequest(again, r) {
			t.Fatalf("re-encoded request decodes differently: %v", err)
		}
		// Decoding into a Request that held another message gives the same.
		reused := &Request{Header: make([]Field, 3, 40), Trailer: []Field{{"stale", "x"}}, Padding: 9}
		if err := reused.UnmarshalBinary(in); err != nil || !equalRequest(reused, r) {
			t.Fatalf("UnmarshalBinary into a used Request differs from ParseRequest: %v", err)
		}
	})
}

// FuzzParseResponse is FuzzParseRequest for responses.
func FuzzParseResponse(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := ParseResponse(in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		enc, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded response does not encode: %v", err)
		}
		again, err := ParseResponse(enc)
		if err != nil || !equalResponse(again, r) {
			t.Fatalf("re-encoded response decodes differently: %v", err)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	content := bytes.Repeat([]byte{1}, 30<<10)
	for _, indeterminate := range []bool{false, true} {
		req := &Request{Method: "POST", Scheme: "https", Authority: "service.example.net", Path: "/queries",
			Header:  []Field{{"authorization", "PrivateToken token=abcdef"}, {"user-agent", "x"}, {"user-identifier", "u"}},
			Content: content, Indeterminate: indeterminate}
		enc, err := req.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		name := "request/known-length/30KiB"
		if indeterminate {
			name = "request/indeterminate-length/30KiB"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				if _, err := ParseRequest(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// manyFields returns n distinct field lines, more than the decoder keeps on
// its stack when n > stackSpans.
func manyFields(prefix string, n int) []Field {
	fields := make([]Field, n)
	for i := range fields {
		fields[i] = Field{Name: fmt.Sprintf("%s-%d", prefix, i), Value: strings.Repeat("v", i%7)}
	}
	return fields
}

// TestManyFieldLines round-trips messages whose field lines overflow the
// decoder's stack span list, across informational, header and trailer
// sections, in both framings.
func TestManyFieldLines(t *testing.T) {
	for _, n := range []int{stackSpans - 1, stackSpans, stackSpans + 1, 3*stackSpans + 5} {
		for _, indeterminate := range []bool{false, true} {
			req := &Request{Method: "GET", Scheme: "https", Authority: "a.example", Path: "/",
				Header: manyFields("h", n), Content: []byte("c"), Trailer: manyFields("t", n), Indeterminate: indeterminate}
			enc, err := req.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseRequest(enc)
			if err != nil || !equalRequest(got, req) {
				t.Errorf("n=%d indeterminate=%v: request round trip: %v", n, indeterminate, err)
			}
			resp := &Response{
				Informational: []Informational{{Status: 103, Header: manyFields("i", n)}, {Status: 100}, {Status: 102, Header: manyFields("j", 2)}},
				Status:        200, Header: manyFields("h", n), Content: []byte("c"), Trailer: manyFields("t", n), Indeterminate: indeterminate,
			}
			if enc, err = resp.MarshalBinary(); err != nil {
				t.Fatal(err)
			}
			gotResp, err := ParseResponse(enc)
			if err != nil || !equalResponse(gotResp, resp) {
				t.Errorf("n=%d indeterminate=%v: response round trip: %v", n, indeterminate, err)
			}
		}
	}
}

// TestUnmarshalReuse decodes requests of different shapes into one Request:
// nothing of an earlier message survives, the strings do not alias the
// input, and a reused Request costs one allocation (the string holding
// control data and header fields) for a message without trailer fields.
func TestUnmarshalReuse(t *testing.T) {
	first := &Request{Method: "POST", Scheme: "https", Authority: "a.example", Path: "/queries",
		Header: manyFields("h", 5), Content: []byte("query"), Trailer: manyFields("t", 2)}
	second := &Request{Method: "GET", Scheme: "http", Path: "/config", Header: []Field{{"user-agent", "x"}}, Indeterminate: true}
	var r Request
	for _, want := range []*Request{first, second, first} {
		enc, err := want.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := r.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		clear(enc) // strings must be copies, not views of the input
		if r.Content != nil {
			r.Content = append([]byte(nil), want.Content...) // content aliases the input by design
		}
		if !equalRequest(&r, want) {
			t.Fatalf("reused decode of %s %s: got %+v", want.Method, want.Path, r)
		}
	}
	enc, err := second.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := r.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Errorf("UnmarshalBinary into a reused Request: %v allocations, want 1", n)
	}
	if err := r.UnmarshalBinary([]byte{0x01}); !errors.Is(err, ErrInvalid) {
		t.Errorf("response framing into Request: got %v, want ErrInvalid", err)
	}
}
