package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrEpochChanged means a spent set's epoch record is not the one the
// caller holds: the record is gone (the store lost its data: FLUSHALL, a
// fresh instance, a failover to an empty node) or another process replaced
// it after finding it gone. Keys spent before may be missing, so the set
// can no longer tell a replay from a first use. Nothing was recorded.
var ErrEpochChanged = errors.New("store: spent set's epoch changed (its data was lost)")

// Epoch names one unbroken lifetime of a spent set's contents: since Since
// the set has recorded every key marked spent in the epoch. A store that
// loses its data loses the record with it, and every later
// [EpochSpentSet.MarkSpentInEpoch] with the old epoch fails.
type Epoch struct {
	// ID is the record as stored: Since and a random part, so two records
	// written at the same instant still differ.
	ID string
	// Since is when the epoch began; zero means "since the set began":
	// the record was written to a store not known to have lost anything.
	Since time.Time
}

// EpochSpentSet is a [SpentSet] that detects the loss of its data through
// an epoch record kept in the same store as the spent keys.
type EpochSpentSet interface {
	SpentSet
	// Epoch returns the set's epoch record, first writing one that begins
	// at since when the store holds none. Concurrent callers agree on one
	// record (the write is conditional).
	Epoch(ctx context.Context, since time.Time) (Epoch, error)
	// MarkSpentInEpoch is MarkSpent checked against e in the same atomic
	// step: when the store's record is not e it records nothing and
	// returns an error wrapping [ErrEpochChanged].
	MarkSpentInEpoch(ctx context.Context, e Epoch, key []byte) (alreadySpent bool, err error)
}

// newEpochID encodes since and 8 random bytes.
func newEpochID(since time.Time) (string, error) {
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("store: epoch id: %w", err)
	}
	var ns int64
	if !since.IsZero() {
		ns = since.UnixNano()
	}
	return strconv.FormatInt(ns, 10) + "-" + hex.EncodeToString(r[:]), nil
}

// parseEpoch reads a record written by newEpochID.
func parseEpoch(id string) (Epoch, error) {
	ns, _, ok := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || n < 0 {
		return Epoch{}, fmt.Errorf("store: malformed epoch record %q", id)
	}
	e := Epoch{ID: id}
	if n != 0 {
		e.Since = time.Unix(0, n)
	}
	return e, nil
}
