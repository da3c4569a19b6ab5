package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/blindlist/blindlist/internal/atomicfile"
)

// Bounds on a report (the body cap bounds the total).
const (
	maxReportURLs     = 10000
	maxReportURLBytes = 8192
)

// report answers POST /report (NEURLFilter only; pir-spec §8.2): a JSON array
// of strings when Content-Type is application/json, otherwise a serialized
// URLFilterReport. Malformed input gets an empty 400. With a report
// directory, each report is written durably as a text-protobuf
// URLFilterReportWithMetadata file, as Apple's service writes them.
func (s *Server) report(ctx context.Context, c *call) (*reply, error) {
	urls, err := parseReport(c.header.Get("Content-Type"), c.body)
	if err != nil {
		return nil, &httpError{status: http.StatusBadRequest, category: catBody, message: "Malformed report", err: err}
	}
	if s.cfg.ReportDirectory == "" {
		s.m.reports.WithLabelValues("dropped").Inc()
		return &reply{empty: true}, nil
	}
	text := reportText(c.userAgent, s.now(), urls)
	if err := writeFileDurably(s.cfg.ReportDirectory, text); err != nil {
		s.m.reports.WithLabelValues("error").Inc()
		return nil, fmt.Errorf("api: writing report: %w", err)
	}
	s.m.reports.WithLabelValues("stored").Inc()
	return &reply{empty: true}, nil
}

// parseReport decodes a report body into its URLs.
func parseReport(contentType string, body []byte) ([]string, error) {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && mt == "application/json" {
		var urls []string
		if err := json.Unmarshal(body, &urls); err != nil {
			return nil, fmt.Errorf("api: report: %w", err)
		}
		return urls, checkReportURLs(urls)
	}
	urls, err := parseURLFilterReport(body)
	if err != nil {
		return nil, err
	}
	return urls, checkReportURLs(urls)
}

func checkReportURLs(urls []string) error {
	if len(urls) > maxReportURLs {
		return fmt.Errorf("api: report: %d URLs, at most %d", len(urls), maxReportURLs)
	}
	for i, u := range urls {
		if len(u) > maxReportURLBytes {
			return fmt.Errorf("api: report: URL %d has %d bytes, at most %d", i, len(u), maxReportURLBytes)
		}
	}
	return nil
}

// parseURLFilterReport decodes Apple's `message URLFilterReport { repeated
// string urls = 1; }` (proto3, Sources/PIRService/protobuf/URLFilterReport.proto).
// Unknown fields are skipped, as protobuf parsers do; strings must be UTF-8.
func parseURLFilterReport(b []byte) ([]string, error) {
	var urls []string
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("api: report: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, fmt.Errorf("api: report: %w", protowire.ParseError(n))
			}
			if !utf8.Valid(v) {
				return nil, errors.New("api: report: URL is not valid UTF-8")
			}
			if len(urls) == maxReportURLs {
				return nil, fmt.Errorf("api: report: more than %d URLs", maxReportURLs)
			}
			urls = append(urls, string(v))
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return nil, fmt.Errorf("api: report: %w", protowire.ParseError(n))
		}
		b = b[n:]
	}
	return urls, nil
}

// reportText renders URLFilterReportWithMetadata in protobuf text format:
//
//	user_agent: "..."
//	received_at { seconds: ... nanos: ... }
//	report { urls: "..." ... }
func reportText(userAgent string, at time.Time, urls []string) []byte {
	var b strings.Builder
	if userAgent != "" {
		fmt.Fprintf(&b, "user_agent: %s\n", textString(userAgent))
	}
	fmt.Fprintf(&b, "received_at {\n  seconds: %d\n", at.Unix())
	if ns := at.Nanosecond(); ns != 0 {
		fmt.Fprintf(&b, "  nanos: %d\n", ns)
	}
	b.WriteString("}\nreport {\n")
	for _, u := range urls {
		fmt.Fprintf(&b, "  urls: %s\n", textString(u))
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// textString quotes s as a protobuf text-format string: printable ASCII and
// UTF-8 as is, '"' and '\\' escaped, other bytes as three-digit octal.
//
// Validity is decided once for the whole string: s comes from the request
// (User-Agent, URLs) and may be megabytes long, so checking it per byte
// would make the work quadratic in attacker-chosen input.
func textString(s string) string {
	valid := utf8.ValidString(s)
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c < 0x20 || c == 0x7f:
			b.WriteString(`\` + fmt.Sprintf("%03o", c))
		case c >= 0x80 && !valid:
			b.WriteString(`\` + fmt.Sprintf("%03o", c))
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// reportFileMode is the permission of stored reports: they hold the URLs
// users flagged, readable by the service's user only.
const reportFileMode = 0o600

// writeFileDurably writes data to a new random-named .txtpb file in dir
// through [atomicfile.WriteBytes] (temporary file, fsync, rename, fsync of
// the directory), so a report that was acknowledged survives a crash and a
// reader globbing *.txtpb never sees a partial one.
func writeFileDurably(dir string, data []byte) error {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, hex.EncodeToString(id[:])+".txtpb"), reportFileMode, data)
}
