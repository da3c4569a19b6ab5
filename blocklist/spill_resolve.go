package blocklist

// Resolving the partitions of a spilled compile (see spill.go), each alone
// and in memory, in the order the in-memory path applies the same steps;
// the report's ordered lists (examples, public-suffix keys, conflicts) are
// put back in the in-memory path's order at the end.

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// partition is one partition being resolved: its keys in first-seen order
// and, per key, the insertion sequence and provenance of its first entry.
type partition struct {
	set  *keySet
	seqs []uint64
	locs []uint64
	// modes are the spill text modes; inline texts are in texts at offs.
	modes []uint64
	offs  []uint32
	texts []byte
}

// spillState is what finishSpilled carries across partitions.
type spillState struct {
	targets    []bfTarget
	outcomes   []badfilterOutcome
	byPart     [][]int // indexes into targets of the block keys, per partition
	excKeys    [][]string
	allowKeys  [][]string
	allowed    *keySet
	suffixes   []suffixEvent
	excConf    []Conflict
	allowConf  []Conflict
	keys       int
	runs       []string
	partsStart time.Time
	// testPart is the partition of Apple's test keys (one host group).
	testPart int
}

// partResult is what resolving one partition adds to the report, kept
// apart so partitions resolve concurrently and add up in order.
type partResult struct {
	rep       *Report // Dropped, ConflictCount and TestIdentityKeys
	suffixes  []suffixEvent
	excConf   []Conflict
	allowConf []Conflict
	keys      int
	run       string
}

