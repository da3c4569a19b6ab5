package ring

import "fmt"

// ValidGaloisElement reports whether g is a valid Galois element for degree
// n: odd and 1 < g < 2n (Apple's isValidGaloisElement, he-spec §5.3).
func ValidGaloisElement(g uint64, n int) bool {
	return g&1 == 1 && g > 1 && g < 2*uint64(n)
}

// GaloisCoeff sets out = σ_g(x): f(X) → f(X^g), on coefficient-form rows
// (he-spec §5.3): coefficient i moves to i·g mod 2N, negated when that
// lands in [N, 2N). out must not alias x.
func (b Basis) GaloisCoeff(out, x *Poly, g uint64) {
	b.check(out, x)
	n := x.N
	if !ValidGaloisElement(g, n) {
		panic(fmt.Sprintf("ring: internal error: invalid Galois element %d for N=%d", g, n))
	}
	// Coefficient i goes to k = i·g mod 2N: slot k mod N, negated when
	// k >= N (then n−1−k wraps and its top bit is set), selected without
	// branching.
	n1 := uint64(n - 1)
	mask := uint64(2*n - 1)
	for r, t := range b {
		galoisRow(out.Row(r), x.Row(r)[:n], g, n1, mask, t.M.Q)
	}
}

// galoisRow is one row of [Basis.GaloisCoeff]; n1 = N−1, mask = 2N−1.
func galoisRow(o, xs []uint64, g, n1, mask, q uint64) {
	k := uint64(0)
	for _, v := range xs {
		nm := -((n1 - k) >> 63)
		nv := q - v
		nv = min(nv, nv-q)
		o[k&n1] = v ^ ((v ^ nv) & nm)
		k = (k + g) & mask
	}
}

// GaloisEvalPermutation returns the slot permutation of σ_g in Apple's NTT
// order: σ_g(x)[i] = x[perm[i]] (he-spec §5.3).
func GaloisEvalPermutation(g uint64, n int) []int {
	logN := 0
	for 1<<logN < n {
		logN++
	}
	perm := make([]int, n)
	for i := 0; i < n; i++ {
		odd := 2*brv(uint64(i), logN) + 1
		idx := ((g * odd) >> 1) & uint64(n-1)
		perm[i] = int(brv(idx, logN))
	}
	return perm
}

// GaloisEval sets out = σ_g(x) on NTT-form rows using perm from
// [GaloisEvalPermutation]. out must not alias x.
func (b Basis) GaloisEval(out, x *Poly, perm []int) {
	b.check(out, x)
	for r := range b {
		o, xs := out.Row(r), x.Row(r)
		for i, p := range perm {
			o[i] = xs[p]
		}
	}
}

// GaloisEvalTable fills tab (length n) with σ_g's slot permutation of
// [GaloisEvalPermutation] in the gather form of [GaloisCoeffTable] (no
// negations: bit 31 is never set), for [Basis.GaloisEvalTab]. g must be a
// valid Galois element ([ValidGaloisElement]); n <= 2^31.
func GaloisEvalTable(tab []uint32, g uint64, n int) {
	if !ValidGaloisElement(g, n) || len(tab) != n || uint64(n) > 1<<31 {
		panic(fmt.Sprintf("ring: internal error: Galois table for g=%d, N=%d, len %d", g, n, len(tab)))
	}
	for i, p := range GaloisEvalPermutation(g, n) {
		tab[i] = uint32(p)
	}
}

// GaloisEvalTab sets out = σ_g(x) on NTT-form rows using the table of
// [GaloisEvalTable]; the result equals [Basis.GaloisEval] (a gather, with
// the vector kernels of [Basis.GaloisCoeffTab]). out must not alias x.
func (b Basis) GaloisEvalTab(out, x *Poly, tab []uint32) {
	b.GaloisCoeffTab(out, x, tab)
}

