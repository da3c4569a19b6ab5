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
// Where to start: [ProcessKeywords] turns keyword-value rows into processed
// shards ([Database]); [LoadDatabase] reads shards Apple's tool wrote;
// [BuildConfig] makes the /config answer; [Server] answers /queries; [Client]
// plays the device.
//
// Privacy: the server's work and the size of its response depend only on the
// public shard parameters, never on whether a keyword is present. Nothing in
// this package logs query content.
//
// This package does not implement symmetric PIR (OPRF), index-PIR databases
// with encoded entry sizes, or Apple's SimplePIR.
package pir
