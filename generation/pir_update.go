package generation

// In-place shard updates: the fast path of an incremental build.
//
// With Apple's SHA-256 sharding, k new keys over S shards touch
// S·(1 − (1 − 1/S)^k) of them (10^4 keys over 2,000 shards: 99.3 %), so
// "reprocess only the changed shards" alone does not make a small change to
// a large list cheap. A shard whose change is small is therefore updated
// from the previous generation's shard (pir.UpdateShard): its cuckoo table
// is edited in place, only the plaintexts of changed buckets are
// re-encoded, and the new .bin and .serve are the previous files with those
// plaintexts replaced (the rest copied by copy_file_range, in the kernel).
// Its parameters stay, so its params file is hard-linked and the config_id
// does not change.
//
// The change of each shard comes from comparing the previous generation's
// sorted keys.txt with the new sorted keys (a merge), then
// routing only the added and removed keys; that list must be the one the
// previous generation recorded (size and SHA-256 in its generation.json),
// else no shard is updated in place. An updated shard may differ
// byte-wise from a fresh build of the same keys: its bytes are a function
// of the previous generation's shard and the change (pir.UpdateShard seeds
// its evictions from the change), so builds from the same previous
// generation with the same keys give the same files, and
// PIRConfig.Rebuild still gives the history-free result.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/blindlist/blindlist/pir"
)

// updateMaxChangeDivisor bounds the change of a shard updated in place:
// at most its previous key count / updateMaxChangeDivisor keys added plus
// removed. Larger changes are reprocessed: an update rewrites about one
// plaintext per changed key, so at a tenth of the keys it rewrites most of
// a 50,000-key shard's ~240 plaintexts anyway, and a full processing also
// gives the table a fresh, evenly loaded placement.
const updateMaxChangeDivisor = 10

// deltaSlack is how many changed keys a key delta holds beyond a tenth of
// the previous list, so that small lists are not refused for a change of
// a few keys (65,536 keys are a few megabytes).
const deltaSlack = 1 << 16

// shardDelta is what changed in one shard since the previous generation.
type shardDelta struct {
	add, remove []string
}

// mergeDelta merges the previous generation's key list with keys: one
// pass over both sorted files, hashing only the keys that changed.
func (b *pirBuilder) mergeDelta(ctx context.Context, keys keySource, shardCount, prevKeys int) (*keyDelta, error) {
	d := b.newKeyDelta(shardCount, prevKeys)
	defer d.close()
	start, done := time.Now(), 0
	err := keys.batches(ctx, func(batch []string) error {
		d.add(batch)
		if done += len(batch); b.progressf != nil && done%(1<<22) < len(batch) {
			b.progressf("%d of %d keys compared with the previous key list, %s", done, keys.Len(), eta(time.Since(start), done, keys.Len()))
		}
		return nil
	})
	if err == nil {
		err = d.finish()
	}
	if err != nil {
		return nil, fmt.Errorf("pir output: %w", err)
	}
	return d, nil
}

// planFromDelta makes the jobs of a build from a usable key delta against
// the previous generation (prev is its manifest): a shard without change
// is kept (once its files are found as recorded), a shard whose change is
// small is updated in place, any other is processed whole (its keys
// routed then). An updated shard's KeysSHA256 is left empty: its full
// key list is never read, and a later build without a usable delta
// therefore processes it whole rather than trust a digest it cannot
// recompute.
func (b *pirBuilder) planFromDelta(prev *PIRManifest, delta *keyDelta) []*pirShardJob {
	b.keysDelta = true
	jobs := make([]*pirShardJob, len(prev.Shards))
	for i := range jobs {
		p := &prev.Shards[i]
		j := &pirShardJob{prev: p, count: p.Keys}
		jobs[i] = j
		d := delta.shards[i]
		if d != nil {
			j.count += len(d.add) - len(d.remove)
		}
		switch {
		case d == nil:
			if err := b.matches(p); err != nil {
				b.logf("shard %d: %v: reprocessing it", i, err)
				continue
			}
			j.keep, j.digest = true, p.KeysSHA256
		case p.Serve.Name != "" && len(d.add)+len(d.remove) <= p.Keys/updateMaxChangeDivisor:
			j.delta = d
		}
	}
	return jobs
}

