package generation

import (
	"bufio"
	"context"
	"fmt"
	"os"
)

// keySource is the sorted, distinct keys of a build: in memory (keys), or
// in the keys file a spilled compile wrote (path), read back in batches,
// so the later stages (Bloom filter, key database, PIR routing, the diff
// against the previous generation) never hold all keys at once.
type keySource struct {
	keys []string
	path string // the keys file, one key per line; used when keys is nil
	n    int
}

// memoryKeys is a keySource over keys held in memory.
func memoryKeys(keys []string) keySource { return keySource{keys: keys, n: len(keys)} }

// Len returns the number of keys.
func (s keySource) Len() int { return s.n }

// keyBatch is the number of keys a file-backed keySource hands over at
// once: 64Ki keys of about 30 bytes, some 3 MB with their string headers.
const keyBatch = 1 << 16

// batches calls fn with consecutive runs of the keys, in order; a batch
// is valid only during its call. It fails when the keys file does not
// hold Len keys.
func (s keySource) batches(ctx context.Context, fn func(batch []string) error) error {
	if s.keys != nil || s.path == "" {
		for i := 0; i < len(s.keys); i += keyBatch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(s.keys[i:min(len(s.keys), i+keyBatch)]); err != nil {
				return err
			}
		}
		return nil
	}
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("generation: reading keys: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	// A batch's keys are substrings of one string (one allocation per
	// batch, not one per key: 10^8 keys would be 10^8 objects for the
	// garbage collector); a consumer that keeps a key past its call
	// clones it, or it keeps the whole batch's text alive.
	batch := make([]string, 0, keyBatch)
	ends := make([]int, 0, keyBatch)
	var text []byte
	n := 0
	flush := func() error {
		all := string(text)
		start := 0
		for _, end := range ends {
			batch = append(batch, all[start:end])
			start = end
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(batch); err != nil {
			return err
		}
		n += len(batch)
		batch, ends, text = batch[:0], ends[:0], text[:0]
		return nil
	}
	for sc.Scan() {
		text = append(text, sc.Bytes()...)
		ends = append(ends, len(text))
		if len(ends) == keyBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("generation: reading keys: %w", err)
	}
	if len(ends) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	if n != s.n {
		return fmt.Errorf("generation: %s holds %d keys, want %d", s.path, n, s.n)
	}
	return nil
}

// all returns every key in memory (symmetric PIR transforms them all).
func (s keySource) all(ctx context.Context) ([]string, error) {
	if s.keys != nil || s.path == "" {
		return s.keys, nil
	}
	keys := make([]string, 0, s.n)
	err := s.batches(ctx, func(b []string) error {
		keys = append(keys, b...)
		return nil
	})
	return keys, err
}
