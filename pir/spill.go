package pir

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// RowSpill is [ProcessKeywordsFunc] for a database too large to hold: rows
// are routed to per-shard spill files in a temporary directory as they
// arrive ([RowSpill.Add]), and [RowSpill.Process] then builds one shard per
// worker from its file, so memory holds the shards in progress and a
// bounded write buffer, never all rows. The shards are byte-identical to
// ProcessKeywordsFunc's on the same rows in the same order (each shard's
// rows keep their input order; the bucket-size default uses the largest
// value of all rows).
type RowSpill struct {
	cfg      ProcessConfig
	dir      string
	shards   int
	rowCount int // announced row count (entries-per-shard sizing); -1: not needed
	rows     int
	maxValue int
	counts   []int
	bufs     [][]byte
	held     int
	pending  []Row // symmetric PIR: rows waiting to be transformed
	pendingB int
}

// Spill buffering: a shard's bytes are appended to its file once they reach
// rowSpillFlushBytes, and all buffers are written once they hold
// rowSpillBudget bytes together; a symmetric build transforms rows in
// batches of symmetricBatchRows.
const (
	rowSpillFlushBytes = 64 << 10
	rowSpillBudget     = 64 << 20
	symmetricBatchRows = 1 << 14
)

// NeedsRowCount reports whether the shard count depends on the number of
// rows (EntryCountPerShard set, ShardCount not), which [NewRowSpill] then
// needs before the first row.
func (c ProcessConfig) NeedsRowCount() bool { return c.ShardCount == 0 && c.EntryCountPerShard > 0 }

// NewRowSpill starts a spilled processing of rowCount rows with cfg in a
// new temporary directory inside dir ("" for the system's). rowCount is
// used only when cfg.NeedsRowCount (then [RowSpill.Process] checks that
// exactly that many rows were added); pass -1 otherwise. Call
// [RowSpill.Close] when done.
func NewRowSpill(dir string, cfg ProcessConfig, rowCount int) (*RowSpill, error) {
	if cfg.NeedsRowCount() && rowCount < 0 {
		return nil, errors.New("pir: entries per shard sizes the shard count: the row count is needed first")
	}
	// The shard count is resolve's; the bucket-size checks wait for the
	// rows (Process).
	r, err := cfg.resolveCounts(max(rowCount, 0), 0)
	if err != nil {
		return nil, err
	}
	d, err := os.MkdirTemp(dir, ".pir-spill-")
	if err != nil {
		return nil, fmt.Errorf("pir: creating spill directory: %w", err)
	}
	if !cfg.NeedsRowCount() {
		rowCount = -1
	}
	return &RowSpill{cfg: cfg, dir: d, shards: r.shards, rowCount: rowCount,
		counts: make([]int, r.shards), bufs: make([][]byte, r.shards)}, nil
}

// ShardCount is the number of shards the rows are routed to.
func (s *RowSpill) ShardCount() int { return s.shards }

// Rows is the number of rows added so far.
func (s *RowSpill) Rows() int { return s.rows + len(s.pending) }

// Add routes a copy of row to its shard's spill file (a symmetric build
// first transforms it, in batches, with [SymmetricRows]).
func (s *RowSpill) Add(ctx context.Context, row Row) error {
	if s.cfg.Symmetric == nil {
		return s.route(row)
	}
	kv := make([]byte, len(row.Keyword)+len(row.Value))
	copy(kv, row.Keyword)
	copy(kv[len(row.Keyword):], row.Value)
	s.pending = append(s.pending, Row{Keyword: kv[:len(row.Keyword)], Value: kv[len(row.Keyword):]})
	s.pendingB += len(kv)
	if len(s.pending) >= symmetricBatchRows || s.pendingB >= rowSpillBudget {
		return s.transformPending(ctx)
	}
	return nil
}

func (s *RowSpill) transformPending(ctx context.Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	rows, err := SymmetricRows(ctx, s.pending, s.cfg.Symmetric, s.cfg.Workers)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := s.route(r); err != nil {
			return err
		}
	}
	s.pending, s.pendingB = s.pending[:0], 0
	return nil
}

