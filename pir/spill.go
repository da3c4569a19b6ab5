package pir

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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
	rows     int
	maxValue int
	counts   []int
	bufs     [][]byte
	held     int
	pending  []Row // symmetric PIR: rows waiting to be transformed
	pendingB int
	// staged: the shard count depends on the row count (entries per
	// shard), so rows are first appended to one staging file (stageW)
	// and routed by Process once they are all counted.
	staged   bool
	stage    *os.File
	stageW   *bufio.Writer
	stageBuf []byte
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

// NewRowSpill starts a spilled processing with cfg in a new temporary
// directory inside dir ("" for the system's). When the shard count depends
// on the number of rows (EntryCountPerShard set, ShardCount not), rows are
// first appended to one staging file there and routed by
// [RowSpill.Process] once counted: one more sequential write and read of
// the rows, instead of reading (and parsing) the input twice. Call
// [RowSpill.Close] when done.
func NewRowSpill(dir string, cfg ProcessConfig) (*RowSpill, error) {
	staged := cfg.ShardCount == 0 && cfg.EntryCountPerShard > 0
	// The configuration's checks (the bucket-size ones wait for the rows,
	// in Process).
	r, err := cfg.resolveCounts(0, 0)
	if err != nil {
		return nil, err
	}
	d, err := os.MkdirTemp(dir, ".pir-spill-")
	if err != nil {
		return nil, fmt.Errorf("pir: creating spill directory: %w", err)
	}
	s := &RowSpill{cfg: cfg, dir: d, staged: staged}
	if staged {
		if s.stage, err = os.Create(filepath.Join(d, "rows")); err != nil {
			os.RemoveAll(d)
			return nil, fmt.Errorf("pir: spill file: %w", err)
		}
		s.stageW = bufio.NewWriterSize(s.stage, 1<<20)
		return s, nil
	}
	s.setShards(r.shards)
	return s, nil
}

func (s *RowSpill) setShards(n int) {
	s.shards, s.counts, s.bufs = n, make([]int, n), make([][]byte, n)
}

// ShardCount is the number of shards the rows are routed to (known after
// Process when the row count sets it).
func (s *RowSpill) ShardCount() int { return s.shards }

// Rows is the number of rows added so far.
func (s *RowSpill) Rows() int { return s.rows + len(s.pending) }

// Add routes a copy of row to its shard's spill file (a symmetric build
// first transforms it, in batches, with [SymmetricRows]), or appends it to
// the staging file when the shard count waits for the row count.
func (s *RowSpill) Add(ctx context.Context, row Row) error {
	if s.staged {
		s.stageBuf = appendRecord(s.stageBuf[:0], row)
		if _, err := s.stageW.Write(s.stageBuf); err != nil {
			return fmt.Errorf("pir: spill file: %w", err)
		}
		s.rows++
		return nil
	}
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
	s.bufs[i] = appendRecord(s.bufs[i], row)
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

// appendRecord appends row as u32be len(keyword) || keyword || u32be
// len(value) || value.
func appendRecord(dst []byte, row Row) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(row.Keyword)))
	dst = append(dst, row.Keyword...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(row.Value)))
	return append(dst, row.Value...)
}

// readRecord reads one record of appendRecord from r into buf (grown as
// needed) and returns the row, aliasing buf; io.EOF at a record boundary.
func readRecord(r *bufio.Reader, buf []byte) (Row, []byte, error) {
	var hdr [4]byte
	field := func() ([]byte, error) {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, err
		}
		n := int(binary.BigEndian.Uint32(hdr[:]))
		if n > maxKeywordRowBytes {
			return nil, errors.New("pir: spill file: record too large")
		}
		start := len(buf)
		buf = slices.Grow(buf, n)[:start+n]
		if _, err := io.ReadFull(r, buf[start:]); err != nil {
			return nil, noEOF(err)
		}
		return buf[start:len(buf):len(buf)], nil
	}
	buf = buf[:0]
	kw, err := field()
	if err != nil {
		return Row{}, buf, err
	}
	v, err := field()
	if err != nil {
		return Row{}, buf, noEOF(err)
	}
	return Row{Keyword: kw, Value: v}, buf, nil
}

// routeStaged routes the rows of the staging file now that their count,
// and so the shard count, is known.
func (s *RowSpill) routeStaged(ctx context.Context) error {
	if err := s.stageW.Flush(); err != nil {
		return fmt.Errorf("pir: spill file: %w", err)
	}
	if _, err := s.stage.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("pir: spill file: %w", err)
	}
	r, err := s.cfg.resolveCounts(s.rows, 0)
	if err != nil {
		return err
	}
	n := s.rows
	s.staged, s.rows = false, 0
	s.setShards(r.shards)
	br := bufio.NewReaderSize(s.stage, 1<<20)
	var buf []byte
	for {
		var row Row
		row, buf, err = readRecord(br, buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("pir: spill file: %w", err)
		}
		if err := s.Add(ctx, row); err != nil {
			return err
		}
	}
	if s.Rows() != n {
		return fmt.Errorf("pir: spill file holds %d rows, %d were added", s.Rows(), n)
	}
	err = s.stage.Close()
	s.stage = nil
	if rerr := os.Remove(filepath.Join(s.dir, "rows")); err == nil {
		err = rerr
	}
	return err
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
	if s.staged {
		if err := s.routeStaged(ctx); err != nil {
			return err
		}
	}
	if s.cfg.Symmetric != nil {
		if err := s.transformPending(ctx); err != nil {
			return err
		}
	}
	if err := s.flushAll(); err != nil {
		return err
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
	if s.stage != nil {
		s.stage.Close()
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("pir: removing spill files: %w", err)
	}
	return nil
}
