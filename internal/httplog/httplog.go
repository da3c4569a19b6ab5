// Package httplog routes the error log of a net/http server (and of its
// built-in HTTP/2 server) into a [log/slog] handler with client addresses
// removed.
//
// net/http and its HTTP/2 server write lines such as "http: TLS handshake
// error from 192.0.2.7:51234: EOF" or "http2: server connection error from
// [2001:db8::7]:443: connection error: COMPRESSION_ERROR" to
// [http.Server.ErrorLog]. Those addresses are the clients' (devices',
// relays'), which blindlist promises never to log. [NewErrorLog] returns a
// [log.Logger] for ErrorLog that replaces every IP address, with or without
// a port, by "<client>" before the line reaches the handler.
package httplog

import (
	"context"
	"log"
	"log/slog"
	"regexp"
	"strings"
	"time"
)

// Redacted replaces a client address in a redacted line.
const Redacted = "<client>"

// addrRE matches what net.Addr.String gives for TCP peers, and bare
// addresses: an IPv6 address in brackets with an optional zone and port,
// an IPv6 address ending in an IPv4 one, an IPv4 address with an optional
// port, and a bare IPv6 address (checked further by isIPv6ish).
var addrRE = regexp.MustCompile(
	`\[[0-9A-Fa-f:.]+(?:%[^\]]*)?\](?::\d+)?` +
		`|(?:[0-9A-Fa-f]{0,4}:){2,6}(?:\d{1,3}\.){3}\d{1,3}\b` +
		`|\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b` +
		`|(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%[0-9A-Za-z_.-]+)?(?:\b|$)`)

// Redact returns line with every IP address (and its port) replaced by
// [Redacted].
func Redact(line string) string {
	return addrRE.ReplaceAllStringFunc(line, func(m string) string {
		// A bare "::" run inside a word (a Go identifier "a::b", a
		// time "12:30:45") is not an address: keep anything without a
		// hex digit or with fewer than two colons.
		if !strings.HasPrefix(m, "[") && !strings.Contains(m, ".") && !isIPv6ish(m) {
			return m
		}
		return Redacted
	})
}

// isIPv6ish reports whether m, a bare run of hex groups and colons, is
// shaped like an IPv6 address: "::" somewhere or all eight groups.
func isIPv6ish(m string) bool {
	m, _, _ = strings.Cut(m, "%")
	return strings.Contains(m, "::") || strings.Count(m, ":") == 7
}

// NewErrorLog returns a logger for [http.Server.ErrorLog] that writes each
// line, redacted, as one record of the given level to h.
func NewErrorLog(h slog.Handler, level slog.Level) *log.Logger {
	return log.New(&writer{h: h, level: level}, "", 0)
}

// writer turns each Write of a [log.Logger] (one line) into a slog record.
type writer struct {
	h     slog.Handler
	level slog.Level
}

func (w *writer) Write(p []byte) (int, error) {
	ctx := context.Background()
	if !w.h.Enabled(ctx, w.level) {
		return len(p), nil
	}
	msg := Redact(strings.TrimRight(string(p), "\n"))
	r := slog.NewRecord(time.Now(), w.level, msg, 0)
	if err := w.h.Handle(ctx, r); err != nil {
		return 0, err
	}
	return len(p), nil
}
