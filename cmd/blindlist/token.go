package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/internal/store"
)

const tokenUsage = `Usage: blindlist token <command> [flags]

Privacy Pass (RFC 9578 token type 2) tools for the issuer key, as Apple's example service does it:

  keygen   write a new issuer key (RSA-2048, e = 65537, PKCS #8 PEM)
  key      write the token key (SPKI bytes) or print the issuer directory JSON
  issue    answer a token request (the body of POST /issue) with a token response
  verify   check a token or an Authorization header value; prints "valid" or "invalid: <reason>"

Run 'blindlist token <command> -h' for a command's flags.

Examples:
  blindlist token keygen --out issuer.pem
  blindlist token key --key issuer.pem --out token_key.der
  blindlist token key --key issuer.pem --directory
  blindlist token issue --key issuer.pem --request token_request.bin --out token_response.bin
  blindlist token verify --key issuer.pem 'PrivateToken token=AAJ7GLE9...'
  blindlist token verify --key issuer.pem --spent-db spent.db token.bin
`

// tokenCommands are the token subcommands.
var tokenCommands = map[string]func(ctx context.Context, e *env, args []string) int{
	"keygen": runTokenKeygen,
	"key":    runTokenKey,
	"issue":  runTokenIssue,
	"verify": runTokenVerify,
}

func runToken(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		return e.usagef("token", "no command given (one of keygen, key, issue, verify)")
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, tokenUsage)
		return 0
	}
	run, ok := tokenCommands[args[0]]
	if !ok {
		return e.usagef("token", "unknown command %q", args[0])
	}
	return run(ctx, e, args[1:])
}