// keyDelta merges the previous generation's sorted key list with the new
// keys (sorted, distinct), batch by batch as the routing reads them, and
// routes the added and removed keys to their shards. When the previous
// list cannot be used, why says so and the delta is not used.
//
// The previous list must be the one its generation recorded (size and
// SHA-256 in GenerationFile, hashed while it is merged): the delta is
// trusted as the difference between the previous shards and the new
// keys, so a list that differs from the one the shards were built from
// (a key replaced by another, the count unchanged) would let an update
// skip a new key that the list already (wrongly) held, and keep a
// removed one the list lacked.
//
// Only the changed keys are held, up to a tenth of the previous list
// (updateMaxChangeDivisor) plus deltaSlack: a larger change could not
// update most shards in place anyway, and holding it would hold a
// list-sized set in memory.
type keyDelta struct {
	shards     map[int]*shardDelta
	why        string // why the delta is not usable; "" when it is
	shardCount int
	limit      int // most changed keys held
	changed    int
	added      int
	removed    int

	f        *os.File
	h        hash.Hash
	r        *bufio.Reader
	rec      FileInfo
	prevKeys int
	line     []byte // the previous list's current line, without its newline
	last     []byte // the line before it
	more     bool
	old      int // lines read
	sharding pir.ShardingFunction
	routeErr error
}

// newKeyDelta opens the previous generation's key list; prevKeys is the
// key count its PIR manifest records. It returns nil when there is no
// previous generation to compare with.
func (b *pirBuilder) newKeyDelta(shardCount, prevKeys int) *keyDelta {
	d := &keyDelta{shards: map[int]*shardDelta{}, shardCount: shardCount, prevKeys: prevKeys,
		limit: prevKeys/updateMaxChangeDivisor + deltaSlack}
	rec, why := b.prevKeysRecord()
	if why != "" {
		d.why = why
		return d
	}
	f, err := os.Open(filepath.Join(b.prev, KeysFile))
	if err != nil {
		d.why = fmt.Sprintf("previous key list: %v", err)
		return d
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != rec.Bytes {
		f.Close()
		d.why = fmt.Sprintf("previous key list differs from its record in %s (size)", GenerationFile)
		return d
	}
	d.f, d.rec, d.h = f, rec, sha256.New()
	d.r = bufio.NewReaderSize(io.TeeReader(f, d.h), 1<<20)
	d.more = true
	d.advance()
	return d
}

// close releases the previous key list.
func (d *keyDelta) close() {
	if d.f != nil {
		d.f.Close()
		d.f = nil
	}
}

// fail marks the delta unusable and stops reading.
func (d *keyDelta) fail(why string) {
	if d.why == "" {
		d.why = why
	}
	d.more = false
	d.close()
}

// advance reads the previous list's next line, checking the order.
func (d *keyDelta) advance() {
	d.last = append(d.last[:0], d.line...)
	l, err := d.r.ReadSlice('\n')
	switch {
	case errors.Is(err, io.EOF) && len(l) == 0:
		d.more = false
		return
	case err != nil && !errors.Is(err, io.EOF):
		d.fail(fmt.Sprintf("previous key list: %v", err))
		return
	}
	d.line = bytes.TrimSuffix(l, []byte{'\n'})
	d.old++
	if d.old > 1 && compareKey(d.line, string(d.last)) <= 0 {
		d.fail(fmt.Sprintf("previous key list is not sorted at line %d", d.old))
	}
}

// route records key as added or removed in its shard. The key is copied:
// batches are valid only during their call.
func (d *keyDelta) route(k string, removed bool) {
	if d.changed++; d.changed > d.limit {
		d.fail(fmt.Sprintf("more than %d keys changed, too many to update shards in place", d.limit))
		d.shards = nil
		return
	}
	s, err := d.sharding.ShardIndex([]byte(k), d.shardCount)
	if err != nil {
		d.routeErr = err
		d.fail(err.Error())
		return
	}
	sd := d.shards[s]
	if sd == nil {
		sd = &shardDelta{}
		d.shards[s] = sd
	}
	if removed {
		d.removed++
		sd.remove = append(sd.remove, strings.Clone(k))
	} else {
		d.added++
		sd.add = append(sd.add, strings.Clone(k))
	}
}

// add merges the next batch of new keys.
func (d *keyDelta) add(batch []string) {
	if d.why != "" {
		return
	}
	for _, k := range batch {
		for d.more && compareKey(d.line, k) < 0 {
			d.route(string(d.line), true)
			d.advance()
		}
		if d.why != "" {
			return
		}
		if d.more && compareKey(d.line, k) == 0 {
			d.advance()
			continue
		}
		d.route(k, false)
	}
}

// finish routes the previous keys past the last new one and checks the
// previous list against its record. It returns an error only for a
// failure of the sharding function; an unusable list sets why.
func (d *keyDelta) finish() error {
	defer d.close()
	for d.why == "" && d.more {
		d.route(string(d.line), true)
		d.advance()
	}
	switch {
	case d.routeErr != nil:
		return d.routeErr
	case d.why != "":
	case hex.EncodeToString(d.h.Sum(nil)) != d.rec.SHA256: // read to its end above
		d.fail(fmt.Sprintf("previous key list differs from its record in %s", GenerationFile))
	case d.old != d.prevKeys:
		d.fail(fmt.Sprintf("previous key list holds %d keys, its PIR manifest %d", d.old, d.prevKeys))
	}
	return nil
}

// prevKeysRecord returns the previous generation's record of its key list
// in its GenerationFile, or why there is none.
func (b *pirBuilder) prevKeysRecord() (FileInfo, string) {
	raw, err := os.ReadFile(filepath.Join(b.prev, GenerationFile))
	if err != nil {
		return FileInfo{}, fmt.Sprintf("previous %s: %v", GenerationFile, err)
	}
	var m GenerationManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return FileInfo{}, fmt.Sprintf("previous %s is unreadable (%v)", GenerationFile, err)
	}
	for _, f := range m.Files {
		if f.Name == KeysFile {
			return f, ""
		}
	}
	return FileInfo{}, fmt.Sprintf("previous %s does not list %s", GenerationFile, KeysFile)
}

