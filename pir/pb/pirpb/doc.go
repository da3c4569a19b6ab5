// Package pirpb is the Go code generated from blindlist's transcription of
// Apple's apple.swift_homomorphic_encryption.pir.v1 schema: PirParameters (the
// .params.txtpb written beside each processed shard), KeywordPirParameters,
// sharding functions, EncryptedIndices, KeywordDatabase (PIRProcessDatabase's
// input), the PIR enums, and the SimplePIR messages Apple added at 6867588.
//
// Only the .pb.go files are generated; the schema is in
// ../proto/apple/swift_homomorphic_encryption/pir/v1 and the generator line in
// package [github.com/blindlist/blindlist/pir/pb].
package pirpb
