package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"time"

	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

const pirQueryUsage = `Usage: blindlist pir query --config FILE --usecase NAME --out-requests FILE --out-keys FILE --out-secret-key FILE [--] KEYWORD...

Plays the device: from the ConfigResponse alone, generates a secret key and the evaluation keys
for the usecase's key config, routes every keyword to its shard with the config's sharding
function, and writes what the device sends and keeps, all binary protobuf:
the Requests (/queries body, one request per keyword, in order), the EvaluationKeys (/key body,
identifier = evaluation_key_config_hash) and the SerializedSecretKey. A keyword may be empty.

Symmetric PIR (the config carries symmetric_pir_client_config): a lookup is two /queries calls.
  1. Run with --oprf-state FILE (created, 0600: a secret seed the blinds derive from) and
     --out-requests only: writes the OPRF Requests (one blinded keyword each).
  2. POST them to /queries, save the Responses, and run again with the same --oprf-state and
     --oprf-responses FILE: the proofs are verified against the server's public key, and the
     PIR Requests are built for the keywords' oblivious keywords. 'blindlist pir decrypt' needs
     both files too, to open the values.

Flags:
  --config FILE          ConfigResponse (e.g. from 'blindlist pir config' or a /config answer)
  --usecase NAME         usecase to query
  --out-requests FILE    Requests output
  --out-keys FILE        EvaluationKeys output
  --out-secret-key FILE  SerializedSecretKey output (a secret: keep it private)
  --timestamp N          key metadata timestamp, Unix seconds (default now)
  --oprf-state FILE      symmetric PIR: the OPRF seed file (written by step 1, read by step 2)
  --oprf-responses FILE  symmetric PIR: the Responses to the OPRF Requests (step 2)

Example:
  blindlist pir query --config config.binpb --usecase com.example.app.url.filtering \
    --out-requests requests.binpb --out-keys keys.binpb --out-secret-key sk.binpb -- example.com
`

func runPIRQuery(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pir query", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "")
	usecase := fs.String("usecase", "", "")
	outReq := fs.String("out-requests", "", "")
	outKeys := fs.String("out-keys", "", "")
	outSK := fs.String("out-secret-key", "", "")
	ts := fs.Uint64("timestamp", uint64(time.Now().Unix()), "")
	oprfState := fs.String("oprf-state", "", "")
	oprfResps := fs.String("oprf-responses", "", "")
	keywords, code, ok := parseArgs(e, fs, pirQueryUsage, args)
	if !ok {
		return code
	}
	if err := requireFlags([2]string{"config", *cfgPath}, [2]string{"usecase", *usecase}, [2]string{"out-requests", *outReq}); err != nil {
		return e.usagef("pir query", "%v", err)
	}
	if len(keywords) == 0 {
		return e.usagef("pir query", "no keywords given")
	}
	cc, err := readClientConfig(*cfgPath, *usecase)
	if err != nil {
		return e.errorf("%v", err)
	}
	c, err := pir.NewClient(cc, rand.Reader)
	if err != nil {
		return e.errorf("%v", err)
	}
	switch {
	case cc.Symmetric == nil && (*oprfState != "" || *oprfResps != ""):
		return e.errorf("--oprf-state and --oprf-responses are for symmetric-PIR usecases; %s is plain keyword PIR", *usecase)
	case cc.Symmetric != nil && *oprfState == "":
		return e.errorf("%s is a symmetric-PIR usecase: give --oprf-state FILE (see the usage)", *usecase)
	case cc.Symmetric != nil && *oprfResps == "":
		// Step 1: the OPRF requests.
		seed, err := newOPRFState(*oprfState)
		if err != nil {
			return e.errorf("%v", err)
		}
		_, oreqs, err := oprfQueries(c, seed, keywords)
		if err != nil {
			return e.errorf("%v", err)
		}
		reqs := &apipb.Requests{}
		for _, r := range oreqs {
			reqs.Requests = append(reqs.Requests, &apipb.Request{Usecase: *usecase, Request: &apipb.Request_OprfRequest{OprfRequest: r}})
		}
		if err := writeProto(*outReq, reqs); err != nil {
			return e.errorf("%v", err)
		}
		fmt.Fprintf(e.stderr, "blindlist: wrote %d OPRF requests; POST them to /queries and run again with --oprf-responses\n", len(oreqs))
		return 0
	}
	if err := requireFlags([2]string{"out-keys", *outKeys}, [2]string{"out-secret-key", *outSK}); err != nil {
		return e.usagef("pir query", "%v", err)
	}
	lookupKeys := make([][]byte, len(keywords))
	for i, kw := range keywords {
		lookupKeys[i] = []byte(kw)
	}
	if cc.Symmetric != nil {
		outs, err := oprfOutputs(c, *oprfState, *oprfResps, keywords)
		if err != nil {
			return e.errorf("%v", err)
		}
		for i, o := range outs {
			lookupKeys[i] = o.ObliviousKeyword()
		}
	}
	key, err := c.EvaluationKey(*ts, rand.Reader)
	if err != nil {
		return e.errorf("%v", err)
	}
	reqs := &apipb.Requests{}
	for _, kw := range lookupKeys {
		if err := ctx.Err(); err != nil {
			return e.errorf("%v", err)
		}
		_, req, err := c.NewQuery(kw, key.GetMetadata(), rand.Reader)
		if err != nil {
			return e.errorf("%v", err)
		}
		reqs.Requests = append(reqs.Requests, &apipb.Request{Usecase: *usecase, Request: &apipb.Request_PirRequest{PirRequest: req}})
	}
	if err := writeSecretProto(*outSK, c.SecretKey()); err != nil {
		return e.errorf("%v", err)
	}
	if err := writeProto(*outKeys, &apipb.EvaluationKeys{Keys: []*apipb.EvaluationKey{key}}); err != nil {
		return e.errorf("%v", err)
	}
	if err := writeProto(*outReq, reqs); err != nil {
		return e.errorf("%v", err)
	}
	return 0
}

// readClientConfig reads a ConfigResponse file and extracts usecase.
func readClientConfig(path, usecase string) (*pir.ClientConfig, error) {
	resp := &apipb.ConfigResponse{}
	if err := readProto(path, "ConfigResponse", resp); err != nil {
		return nil, err
	}
	cc, err := pir.ClientConfigFromResponse(resp, usecase)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cc, nil
}