// GaloisEvalPlan is σ_g's slot permutation on Eval rows in the form of
// group moves, for the vector kernels of [Basis.GaloisEvalPermute]. Slot i
// holds the value at ψ^e with e = 2·brv(i)+1, and σ_g moves it to the slot
// of g·e mod 2N, whose low k bits depend only on e's low k+1 bits, i.e. on
// brv(i)'s low k bits, which are i's top k bits reversed. So the slots that
// agree in all but their low s bits (an aligned group of 2^s consecutive
// slots) take their values from one aligned group of 2^s input slots, in
// one of a few lane orders: the permutation is a group move plus a lane
// permutation per group, which a vector load and one VPERMD or VPERMQ do,
// instead of 2^s gathered loads. NewGaloisEvalPlan checks the grouping
// rather than relying on this argument, and keeps the gather table for the
// portable path.
type GaloisEvalPlan struct {
	n   int
	tab []uint32 // gather form (GaloisEvalTable)
	// Group moves of 4 slots (AVX2) and 8 slots (AVX-512), nil if the
	// permutation has no such form: per output group, the first slot of
	// its source group and the index of its lane order; the lane orders
	// as VPERMD dword indices (two per 64-bit lane) and VPERMQ qword
	// indices.
	src4   []uint32
	pat4   []uint8
	lanes4 []uint32 // 8 per order
	src8   []uint32
	pat8   []uint8
	lanes8 []uint64 // 8 per order
}

// NewGaloisEvalPlan returns σ_g's plan for degree n. g must be a valid
// Galois element ([ValidGaloisElement]); n <= 2^31.
func NewGaloisEvalPlan(g uint64, n int) *GaloisEvalPlan {
	p := &GaloisEvalPlan{n: n, tab: make([]uint32, n)}
	GaloisEvalTable(p.tab, g, n)
	// groupMoves returns nil slices where there is no group form.
	p.src4, p.pat4, p.lanes4, _ = groupMoves(p.tab, 4, 2)
	var lanes8 []uint32
	p.src8, p.pat8, lanes8, _ = groupMoves(p.tab, 8, 1)
	for _, v := range lanes8 {
		p.lanes8 = append(p.lanes8, uint64(v))
	}
	return p
}

// groupMoves returns the group form of the gather table tab for groups of
// size slots: per output group the first slot of its source group and a
// lane-order index, and the lane orders, each as size·words indices of
// 32-bit words (words = 2: a 64-bit lane as two dwords) or, for words = 1,
// of 64-bit lanes. ok is false if some group has sources in more than one
// input group, or if there are more than 256 lane orders.
func groupMoves(tab []uint32, size, words int) (src []uint32, pat []uint8, lanes []uint32, ok bool) {
	n := len(tab)
	if n%size != 0 || n < size {
		return nil, nil, nil, false
	}
	src, pat = make([]uint32, n/size), make([]uint8, n/size)
	orders := map[string]int{}
	for v := range n / size {
		base := tab[v*size] &^ uint32(size-1)
		order := make([]uint32, size*words)
		for k := range size {
			e := tab[v*size+k]
			if e&^uint32(size-1) != base {
				return nil, nil, nil, false
			}
			for w := range words {
				order[k*words+w] = (e&uint32(size-1))*uint32(words) + uint32(w)
			}
		}
		key := fmt.Sprint(order)
		id, seen := orders[key]
		if !seen {
			if len(orders) == 256 {
				return nil, nil, nil, false
			}
			id = len(orders)
			orders[key] = id
			lanes = append(lanes, order...)
		}
		src[v], pat[v] = base, uint8(id)
	}
	return src, pat, lanes, true
}

