package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/blindlist/blindlist/bloom"
	"github.com/blindlist/blindlist/e2e"
	"github.com/blindlist/blindlist/generation"
	"github.com/blindlist/blindlist/ohttp"
)

const queryUsage = `Usage: blindlist query --service URL --usecase NAME --token-file FILE [flags] URL...

Play an Apple device running NEURLFilter against a deployment, for each visited URL:
  1. derive the sub-URLs the device tests (scheme and www. dropped, parent domains, ports, path prefixes);
  2. test them against the prefilter (--prefilter); only "maybe" answers go further;
  3. fetch Privacy Pass tokens from the issuer with the user's bearer token;
  4. POST /config, upload an evaluation key to /key, then send one encrypted PIR query per
     candidate to /queries: directly, or through an OHTTP relay and gateway (--relay, --gateway);
  5. decrypt the answers and print the verdict (deny when any candidate is in the database)
     with the time each step took.
For a symmetric-PIR usecase (its config carries symmetric_pir_client_config) step 4 starts with
one OPRF call: every candidate is blinded, the service's evaluations are checked against its
public key (a wrong proof fails the lookup), and the PIR queries ask for the oblivious keywords;
values found are decrypted.
Run it from outside your network before onboarding with Apple (docs/onboarding.md §7).

Flags:
  --service URL      PIR service base URL, e.g. https://service.example.net (required)
  --issuer URL       Privacy Pass issuer base URL (default: --service)
  --usecase NAME     usecase: <app bundle id>.url.filtering (required)
  --token-file FILE  file holding the user bearer token (pirAuthenticationToken)
  --no-tokens        send no Privacy Pass token (a service with Privacy Pass disabled)
  --prefilter DIR    directory with prefilter.json + prefilter.bin from 'blindlist build';
                     without it every sub-URL is looked up
  --gateway URL      OHTTP gateway base URL: its key configuration is read from URL/ohttp-keys
                     and every call but the issuer directory is encapsulated to it
  --relay URL        relay resource to POST encapsulated requests to (default: URL/gateway of
                     --gateway, i.e. no relay)
  --directory URL    fetch the issuer directory from this base URL instead of --issuer (devices
                     fetch it directly, outside the relay; use this when the issuer's name does
                     not resolve here, e.g. the compose stack)
  --timeout D        overall time limit (default 2m)
  --json             print one JSON object per URL on stdout

Examples:
  blindlist query --service https://service.example.net --issuer https://issuer.example.net \
    --gateway https://gateway.example.net --usecase com.example.app.url.filtering \
    --token-file apple-bearer-token.txt --prefilter out/ https://www.apple.com/url-filter-test
  blindlist query --service http://127.0.0.1:8080 --usecase com.example.app.url.filtering \
    --token-file out/state/user-tokens https://ads.example.com/banner.js
`

func runQuery(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	service := fs.String("service", "", "")
	issuer := fs.String("issuer", "", "")
	usecase := fs.String("usecase", "", "")
	tokenFile := fs.String("token-file", "", "")
	noTokens := fs.Bool("no-tokens", false, "")
	prefilter := fs.String("prefilter", "", "")
	gateway := fs.String("gateway", "", "")
	relay := fs.String("relay", "", "")
	directory := fs.String("directory", "", "")
	timeout := fs.Duration("timeout", 2*time.Minute, "")
	asJSON := fs.Bool("json", false, "")
	urls, code, ok := parseArgs(e, fs, queryUsage, args)
	if !ok {
		return code
	}
	switch {
	case len(urls) == 0:
		return e.usagef("query", "no URL given")
	case *service == "":
		return e.usagef("query", "no service: give --service URL")
	case *usecase == "":
		return e.usagef("query", "no usecase: give --usecase NAME")
	case *tokenFile == "" && !*noTokens:
		return e.usagef("query", "no user token: give --token-file FILE (or --no-tokens)")
	case *relay != "" && *gateway == "":
		return e.usagef("query", "--relay needs --gateway (the key configuration comes from the gateway)")
	case *timeout <= 0:
		return e.usagef("query", "--timeout must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	dev := &e2e.Device{
		Service:      strings.TrimSuffix(*service, "/"),
		Issuer:       strings.TrimSuffix(*issuer, "/"),
		Usecase:      *usecase,
		NoTokens:     *noTokens,
		Client:       &http.Client{Timeout: *timeout},
		DirectoryURL: strings.TrimSuffix(*directory, "/"),
	}
	if *tokenFile != "" {
		tok, err := readUserToken(*tokenFile)
		if err != nil {
			return e.errorf("%v", err)
		}
		dev.UserToken = tok
	}
	if *prefilter != "" {
		gdir, err := generation.Resolve(*prefilter) // a build's current generation
		if err != nil {
			return e.errorf("%v", err)
		}
		f, err := bloom.ReadDir(gdir)
		if err != nil {
			return e.errorf("reading the prefilter: %v", err)
		}
		dev.Prefilter = f
	}
	if *gateway != "" {
		gw := strings.TrimSuffix(*gateway, "/")
		kc, err := fetchKeyConfig(ctx, gw+ohttp.KeysPath)
		if err != nil {
			return e.errorf("%v", err)
		}
		rl := *relay
		if rl == "" {
			rl = gw + ohttp.GatewayPath
		}
		// The directory is fetched outside the relay, as devices do.
		dev.DirectoryClient = dev.Client
		dev.Client = &http.Client{Timeout: *timeout, Transport: &ohttp.Client{RelayURL: rl, KeyConfig: kc}}
	}

	failed := false
	for _, u := range urls {
		v, err := dev.Check(ctx, u)
		if err != nil {
			e.errorf("%s: %v", u, err)
			var se *e2e.StatusError
			var ose *ohttp.StatusError
			switch {
			case errors.As(err, &ose) && ose.StaleKeyConfig():
				e.hintf("the gateway's key configuration changed since %s%s was read, or the relay forwards to another gateway; run the command again", *gateway, ohttp.KeysPath)
			case errors.As(err, &se) && se.Status == http.StatusUnauthorized:
				e.hintf("check the user token (--token-file) and that the issuer keys did not change")
			}
			failed = true
			continue
		}
		if *asJSON {
			if err := writeVerdictJSON(e.stdout, v); err != nil {
				return e.errorf("%v", err)
			}
			continue
		}
		printVerdict(e.stdout, v)
	}
	if failed {
		return 1
	}
	return 0
}

// readUserToken reads the first non-empty, non-comment line of path.
func readUserToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the user token: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return l, nil
		}
	}
	return "", fmt.Errorf("no user token in %s", path)
}

