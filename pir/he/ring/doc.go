// Package ring implements RNS polynomials in Z_Q[X]/(X^N+1) exactly as
// Apple's swift-homomorphic-encryption lays them out, so that Apple's seeded
// ciphertexts, keys and NTT-form plaintexts can be read and written bit for
// bit.
//
// Spec sections (shared/spec/he-spec.md):
//   - §2.1 representation: [Poly] is a row-major matrix, row i modulo q_i.
//   - §2.2 the NTT: [Table.Forward] evaluates at the odd powers of ψ, the
//     numerically smallest primitive 2N-th root ([MinPrimitiveRoot]), with
//     slot j holding a(ψ^(2·brv(j)+1)); [Table.Inverse] is its inverse.
//     Harvey lazy butterflies with Shoup twiddles (§9).
//   - §5.3 Galois automorphisms in coefficient form ([Basis.GaloisCoeff])
//     and NTT form ([GaloisEvalPermutation], [Basis.GaloisEval]).
//   - §3.4 and §6.1 bit packing, MSB-first, ceilLog2(q) bits per residue
//     ([AppendPacked], [UnpackInto], [AppendPoly], [ReadPoly]).
//   - §4.2 and §7.3 sampling from a byte stream: uniform NTT-form values
//     ([Basis.SampleUniform]), ternary ([SampleTernary]) and centered
//     binomial ([SampleCBD]) integers.
//
// Performance: moduli below 2^30 (every modulus of the 27/28-bit URL
// filter presets) take 32-bit kernels: lazy values stay below 4q < 2^32,
// so a Shoup product w·y − floor(y·w'/2^32)·q with w' = floor(w·2^32/q)
// needs only 64-bit multiplies. On amd64 with AVX2 the NTT runs as Go
// assembly on packed 32-bit lanes (ntt_packed_amd64.s: the uint64 row is
// packed in place, eight residues per register, VPMULLD and VPMULUDQ form
// the Shoup product, two stages per pass, the last three (forward) and
// first three (inverse) fused with in-register shuffles on two pairs of
// blocks at a time, whose dependent chains interleave, with twiddles laid
// out in lane order (lastStageTwiddles); N >= 32; with AVX-512F the wide
// passes take sixteen residues per register) and the rows on 64-bit lanes
// (rows_amd64.s), selected once at program start by package kernels (the
// CPU's best level, or a lower one forced with BLINDLIST_KERNELS); the
// portable Go kernels remain (build tag purego forces them). On CPUs
// with AVX-512 IFMA, every modulus below 2^50 (the 33-bit moduli of
// n_4096_logq_16_33_33_logt_4, and the 27/28-bit ones too, where they beat
// the 32-bit kernels) takes the IFMA NTT instead (ntt_ifma_amd64.s:
// VPMADD52HUQ/VPMADD52LUQ give a Shoup product with w' = floor(w·2^52/q)
// on eight 52-bit lanes; the bound is derived at ifmaMax; where
// (4 + 2·log2 N)·q, resp. 2·N·q, stays below 2^52, the forward, resp.
// inverse, kernel reduces only in its last stage: ifmaLazyFits,
// invLazyFits). Without IFMA, moduli from 2^30 to 2^50 take the wide AVX2
// NTT (ntt_wide.go, ntt_wide_amd64.s: residues as exact float64 integers,
// products exact by FMA, four lanes; bounds derived in ntt_wide.go), and
// their slot-wise products (MulCoeffs) the same arithmetic at every level.
// The 64-bit Harvey NTT serves every other modulus and is the reference
// every fast kernel is tested against on the same inputs
// (ntt_kernel_test.go, poly_ref_test.go, ntt_wide_test.go). Row additions, subtractions, negations and Galois
// gathers for moduli from 2^31 on run on eight 64-bit lanes with AVX-512F
// (rows_avx512_amd64.s), additions, subtractions and negations on four
// with AVX2 (rows_wide_amd64.s).
//
// The package does not know about ciphertexts, plaintexts or BFV; see
// package bfv. Where to start: [NewBasis], then [Basis.NTT] and
// [Basis.INTT].
package ring