// GaloisEvalPermute sets out = σ_g(x) on NTT-form rows with the plan of
// [NewGaloisEvalPlan]; the result equals [Basis.GaloisEval]. With AVX-512
// it moves groups of eight slots (VPERMQ), with AVX2 groups of four
// (VPERMD), else it gathers. out must not alias x.
func (b Basis) GaloisEvalPermute(out, x *Poly, p *GaloisEvalPlan) {
	b.check(out, x)
	n := x.N
	if p.n != n {
		panic(fmt.Sprintf("ring: internal error: Galois plan for N=%d used for N=%d", p.n, n))
	}
	for r, t := range b {
		o, xs := out.Row(r), x.Row(r)[:n]
		switch {
		case haveAVX512 && p.src8 != nil:
			galoisMove8AVX512(o, xs, p.src8, p.pat8, p.lanes8)
		case haveSIMD && haveGroupMoves && p.src4 != nil:
			galoisMove4AVX2(o, xs, p.src4, p.pat4, p.lanes4)
		default:
			galoisTabRow(o, xs, p.tab, t.M.Q)
		}
	}
}

// GaloisCoeffTable fills tab (length n) with the coefficient map of σ_g
// for degree n (he-spec §5.3) in gather form: output coefficient k is input
// coefficient tab[k] & (2^31−1), negated when bit 31 of tab[k] is set.
// Computing it once lets [Basis.GaloisCoeffTab] apply σ_g to many rows
// without redoing the index arithmetic. g must be a valid Galois element
// ([ValidGaloisElement]); n <= 2^31.
func GaloisCoeffTable(tab []uint32, g uint64, n int) {
	if !ValidGaloisElement(g, n) || len(tab) != n {
		panic(fmt.Sprintf("ring: internal error: Galois table for g=%d, N=%d, len %d", g, n, len(tab)))
	}
	n1 := uint64(n - 1)
	mask := uint64(2*n - 1)
	k := uint64(0)
	for i := range tab {
		// Input i lands on k = i·g mod 2N: slot k mod N, negated iff
		// k >= N, i.e. iff n−1−k wraps.
		tab[k&n1] = uint32(i) | uint32((n1-k)>>63)<<31
		k = (k + g) & mask
	}
}

// GaloisCoeffTab sets out = σ_g(x) on coefficient-form rows using the
// table of [GaloisCoeffTable]; the result equals [Basis.GaloisCoeff]. out
// must not alias x.
func (b Basis) GaloisCoeffTab(out, x *Poly, tab []uint32) {
	b.check(out, x)
	n := x.N
	if len(tab) != n {
		panic(fmt.Sprintf("ring: internal error: Galois table of length %d for N=%d", len(tab), n))
	}
	for r, t := range b {
		galoisTabRow(out.Row(r), x.Row(r)[:n], tab, t.M.Q)
	}
}

// galoisTabRow is one row of [Basis.GaloisCoeffTab]: AVX-512 gathers (eight
// lanes, any modulus) where AVX-512F is selected, else AVX2 gathers for
// q < 2^31 (rowsSIMD), else portable Go. For 28-bit moduli the eight-lane
// gather was measured faster than the four-lane one (BenchmarkGaloisGather,
// N = 4096: 2.62 against 2.97 us CPU on an AMD EPYC, issue 17).
func galoisTabRow(o, xs []uint64, tab []uint32, q uint64) {
	tab = tab[:len(o)]
	if v := len(o) &^ 7; v > 0 && haveAVX512 && uint64(len(xs)) < 1<<31 {
		galoisGather64AVX512(o[:v], xs, tab[:v], q)
		o, tab = o[v:], tab[v:]
	} else if v := len(o) &^ 3; v > 0 && rowsSIMD(q) && uint64(len(xs)) < 1<<31 {
		galoisGatherAVX2(o[:v], xs, tab[:v], q)
		o, tab = o[v:], tab[v:]
	}
	galoisTabRowGo(o, xs, tab, q)
}

// galoisTabRowGo is galoisTabRow in portable Go. It is kept out of line
// so that its loop gets every register (inlined, the compiler spills loop
// values to the stack).
//
//go:noinline
func galoisTabRowGo(o, xs []uint64, tab []uint32, q uint64) {
	tab = tab[:len(o)]
	for k, e := range tab {
		v := xs[e&(1<<31-1)]
		nv := q - v
		nv = min(nv, nv-q)
		o[k] = v ^ ((v ^ nv) & -uint64(e>>31))
	}
}
