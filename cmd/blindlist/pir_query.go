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

Flags:
  --config FILE          ConfigResponse (e.g. from 'blindlist pir config' or a /config answer)
  --usecase NAME         usecase to query
  --out-requests FILE    Requests output
  --out-keys FILE        EvaluationKeys output
  --out-secret-key FILE  SerializedSecretKey output (a secret: keep it private)
  --timestamp N          key metadata timestamp, Unix seconds (default now)

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
	keywords, code, ok := parseArgs(e, fs, pirQueryUsage, args)
	if !ok {
		return code
	}
	if err := requireFlags([2]string{"config", *cfgPath}, [2]string{"usecase", *usecase}, [2]string{"out-requests", *outReq},
		[2]string{"out-keys", *outKeys}, [2]string{"out-secret-key", *outSK}); err != nil {
		return e.errorf("%v", err)
	}
	if len(keywords) == 0 {
		return e.errorf("no keywords given")
	}
	cc, err := readClientConfig(*cfgPath, *usecase)
	if err != nil {
		return e.errorf("%v", err)
	}
	c, err := pir.NewClient(cc, rand.Reader)
	if err != nil {
		return e.errorf("%v", err)
	}
	key, err := c.EvaluationKey(*ts, rand.Reader)
	if err != nil {
		return e.errorf("%v", err)
	}
	reqs := &apipb.Requests{}
	for _, kw := range keywords {
		if err := ctx.Err(); err != nil {
			return e.errorf("%v", err)
		}
		_, req, err := c.NewQuery([]byte(kw), key.GetMetadata(), rand.Reader)
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
