package httplog

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http: TLS handshake error from 192.0.2.7:51234: EOF", "http: TLS handshake error from <client>: EOF"},
		{"http2: server connection error from 127.0.0.1:42800: connection error: COMPRESSION_ERROR",
			"http2: server connection error from <client>: connection error: COMPRESSION_ERROR"},
		{"http2: timeout waiting for SETTINGS frames from 10.1.2.3:9", "http2: timeout waiting for SETTINGS frames from <client>"},
		{"http: panic serving [2001:db8::7]:443: boom", "http: panic serving <client>: boom"},
		{"http: panic serving [fe80::1%eth0]:8080: boom", "http: panic serving <client>: boom"},
		{"error reading preface from client [::1]:5555: EOF", "error reading preface from client <client>: EOF"},
		{"peer 2001:db8:0:0:1:0:0:1 went away", "peer <client> went away"},
		{"peer 2001:db8::1 went away", "peer <client> went away"},
		{"peer ::ffff:192.0.2.1 went away", "peer <client> went away"},
		{"two: 1.2.3.4 and 5.6.7.8:80", "two: <client> and <client>"},
		// Not addresses: kept.
		{"http: Accept error: too many open files; retrying in 5ms", "http: Accept error: too many open files; retrying in 5ms"},
		{"at 12:30:45 frame size 16384", "at 12:30:45 frame size 16384"},
		{"http2: received GOAWAY [FrameHeader GOAWAY len=8], starting graceful shutdown", "http2: received GOAWAY [FrameHeader GOAWAY len=8], starting graceful shutdown"},
		{"version 1.26.0", "version 1.26.0"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNewErrorLogLevelAndFormat(t *testing.T) {
	var buf bytes.Buffer
	l := NewErrorLog(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}), slog.LevelWarn)
	l.Printf("http: TLS handshake error from %s: EOF", "198.51.100.9:4431")
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, `"level":"WARN"`) ||
		!strings.Contains(out, `"msg":"http: TLS handshake error from <client>: EOF"`) || strings.Contains(out, "198.51") {
		t.Errorf("got %q", out)
	}
	buf.Reset()
	NewErrorLog(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError}), slog.LevelWarn).Print("dropped below the level")
	if buf.Len() != 0 {
		t.Errorf("a record below the handler's level was written: %q", buf.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	ch chan struct{}
	mu chan struct{}
	b  bytes.Buffer
}

func newSyncBuffer() *syncBuffer {
	s := &syncBuffer{ch: make(chan struct{}, 1), mu: make(chan struct{}, 1)}
	return s
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	n, err := s.b.Write(p)
	select {
	case s.ch <- struct{}{}:
	default:
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.String()
}

// TestHTTP2ProtocolErrorOverLoopback provokes real HTTP/2 protocol errors
// (a bad client preface, an HPACK block that does not decode) against a
// net/http server speaking h2c on loopback, and checks that the server's
// lines reach the log with the client address removed.
func TestHTTP2ProtocolErrorOverLoopback(t *testing.T) {
	logs := newSyncBuffer()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Config.ErrorLog = NewErrorLog(slog.NewTextHandler(logs, nil), slog.LevelWarn)
	srv.Start()
	defer srv.Close()

	// Prior-knowledge h2c: the preface, an empty SETTINGS frame, then a
	// HEADERS frame whose block is an invalid HPACK index (0x80: indexed
	// field 0), a COMPRESSION_ERROR.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	local := conn.LocalAddr().String()
	msg := []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	msg = append(msg, 0, 0, 0, 0x4, 0, 0, 0, 0, 0)             // SETTINGS, empty
	msg = append(msg, 0, 0, 1, 0x1, 0x4|0x1, 0, 0, 0, 1, 0x80) // HEADERS stream 1, END_HEADERS|END_STREAM, block 0x80
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(msg); err != nil {
		t.Fatal(err)
	}
	// The server answers with GOAWAY and closes; read until it does.
	var sink [4096]byte
	for {
		if _, err := conn.Read(sink[:]); err != nil {
			break
		}
	}
	conn.Close()

	deadline := time.After(10 * time.Second)
	for !strings.Contains(logs.String(), "COMPRESSION_ERROR") {
		select {
		case <-logs.ch:
		case <-deadline:
			t.Fatalf("no COMPRESSION_ERROR line logged; log: %q", logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	out := logs.String()
	host, port, _ := net.SplitHostPort(local)
	if strings.Contains(out, local) || strings.Contains(out, ":"+port) || strings.Contains(out, host) {
		t.Errorf("the client address %s is in the log: %q", local, out)
	}
	if !strings.Contains(out, "from <client>") {
		t.Errorf("want the redacted address in %q", out)
	}
}