// resolvePartitions resolves the partitions on up to spillWorkers cores
// (each holds one partition in memory) and adds their results to the
// report in partition order.
func (c *compiler) resolvePartitions(ctx context.Context, st *spillState) error {
	results := make([]*partResult, spillPartitions)
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	done := make(chan struct{}, spillPartitions)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), spillWorkers) {
		wg.Go(func() {
			for {
				p := int(next.Add(1) - 1)
				if p >= spillPartitions {
					return
				}
				r, err := c.resolvePartition(ctx, p, st)
				if err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
					next.Store(spillPartitions) // stop the other workers
					return
				}
				results[p] = r
				done <- struct{}{}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	n := 0
	for range done {
		if n++; n%32 == 0 {
			elapsed := time.Since(st.partsStart)
			left := time.Duration(float64(elapsed) / float64(n) * float64(spillPartitions-n))
			c.stagef("compile: %d/%d partitions resolved, ETA %s", n, spillPartitions, left.Round(time.Second))
		}
	}
	if first != nil {
		return first
	}
	for _, r := range results {
		for k, v := range r.rep.Dropped {
			c.dropped(k, v)
		}
		c.rep.ConflictCount += r.rep.ConflictCount
		c.rep.TestIdentityKeys = append(c.rep.TestIdentityKeys, r.rep.TestIdentityKeys...)
		st.suffixes = append(st.suffixes, r.suffixes...)
		st.excConf, st.allowConf = append(st.excConf, r.excConf...), append(st.allowConf, r.allowConf...)
		st.keys += r.keys
		if r.run != "" {
			st.runs = append(st.runs, r.run)
		}
	}
	return nil
}

// finishSpilled resolves every partition into a sorted run and returns the
// result that merges them.
func (c *compiler) finishSpilled(ctx context.Context, allowed *keySet) (*Result, error) {
	sw := c.spill
	if err := sw.closeWriters(); err != nil {
		return nil, err
	}
	st := &spillState{allowed: allowed, byPart: make([][]int, spillPartitions), partsStart: time.Now()}
	st.targets = c.badfilterTargets()
	st.outcomes = make([]badfilterOutcome, len(st.targets))
	for i, t := range st.targets {
		if t.exception {
			st.outcomes[i] = resolveBadfilter(c.exceptions, t)
			continue
		}
		p := partitionOf(sw, t.key)
		st.byPart[p] = append(st.byPart[p], i)
	}
	st.excKeys, st.allowKeys = bucketKeys(sw, c.exceptions), bucketKeys(sw, allowed)
	st.testPart = partitionOf(sw, TestIdentityKeys[0])
	for _, k := range TestIdentityKeys {
		if partitionOf(sw, k) != st.testPart {
			return nil, errors.New("blocklist: internal error: the test keys are in two host groups")
		}
	}
	if err := c.resolvePartitions(ctx, st); err != nil {
		return nil, err
	}
	for i, t := range st.targets {
		c.reportBadfilter(t, st.outcomes[i])
	}
	slices.SortFunc(st.suffixes, func(a, b suffixEvent) int { return cmp.Compare(a.seq, b.seq) })
	for _, ev := range st.suffixes {
		c.reportSuffix(ev)
	}
	byAllow := func(a, b Conflict) int { return cmp.Compare(a.Allow, b.Allow) }
	slices.SortStableFunc(st.excConf, byAllow)
	slices.SortStableFunc(st.allowConf, byAllow)
	for _, conf := range slices.Concat(st.excConf, st.allowConf) {
		if len(c.rep.Conflicts) == maxConflicts {
			break
		}
		c.rep.Conflicts = append(c.rep.Conflicts, conf)
	}
	c.rep.Keys = st.keys
	sk := &SpilledKeys{dir: sw.dir, runs: st.runs, count: st.keys, docs: c.prov.docs, pairs: c.prov.texts.pairs, stagef: c.opts.Stagef}
	c.spill = nil // the result owns the directory now
	c.stagef("compile: %d entries spilled to %d partitions, resolved into %d keys in %.1f s",
		sw.records, spillPartitions, st.keys, time.Since(st.partsStart).Seconds())
	return &Result{Report: c.rep, Spilled: sk}, nil
}

// bucketKeys returns the keys of s by partition, each bucket sorted.
func bucketKeys(sw *spillWriter, s *keySet) [][]string {
	b := make([][]string, spillPartitions)
	for _, k := range sortedKeys(s) {
		p := partitionOf(sw, k)
		b[p] = append(b[p], k)
	}
	return b
}

// spillWorkers bounds the partitions resolved at once (each in memory).
const spillWorkers = 4

// resolvePartition reads partition p, applies the steps of Compile to it
// and writes its keys as a sorted run. It only reads st and c (counting
// into its own report), so partitions resolve concurrently.
func (c *compiler) resolvePartition(ctx context.Context, p int, st *spillState) (*partResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("blocklist: %w", err)
	}
	own := *c
	own.rep = &Report{Dropped: map[string]int{}}
	c = &own
	res := &partResult{rep: c.rep}
	sw := c.spill
	pt, err := c.loadPartition(sw.inPath(p))
	if err != nil {
		return nil, err
	}
	os.Remove(sw.inPath(p))
	set := pt.set
	for _, ti := range st.byPart[p] {
		st.outcomes[ti] = resolveBadfilter(set, st.targets[ti])
	}
	res.suffixes = c.suffixEvents(set, pt.seqs)
	c.applyAllow(set, c.exceptions, st.excKeys[p], true, &res.excConf)
	c.applyAllow(set, st.allowed, st.allowKeys[p], false, &res.allowConf)
	if !c.opts.KeepCovered {
		c.compress(set)
	}
	if c.opts.TestIdentity && p == st.testPart {
		for _, k := range TestIdentityKeys {
			if set.Add(k, manyOrigins) {
				pt.seqs = append(pt.seqs, ^uint64(0))
				pt.locs, pt.modes, pt.offs = append(pt.locs, builtIn), append(pt.modes, spillTextKey), append(pt.offs, 0)
				c.rep.TestIdentityKeys = append(c.rep.TestIdentityKeys, k)
			}
		}
	}
	if res.keys, err = pt.writeRun(sw.runPath(p)); err != nil {
		return nil, err
	}
	if res.keys > 0 {
		res.run = sw.runPath(p)
	}
	return res, nil
}

// loadPartition reads a partition file into a new set, counting the
// entries after a key's first as duplicates.
func (c *compiler) loadPartition(path string) (*partition, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("blocklist: spill file: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<18)
	pt := &partition{set: newKeySet()}
	var key, text []byte
	dups := 0
	for {
		klen, err := binary.ReadUvarint(r)
		if err == io.EOF {
			break
		}
		var origin uint32
		var seq, loc, mode uint64
		if err == nil {
			key, err = readN(r, key, klen)
		}
		if err == nil {
			var ob [4]byte
			_, err = io.ReadFull(r, ob[:])
			origin = binary.LittleEndian.Uint32(ob[:])
		}
		if err == nil {
			seq, err = binary.ReadUvarint(r)
		}
		if err == nil {
			loc, err = binary.ReadUvarint(r)
		}
		if err == nil {
			mode, err = binary.ReadUvarint(r)
		}
		text = text[:0]
		if err == nil && mode == spillTextInline {
			var tlen uint64
			if tlen, err = binary.ReadUvarint(r); err == nil {
				text, err = readN(r, text, tlen)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("blocklist: spill file %s: %w", path, noEOF(err))
		}
		if !pt.set.AddBytes(key, origin) {
			dups++
			continue
		}
		pt.seqs, pt.locs, pt.modes = append(pt.seqs, seq), append(pt.locs, loc), append(pt.modes, mode)
		off := uint32(0)
		if mode == spillTextInline {
			if uint64(len(pt.texts))+uint64(len(text)) >= 1<<32 {
				return nil, errors.New("blocklist: a spill partition holds over 4 GiB of rule texts")
			}
			off = uint32(len(pt.texts))
			pt.texts = binary.AppendUvarint(pt.texts, uint64(len(text)))
			pt.texts = append(pt.texts, text...)
		}
		pt.offs = append(pt.offs, off)
	}
	if dups > 0 {
		c.dropped("duplicate", dups)
	}
	return pt, nil
}

// readN reads n bytes into buf (reused), refusing lengths no key or line
// can have.
func readN(r *bufio.Reader, buf []byte, n uint64) ([]byte, error) {
	if n > 1<<24 {
		return nil, errors.New("record length out of range")
	}
	buf = slices.Grow(buf[:0], int(n))[:n]
	_, err := io.ReadFull(r, buf)
	return buf, err
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// writeRun writes the partition's remaining keys, sorted, each with its
// provenance: uvarint len(key), key, uvarint loc, uvarint mode, and for
// an inline text uvarint len + text. It returns the number of keys.
func (pt *partition) writeRun(path string) (int, error) {
	keys := pt.set.keys
	idx := make([]int32, 0, len(keys))
	for i, k := range keys {
		if k != "" {
			idx = append(idx, int32(i))
		}
	}
	if len(idx) == 0 {
		return 0, nil
	}
	slices.SortFunc(idx, func(a, b int32) int { return cmp.Compare(keys[a], keys[b]) })
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("blocklist: spill run: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<18)
	var rec []byte
	for _, i := range idx {
		rec = binary.AppendUvarint(rec[:0], uint64(len(keys[i])))
		rec = append(rec, keys[i]...)
		rec = binary.AppendUvarint(rec, pt.locs[i])
		rec = binary.AppendUvarint(rec, pt.modes[i])
		if pt.modes[i] == spillTextInline {
			t := pt.texts[pt.offs[i]:]
			n, sz := binary.Uvarint(t)
			rec = binary.AppendUvarint(rec, n)
			rec = append(rec, t[sz:sz+int(n)]...)
		}
		w.Write(rec)
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("blocklist: spill run: %w", err)
	}
	return len(idx), nil
}