// loadIssuerKey reads the --key file.
func loadIssuerKey(path string) (*privacypass.PrivateKey, error) {
	if path == "" {
		return nil, errors.New("--key is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := privacypass.ParsePrivateKeyPEM(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// writeOut writes b to path, or to stdout when path is empty.
func writeOut(e *env, path string, b []byte, mode os.FileMode) error {
	if path == "" {
		_, err := e.stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, mode)
}

const tokenKeygenUsage = `Usage: blindlist token keygen --out FILE

Writes a new issuer key: RSA-2048, e = 65537, PKCS #8 PEM, mode 0600. Refuses to overwrite a file.

Flags:
  --out FILE   file to write the PEM key to (required)

Example:
  blindlist token keygen --out issuer.pem
`

func runTokenKeygen(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("token keygen", flag.ContinueOnError)
	out := fs.String("out", "", "")
	pos, code, ok := parseArgs(e, fs, tokenKeygenUsage, args)
	if !ok {
		return code
	}
	if code, ok := e.noArgs(fs.Name(), pos); !ok {
		return code
	}
	if *out == "" {
		return e.usagef(fs.Name(), "--out FILE is required")
	}
	k, err := privacypass.GenerateKey()
	if err != nil {
		return e.errorf("%v", err)
	}
	pemBytes, err := k.MarshalPEM()
	if err != nil {
		return e.errorf("%v", err)
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return e.errorf("%v", err)
	}
	if _, err := f.Write(pemBytes); err != nil {
		f.Close()
		return e.errorf("writing %s: %v", *out, err)
	}
	if err := f.Close(); err != nil {
		return e.errorf("writing %s: %v", *out, err)
	}
	id := k.Public().ID()
	fmt.Fprintf(e.stderr, "blindlist: wrote %s (token key id %x, truncated %d)\n", *out, id, k.Public().TruncatedID())
	return 0
}

const tokenKeyUsage = `Usage: blindlist token key --key PEM [--out FILE] [--directory]

Writes the token key as devices fetch it from /token-key-for-user-token: the SubjectPublicKeyInfo with the
id-RSASSA-PSS OID and SHA-384 / MGF1-SHA-384 / salt-48 parameters. With --directory, prints the body of
/.well-known/private-token-issuer-directory instead. Output goes to stdout unless --out is given.

Flags:
  --key PEM       issuer key, PKCS #1 or PKCS #8 PEM (required)
  --out FILE      file to write to (default stdout)
  --directory     print the issuer directory JSON instead of the SPKI bytes

Examples:
  blindlist token key --key issuer.pem --out token_key.der
  blindlist token key --key issuer.pem --directory
`

func runTokenKey(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("token key", flag.ContinueOnError)
	keyPath := fs.String("key", "", "")
	out := fs.String("out", "", "")
	directory := fs.Bool("directory", false, "")
	pos, code, ok := parseArgs(e, fs, tokenKeyUsage, args)
	if !ok {
		return code
	}
	if code, ok := e.noArgs(fs.Name(), pos); !ok {
		return code
	}
	if *keyPath == "" {
		return e.usagef(fs.Name(), "--key PEM is required")
	}
	k, err := loadIssuerKey(*keyPath)
	if err != nil {
		return e.errorf("%v", err)
	}
	b := k.Public().SPKI()
	if *directory {
		b = privacypass.MarshalDirectory(privacypass.IssuerRequestURI, []privacypass.DirectoryKey{{Key: k.Public()}})
		if *out == "" {
			b = append(b, '\n')
		}
	}
	if err := writeOut(e, *out, b, 0o644); err != nil {
		return e.errorf("%v", err)
	}
	return 0
}

const tokenIssueUsage = `Usage: blindlist token issue --key PEM --request FILE --out FILE

Answers a token request (259 bytes, the body of POST /issue) with the 256-byte token response, exactly as
the issuer does. The answer is deterministic.

Flags:
  --key PEM        issuer key, PKCS #1 or PKCS #8 PEM (required)
  --request FILE   token request file (required)
  --out FILE       file to write the token response to (required)

Example:
  blindlist token issue --key issuer.pem --request token_request.bin --out token_response.bin
`

func runTokenIssue(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("token issue", flag.ContinueOnError)
	keyPath := fs.String("key", "", "")
	reqPath := fs.String("request", "", "")
	out := fs.String("out", "", "")
	pos, code, ok := parseArgs(e, fs, tokenIssueUsage, args)
	if !ok {
		return code
	}
	if code, ok := e.noArgs(fs.Name(), pos); !ok {
		return code
	}
	if *keyPath == "" || *reqPath == "" || *out == "" {
		return e.usagef(fs.Name(), "--key, --request and --out are required")
	}
	k, err := loadIssuerKey(*keyPath)
	if err != nil {
		return e.errorf("%v", err)
	}
	body, err := os.ReadFile(*reqPath)
	if err != nil {
		return e.errorf("%v", err)
	}
	req, err := privacypass.ParseTokenRequest(body)
	if err != nil {
		return e.errorf("%s: %v", *reqPath, err)
	}
	resp, err := k.Issue(req)
	if err != nil {
		return e.errorf("%s: %v", *reqPath, err)
	}
	if err := os.WriteFile(*out, resp, 0o644); err != nil {
		return e.errorf("%v", err)
	}
	return 0
}

const tokenVerifyUsage = `Usage: blindlist token verify --key PEM [--spent-db FILE] TOKEN

Checks a token as the service does when a device presents it. TOKEN is the Authorization header value
('PrivateToken token=...') or the path of a file holding the raw 354-byte token. Prints "valid" or
"invalid: <reason>" (malformed, wrong token type, wrong key id, bad signature, spent) and exits 0 only for
valid. With --spent-db (the service's bbolt file; stop the service first, it holds the file) a valid token
is recorded as spent and a spent one is refused; without it nothing is recorded.

Flags:
  --key PEM         issuer key, PKCS #1 or PKCS #8 PEM (required)
  --spent-db FILE   bbolt file of spent tokens to check and record in (optional)

Examples:
  blindlist token verify --key issuer.pem 'PrivateToken token=AAJ7GLE9...'
  blindlist token verify --key issuer.pem --spent-db spent.db token.bin
`

func runTokenVerify(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("token verify", flag.ContinueOnError)
	keyPath := fs.String("key", "", "")
	spentDB := fs.String("spent-db", "", "")
	pos, code, ok := parseArgs(e, fs, tokenVerifyUsage, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return e.usagef(fs.Name(), "want exactly one TOKEN argument, got %d", len(pos))
	}
	if *keyPath == "" {
		return e.usagef(fs.Name(), "--key PEM is required")
	}
	k, err := loadIssuerKey(*keyPath)
	if err != nil {
		return e.errorf("%v", err)
	}
	ring, err := privacypass.NewKeyring([]privacypass.KeySpec{{Key: k, Tier: "cli"}})
	if err != nil {
		return e.errorf("%v", err)
	}
	arg := pos[0]
	var token []byte
	if scheme, _, _ := strings.Cut(strings.TrimSpace(arg), " "); strings.EqualFold(scheme, "PrivateToken") {
		if token, err = privacypass.ParseAuthorization(arg); err != nil {
			fmt.Fprintf(e.stdout, "invalid: malformed (%v)\n", err)
			return 1
		}
	} else if token, err = os.ReadFile(arg); err != nil {
		return e.errorf("%v", err)
	}

	if *spentDB == "" {
		_, _, err = ring.CheckToken(token, time.Now())
	} else {
		err = verifyRecording(ctx, ring, *spentDB, token)
	}
	if err != nil {
		var reason string
		switch {
		case errors.Is(err, privacypass.ErrTokenSpent):
			reason = "spent"
		case errors.Is(err, privacypass.ErrUnknownKey):
			reason = "wrong key id"
		case errors.Is(err, privacypass.ErrBadSignature):
			reason = "bad signature"
		case errors.Is(err, privacypass.ErrTokenType):
			reason = "wrong token type"
		case errors.Is(err, privacypass.ErrTokenSize):
			reason = fmt.Sprintf("malformed (%v)", err)
		default:
			return e.errorf("%v", err)
		}
		fmt.Fprintf(e.stdout, "invalid: %s\n", reason)
		return 1
	}
	fmt.Fprintln(e.stdout, "valid")
	return 0
}

// verifyRecording redeems token against the spent set in the bbolt file.
func verifyRecording(ctx context.Context, ring *privacypass.Keyring, path string, token []byte) (err error) {
	db, err := store.OpenBolt(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	spent, err := db.SpentSet(privacypass.SpentNamespace, 0)
	if err != nil {
		return err
	}
	svc, err := privacypass.New(privacypass.Config{Keyring: ring, Spent: spent})
	if err != nil {
		return err
	}
	_, err = svc.Verify(ctx, token)
	return err
}
