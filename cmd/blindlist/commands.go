package main

// extraCommands lists the subcommands beyond version. Add one line per
// subcommand here; its implementation lives in its own file.
func extraCommands() []command {
	return []command{
		{"bloom", "build bloom_filter.plist + input.txtpb from a key list, as Apple's BloomFilterTool", runBloom},
		{"build", "compile blocklists into the prefilter and the PIR key list", runBuild},
		{"refresh", "refetch http(s) sources conditionally; build and publish a generation when one changed", runRefresh},
		{"generations", "list the kept generations of a build, roll back to one", runGenerations},
		{"pir", "keyword PIR tools: process, config, query, answer, decrypt (Apple interop)", runPIR},
		{"check", "show the sub-URLs of a URL and which hit a built prefilter", runCheck},
		{"gateway", "run the Oblivious HTTP gateway (RFC 9458) in front of the service and issuer", runGateway},
		{"relay", "run an Oblivious HTTP relay for local end-to-end tests", runRelay},
		{"token", "Privacy Pass issuer tools: keygen, key (SPKI, directory), issue, verify", runToken},
		{"serve", "serve the PIR service, Privacy Pass issuer and OHTTP gateway (all in one)", runServe},
		{"hash", "print FNV-1a, Murmur3 and bit indices of strings", runHash},
		{"query", "play a device: prefilter, Privacy Pass, PIR lookup through OHTTP; print verdicts", runQuery},
		{"demo", "build the demo list, serve it on loopback, look up URLs as a device, exit", runDemo},
		{"bench", "build a database of N keys; report answer latency, throughput, memory and sizes", runBench},
		{"probe", "GET a health or readiness URL; exit 0 on 2xx (health check for shell-less images)", runProbe},
	}
}
