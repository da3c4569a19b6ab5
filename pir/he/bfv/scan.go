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
// (exact for inputs below 2^32), VPADDQ accumulates.
func MulAccNarrow(acc0, acc1, x0, x1 []uint64, w []uint32) {
	n := len(w)
	acc0, acc1, x0, x1 = acc0[:n], acc1[:n], x0[:n], x1[:n]
	if v := n &^ 7; v > 0 && haveSIMD {
		mulAccNarrowAVX2(acc0[:v], acc1[:v], x0[:v], x1[:v], w[:v])
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
