package api

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blindlist/blindlist/api/privacypass"
	"github.com/blindlist/blindlist/internal/atomicfile"
)

// PrivacyPassVerifier adapts a privacypass.Service to [TokenVerifier]: its
// errors become Apple's statuses through [ErrTokenMalformed],
// [ErrTokenUnknownKey] and [ErrTokenInvalid].
func PrivacyPassVerifier(s *privacypass.Service) TokenVerifier { return ppVerifier{s} }

type ppVerifier struct{ s *privacypass.Service }

func (v ppVerifier) Redeem(ctx context.Context, token []byte) (string, error) {
	tier, err := v.s.Verify(ctx, token)
	switch {
	case err == nil:
		return tier, nil
	case errors.Is(err, privacypass.ErrTokenSize):
		return "", fmt.Errorf("%w: %w", ErrTokenMalformed, err)
	case errors.Is(err, privacypass.ErrUnknownKey):
		return "", fmt.Errorf("%w: %w", ErrTokenUnknownKey, err)
	case errors.Is(err, privacypass.ErrTokenType), errors.Is(err, privacypass.ErrBadSignature),
		errors.Is(err, privacypass.ErrTokenSpent):
		return "", fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	default:
		return "", err
	}
}

// IssuerKeyDir keeps the Privacy Pass issuer keys of a deployment as PEM
// files, one per key, named "<tier>@<unix seconds>.pem" (the tier with '/'
// written as '~'), the time being the key's not-before: when it starts
// signing. Keys are secrets: the directory is created 0700 and the files
// 0600.
//
// Rotation with overlap: a tier's newest started key signs new tokens.
// PublishAhead before that key's Lifetime ends, [IssuerKeyDir.Keyring]
// writes a successor whose not-before is PublishAhead later: the directory
// lists it at once (with its "not-before") and every replica can verify its
// tokens, but it signs only from its not-before on. The previous key keeps
// verifying tokens for Overlap after its successor started (devices cache
// tokens up to 24 h). Keys past that are deleted. Restarts reuse the files,
// so tokens devices hold stay valid.
//
// Replicas: every replica that signs or verifies must share the directory
// and call Keyring (and hand the result to privacypass.Service.SetKeyring)
// at least once per reload interval shorter than PublishAhead. Then a
// successor written by any replica is known to all before it signs its
// first token, so a token issued by one replica is accepted by every other.
// Changes to the directory (new keys, deleted ones) are made by one caller
// at a time under an exclusive lock on the file ".lock" in the directory
// (flock; the directory must be on a file system that honours it, as local
// disks, NFSv4 and CephFS do), after re-reading the directory, so replicas
// ticking at once do not both make a successor. Only when a tier has no key
// that can sign now (first start, or the whole deployment was down past a
// key's Lifetime + Overlap) does a new key sign at once; replicas learn it
// within one reload interval.
//
// Double spending: a key verifies for at most Lifetime + Overlap after its
// not-before, however late its successor comes (a deployment that was
// down). A token is redeemed after its key's not-before, so a spent-token
// set that remembers each token for Lifetime + Overlap after redemption
// (what `blindlist serve` configures) outlives the key: an expired spent
// entry can never let a token be replayed. With the default 48 h overlap
// the bound refuses no token a device still holds (devices drop tokens
// after 24 h, and a key stops issuing when its successor starts).
type IssuerKeyDir struct {
	// Dir is the directory of the PEM files.
	Dir string
	// Lifetime is how long a key is the tier's signing key before its
	// successor starts.
	Lifetime time.Duration
	// Overlap is how long a key still verifies after its successor
	// started.
	Overlap time.Duration
	// PublishAhead is how long before it starts signing a successor is
	// written, hence published and verifiable; it must be longer than
	// the interval at which replicas call Keyring, and shorter than
	// Lifetime. Zero: a successor signs as soon as it is made (a single
	// process only).
	PublishAhead time.Duration
	// ClockSkew backdates the "not-before" each key is published with
	// (privacypass.KeySpec.Announce), so a device whose clock is behind
	// ours by up to this much does not see a key that already signs as
	// not yet valid. The key still signs only from its start.
	ClockSkew time.Duration
	// Generate makes a new key; nil means privacypass.GenerateKey. Tests
	// pass a fixed key.
	Generate func() (*privacypass.PrivateKey, error)
}

