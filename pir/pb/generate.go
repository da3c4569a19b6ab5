// Package pb holds blindlist's transcription of Apple's protobuf schema for
// homomorphic encryption and keyword PIR, and the Go code generated from it.
//
// The generated packages are:
//   - [github.com/blindlist/blindlist/pir/pb/hepb]: apple.swift_homomorphic_encryption.v1
//     (encryption parameters, ciphertexts, keys)
//   - [github.com/blindlist/blindlist/pir/pb/pirpb]: apple.swift_homomorphic_encryption.pir.v1
//     (PirParameters, KeywordDatabase, PIR enums)
//   - [github.com/blindlist/blindlist/pir/pb/apipb]: apple.swift_homomorphic_encryption.api.v1,
//     .api.pir.v1 and .api.shared.v1 (the service messages: /config, /key, /queries)
//
// The .proto files under proto/ are ours, written from Apple's published
// schema with Apple's exact package names, field numbers, names and enum
// values, so that Apple's binary and text-format files parse without unknown
// fields and deterministic marshaling gives Apple's bytes. README.md lists the
// sources. Regenerate with `go generate ./pir/pb` (needs protoc and
// protoc-gen-go v1.36.12 on PATH).
package pb

//go:generate protoc -I proto --go_out=. --go_opt=module=github.com/blindlist/blindlist/pir/pb apple/swift_homomorphic_encryption/v1/error_stddev.proto apple/swift_homomorphic_encryption/v1/he.proto apple/swift_homomorphic_encryption/pir/v1/pir_algorithm.proto apple/swift_homomorphic_encryption/pir/v1/pir_database.proto apple/swift_homomorphic_encryption/pir/v1/pir.proto apple/swift_homomorphic_encryption/pir/v1/simple_pir.proto apple/swift_homomorphic_encryption/api/shared/v1/api_shared.proto apple/swift_homomorphic_encryption/api/pir/v1/pir.proto apple/swift_homomorphic_encryption/api/v1/api.proto
