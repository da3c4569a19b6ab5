// Package pir implements Apple-compatible keyword private information
// retrieval (keyword PIR over MulPIR over BFV), as used by NEURLFilter and
// Live Caller ID Lookup.
//
// It follows shared/spec/pir-spec.md §3-§7 (Apple swift-homomorphic-encryption
// 6867588, Sources/PrivateInformationRetrieval and Sources/PIRProcessDatabase):
//
//   - keyword hashing, cuckoo bucket indices and the HashBucket byte format (§4.1, §4.2);
//   - cuckoo table construction that places every entry or fails (§4.3);
//   - sharding by keyword hash, with both sharding functions (§4.5);
//   - MulPIR parameters, evaluation-key configs and database packing (§3.1-§3.3);
//   - the processed-database `.bin` and `.params.txtpb` files that Apple's
//     PIRProcessDatabase writes, read and written (§7);
//   - the ConfigResponse Apple's example service builds (§6.5);
//   - the server computation: oblivious expansion, first-dimension plaintext
//     products, ciphertext products, modulus switching (§3.5, §3.6);
//   - a Go client for tests and tools: keys, queries, decryption, lookup (§3.4, §3.7, §4.4).
//
// Where to start:
//
//   - Offline: [ProcessKeywords] (or [ProcessKeywordsFunc] to write shards as
//     they finish, [ProcessShard] for one shard) turns keyword-value rows into
//     processed shards ([Database]); [WriteShard] writes Apple's file pair;
//     [ValidateShard] runs test lookups. For databases too large to hold,
//     [ReadKeywordRows] streams an input file and [RowSpill] routes rows
//     through per-shard spill files (same shards). [UpdateShard] turns a
//     written shard and a few added or removed rows into the next version
//     ([ShardUpdate.WriteServe], [ShardUpdate.WriteBin]) without
//     reprocessing it.
//   - Serving: [LoadShards] reads `<stem>-<N>.bin` + `.params.txtpb` (Apple's
//     or ours); [NewServer] builds the usecase; [Server.Config] is the /config
//     answer ([Config.ConfigResponse], serialized byte-identically to Apple's
//     service by [MarshalConfigResponse]); [Server.ParseEvaluationKey] once
//     per /key upload; [Server.Answer] per PIRRequest of /queries. Errors
//     callers map to statuses: [ErrBadRequest], [ErrShardIndex],
//     [ErrKeyMismatch], [ErrUnknownConfig].
//   - Device side (tests, tools): [ClientConfigFromResponse], [NewClient],
//     [Client.EvaluationKey], [Client.NewQuery], [Client.Decrypt].
//
// Answers are byte-identical to Apple's server on every set of
// shared/vectors/pir.
//
// Privacy: the server's work and the size of its response depend only on the
// public shard parameters, never on whether a keyword is present. Nothing in
// this package logs query content.
//
// Symmetric PIR (pir-spec §5, Apple's OPRF_P384_AES_GCM_192_NONCE_96_TAG_128):
// [ProcessConfig.Symmetric] transforms rows with package oprf before
// sharding ([SymmetricRows]) and records the public key in every shard's
// parameters ([Params.SymmetricPublicKey], KeywordPirParameters
// .symmetric_pir_client_config); [ServerOptions.SymmetricKey] lets
// [Server.EvaluateOPRF] answer OPRFRequests; a client with
// [ClientConfig.Symmetric] set calls [Client.NewOPRFRequest] and
// [Client.FinishOPRF], looks up the oblivious keyword, and decrypts the value
// with the OPRF output ([Client.Lookup] does all of it in process).
//
// This package does not implement index-PIR databases with encoded entry
// sizes, or Apple's SimplePIR.
package pir