// deviceTokenLifetime is how long a device keeps a token before it
// discards it (pir-spec §8.3: 24 h). A key stops issuing this long before
// it stops verifying, so every token it issued can be spent.
const deviceTokenLifetime = 24 * time.Hour

type issuerKeyFile struct {
	tier  string
	start time.Time // not-before: the key signs from here on
	path  string
	key   *privacypass.PrivateKey
}

// Keyring loads the keys of the given tiers at now, creating and retiring
// keys as the rotation rules say, and returns the keyring to serve. The
// truncated key ids (last byte of the key id) of all live keys are kept
// distinct by regenerating a colliding new key.
func (d *IssuerKeyDir) Keyring(tiers []string, now time.Time) (*privacypass.Keyring, error) {
	return d.KeyringSince(tiers, now, time.Time{})
}

// KeyringSince is [IssuerKeyDir.Keyring] after the spent-token store lost
// its data (privacypass.Service.VoidBefore): keys that started before
// voidBefore are void (their tokens may have been spent and forgotten), so
// they are deleted, and a tier left without a key gets one that starts at
// voidBefore rounded up to the next whole second (key start times are
// whole seconds). A zero voidBefore voids nothing.
func (d *IssuerKeyDir) KeyringSince(tiers []string, now, voidBefore time.Time) (*privacypass.Keyring, error) {
	if d.PublishAhead < 0 || (d.PublishAhead > 0 && d.PublishAhead >= d.Lifetime) {
		return nil, fmt.Errorf("api: issuer keys: publish-ahead %v must be between 0 and the key lifetime %v", d.PublishAhead, d.Lifetime)
	}
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("api: issuer keys: %w", err)
	}
	files, err := d.load()
	if err != nil {
		return nil, err
	}
	if d.plan(files, tiers, now, voidBefore).changes() {
		// Re-read under the lock: another replica may have rotated
		// since, and then there is nothing left to do.
		unlock, err := lockDir(d.Dir)
		if err != nil {
			return nil, fmt.Errorf("api: issuer keys: locking %s: %w", d.Dir, err)
		}
		defer unlock()
		if files, err = d.load(); err != nil {
			return nil, err
		}
		if files, err = d.apply(files, d.plan(files, tiers, now, voidBefore)); err != nil {
			return nil, err
		}
	}
	var specs []privacypass.KeySpec
	for _, tier := range tiers {
		for _, spec := range d.specs(byTier(files)[tier], now) {
			if !spec.NotAfter.After(now) || spec.NotBefore.Before(voidBefore) {
				continue // retired or void; only possible while another replica holds the lock
			}
			specs = append(specs, spec)
		}
	}
	ring, err := privacypass.NewKeyring(specs)
	if err != nil {
		return nil, fmt.Errorf("api: issuer keys: %w", err)
	}
	return ring, nil
}

// rotationPlan is what Keyring must change in the directory at one time.
type rotationPlan struct {
	remove []*issuerKeyFile
	create []newIssuerKey
}

type newIssuerKey struct {
	tier  string
	start time.Time
}

func (p rotationPlan) changes() bool { return len(p.remove)+len(p.create) > 0 }

func byTier(files []*issuerKeyFile) map[string][]*issuerKeyFile {
	m := map[string][]*issuerKeyFile{}
	for _, f := range files {
		m[f.tier] = append(m[f.tier], f)
	}
	for _, fs := range m {
		slices.SortFunc(fs, func(a, b *issuerKeyFile) int { return a.start.Compare(b.start) })
	}
	return m
}

