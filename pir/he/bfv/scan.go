package bfv

import "github.com/blindlist/blindlist/pir/he/modq"

// The database scan of the first PIR dimension (package pir, firstdim.go):
// every expanded ciphertext row is multiplied slot-wise by the narrow
// (uint32) database plaintexts of its row and added, unreduced, to one
// accumulator per column. This is the single largest loop of an answer on
// large databases, and it is memory-bound: the kernels here stream the
// plaintext words once, keep the sums exact in 64 bits, and keep each
// accumulator in registers across a batch of rows so that it is loaded and
// stored once per batch.
//
// Scan order. The accumulators are not in slot order: within each block of
// [ScanBlock] = 16 slots they hold the 8 even slots first, then the 8 odd
// ones ([ScanIndex]; a tail of n mod 16 slots stays in slot order). This
// lets the vector kernels multiply uint32 words without widening them:
// loaded as 64-bit lanes, 16 words w[j..j+15] form 8 lanes holding
// w[j+2t] in the low and w[j+2t+1] in the high 32 bits; VPMULUDQ multiplies
// the low halves of two such vectors (the even slots) and, after VPSRLQ $32
// of both, the high halves (the odd slots), each product exact in 64 bits.
// AVX-512 does one block per vector pair; AVX2 does a block as two 8-slot
// halves, whose even lanes are block positions 0-3 and 4-7 and odd lanes
// 8-11 and 12-15, the same order. NEON (arm64) gets the order from VLD2,
// which splits eight words into the even and the odd ones, and multiplies
// 32-bit lanes into 64-bit accumulators with UMLAL/UMLAL2 (scan_arm64.s).

// ScanBlock is the number of slots of one block of the scan order.
const ScanBlock = 16

// ScanIndex returns where slot j (< n) of a row of n slots lies in an
// accumulator filled by [MulAccScan]: in each full block of 16 slots, even
// slot 2t at position t and odd slot 2t+1 at position 8+t; slots of the
// last n mod 16 stay in place.
func ScanIndex(j, n int) int {
	if j >= n&^(ScanBlock-1) {
		return j
	}
	t := j & (ScanBlock - 1)
	return j&^(ScanBlock-1) + t>>1 + (t&1)*(ScanBlock/2)
}

// MulAccScan adds Σ_b x0s[b][j]·ws[b][j] to acc0 and Σ_b x1s[b][j]·ws[b][j]
// to acc1 for every slot j < len(acc0), without reduction, the
// accumulators in scan order ([ScanIndex]) and every other row in slot
// order. Each accumulator is loaded and stored once per call, however many
// rows the batch has: on large databases the accumulators do not fit in
// the core's cache. The plaintext rows, the one stream that comes from
// memory, are prefetched ahead by the x86 kernels (scan_amd64.s).
//
// Bounds: every input is below 2^32 (residues modulo a q < 2^32), so every
// product is below 2^64 and the sums are exact as long as the caller
// reduces the accumulators before they could wrap: starting from values
// below q, at most [MaxNarrowTerms](q) products fit. x0s, x1s and ws have
// the same length; each of their rows and acc1 hold at least len(acc0)
// values.
//
// With AVX-512 and NEON it runs 16 slots per iteration, with AVX2 8 (see
// the scan order above); each computes exactly what the portable loop does.
func MulAccScan(acc0, acc1 []uint64, x0s, x1s, ws [][]uint32) {
	n, nb := len(acc0), len(ws)
	acc1, x0s, x1s = acc1[:n], x0s[:nb], x1s[:nb]
	for b := range nb {
		_, _, _ = x0s[b][:n], x1s[b][:n], ws[b][:n] // every row long enough, or panic here
	}
	v := n &^ (ScanBlock - 1)
	if v > 0 && nb > 0 {
		switch {
		case haveScanAVX512:
			mulAccScanAVX512(acc0[:v], acc1[:v], x0s, x1s, ws)
		case haveScanSIMD:
			mulAccScanSIMD(acc0[:v], acc1[:v], x0s, x1s, ws)
		default:
			v = 0
		}
	}
	for b := range nb {
		mulAccScanGo(acc0[v:], acc1[v:], x0s[b][v:n], x1s[b][v:n], ws[b][v:n])
	}
}

