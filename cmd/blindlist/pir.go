package main

import (
	"context"
	"fmt"
	"os"

	"google.golang.org/protobuf/proto"
)

const pirUsage = `Usage: blindlist pir <command> [flags]

Offline keyword PIR tools, interoperable with Apple's PIRProcessDatabase, example PIR service and device:

  process   build processed shards (<stem>-<N>.bin + .params.txtpb) from keywords, like PIRProcessDatabase
  config    print the ConfigResponse our /config returns for processed shards
  query     play the device: secret key, evaluation keys and Requests from a ConfigResponse
  answer    play the server: Responses for Requests and EvaluationKeys over processed shards
  decrypt   play the device: decrypt Responses and print present/absent per keyword

Run 'blindlist pir <command> -h' for a command's flags.

Example:
  blindlist pir config --db shards --usecase com.example.app.url.filtering --out config.binpb
`

// pirCommands are the pir subcommands, one file each (pir_<name>.go).
var pirCommands = map[string]func(ctx context.Context, e *env, args []string) int{
	"process": runPIRProcess,
	"config":  runPIRConfig,
	"query":   runPIRQuery,
	"answer":  runPIRAnswer,
	"decrypt": runPIRDecrypt,
}

func runPIR(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		return e.usagef("pir", "no command given (one of process, config, query, answer, decrypt)")
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, pirUsage)
		return 0
	}
	run, ok := pirCommands[args[0]]
	if !ok {
		return e.usagef("pir", "unknown command %q", args[0])
	}
	return run(ctx, e, args[1:])
}

// readProto reads a binary protobuf file into m. It rejects top-level
// unknown fields, which is how a file of another message type usually
// shows, and names what was expected.
func readProto(path, what string, m proto.Message) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return fmt.Errorf("%s is not a valid %s message: %v", path, what, err)
	}
	if len(m.ProtoReflect().GetUnknown()) != 0 {
		return fmt.Errorf("%s is not a %s message (unknown fields)", path, what)
	}
	return nil
}

// writeProto writes m in deterministic binary form (mode 0644 less umask).
func writeProto(path string, m proto.Message) error {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// writeSecretProto writes m in deterministic binary form readable by its
// owner only (0600), also when path already exists with a wider mode.
func writeSecretProto(path string, m proto.Message) error {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	// OpenFile keeps the mode of an existing file: narrow it first.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// requireFlags returns an error naming the first empty required flag.
func requireFlags(flags ...[2]string) error {
	for _, f := range flags {
		if f[1] == "" {
			return fmt.Errorf("--%s is required", f[0])
		}
	}
	return nil
}
