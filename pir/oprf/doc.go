// Package oprf is the symmetric-PIR layer of Apple's keyword PIR: a
// verifiable oblivious pseudorandom function (VOPRF, RFC 9497, suite
// P384-SHA384, mode 0x01) whose output replaces each keyword by a 16-byte
// oblivious keyword and encrypts each value with AES-192-GCM, so that a
// client learns only the one row it asked the server to evaluate.
//
// It follows shared/spec/pir-spec.md §5, checked against Apple's
// swift-homomorphic-encryption 6867588
// (Sources/PrivateInformationRetrieval/SymmetricPir, Sources/PIRProcessDatabase),
// pir-service-example 865bbcd (Controllers/PirUsecase.swift,
// PIRServiceTesting/PIRClient.swift) and swift-crypto 1b6b2e2
// (_CryptoExtras/OPRFs/VOPRF+API.swift). Apple's only configuration type,
// OPRF_P384_AES_GCM_192_NONCE_96_TAG_128, is the only one here.
//
// Where to start:
//
//   - Offline (database owner): [GenerateKey] or [ReadKeyFile] /
//     [CreateKeyFile] for the server key; [PrivateKey.ProcessRow] per
//     keyword-value row before sharding and cuckoo hashing;
//     [PrivateKey.PublicKey] for KeywordPirParameters.symmetric_pir_client_config.
//   - Serving: [PrivateKey.Evaluate] answers one OPRFRequest.query_element
//     with OPRFResponse{evaluated_element, proof}.
//   - Client (tests, tools): [ParsePublicKey], [PublicKey.Blind],
//     [PublicKey.Finalize] (verifies the proof), [Output.ObliviousKeyword],
//     [Output.Decrypt].
//
// # Wire and file formats
//
//   - Elements (public key, blinded and evaluated elements) are compressed
//     SEC1 points, 49 bytes (swift-crypto's oprfRepresentation). This package
//     accepts only that form; swift-crypto's server would also parse an
//     uncompressed point, which Apple's clients never send.
//   - Scalars are 48-byte big-endian integers in [1, n); the proof is c || s,
//     96 bytes (swift-crypto's Proof.rawRepresentation).
//   - The key file is the private scalar as lowercase hex, 96 characters, no
//     newline, as PIRProcessDatabase writes it (`[UInt8].hexString`). Apple
//     reads it with `Array(hexEncoded:)`, which refuses any whitespace; this
//     package also accepts surrounding ASCII whitespace (an editor's final
//     newline) and upper-case digits.
//   - The 48-byte VOPRF output out = Finalize(keyword) is split as Apple
//     does: oblivious keyword = out[0:16], AES-GCM nonce = out[0:12],
//     AES-192 key = out[24:48]; the stored value is ciphertext || 16-byte tag,
//     with no additional data.
//
// The RFC 9497 Appendix A P384-SHA384 verifiable-mode vectors (the same
// values swift-crypto's ECVOPRFTests check) pin every encoding above.
//
// # Security considerations
//
// The group arithmetic is cloudflare/circl's (group.P384, zk/dleq, oprf).
// circl documents that its P-256/P-384/P-521 server operations are not
// constant time in the private key: the point multiplication's main loop
// uses constant-time table selection, but the scalar is recoded and reduced
// with math/big, and the proof's s = r - c·k is computed with math/big. Their
// timing depends on the word lengths of k (fixed per key) and of the fresh
// random r, not on the client's blinded element beyond what the point
// decoding does. This package adds no branch on secret data: [PrivateKey.Evaluate]
// does the same operations for every well-formed input and fails early only
// on malformed public bytes. A deployment that needs a fully constant-time
// server should replace the group implementation; the wire format would not
// change.
//
// The private key is never printed: [PrivateKey] formats as a redacted
// placeholder. Nothing here logs.
//
// Apple documents symmetric PIR with its NEURLFilter example
// (pir-service-example SymmetricPIR.md); whether shipping iOS/macOS
// NEURLFilter clients use it could not be verified and is not claimed.
package oprf
