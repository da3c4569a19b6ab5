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
	"slices"
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
	for p := range spillPartitions {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("blocklist: %w", err)
		}
		if err := c.resolvePartition(p, st); err != nil {
			return nil, err
		}
		if done := p + 1; done%32 == 0 {
			elapsed := time.Since(st.partsStart)
			left := time.Duration(float64(elapsed) / float64(done) * float64(spillPartitions-done))
			c.stagef("compile: %d/%d partitions resolved, %d keys, ETA %s", done, spillPartitions, st.keys, left.Round(time.Second))
		}
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

// resolvePartition reads partition p, applies the steps of Compile to it
// and writes its keys as a sorted run.
func (c *compiler) resolvePartition(p int, st *spillState) error {
	sw := c.spill
	pt, err := c.loadPartition(sw.inPath(p))
	if err != nil {
		return err
	}
	os.Remove(sw.inPath(p))
	set := pt.set
	for _, ti := range st.byPart[p] {
		st.outcomes[ti] = resolveBadfilter(set, st.targets[ti])
	}
	st.suffixes = append(st.suffixes, c.suffixEvents(set, pt.seqs)...)
	var exc, allow []Conflict
	c.applyAllow(set, c.exceptions, st.excKeys[p], true, &exc)
	c.applyAllow(set, st.allowed, st.allowKeys[p], false, &allow)
	st.excConf, st.allowConf = append(st.excConf, exc...), append(st.allowConf, allow...)
	if !c.opts.KeepCovered {
		c.compress(set)
	}
	if c.opts.TestIdentity {
		for _, k := range TestIdentityKeys {
			if partitionOf(sw, k) != p {
				continue
			}
			if set.Add(k, manyOrigins) {
				pt.seqs = append(pt.seqs, ^uint64(0))
				pt.locs, pt.modes, pt.offs = append(pt.locs, builtIn), append(pt.modes, spillTextKey), append(pt.offs, 0)
				c.rep.TestIdentityKeys = append(c.rep.TestIdentityKeys, k)
			}
		}
	}
	n, err := pt.writeRun(sw.runPath(p))
	if err != nil {
		return err
	}
	if n > 0 {
		st.runs = append(st.runs, sw.runPath(p))
	}
	st.keys += n
	return nil
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
	c.dropped("duplicate", dups)
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
