package main

import (
	"context"
	"flag"

	"github.com/blindlist/blindlist/ohttp"
)

const relayUsage = `Usage: blindlist relay --gateway URL [--listen ADDR]

Run an Oblivious HTTP relay for local end-to-end tests (in production Apple
runs the relay). It accepts POSTed message/ohttp-req bodies at any path and
forwards each to the gateway in a fresh request that carries only the
Content-Type and the body: no client header and no client address. The
gateway's answer comes back with its status, Content-Type and body only.

Flags:
  --gateway URL            the gateway resource, e.g. http://127.0.0.1:8080/gateway (required)
  --listen ADDR            listen address (default ":8079")
  --max-request-bytes N    cap on request bodies (default 16777216)
  --max-response-bytes N   cap on gateway responses (default 16777216)

Example:
  blindlist relay --gateway http://127.0.0.1:8080/gateway --listen 127.0.0.1:8079
`

func runRelay(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	gateway := fs.String("gateway", "", "")
	listen := fs.String("listen", ":8079", "")
	maxReq := fs.Int64("max-request-bytes", ohttp.DefaultMaxRequestBytes, "")
	maxResp := fs.Int64("max-response-bytes", ohttp.DefaultMaxResponseBytes, "")
	pos, code, ok := parseArgs(e, fs, relayUsage, args)
	if !ok {
		return code
	}
	if code, ok := e.noArgs("relay", pos); !ok {
		return code
	}
	if *gateway == "" {
		return e.usagef("relay", "no gateway: give --gateway URL, e.g. http://127.0.0.1:8080%s", ohttp.GatewayPath)
	}
	if *maxReq <= 0 || *maxResp <= 0 {
		return e.usagef("relay", "size caps must be positive")
	}
	relay, err := ohttp.NewRelay(ohttp.RelayConfig{GatewayURL: *gateway, MaxRequestBytes: *maxReq, MaxResponseBytes: *maxResp})
	if err != nil {
		return e.errorf("%v", err)
	}
	if err := serve(ctx, e, []namedServer{{"relay", *listen, newServer(relay.Handler(), e.stderr), nil}}, drainPlan{}); err != nil {
		return e.errorf("%v", err)
	}
	return 0
}
