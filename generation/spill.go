package generation

// Routing keys to PIR shards through per-shard spill files: the key list is
// read once and each key appended to its shard's file in a temporary
// directory beside the shards, so a shard's keys are held in memory only
// while that shard is digested or processed (at most one shard per worker),
// never all shards' key lists at once.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// spillFlushBytes is how many bytes of one shard's keys are buffered before
// they are appended to its spill file; spillBudget bounds the bytes buffered
// over all shards (the largest buffers are flushed first when it is reached).
const (
	spillFlushBytes = 64 << 10
	spillBudget     = 64 << 20
)

// shardSpill holds the spill files of one build's shards.
type shardSpill struct {
	dir    string   // temporary directory of the spill files
	counts []int    // keys per shard
	bufs   [][]byte // pending bytes per shard
	held   int      // bytes in bufs
}

// newShardSpill creates the spill directory for shardCount shards inside
// parent (the staging generation, on the same file system as the output).
func newShardSpill(parent string, shardCount int) (*shardSpill, error) {
	dir, err := os.MkdirTemp(parent, ".pir-spill-")
	if err != nil {
		return nil, fmt.Errorf("pir output: creating spill directory: %w", err)
	}
	return &shardSpill{dir: dir, counts: make([]int, shardCount), bufs: make([][]byte, shardCount)}, nil
}

// path is the spill file of shard s.
func (sp *shardSpill) path(s int) string {
	return filepath.Join(sp.dir, strconv.Itoa(s))
}

// add appends key to shard s: u32be len(key) || key.
func (sp *shardSpill) add(s int, key string) error {
	before := len(sp.bufs[s])
	sp.bufs[s] = binary.BigEndian.AppendUint32(sp.bufs[s], uint32(len(key)))
	sp.bufs[s] = append(sp.bufs[s], key...)
	sp.held += len(sp.bufs[s]) - before
	sp.counts[s]++
	if len(sp.bufs[s]) >= spillFlushBytes {
		return sp.flush(s)
	}
	if sp.held >= spillBudget {
		return sp.flushAll()
	}
	return nil
}

// flush appends shard s's pending bytes to its file.
func (sp *shardSpill) flush(s int) error {
	if len(sp.bufs[s]) == 0 {
		return nil
	}
	f, err := os.OpenFile(sp.path(s), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("pir output: spill file: %w", err)
	}
	_, err = f.Write(sp.bufs[s])
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pir output: spill file: %w", err)
	}
	sp.held -= len(sp.bufs[s])
	sp.bufs[s] = sp.bufs[s][:0]
	return nil
}

// flushAll writes every pending buffer and releases the buffers.
func (sp *shardSpill) flushAll() error {
	for s := range sp.bufs {
		if err := sp.flush(s); err != nil {
			return err
		}
		sp.bufs[s] = nil
	}
	return nil
}

// load returns the keys of shard s, sorted, and fails if one appears twice.
func (sp *shardSpill) load(s int) ([]string, error) {
	if sp.counts[s] == 0 {
		return nil, nil
	}
	raw, err := os.ReadFile(sp.path(s))
	if err != nil {
		return nil, fmt.Errorf("pir output: spill file: %w", err)
	}
	keys := make([]string, 0, sp.counts[s])
	for len(raw) > 0 {
		if len(raw) < 4 || uint64(len(raw)-4) < uint64(binary.BigEndian.Uint32(raw)) {
			return nil, errors.New("pir output: spill file: truncated record")
		}
		n := binary.BigEndian.Uint32(raw)
		keys = append(keys, string(raw[4:4+n]))
		raw = raw[4+n:]
	}
	if len(keys) != sp.counts[s] {
		return nil, fmt.Errorf("pir output: spill file of shard %d holds %d keys, %d were routed", s, len(keys), sp.counts[s])
	}
	if !slices.IsSorted(keys) {
		slices.Sort(keys)
	}
	for i := 1; i < len(keys); i++ {
		if keys[i] == keys[i-1] {
			return nil, fmt.Errorf("pir output: key %q appears twice", keys[i])
		}
	}
	return keys, nil
}

// remove deletes the spill directory.
func (sp *shardSpill) remove() error {
	return os.RemoveAll(sp.dir)
}