// specs gives each of a tier's keys (sorted by start) its validity: it
// verifies from its start until Lifetime + Overlap later, or Overlap after
// its successor's start if that is sooner; it issues until a device token
// lifetime before that (so, with the default 48 h overlap, for a day after
// its successor started: devices that cached its token key still get
// tokens, and every token it issued outlives the device's 24 h); it is
// announced ClockSkew before its start.
func (d *IssuerKeyDir) specs(fs []*issuerKeyFile, now time.Time) []privacypass.KeySpec {
	out := make([]privacypass.KeySpec, len(fs))
	for i, f := range fs {
		out[i] = privacypass.KeySpec{Key: f.key, Tier: f.tier, NotBefore: f.start, NotAfter: f.start.Add(d.Lifetime + d.Overlap)}
		if i+1 < len(fs) {
			if succ := fs[i+1].start.Add(d.Overlap); succ.Before(out[i].NotAfter) {
				out[i].NotAfter = succ
			}
		}
		if until := out[i].NotAfter.Add(-deviceTokenLifetime); until.After(f.start) {
			out[i].IssueUntil = until
		}
		if d.ClockSkew > 0 {
			out[i].Announce = f.start.Add(-d.ClockSkew)
		}
	}
	return out
}

// plan decides, at now, which keys are retired or void and which tiers
// need a new key: one that starts PublishAhead from now when the signing
// key's lifetime ends within PublishAhead, or one that starts now (not
// before voidBefore) when no key can sign now or before the signing key
// retires.
func (d *IssuerKeyDir) plan(files []*issuerKeyFile, tiers []string, now, voidBefore time.Time) rotationPlan {
	var p rotationPlan
	all := byTier(files)
	startNow := now
	if now.Truncate(time.Second).Before(voidBefore) {
		// A key starting now would be void: start on the next second.
		startNow = voidBefore.Truncate(time.Second).Add(time.Second)
	}
	for _, tier := range tiers {
		fs := all[tier]
		var live []*issuerKeyFile
		for i, spec := range d.specs(fs, now) {
			if spec.NotAfter.After(now) && !spec.NotBefore.Before(voidBefore) {
				live = append(live, fs[i])
			} else {
				p.remove = append(p.remove, fs[i])
			}
		}
		if len(live) > 0 && live[0].start.After(startNow) {
			// Only keys published ahead survived a voiding: none could
			// sign before the first of them starts.
			p.create = append(p.create, newIssuerKey{tier, startNow})
			continue
		}
		if len(live) > 0 && live[len(live)-1].start.After(now) {
			continue // a successor is published and waits for its start
		}
		if len(live) == 0 {
			p.create = append(p.create, newIssuerKey{tier, startNow})
			continue
		}
		cur := live[len(live)-1]
		if now.Before(cur.start.Add(d.Lifetime - d.PublishAhead)) {
			continue
		}
		// Publish as far ahead as cur still issues: a late tick (a
		// deployment that was down) shortens the publish-ahead period
		// rather than leave a gap no key issues in.
		start := now.Add(d.PublishAhead)
		if end := d.issueEnd(cur); end.Before(start) {
			start = end
		}
		if start.Before(now) {
			start = now
		}
		p.create = append(p.create, newIssuerKey{tier, start})
	}
	return p
}

// issueEnd is when f stops issuing if no successor comes (see specs).
func (d *IssuerKeyDir) issueEnd(f *issuerKeyFile) time.Time {
	end := f.start.Add(d.Lifetime + d.Overlap)
	if until := end.Add(-deviceTokenLifetime); until.After(f.start) {
		return until
	}
	return end
}

