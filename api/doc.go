// Package api is the PIR HTTP service an Apple device talks to (through
// Apple's OHTTP relay and our gateway): POST /config, /key, /queries and
// /report with Apple's protobuf messages, headers, statuses and error bodies.
//
// It follows shared/spec/pir-spec.md §6 and §8 (Apple's pir-service-example
// 865bbcd, Sources/PIRService) and shared/spec/client-spec.md §4, §6, §7,
// and adds what that example leaves out for production: durable evaluation
// keys (bbolt or Redis through internal/store), several configuration
// versions kept across database swaps (410 Gone only once evicted), atomic
// hot reload, several usecases and vendors in one process, limits, metrics
// and logs without identifiers.
//
// Where to start: [ParseFileConfig] reads the `blindlist serve` file;
// [LoadEntries] opens its databases; [New] builds a [Server] whose
// [Server.Handler] serves the endpoints; [Server.Replace] swaps in a newly
// built database while calls are in flight.
//
// # Behaviour on the wire
//
// Every call to /config, /key and /queries must carry, checked in this order
// as Apple's service does: `Authorization: PrivateToken token=<base64url>`
// (401 "No private token", 400 for a wrong size, 401 "No token key found
// with key id: [...]" or "Token did not pass verification"), then
// `User-Identifier` and `User-Agent` (400 "Missing '…' header"). /report
// needs only the token. Errors carry Apple's JSON body
// {"error":{"message":"…"}}; messages never contain user data.
//
//   - /config: newest configuration per requested usecase (all usecases of
//     the request's host when none is named); `reuse_existing_config` when
//     the device already holds that config id; one KeyStatus per usecase
//     whose timestamp is the one the device uploaded (0: no key stored).
//     404 for an unknown usecase; gzip when accepted.
//   - /key: as Apple's service, every key needs its metadata and key (else
//     400 and nothing is stored) and is stored under (User-Identifier,
//     identifier), overwriting, without being matched against the served
//     configurations (a rollout may be about to serve its configuration).
//     Empty 200.
//   - /queries: every request is checked first (key, usecase, configuration
//     id, shard, the key covering the configuration), so one bad request
//     fails the call before any work: 400 "Evaluation key not found", 400
//     "Unknown usecase: …", 410 for a configuration id no longer kept, 501
//     for shard ids and SimplePIR. A key with more Galois elements than the
//     configuration needs serves (the rest is dropped before parsing); one
//     lacking an element or the relinearization key fails with 500, as
//     Apple's service does, with a message naming what is missing.
//     A checked call is admitted with all its requests to a bounded queue
//     (limits.maxQueuedAnswers; full: 503 with Retry-After at once), and
//     its answers are computed in parallel within a fixed number of compute
//     slots (limits.maxConcurrentAnswers) handed round-robin across calls,
//     so a single lookup does not wait behind other clients' batches; a key
//     whose material does not parse still fails the whole call with 400,
//     found in its slot.
//     OPRF requests (symmetric PIR, pir-spec §5) are answered with the
//     usecase's key (usecase symmetricPirArguments) as Apple's service does:
//     newest version of the usecase, no evaluation key, config_id ignored;
//     400 "SymmetricPIR not configured." for a usecase without a key, 400
//     for an element that is not a compressed P-384 point. They pass the
//     same token check and request cap as PIR requests, and take
//     no compute slot (about 1.4 ms of CPU each).
//   - /report: JSON array or URLFilterReport; empty 400 when malformed;
//     written durably to the report directory when one is configured.
//
// # Memory
//
// Parsed evaluation keys are kept between calls in a least-recently-used
// cache bounded by bytes ([LimitsConfig.KeyCacheBytes], default 256 MiB)
// and by count ([Config.KeyCacheSize]). A parsed key that has answered is
// about nine times its upload (6.3 MB at 100 000 keys per shard); each
// entry is charged [ParsedKeyBytes], and a key larger than the whole
// budget is used but not kept. [AutoMemoryLimit] adds the budget to the
// soft memory limit `blindlist serve` sets.
//
// A /queries call checks its requests with the keys still serialized (at
// most the 10 MiB body, or the stored keys it names) and looks up or
// parses each key only once its answer holds a compute slot, dropping it
// with the slot. So however many calls arrive at once with uncached or
// inline keys, the parsed keys alive beside the cache are at most
// limits.maxConcurrentAnswers (blindlist_api_key_parses_in_use), each
// [ParsedKeyBytes]; before, each waiting call held its own. See
// docs/sizing.md §3.
//
// # Privacy
//
// User identifiers are hashed before they reach the key store and are never
// logged or used as metric labels. Logs carry the endpoint, status, error
// category, duration, sizes and the configured token tier only. The work
// done and the response size of /queries depend only on public parameters
// (the usecase's shard shape), never on whether a keyword is present.
//
// # Sizes to declare to Apple's relay
//
// See SIZES.md beside this file.
package api