// fetchKeyConfig reads the gateway's application/ohttp-keys and returns its
// first configuration the client can use.
func fetchKeyConfig(ctx context.Context, keysURL string) (ohttp.KeyConfig, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, keysURL, nil)
	if err != nil {
		return ohttp.KeyConfig{}, fmt.Errorf("gateway key configuration: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ohttp.KeyConfig{}, fmt.Errorf("gateway key configuration: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return ohttp.KeyConfig{}, fmt.Errorf("gateway key configuration: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return ohttp.KeyConfig{}, fmt.Errorf("gateway key configuration: %s: status %d", keysURL, resp.StatusCode)
	}
	kcs, err := ohttp.ParseKeyConfigs(body)
	if err != nil {
		return ohttp.KeyConfig{}, fmt.Errorf("gateway key configuration: %w", err)
	}
	kc, err := ohttp.SelectKeyConfig(kcs)
	if err != nil {
		return ohttp.KeyConfig{}, fmt.Errorf("gateway key configuration: %w", err)
	}
	return kc, nil
}

// printVerdict writes one verdict as a few human lines.
func printVerdict(w io.Writer, v *e2e.Verdict) {
	switch {
	case v.Blocked:
		fmt.Fprintf(w, "%s: deny (matched %s)\n", v.URL, strings.Join(v.Matched, ", "))
	case len(v.Candidates) == 0:
		fmt.Fprintf(w, "%s: allow (prefilter: none of %d sub-URLs may be listed; no network)\n", v.URL, v.SubURLs)
	default:
		fmt.Fprintf(w, "%s: allow (%d of %d sub-URLs looked up, none listed)\n", v.URL, len(v.Candidates), v.SubURLs)
	}
	tm := v.Timings
	steps := []string{"prefilter " + round(tm.Prefilter).String()}
	if round(tm.Tokens) > 0 {
		steps = append(steps, "tokens "+round(tm.Tokens).String())
	}
	if tm.Config > 0 {
		steps = append(steps, "config "+round(tm.Config).String())
	}
	if tm.KeyUpload > 0 {
		steps = append(steps, fmt.Sprintf("key upload %s (%s)", round(tm.KeyUpload), kb(v.Sizes.KeyBytes)))
	}
	if len(v.Candidates) > 0 {
		steps = append(steps, fmt.Sprintf("query %s (%s up, %s down)", round(tm.Query), kb(v.Sizes.QueryBytes), kb(v.Sizes.ResponseBytes)))
	}
	steps = append(steps, "total "+round(tm.Total).String())
	fmt.Fprintf(w, "  %s\n", strings.Join(steps, ", "))
}

// verdictJSON is the --json form of a verdict. Durations are milliseconds.
type verdictJSON struct {
	URL           string   `json:"url"`
	Verdict       string   `json:"verdict"`
	SubURLs       int      `json:"sub_urls"`
	Candidates    []string `json:"candidates"`
	Matched       []string `json:"matched"`
	PrefilterMS   float64  `json:"prefilter_ms"`
	TokensMS      float64  `json:"tokens_ms"`
	ConfigMS      float64  `json:"config_ms"`
	KeyUploadMS   float64  `json:"key_upload_ms"`
	QueryMS       float64  `json:"query_ms"`
	TotalMS       float64  `json:"total_ms"`
	KeyBytes      int      `json:"key_bytes"`
	QueryBytes    int      `json:"query_bytes"`
	ResponseBytes int      `json:"response_bytes"`
}

func writeVerdictJSON(w io.Writer, v *e2e.Verdict) error {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	out := verdictJSON{
		URL: v.URL, Verdict: "allow", SubURLs: v.SubURLs,
		Candidates: nonNil(v.Candidates), Matched: nonNil(v.Matched),
		PrefilterMS: ms(v.Timings.Prefilter), TokensMS: ms(v.Timings.Tokens), ConfigMS: ms(v.Timings.Config),
		KeyUploadMS: ms(v.Timings.KeyUpload), QueryMS: ms(v.Timings.Query), TotalMS: ms(v.Timings.Total),
		KeyBytes: v.Sizes.KeyBytes, QueryBytes: v.Sizes.QueryBytes, ResponseBytes: v.Sizes.ResponseBytes,
	}
	if v.Blocked {
		out.Verdict = "deny"
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func kb(n int) string { return fmt.Sprintf("%.1f KB", float64(n)/1000) }