// route appends row to its shard: u32be len(keyword) || keyword ||
// u32be len(value) || value.
func (s *RowSpill) route(row Row) error {
	if len(row.Value) > maxBucketValueLen {
		return fmt.Errorf("pir: a value has %d bytes, at most %d fit a hash bucket", len(row.Value), maxBucketValueLen)
	}
	i := shardOfHash(KeywordHash(row.Keyword), s.cfg.Sharding, s.shards)
	before := len(s.bufs[i])
	s.bufs[i] = binary.BigEndian.AppendUint32(s.bufs[i], uint32(len(row.Keyword)))
	s.bufs[i] = append(s.bufs[i], row.Keyword...)
	s.bufs[i] = binary.BigEndian.AppendUint32(s.bufs[i], uint32(len(row.Value)))
	s.bufs[i] = append(s.bufs[i], row.Value...)
	s.held += len(s.bufs[i]) - before
	s.counts[i]++
	s.rows++
	s.maxValue = max(s.maxValue, len(row.Value))
	if len(s.bufs[i]) >= rowSpillFlushBytes {
		return s.flush(i)
	}
	if s.held >= rowSpillBudget {
		return s.flushAll()
	}
	return nil
}

func (s *RowSpill) path(i int) string { return filepath.Join(s.dir, strconv.Itoa(i)) }

// flush appends shard i's pending bytes to its file.
func (s *RowSpill) flush(i int) error {
	if len(s.bufs[i]) == 0 {
		return nil
	}
	f, err := os.OpenFile(s.path(i), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("pir: spill file: %w", err)
	}
	_, err = f.Write(s.bufs[i])
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pir: spill file: %w", err)
	}
	s.held -= len(s.bufs[i])
	s.bufs[i] = s.bufs[i][:0]
	return nil
}

// flushAll writes every pending buffer and releases the buffers.
func (s *RowSpill) flushAll() error {
	for i := range s.bufs {
		if err := s.flush(i); err != nil {
			return err
		}
		s.bufs[i] = nil
	}
	return nil
}

// load returns the rows of shard i in the order they were added; they
// alias one buffer holding the shard's file.
func (s *RowSpill) load(i int) ([]Row, error) {
	if s.counts[i] == 0 {
		return nil, nil
	}
	raw, err := os.ReadFile(s.path(i))
	if err != nil {
		return nil, fmt.Errorf("pir: spill file: %w", err)
	}
	rows := make([]Row, 0, s.counts[i])
	field := func() ([]byte, bool) {
		if len(raw) < 4 || uint64(len(raw)-4) < uint64(binary.BigEndian.Uint32(raw)) {
			return nil, false
		}
		n := binary.BigEndian.Uint32(raw)
		b := raw[4 : 4+n : 4+n]
		raw = raw[4+n:]
		return b, true
	}
	for len(raw) > 0 {
		kw, ok1 := field()
		v, ok2 := field()
		if !ok1 || !ok2 {
			return nil, errors.New("pir: spill file: truncated record")
		}
		rows = append(rows, Row{Keyword: kw, Value: v})
	}
	if len(rows) != s.counts[i] {
		return nil, fmt.Errorf("pir: spill file of shard %d holds %d rows, %d were routed", i, len(rows), s.counts[i])
	}
	return rows, nil
}

// Process builds every shard from its spill file and hands it to emit, as
// [ProcessKeywordsFunc] does (at most cfg.Workers at once, emit called
// concurrently; the rows handed with a shard are the transformed ones in a
// symmetric build).
func (s *RowSpill) Process(ctx context.Context, emit func(i, n int, db *Database, rows []Row) error) error {
	if s.cfg.Symmetric != nil {
		if err := s.transformPending(ctx); err != nil {
			return err
		}
	}
	if err := s.flushAll(); err != nil {
		return err
	}
	if s.rowCount >= 0 && s.rows != s.rowCount {
		return fmt.Errorf("pir: %d rows added, %d announced", s.rows, s.rowCount)
	}
	r, err := s.cfg.resolveCounts(s.rows, s.maxValue)
	if err != nil {
		return err
	}
	if r.shards != s.shards {
		return fmt.Errorf("pir: internal error: %d shards routed, %d resolved", s.shards, r.shards)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.Workers)
	var done atomic.Int64
	for i := range s.shards {
		g.Go(func() error {
			rows, err := s.load(i)
			if err != nil {
				return err
			}
			hashes := make([]uint64, len(rows))
			for j, row := range rows {
				hashes[j] = KeywordHash(row.Keyword)
			}
			db, err := r.processShard(gctx, rows, hashes, i)
			if err != nil {
				return fmt.Errorf("pir: shard %d: %w", i, err)
			}
			if err := emit(i, s.shards, db, rows); err != nil {
				return err
			}
			if r.Progress != nil {
				r.Progress(int(done.Add(1)), s.shards)
			}
			return nil
		})
	}
	return g.Wait()
}

// Close removes the spill files.
func (s *RowSpill) Close() error {
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("pir: removing spill files: %w", err)
	}
	return nil
}
