// Package hepb is the Go code generated from blindlist's transcription of
// Apple's apple.swift_homomorphic_encryption.v1 schema: encryption parameters,
// serialized plaintexts, ciphertexts (seeded and full), secret keys, Galois,
// relinearization and evaluation keys, and EvaluationKeyConfig.
//
// Only the .pb.go files are generated; the schema is in
// ../proto/apple/swift_homomorphic_encryption/v1 and the generator line in
// package [github.com/blindlist/blindlist/pir/pb]. The byte layouts inside the
// bytes fields are specified in shared/spec/he-spec.md §6.
package hepb
