package bfv

// The database scan of the first PIR dimension (package pir, firstdim.go):
// every expanded ciphertext row is multiplied slot-wise by the narrow
// (uint32) database plaintexts of its row and added, unreduced, to one
// accumulator per column. This is the single largest loop of an answer on
// large databases, and it is memory-bound: the kernels here stream the
// plaintext words once and keep the sums exact in 64 bits.

// MulAccNarrow adds x0[j]·w[j] to acc0[j] and x1[j]·w[j] to acc1[j] for
// every j < len(w), without reduction.
//
// Bounds: x0, x1 and w below 2^32 (residues modulo a q < 2^32), so every
// product is below 2^64 and the sums are exact as long as the caller
// reduces acc before they could wrap: starting from a value below q, at
// most (2^64 − 1 − (q−1)) / (q−1)² products fit (see [MaxNarrowTerms]).
// acc0, acc1, x0 and x1 must hold at least len(w) values.
//
// With AVX2 it runs eight slots per iteration: VPMOVZXDQ widens four
// plaintext words, VPMULUDQ multiplies the low 32 bits of each 64-bit lane
// (exact for inputs below 2^32), VPADDQ accumulates. With NEON (arm64) also
// eight: VLD2 picks the low halves of four residues, UMLAL/UMLAL2 multiply
// 32-bit lanes into 64-bit accumulators (scan_arm64.s).
func MulAccNarrow(acc0, acc1, x0, x1 []uint64, w []uint32) {
	n := len(w)
	acc0, acc1, x0, x1 = acc0[:n], acc1[:n], x0[:n], x1[:n]
	if v := n &^ 7; v > 0 && haveScanSIMD {
		mulAccNarrowSIMD(acc0[:v], acc1[:v], x0[:v], x1[:v], w[:v])
		acc0, acc1, x0, x1, w = acc0[v:], acc1[v:], x0[v:], x1[v:], w[v:]
	}
	mulAccNarrowGo(acc0, acc1, x0, x1, w)
}

// mulAccNarrowGo is MulAccNarrow in portable Go, the reference of the
// vector kernels.
func mulAccNarrowGo(acc0, acc1, x0, x1 []uint64, w []uint32) {
	n := len(w)
	acc0, acc1, x0, x1 = acc0[:n], acc1[:n], x0[:n], x1[:n]
	for j, v := range w {
		acc0[j] += x0[j] * uint64(v)
		acc1[j] += x1[j] * uint64(v)
	}
}

// MaxNarrowTerms returns how many products of values below q can be added
// to a value below q in 64 bits: floor((2^64 − 1 − (q−1)) / (q−1)²), for
// 2 <= q < 2^32.
func MaxNarrowTerms(q uint64) uint64 { return maxTerms32(q) }

// MulAccNarrowBatch adds Σ_b x0s[b][j]·ws[b][j] to acc0[j] and
// Σ_b x1s[b][j]·ws[b][j] to acc1[j] for every j < len(acc0), without
// reduction: [MulAccNarrow] for several rows at once, so each accumulator
// is loaded and stored once per batch instead of once per row. On large
// databases the accumulators do not fit in cache, and their traffic, not
// the plaintexts', bounds the scan.
//
// Bounds: as for MulAccNarrow, every input below 2^32; the caller keeps
// the number of products added since the last reduction within
// [MaxNarrowTerms]. x0s, x1s and ws have the same length; each of their
// rows and acc1 hold at least len(acc0) values.
func MulAccNarrowBatch(acc0, acc1 []uint64, x0s, x1s [][]uint64, ws [][]uint32) {
	n, nb := len(acc0), len(ws)
	acc1, x0s, x1s = acc1[:n], x0s[:nb], x1s[:nb]
	for b := range nb {
		_, _, _ = x0s[b][:n], x1s[b][:n], ws[b][:n] // every row long enough, or panic here
	}
	if v := n &^ 7; v > 0 && nb > 0 && haveScanSIMD {
		mulAccNarrowBatchSIMD(acc0[:v], acc1[:v], x0s, x1s, ws)
		if v == n {
			return
		}
		acc0, acc1 = acc0[v:], acc1[v:]
		for b := range nb {
			mulAccNarrowGo(acc0, acc1, x0s[b][v:n], x1s[b][v:n], ws[b][v:n])
		}
		return
	}
	for b := range nb {
		mulAccNarrowGo(acc0, acc1, x0s[b][:n], x1s[b][:n], ws[b][:n])
	}
}