// apply carries out p and returns the files that remain.
func (d *IssuerKeyDir) apply(files []*issuerKeyFile, p rotationPlan) ([]*issuerKeyFile, error) {
	for _, f := range p.remove {
		if err := os.Remove(f.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("api: issuer keys: removing retired key: %w", err)
		}
		files = slices.DeleteFunc(files, func(g *issuerKeyFile) bool { return g == f })
	}
	used := map[byte]bool{}
	for _, f := range files {
		used[f.key.Public().TruncatedID()] = true
	}
	for _, n := range p.create {
		f, err := d.create(n.tier, n.start, used)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

func (d *IssuerKeyDir) load() ([]*issuerKeyFile, error) {
	paths, err := filepath.Glob(filepath.Join(d.Dir, "*.pem"))
	if err != nil {
		return nil, fmt.Errorf("api: issuer keys: %w", err)
	}
	var out []*issuerKeyFile
	for _, p := range paths {
		base := strings.TrimSuffix(filepath.Base(p), ".pem")
		tierPart, secs, ok := strings.Cut(base, "@")
		n, err := strconv.ParseInt(secs, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("api: issuer keys: %s: name is not <tier>@<unix seconds>.pem", p)
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue // retired by another replica since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("api: issuer keys: %w", err)
		}
		k, err := privacypass.ParsePrivateKeyPEM(b)
		if err != nil {
			return nil, fmt.Errorf("api: issuer keys: %s: %w", p, err)
		}
		out = append(out, &issuerKeyFile{tier: strings.ReplaceAll(tierPart, "~", "/"), start: time.Unix(n, 0), path: p, key: k})
	}
	return out, nil
}

// create makes and durably writes a new key for tier, signing from start,
// whose truncated id is not in used.
func (d *IssuerKeyDir) create(tier string, start time.Time, used map[byte]bool) (*issuerKeyFile, error) {
	gen := d.Generate
	if gen == nil {
		gen = privacypass.GenerateKey
	}
	var k *privacypass.PrivateKey
	for range 64 {
		c, err := gen()
		if err != nil {
			return nil, fmt.Errorf("api: issuer keys: %w", err)
		}
		if !used[c.Public().TruncatedID()] {
			k = c
			break
		}
	}
	if k == nil {
		return nil, errors.New("api: issuer keys: no key with a free truncated key id after 64 tries")
	}
	used[k.Public().TruncatedID()] = true
	pemBytes, err := k.MarshalPEM()
	if err != nil {
		return nil, fmt.Errorf("api: issuer keys: %w", err)
	}
	start = start.Truncate(time.Second)
	name := fmt.Sprintf("%s@%d.pem", strings.ReplaceAll(tier, "/", "~"), start.Unix())
	path := filepath.Join(d.Dir, name)
	if err := atomicfile.WriteBytes(path, secretFileMode, pemBytes); err != nil {
		return nil, fmt.Errorf("api: issuer keys: %w", err)
	}
	return &issuerKeyFile{tier: tier, start: start, path: path, key: k}, nil
}

// epochNoteFile is the file in the key directory that remembers the
// spent-token store's epoch (see [IssuerKeyDir.LoadEpoch]). It does not end
// in .pem, so key loading ignores it.
const epochNoteFile = "spent-store-epoch"

// LoadEpoch implements privacypass.EpochNote: the id of the spent-token
// store's epoch last seen by any replica, kept beside the keys because the
// key directory is durable and shared by every replica, and outlives a
// Redis that loses its data. "" when none was saved.
func (d *IssuerKeyDir) LoadEpoch() (string, error) {
	b, err := os.ReadFile(filepath.Join(d.Dir, epochNoteFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("api: issuer keys: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// SaveEpoch implements privacypass.EpochNote with a durable atomic write.
func (d *IssuerKeyDir) SaveEpoch(id string) error {
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return fmt.Errorf("api: issuer keys: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(d.Dir, epochNoteFile), secretFileMode, []byte(id+"\n")); err != nil {
		return fmt.Errorf("api: issuer keys: %w", err)
	}
	return nil
}

// secretFileMode is the permission of issuer keys and the zero-config user
// token: readable by the service's user only.
const secretFileMode = 0o600

// ReadUserTokens reads a tokens file: one user token per line, blank lines
// and lines starting with '#' ignored. Tokens must be valid base64 (the
// device silently sends no Privacy Pass tokens otherwise, client-spec §7
// item 8).
func ReadUserTokens(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("api: user tokens: %w", err)
	}
	var out []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !isBase64(line) {
			return nil, fmt.Errorf("api: user tokens: %s line %d: token is not base64 (devices would silently send no Privacy Pass tokens)", path, i+1)
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("api: user tokens: %s has no token", path)
	}
	return out, nil
}

func isBase64(s string) bool {
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
