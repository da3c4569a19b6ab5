package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/oprf"
	"github.com/blindlist/blindlist/pir/pb/apipb"
)

const pirAnswerUsage = `Usage: blindlist pir answer --db DIR [--stem url] --keys FILE --requests FILE --out FILE

Plays the server: answers every PIR request of the Requests (a /queries body) over the processed
shards DIR/<stem>-<N>.bin + .params.txtpb, with the evaluation key of the EvaluationKeys (the
device's /key upload) whose identifier the request names (or the request's inline key), and
writes the Responses the service returns, in request order. The time per request goes to stderr.
OPRF requests (symmetric PIR) are answered with the key of --symmetric-key; they need no
evaluation key, so --keys may be omitted when every request is one.

Flags:
  --db DIR          directory of the processed shards
  --stem NAME       file stem of the shards (default url)
  --keys FILE       EvaluationKeys
  --symmetric-key FILE
                    symmetric-PIR key the shards were processed with (Apple's hex key file)
  --requests FILE   Requests
  --out FILE        Responses output
  --workers N       goroutines per answer (default: all cores)

Example:
  blindlist pir answer --db shards --keys keys.binpb --requests requests.binpb --out responses.binpb
`

func runPIRAnswer(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pir answer", flag.ContinueOnError)
	db := fs.String("db", "", "")
	stem := fs.String("stem", "url", "")
	keysPath := fs.String("keys", "", "")
	reqPath := fs.String("requests", "", "")
	out := fs.String("out", "", "")
	workers := fs.Int("workers", 0, "")
	symKeyPath := fs.String("symmetric-key", "", "")
	pos, code, ok := parseArgs(e, fs, pirAnswerUsage, args)
	if !ok {
		return code
	}
	if code, ok := e.noArgs("pir answer", pos); !ok {
		return code
	}
	if err := requireFlags([2]string{"db", *db}, [2]string{"requests", *reqPath}, [2]string{"out", *out}); err != nil {
		return e.usagef("pir answer", "%v", err)
	}
	keys := &apipb.EvaluationKeys{}
	if *keysPath != "" {
		if err := readProto(*keysPath, "EvaluationKeys", keys); err != nil {
			return e.errorf("%v", err)
		}
	}
	opts := pir.ServerOptions{Workers: *workers}
	if *symKeyPath != "" {
		k, err := oprf.ReadKeyFile(*symKeyPath)
		if err != nil {
			return e.errorf("--symmetric-key: %v", err)
		}
		opts.SymmetricKey = k
	}
	reqs := &apipb.Requests{}
	if err := readProto(*reqPath, "Requests", reqs); err != nil {
		return e.errorf("%v", err)
	}
	if len(reqs.GetRequests()) == 0 {
		return e.errorf("%s holds no requests", *reqPath)
	}
	dbs, err := pir.LoadShards(ctx, *db, *stem)
	if err != nil {
		return e.errorf("%v", err)
	}
	s, err := pir.NewServer(dbs, opts)
	if err != nil {
		return e.errorf("%v", err)
	}
	wantID := string(s.Config().KeyConfigHash)
	parsed := map[string]*pir.EvaluationKey{}
	keyFor := func(k *apipb.EvaluationKey) (*pir.EvaluationKey, error) {
		id := string(k.GetMetadata().GetIdentifier())
		if id != wantID {
			return nil, fmt.Errorf("evaluation key %x was made for another config (this one's key config hash is %x)", id, wantID)
		}
		if pk, ok := parsed[id]; ok {
			return pk, nil
		}
		pk, err := s.ParseEvaluationKey(k.GetEvaluationKey())
		if err != nil {
			return nil, err
		}
		parsed[id] = pk
		return pk, nil
	}
	stored := map[string]*apipb.EvaluationKey{}
	for _, k := range keys.GetKeys() {
		stored[string(k.GetMetadata().GetIdentifier())] = k
	}
	resps := &apipb.Responses{}
	for i, r := range reqs.GetRequests() {
		if or := r.GetOprfRequest(); or != nil {
			resp, err := s.EvaluateOPRF(or)
			if err != nil {
				code := e.errorf("request %d: %v", i, err)
				if errors.Is(err, pir.ErrSymmetricNotConfigured) {
					e.hintf("give the shards' key with --symmetric-key")
				}
				return code
			}
			resps.Responses = append(resps.Responses, &apipb.Response{Response: &apipb.Response_OprfResponse{OprfResponse: resp}})
			continue
		}
		pr := r.GetPirRequest()
		if pr == nil {
			return e.errorf("request %d is not a PIR or OPRF request", i)
		}
		var k *apipb.EvaluationKey
		if pr.EvaluationKey != nil {
			k = pr.GetEvaluationKey()
		} else if k = stored[string(pr.GetEvaluationKeyMetadata().GetIdentifier())]; k == nil {
			return e.errorf("request %d: evaluation key %x not found (--keys %q)", i, pr.GetEvaluationKeyMetadata().GetIdentifier(), *keysPath)
		}
		key, err := keyFor(k)
		if err != nil {
			return e.errorf("request %d: %v", i, err)
		}
		start := time.Now()
		resp, err := s.Answer(ctx, pr, key)
		if err != nil {
			return e.errorf("request %d: %v", i, err)
		}
		fmt.Fprintf(e.stderr, "blindlist: request %d answered in %.1f ms\n", i, float64(time.Since(start).Microseconds())/1000)
		resps.Responses = append(resps.Responses, &apipb.Response{Response: &apipb.Response_PirResponse{PirResponse: resp}})
	}
	if err := writeProto(*out, resps); err != nil {
		return e.errorf("%v", err)
	}
	return 0
}
