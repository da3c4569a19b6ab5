package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"

	"github.com/blindlist/blindlist/pir"
	"github.com/blindlist/blindlist/pir/oprf"
	"github.com/blindlist/blindlist/pir/pb/apipb"
	"github.com/blindlist/blindlist/pir/pb/hepb"
)

const pirDecryptUsage = `Usage: blindlist pir decrypt --config FILE --usecase NAME --secret-key FILE --responses FILE [--] KEYWORD...

Plays the device: decrypts the Responses with the secret key and looks each keyword up in its
two buckets. The N keywords correspond to the N responses, in order. Prints one line per
keyword to stdout: 'present <value as lowercase hex>' or 'absent'. A keyword may be empty.
For a symmetric-PIR usecase give the --oprf-state and --oprf-responses files 'blindlist pir
query' used: each value is then decrypted with its keyword's OPRF output (a value that does not
decrypt is an error).

Flags:
  --config FILE      ConfigResponse the requests were built from
  --usecase NAME     usecase of the requests
  --secret-key FILE  SerializedSecretKey (from 'blindlist pir query' or a device test harness)
  --responses FILE   Responses (a /queries answer)
  --oprf-state FILE  symmetric PIR: the OPRF seed file of 'blindlist pir query'
  --oprf-responses FILE
                     symmetric PIR: the Responses to the OPRF Requests

Example:
  blindlist pir decrypt --config config.binpb --usecase com.example.app.url.filtering \
    --secret-key sk.binpb --responses responses.binpb -- example.com
`

func runPIRDecrypt(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pir decrypt", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "")
	usecase := fs.String("usecase", "", "")
	skPath := fs.String("secret-key", "", "")
	respPath := fs.String("responses", "", "")
	oprfState := fs.String("oprf-state", "", "")
	oprfResps := fs.String("oprf-responses", "", "")
	keywords, code, ok := parseArgs(e, fs, pirDecryptUsage, args)
	if !ok {
		return code
	}
	if err := requireFlags([2]string{"config", *cfgPath}, [2]string{"usecase", *usecase}, [2]string{"secret-key", *skPath},
		[2]string{"responses", *respPath}); err != nil {
		return e.usagef("pir decrypt", "%v", err)
	}
	cc, err := readClientConfig(*cfgPath, *usecase)
	if err != nil {
		return e.errorf("%v", err)
	}
	sk := &hepb.SerializedSecretKey{}
	if err := readProto(*skPath, "SerializedSecretKey", sk); err != nil {
		return e.errorf("%v", err)
	}
	c, err := pir.NewClientWithSecretKey(cc, sk)
	if err != nil {
		return e.errorf("%v", err)
	}
	resps := &apipb.Responses{}
	if err := readProto(*respPath, "Responses", resps); err != nil {
		return e.errorf("%v", err)
	}
	if len(resps.GetResponses()) != len(keywords) {
		return e.errorf("%d keywords for %d responses; give one keyword per response, in order", len(keywords), len(resps.GetResponses()))
	}
	var outs []*oprf.Output
	switch {
	case cc.Symmetric != nil:
		if outs, err = oprfOutputs(c, *oprfState, *oprfResps, keywords); err != nil {
			return e.errorf("%v", err)
		}
	case *oprfState != "" || *oprfResps != "":
		return e.errorf("--oprf-state and --oprf-responses are for symmetric-PIR usecases; %s is plain keyword PIR", *usecase)
	}
	lines := make([]string, len(keywords))
	for i, kw := range keywords {
		if err := ctx.Err(); err != nil {
			return e.errorf("%v", err)
		}
		r := resps.GetResponses()[i].GetPirResponse()
		if r == nil {
			return e.errorf("response %d is not a PIR response", i)
		}
		lookup := []byte(kw)
		if outs != nil {
			lookup = outs[i].ObliviousKeyword()
		}
		q := c.QueryFor(lookup)
		v, found, err := c.Decrypt(q, r)
		if err != nil {
			return e.errorf("response %d: %v", i, err)
		}
		if found && outs != nil {
			if v, err = outs[i].Decrypt(v); err != nil {
				return e.errorf("response %d: symmetric PIR value: %v", i, err)
			}
		}
		lines[i] = "absent"
		if found {
			lines[i] = "present " + hex.EncodeToString(v)
		}
	}
	for _, l := range lines {
		fmt.Fprintln(e.stdout, l)
	}
	return 0
}
