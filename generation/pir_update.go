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
	"io"
	"os"
	"path/filepath"

	"github.com/blindlist/blindlist/pir"
)

// updateMaxChangeDivisor bounds the change of a shard updated in place:
// at most its previous key count / updateMaxChangeDivisor keys added plus
// removed. Larger changes are reprocessed: an update rewrites about one
// plaintext per changed key, so at a tenth of the keys it rewrites most of
// a 50,000-key shard's ~240 plaintexts anyway, and a full processing also
// gives the table a fresh, evenly loaded placement.
const updateMaxChangeDivisor = 10

// shardDelta is what changed in one shard since the previous generation.
type shardDelta struct {
	add, remove []string
}

// planUpdates marks the changed shards of jobs whose change is small
// enough for an in-place update of the previous generation's shard (prev
// is its manifest). Symmetric builds are always reprocessed (their keys
// are transformed, and keys.txt holds the plain ones).
func (b *pirBuilder) planUpdates(ctx context.Context, keys keySource, jobs []*pirShardJob, prev *PIRManifest) error {
	if b.symKey != nil {
		return nil
	}
	changed := 0
	for _, j := range jobs {
		if j.prev != nil && !j.keep && j.prev.KeysSHA256 != j.digest && j.prev.Serve.Name != "" {
			changed++
		}
	}
	if changed == 0 {
		return nil
	}
	deltas, why, err := b.keyDelta(ctx, keys, len(jobs), prev.Keys)
	if err != nil {
		return err
	}
	if why != "" {
		b.logf("no in-place shard updates: %s", why)
		return nil
	}
	for i, j := range jobs {
		d := deltas[i]
		if d == nil || j.prev == nil || j.keep || j.prev.Serve.Name == "" {
			continue
		}
		if j.prev.Keys+len(d.add)-len(d.remove) != j.count {
			b.logf("shard %d: %d keys before, +%d -%d, but %d now: reprocessing it", i, j.prev.Keys, len(d.add), len(d.remove), j.count)
			continue
		}
		if len(d.add)+len(d.remove) <= j.prev.Keys/updateMaxChangeDivisor {
			j.delta = d
		}
	}
	return nil
}

// keyDelta merges the previous generation's sorted key list with keys
// (sorted, distinct) and routes the added and removed keys to their
// shards. When the previous list cannot be used it returns a reason
// instead.
//
// The previous list must be the one its generation recorded (size and
// SHA-256 in GenerationFile, hashed while it is merged): the delta is
// trusted as the difference between the previous shards and the new
// keys, so a list that differs from the one the shards were built from
// (a key replaced by another, the count unchanged) would let an update
// skip a new key that the list already (wrongly) held, and keep a
// removed one the list lacked.
func (b *pirBuilder) keyDelta(ctx context.Context, keys keySource, shardCount, prevKeys int) (map[int]*shardDelta, string, error) {
	rec, why := b.prevKeysRecord()
	if why != "" {
		return nil, why, nil
	}
	f, err := os.Open(filepath.Join(b.prev, KeysFile))
	if err != nil {
		return nil, fmt.Sprintf("previous key list: %v", err), nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() != rec.Bytes {
		return nil, fmt.Sprintf("previous key list differs from its record in %s (size)", GenerationFile), nil
	}
	h := sha256.New()
	r := bufio.NewReaderSize(io.TeeReader(f, h), 1<<20)
	deltas := map[int]*shardDelta{}
	route := func(k string, removed bool) error {
		s, err := pir.ShardingFunction{}.ShardIndex([]byte(k), shardCount)
		if err != nil {
			return err
		}
		d := deltas[s]
		if d == nil {
			d = &shardDelta{}
			deltas[s] = d
		}
		if removed {
			d.remove = append(d.remove, k)
		} else {
			d.add = append(d.add, k)
		}
		return nil
	}
	// The previous list's current line (without its newline), the one
	// before it, and how many lines were read.
	var line, last []byte
	more, old := true, 0
	advance := func() {
		last = append(last[:0], line...)
		l, err := r.ReadSlice('\n')
		switch {
		case errors.Is(err, io.EOF) && len(l) == 0:
			more = false
			return
		case err != nil && !errors.Is(err, io.EOF):
			more, why = false, fmt.Sprintf("previous key list: %v", err)
			return
		}
		line = bytes.TrimSuffix(l, []byte{'\n'})
		old++
		if old > 1 && compareKey(line, string(last)) <= 0 {
			more, why = false, fmt.Sprintf("previous key list is not sorted at line %d", old)
		}
	}
	advance()
	errStop := errors.New("stop")
	err = keys.batches(ctx, func(batch []string) error {
		for _, k := range batch {
			for more && compareKey(line, k) < 0 {
				if err := route(string(line), true); err != nil {
					return err
				}
				advance()
			}
			if why != "" {
				return errStop
			}
			if more && compareKey(line, k) == 0 {
				advance()
				continue
			}
			if err := route(k, false); err != nil {
				return err
			}
		}
		return nil
	})
	for err == nil && more {
		err = route(string(line), true)
		advance()
	}
	switch {
	case why != "":
		return nil, why, nil
	case errors.Is(err, errStop):
		return nil, why, nil
	case err != nil:
		return nil, "", err
	case hex.EncodeToString(h.Sum(nil)) != rec.SHA256: // read to its end above
		return nil, fmt.Sprintf("previous key list differs from its record in %s", GenerationFile), nil
	case old != prevKeys:
		return nil, fmt.Sprintf("previous key list holds %d keys, its PIR manifest %d", old, prevKeys), nil
	}
	return deltas, "", nil
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