// mulAccScanGo is one row of MulAccScan in portable Go, the reference of
// the vector kernels: full blocks of 16 slots in scan order, the rest in
// slot order.
func mulAccScanGo(acc0, acc1 []uint64, x0, x1, w []uint32) {
	n := len(w)
	acc0, acc1, x0, x1 = acc0[:n], acc1[:n], x0[:n], x1[:n]
	full := n &^ (ScanBlock - 1)
	for g := 0; g < full; g += ScanBlock {
		a0, a1 := acc0[g:g+ScanBlock], acc1[g:g+ScanBlock]
		x0, x1, w := x0[g:g+ScanBlock], x1[g:g+ScanBlock], w[g:g+ScanBlock]
		for t := range ScanBlock / 2 {
			we, wo := uint64(w[2*t]), uint64(w[2*t+1])
			a0[t] += uint64(x0[2*t]) * we
			a0[8+t] += uint64(x0[2*t+1]) * wo
			a1[t] += uint64(x1[2*t]) * we
			a1[8+t] += uint64(x1[2*t+1]) * wo
		}
	}
	for j := full; j < n; j++ {
		acc0[j] += uint64(x0[j]) * uint64(w[j])
		acc1[j] += uint64(x1[j]) * uint64(w[j])
	}
}

// AddScanRow adds the accumulators acc (unreduced, in scan order, as
// [MulAccScan] leaves them) reduced modulo q to o, in slot order:
// o[j] = o[j] + (acc[ScanIndex(j, n)] mod q) mod q for every j < n =
// len(o), with o below q. One pass reads acc in order and writes each
// block of o once.
func AddScanRow(o, acc []uint64, m *modq.Modulus) {
	n := len(o)
	acc = acc[:n]
	full := n &^ (ScanBlock - 1)
	g := 0
	if full > 0 && haveSIMD && m.Q < word32Max {
		// v = hi·(2^64 mod q) + lo·(2^32 mod q) ≡ acc·2^32 for acc =
		// hi·2^32 + lo, v < 2q·2^32, and one Montgomery reduction by 2^32
		// (qInvNeg = −q^{-1} mod 2^32) gives acc mod q in [0, 3q).
		q := m.Q
		c32 := (1 << 32) % q
		c64 := m.Reduce(c32 * c32)
		addScanRowAVX2(o[:full], acc[:full], q, montInv32(q), c32, c64)
		g = full
	}
	for ; g < full; g += ScanBlock {
		ob, ab := (*[ScanBlock]uint64)(o[g:]), (*[ScanBlock]uint64)(acc[g:])
		for t := range ScanBlock / 2 {
			ob[2*t] = m.Add(ob[2*t], m.Reduce(ab[t]))
			ob[2*t+1] = m.Add(ob[2*t+1], m.Reduce(ab[ScanBlock/2+t]))
		}
	}
	for j := full; j < n; j++ {
		o[j] = m.Add(o[j], m.Reduce(acc[j]))
	}
}

// NarrowRow sets dst[j] = uint32(src[j]) for every j < len(dst): an Eval
// row (residues below q < 2^32) as the uint32 words [MulAccScan] takes.
// src holds at least len(dst) values. With AVX2 or AVX-512 (VPMOVQD) it
// runs eight slots per iteration and gives exactly what the portable loop
// does.
func NarrowRow(dst []uint32, src []uint64) {
	src = src[:len(dst)]
	v := 0
	switch {
	case haveScanAVX512:
		if v = len(dst) &^ 7; v > 0 {
			narrowRowAVX512(dst[:v], src[:v])
		}
	case haveNarrowAVX2:
		if v = len(dst) &^ 7; v > 0 {
			narrowRowAVX2(dst[:v], src[:v])
		}
	}
	narrowRowGo(dst[v:], src[v:])
}

// narrowRowGo is NarrowRow in portable Go, the reference of the kernel.
func narrowRowGo(dst []uint32, src []uint64) {
	src = src[:len(dst)]
	for j, v := range src {
		dst[j] = uint32(v)
	}
}

// MaxNarrowTerms returns how many products of values below q can be added
// to a value below q in 64 bits: floor((2^64 − 1 − (q−1)) / (q−1)²), for
// 2 <= q < 2^32.
func MaxNarrowTerms(q uint64) uint64 { return maxTerms32(q) }
