package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

const probeUsage = `Usage: blindlist probe [--timeout D] URL

GET URL once and exit 0 when it answers 2xx, 1 otherwise (one error line). It
is the health check of images that have no shell and no curl (deploy/'s
FROM scratch image): Docker and compose run it inside the container, e.g.

  healthcheck:
    test: ["CMD", "/usr/local/bin/blindlist", "probe", "http://127.0.0.1:9090/readyz"]

Kubernetes probes the same endpoints itself (httpGet) and does not need it.
Only http:// URLs are accepted, and redirects are not followed.

Flags:
  --timeout D   give up after D (default 2s)

Examples:
  blindlist probe http://127.0.0.1:9090/readyz
  blindlist probe --timeout 1s http://127.0.0.1:8080/healthz
`

func runProbe(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 2*time.Second, "")
	pos, code, ok := parseArgs(e, fs, probeUsage, args)
	if !ok {
		return code
	}
	if len(pos) != 1 || *timeout <= 0 {
		fmt.Fprint(e.stderr, probeUsage)
		return 2
	}
	u, err := url.Parse(pos[0])
	if err != nil || u.Scheme != "http" || u.Host == "" {
		fmt.Fprint(e.stderr, probeUsage)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return e.errorf("probe: %v", err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return e.errorf("probe: %v", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return e.errorf("probe: %s answered %s", u.Redacted(), resp.Status)
	}
	return 0
}
