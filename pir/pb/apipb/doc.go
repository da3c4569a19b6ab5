// Package apipb is the Go code generated from blindlist's transcription of
// Apple's service API schema. It holds three proto packages in one Go package
// (their Go names do not collide):
//   - apple.swift_homomorphic_encryption.api.v1: ConfigRequest, ConfigResponse,
//     Config, Requests, Request, Responses, Response, Error. Apple's releases
//     up to 1.1 had these in api.pir.v1; the wire bytes are the same.
//   - apple.swift_homomorphic_encryption.api.pir.v1: PIRConfig, PIRShardConfig,
//     PIRShardConfigs, PIRFixedShardConfig, PIRRequest, PIRResponse,
//     OPRFRequest, OPRFResponse, StashOfEntries, SimplePIR messages.
//   - apple.swift_homomorphic_encryption.api.shared.v1: EvaluationKeys,
//     EvaluationKey, EvaluationKeyMetadata, KeyStatus.
//
// PNNS messages are not transcribed; their fields parse as unknown fields.
// Only the .pb.go files are generated; the schema is in
// ../proto/apple/swift_homomorphic_encryption/api and the generator line in
// package [github.com/blindlist/blindlist/pir/pb].
package apipb