// compareKey compares a key read from a file with one in memory, as
// strings.Compare does, without converting either.
func compareKey(a []byte, b string) int {
	for i := range min(len(a), len(b)) {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// updateShard writes shard i into staging as the previous generation's
// shard with j.delta applied (pir.UpdateShard), after checking the
// previous files against their manifest record.
func (b *pirBuilder) updateShard(ctx context.Context, i int, j *pirShardJob, staging string) error {
	if err := b.matches(j.prev); err != nil {
		return err
	}
	binName, paramsName := b.shardNames(i)
	serveName := pir.ServePath(binName)
	prevBin, prevParams := filepath.Join(b.prev, binName), filepath.Join(b.prev, paramsName)
	// matches just checked the previous files against their record (on
	// their stamp or by hashing them), so they are opened as verified:
	// only the pages of the changed buckets are read, not the whole shard
	// (at 10^8 keys the previous generation does not fit the page cache).
	prevDB, err := pir.OpenVerifiedDatabase(prevBin, prevParams)
	if err != nil {
		return err
	}
	var change pir.ShardChange
	value := []byte(PIRValue)
	for _, k := range j.delta.add {
		change.Add = append(change.Add, pir.Row{Keyword: []byte(k), Value: value})
	}
	for _, k := range j.delta.remove {
		change.Remove = append(change.Remove, []byte(k))
	}
	u, err := pir.UpdateShard(ctx, prevDB, change, pir.UpdateOptions{})
	if err != nil {
		return err
	}
	// The serve-ready file in patch form where the change is small: the
	// changed plaintexts only, over the previous whole file, linked
	// through the base store (pir.WriteServeUpdate, bases.go). Apple's .bin is not written for an
	// updated shard: composing it would copy the whole shard again.
	servePath := filepath.Join(staging, serveName)
	base, err := u.WriteServeUpdate(servePath, filepath.Join(b.prev, serveName), j.prev.Serve.SHA256)
	if err != nil {
		return err
	}
	var baseInfo FileInfo
	if base != "" {
		baseName := pir.ServeBasePath(serveName)
		if baseInfo = j.prev.Serve; base != filepath.Join(b.prev, serveName) {
			baseInfo = j.prev.ServeBase // the previous shard was a patch: same base
			if baseInfo.Name == "" {
				return fmt.Errorf("%s is a patch but %s records no base for it", serveName, PIRManifestFile)
			}
		}
		baseInfo.Name = baseName
		// Through the base store (bases.go): linking it never changes
		// the base's own identity, so its stamp entries keep holding.
		if err := b.bases.adopt(base, filepath.Join(staging, baseName), baseInfo.SHA256); err != nil {
			return err
		}
	}
	if err := linkOrCopy(prevParams, filepath.Join(staging, paramsName)); err != nil {
		return err
	}
	j.params = u.Params()
	j.rewritten = u.ChangedPlaintexts
	if err := b.recordShard(i, j, staging, baseInfo); err != nil {
		return err
	}
	if base == "" { // written whole: a new base
		return b.bases.place(servePath, j.info.Serve.SHA256)
	}
	return nil
}
