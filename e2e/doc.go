// Package e2e plays Apple's device against the whole blindlist system and
// stands that system up on loopback, for end-to-end tests, `blindlist
// query`, `blindlist demo` and `blindlist bench`.
//
// Where to start: [Device] is the device simulator. [Device.Check] takes a
// visited URL through the device's steps (client-spec §1): sub-URLs
// (blocklist.SubURLs), the Bloom prefilter, Privacy Pass issuance (directory,
// token key, /issue, RFC 9578 type 2), /config, an evaluation-key upload to
// /key, one /queries call with a MulPIR query per candidate, and decryption;
// it returns a [Verdict] with timings and sizes. Its http.Client decides the
// path: direct (a development build) or an ohttp.Client through a relay and
// gateway (production). [StartStack] runs service replicas (api + the issuer
// from api/privacypass), a round-robin balancer, an OHTTP gateway and a
// relay on loopback ports, with replicas that can be killed and restarted;
// [BuildKeys] and [BuildDemo] write a prefilter and PIR database from one key
// list; [Bench] measures one server's latency, throughput, memory and sizes.
//
// What it is not: a reimplementation of CipherML. Token caching, config
// refresh and key rotation follow Apple's reference client only as far as
// a simulator needs (a batch of tokens, config and key fetched once, state
// forgotten on 410 or a lost key); the device's exact keyword batching is an
// open question (client-spec §9).
//
// # Tests
//
// The package's tests cover the device flow through relay and gateway, two
// replicas sharing a real redis-server (keys and spent tokens), sustained
// load and fault injection (a replica and Redis killed and restarted under
// load, lookups lost after one retry counted), and structural checks of
// deploy/ (Kubernetes manifests, compose file, Dockerfiles, and that the
// manifests match the compose topology). TestDocker builds the images
// without a registry and runs deploy/compose.yaml on the local Docker
// engine: a device outside it, probes, and faults across containers (a
// replica killed, Redis cut from a replica or restarted, a rolling
// replacement). The default run
// takes seconds; longer runs are enabled by environment variables:
//
//	BLINDLIST_E2E_LOAD=30s BLINDLIST_E2E_FAULT=30s go test ./e2e -run 'Load|Faults' -v
//
// Results of the long runs are recorded in BENCHMARKS.md. Tests that need
// redis-server or a Docker engine skip without it, and fail without it
// when CI is set.
package e2e
