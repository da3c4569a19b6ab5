package ohttp

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// SeedSize is the length of the secret seed gateway keys are derived from.
const SeedSize = 32

// seedLabel is the HKDF info prefix for deriving a gateway key; the key
// identifier byte follows it, so each key id gets its own key (one label
// per key, as sunlight derives its keys).
const seedLabel = "blindlist ohttp gateway DHKEM(X25519, HKDF-SHA256) key id "

// PrivateKey is one gateway key: an HPKE private key and the key
// configuration that advertises it.
type PrivateKey struct {
	config    KeyConfig
	recipient *recipient      // the gateway's own X25519 HPKE recipient (recipient.go)
	hpkeKey   hpke.PrivateKey // the key of other KEMs (MLKEM768-X25519), opened with crypto/hpke
}

// hybridSeedLabel is [seedLabel] for MLKEM768-X25519 keys, so a key id's
// hybrid key and X25519 key come from different HKDF outputs.
const hybridSeedLabel = "blindlist ohttp gateway MLKEM768-X25519 key id "

// NewPrivateKey builds a gateway key from a serialized HPKE private key
// (RFC 9180 SerializePrivateKey; 32 bytes for X25519, the 32-byte seed for
// MLKEM768-X25519). Most callers derive
// keys with [DeriveKey] instead; this exists for keys held elsewhere and for
// the RFC 9458 known-answer test.
func NewPrivateKey(keyID uint8, kemID uint16, sk []byte, suites []Suite) (*PrivateKey, error) {
	if kemID != KEMX25519HKDFSHA256 && kemID != KEMMLKEM768X25519 {
		return nil, fmt.Errorf("%w: gateway keys must use KEM 0x%04x or 0x%04x, not 0x%04x", ErrKeyConfig, KEMX25519HKDFSHA256, KEMMLKEM768X25519, kemID)
	}
	kem, err := hpke.NewKEM(kemID)
	if err != nil {
		return nil, fmt.Errorf("ohttp: %w", err)
	}
	priv, err := kem.NewPrivateKey(sk)
	if err != nil {
		return nil, fmt.Errorf("ohttp: private key for key id %d: %w", keyID, err)
	}
	return newPrivateKey(keyID, priv, suites)
}

// DeriveKey derives the DHKEM(X25519, HKDF-SHA256) gateway key for keyID from
// a [SeedSize]-byte secret seed: ikm = HKDF-SHA256(seed, salt empty,
// info = seedLabel ‖ keyID, 32 bytes), then the RFC 9180 §7.1.3
// DeriveKeyPair(ikm). The same seed and key id always give the same key, so a
// restarted gateway serves the same key configuration.
func DeriveKey(seed []byte, keyID uint8, suites []Suite) (*PrivateKey, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("ohttp: seed is %d bytes, want %d", len(seed), SeedSize)
	}
	ikm, err := hkdf.Key(sha256.New, seed, nil, seedLabel+string([]byte{keyID}), 32)
	if err != nil {
		return nil, fmt.Errorf("ohttp: deriving key id %d: %w", keyID, err)
	}
	priv, err := hpke.DHKEM(ecdh.X25519()).DeriveKeyPair(ikm)
	if err != nil {
		return nil, fmt.Errorf("ohttp: deriving key id %d: %w", keyID, err)
	}
	return newPrivateKey(keyID, priv, suites)
}

// DeriveHybridKey derives the MLKEM768-X25519 gateway key for keyID from a
// [SeedSize]-byte secret seed, as [DeriveKey] does for X25519 but with its
// own HKDF label (hybridSeedLabel) and the KEM's DeriveKeyPair
// (draft-ietf-hpke-pq, crypto/hpke). Such a key is offered beside X25519
// keys: clients that do not implement KEM 0x647a skip its configuration
// (RFC 9458 §3.2) and keep using X25519.
func DeriveHybridKey(seed []byte, keyID uint8, suites []Suite) (*PrivateKey, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("ohttp: seed is %d bytes, want %d", len(seed), SeedSize)
	}
	ikm, err := hkdf.Key(sha256.New, seed, nil, hybridSeedLabel+string([]byte{keyID}), 32)
	if err != nil {
		return nil, fmt.Errorf("ohttp: deriving hybrid key id %d: %w", keyID, err)
	}
	priv, err := hpke.MLKEM768X25519().DeriveKeyPair(ikm)
	if err != nil {
		return nil, fmt.Errorf("ohttp: deriving hybrid key id %d: %w", keyID, err)
	}
	return newPrivateKey(keyID, priv, suites)
}

