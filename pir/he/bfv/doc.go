// Package bfv implements the BFV homomorphic encryption scheme bit-compatible
// with Apple's swift-homomorphic-encryption: parameters (all Apple presets by
// name, custom parameters with Apple's validation), plaintext encodings,
// seeded ciphertexts and keys, the server-side operations MulPIR needs, and a
// test client (key generation, encryption, decryption, noise budget).
//
// API status: every exported function is implemented. Byte identity with
// Apple's vectors (shared/vectors/he) is tested in package pir/heproto.
//
// Where to start: [Preset] or [NewParams] for a [Params]; [NewEvaluator]
// (one per goroutine) for the server operations:
//
//   - query expansion: [Evaluator.ApplyGalois] (Galois automorphism + key
//     switching, he-spec §5.2), [Evaluator.Add], [Evaluator.Sub],
//     [Evaluator.MulPowerOfX]; [Evaluator.ApplyGaloisEval] (Eval input and
//     result, key switch finished in Eval form) and MulPowerOfX on Eval
//     ciphertexts let a whole expansion tree stay in Eval form, as many
//     NTTs per automorphism as in Coeff form and none for the leaves;
//   - first dimension: [Evaluator.ToEval], [Evaluator.InnerProduct] with
//     Eval plaintexts ([Params.ToEval], [Params.ParsePlaintext]);
//   - later dimensions: [Evaluator.MulInnerProduct] (exact Apple closed form,
//     he-spec §4.5; its second operands may stay in Eval form, which saves
//     their forward NTTs) then [Evaluator.Relinearize];
//   - response: [Evaluator.ModSwitchDownToSingle] then
//     [Params.SerializeForDecryption] (skip-LSB trimming, he-spec §4.8).
//
// Wire bytes (no protobuf here; package pir/heproto wraps these):
// [Params.ParseSeededCiphertext], [Params.ParseFullCiphertext],
// [Params.SerializeFull], [Params.SerializeSeeded], [Params.ParseSecretKey],
// [Params.ParsePlaintext].
//
// Spec sections (shared/spec/he-spec.md): §1 parameters, §3 plaintexts, §4
// ciphertexts and operations, §5 key switching, §6 byte layouts, §7 seeds.
//
// Forms: ciphertexts carry a [Format] tag (Coeff or Eval) that every
// operation checks. Levels count ciphertext moduli: a fresh ciphertext has
// [Params.MaxLevel] rows (q_0..q_{L-2}); key-switching keys span all L
// moduli including the special modulus P.
//
// Performance: when every modulus is below 2^30 (the URL filter presets),
// key switching, divide-and-round and ct×ct take 32-bit paths: single-word
// Barrett reductions of exact uint64 sums, 30-bit auxiliary primes for the
// BEHZ-style product (so every row uses the fast NTT), and cached 32-bit
// Shoup companions of each key-switching key (computed on the key's first
// use; a key must not be modified afterwards). AVX2 kernels
// (rns_amd64.s) do the key products and the divide-and-round rows; the
// 64-bit code remains for other moduli and as the reference the fast
// paths are tested against (fastpath_test.go). On CPUs with AVX-512 IFMA,
// moduli below 2^50 (the 33-bit presets) take 52-bit paths the same way
// (keyswitch52.go, rns52.go, mul52.go; kernels in ifma_amd64.s): key
// products as Montgomery products with the keys cached in Montgomery
// form, Shoup products with 52-bit companions for constants, and
// auxiliary primes below 2^50. Inner products for moduli from 2^30 to
// 2^50 split residues into 26-bit digits at every SIMD level, IFMA
// included (ops26.go: faster than 52-bit IFMA halves on the IFMA EPYC of
// BENCHMARKS.md, set B 7.6 -> 7.4 ms CPU per answer), and key switching
// (keySwitchWide, on the raw keys), divide-and-round and the 52-bit ct×ct
// rows run as float64 AVX2 kernels with products exact by FMA (wide.go,
// wide_amd64.s; bounds derived in wide.go). [MulAccScan]
// is the PIR database scan's multiply-accumulate (scan.go, scan_amd64.s:
// AVX2 and AVX-512F kernels). Package kernels picks the level once at start
// (BLINDLIST_KERNELS forces a lower one). Outputs are identical byte for
// byte.
//
// Security considerations: the server side never touches secret material.
// The test-client functions ([Params.Decrypt], [Params.NoiseBudget]) use
// big-integer arithmetic and are not constant time; Apple's real clients
// decrypt on device. Never reveal a noise budget to another party.
package bfv