// openHPKE opens a request to a key of another KEM than X25519 with
// crypto/hpke's recipient: base mode, the RFC 9458 §4.3 info for hdr, and
// the response secret exported into secret.
func (k *PrivateKey) openHPKE(suite Suite, hdr, enc, ct []byte, secret *[nh]byte) ([]byte, error) {
	kdf, aead, err := hpkeSuite(suite)
	if err != nil {
		return nil, err
	}
	r, err := hpke.NewRecipient(enc, k.hpkeKey, kdf, aead, requestInfo(hdr))
	if err != nil {
		return nil, errOpen
	}
	pt, err := r.Open(nil, ct)
	if err != nil {
		return nil, errOpen
	}
	nk, nn, _ := aeadSizes(suite.AEAD)
	exported, err := r.Export(responseLabel, max(nk, nn))
	if err != nil {
		return nil, errOpen
	}
	copy(secret[:], exported)
	clear(exported)
	return pt, nil
}

func newPrivateKey(keyID uint8, priv hpke.PrivateKey, suites []Suite) (*PrivateKey, error) {
	for _, s := range suites {
		if _, _, err := hpkeSuite(s); err != nil {
			return nil, fmt.Errorf("ohttp: key id %d: suite KDF 0x%04x AEAD 0x%04x: %w", keyID, s.KDF, s.AEAD, err)
		}
	}
	c := KeyConfig{
		KeyID:     keyID,
		KEM:       priv.KEM().ID(),
		PublicKey: priv.PublicKey().Bytes(),
		Suites:    slices.Clone(suites),
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	switch c.KEM {
	case KEMX25519HKDFSHA256:
	case KEMMLKEM768X25519:
		return &PrivateKey{config: c, hpkeKey: priv}, nil
	default:
		return nil, fmt.Errorf("%w: gateway keys must use KEM 0x%04x or 0x%04x, not 0x%04x", ErrKeyConfig, KEMX25519HKDFSHA256, KEMMLKEM768X25519, c.KEM)
	}
	skBytes, err := priv.Bytes()
	if err != nil {
		return nil, fmt.Errorf("ohttp: key id %d: %w", keyID, err)
	}
	r, err := newRecipient(keyID, skBytes)
	clear(skBytes)
	if err != nil {
		return nil, fmt.Errorf("ohttp: key id %d: %w", keyID, err)
	}
	if !bytes.Equal(r.pkR, c.PublicKey) {
		return nil, fmt.Errorf("ohttp: key id %d: X25519 public key differs from crypto/hpke's", keyID)
	}
	return &PrivateKey{config: c, recipient: r}, nil
}

// Config returns the key configuration that advertises k.
func (k *PrivateKey) Config() KeyConfig {
	c := k.config
	c.PublicKey = slices.Clone(c.PublicKey)
	c.Suites = slices.Clone(c.Suites)
	return c
}

// KeySet is the immutable set of keys a gateway accepts. Active keys are
// advertised at the key configuration endpoint and accepted; retired keys
// are only accepted, so clients holding an old configuration keep working
// during a rotation's overlap.
//
// Rotation: Apple provisions the gateway's key configuration out of band
// (client-spec.md §5.2), so rotation is an operator's act, not a timer: add a
// new key id to the active list and hand the new configuration to Apple; once
// Apple serves it, move the old id to the retired list; after the grace
// period, drop it.
type KeySet struct {
	byID    [256]*PrivateKey
	active  []KeyConfig
	encoded []byte // application/ohttp-keys of active
}

// NewKeySet returns a key set. active must not be empty; key ids must be
// distinct across both lists.
func NewKeySet(active, retired []*PrivateKey) (*KeySet, error) {
	if len(active) == 0 {
		return nil, errors.New("ohttp: key set has no active key")
	}
	ks := new(KeySet)
	for i, k := range slices.Concat(active, retired) {
		id := k.config.KeyID
		if ks.byID[id] != nil {
			return nil, fmt.Errorf("ohttp: key id %d appears twice in the key set", id)
		}
		ks.byID[id] = k
		if i < len(active) {
			ks.active = append(ks.active, k.config)
		}
	}
	var err error
	if ks.encoded, err = MarshalKeyConfigs(ks.active); err != nil {
		return nil, err
	}
	return ks, nil
}

// DeriveKeySet derives a key set from seed with [DeriveKey]: one key per id,
// each offering suites.
func DeriveKeySet(seed []byte, activeIDs, retiredIDs []uint8, suites []Suite) (*KeySet, error) {
	return DeriveHybridKeySet(seed, activeIDs, retiredIDs, nil, suites)
}

// DeriveHybridKeySet is [DeriveKeySet] with active MLKEM768-X25519 keys
// ([DeriveHybridKey]) for hybridIDs besides, advertised after the X25519
// keys so that a client taking the first configuration gets X25519. Key ids
// must be distinct across all three lists.
func DeriveHybridKeySet(seed []byte, activeIDs, retiredIDs, hybridIDs []uint8, suites []Suite) (*KeySet, error) {
	derive := func(ids []uint8, f func([]byte, uint8, []Suite) (*PrivateKey, error)) ([]*PrivateKey, error) {
		var keys []*PrivateKey
		for _, id := range ids {
			k, err := f(seed, id, suites)
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
		return keys, nil
	}
	active, err := derive(activeIDs, DeriveKey)
	if err != nil {
		return nil, err
	}
	hybrid, err := derive(hybridIDs, DeriveHybridKey)
	if err != nil {
		return nil, err
	}
	retired, err := derive(retiredIDs, DeriveKey)
	if err != nil {
		return nil, err
	}
	return NewKeySet(append(active, hybrid...), retired)
}

// Configs returns the configurations of the active keys, in order.
func (ks *KeySet) Configs() []KeyConfig {
	out := make([]KeyConfig, len(ks.active))
	for i, c := range ks.active {
		out[i] = ks.byID[c.KeyID].Config()
	}
	return out
}

// MarshalConfigs returns the application/ohttp-keys body for the active keys.
func (ks *KeySet) MarshalConfigs() []byte { return slices.Clone(ks.encoded) }

// LoadOrCreateSeed reads the [SeedSize]-byte seed at path. If the file does
// not exist it is created with mode 0600 and filled from rnd (crypto/rand
// when nil). A file of another size, or one that group or others may read,
// is an error: the seed is the gateway's long-term secret.
//
// Creation is atomic and durable: the seed is written and fsynced under a
// temporary name, linked to path only if path still does not exist, and the
// directory is fsynced. A crash therefore leaves either no seed (the next
// start creates one, and no configuration was ever served from it) or the
// whole seed, never an empty or partial file; and of several processes
// starting at once, all end up with the one seed that was linked first.
func LoadOrCreateSeed(path string, rnd io.Reader) ([]byte, error) {
	seed, err := readSeed(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return seed, err
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	seed = make([]byte, SeedSize)
	if _, err := io.ReadFull(rnd, seed); err != nil {
		return nil, fmt.Errorf("ohttp: generating seed: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("ohttp: creating seed file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(seed)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("ohttp: writing seed file: %w", err)
	}
	// Link, unlike rename, fails when path exists: a seed another process
	// created meanwhile is never replaced.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("ohttp: creating seed file: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("ohttp: creating seed file: %w", err)
	}
	return readSeed(path)
}

// syncDir flushes a directory's entries to stable storage.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// ReadSeedFile reads the [SeedSize]-byte seed of an existing file, such
// as a Kubernetes Secret mounted read-only; it never creates one. A file
// that others may read is always an error. A group-readable one (mode 0640
// or 0440, what a Secret volume with fsGroup and defaultMode 0440 gives a
// non-root user) is accepted only when allowGroupReadable is set: the
// operator then vouches that the group holds nothing else.
func ReadSeedFile(path string, allowGroupReadable bool) ([]byte, error) {
	var mask fs.FileMode = 0o077
	if allowGroupReadable {
		mask = 0o037 // group may read, not write or execute
	}
	return readSeedMask(path, mask)
}

// ParseSeed decodes a seed given as text, as from an environment variable:
// 64 hex digits, or the standard or URL-safe base64 of 32 bytes (padded or
// not). Surrounding whitespace is ignored.
func ParseSeed(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	if len(text) == 2*SeedSize {
		if b, err := hex.DecodeString(text); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(text); err == nil && len(b) == SeedSize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("ohttp: seed is not %d bytes in hex or base64 (%d characters)", SeedSize, len(text))
}

func readSeed(path string) ([]byte, error) { return readSeedMask(path, 0o077) }

// readSeedMask reads the seed at path, refusing a file with any mode bit
// of mask set.
func readSeedMask(path string, mask fs.FileMode) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ohttp: reading seed file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("ohttp: seed file: %w", err)
	}
	if st.Mode().Perm()&mask != 0 {
		want := "0600 or stricter"
		if mask&0o040 == 0 {
			want = "0640 or stricter"
		}
		return nil, fmt.Errorf("ohttp: seed file %s has mode %04o, want %s", path, st.Mode().Perm(), want)
	}
	if st.Size() != SeedSize {
		return nil, fmt.Errorf("ohttp: seed file %s is %d bytes, want %d", path, st.Size(), SeedSize)
	}
	seed := make([]byte, SeedSize)
	if _, err := io.ReadFull(f, seed); err != nil {
		return nil, fmt.Errorf("ohttp: reading seed file: %w", err)
	}
	return seed, nil
}
