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
// files, one per key, named "<tier>@<unix seconds of creation>.pem" (the
// tier with '/' written as '~'). Keys are secrets: the directory is created
// 0700 and the files 0600.
//
// Rotation with overlap: a tier's newest key signs new tokens; when it is
// older than lifetime, [IssuerKeyDir.Keyring] creates a new one, and the
// previous key keeps verifying tokens for overlap after its successor was
// created (devices cache tokens up to 24 h). Keys past that are deleted.
// Restarts reuse the files, so tokens devices hold stay valid.
//
// Double spending: a key verifies for at most Lifetime + Overlap after its
// creation, however late its successor comes (a process that was down, or
// that rotates only hourly). A token is redeemed after its key was created,
// so a spent-token set that remembers each token for Lifetime + Overlap
// after redemption (what `blindlist serve` configures) outlives the key: an
// expired spent entry can never let a token be replayed. With the default
// 48 h overlap the bound refuses no token a device still holds (devices
// drop tokens after 24 h, and a key stops issuing when its successor is
// made).
type IssuerKeyDir struct {
	// Dir is the directory of the PEM files.
	Dir string
	// Lifetime is how long a key is the tier's newest before a successor
	// is made.
	Lifetime time.Duration
	// Overlap is how long a key still verifies after its successor was
	// made.
	Overlap time.Duration
	// Generate makes a new key; nil means privacypass.GenerateKey. Tests
	// pass a fixed key.
	Generate func() (*privacypass.PrivateKey, error)
}

type issuerKeyFile struct {
	tier    string
	created time.Time
	path    string
	key     *privacypass.PrivateKey
}

// Keyring loads the keys of the given tiers at now, creating and retiring
// keys as the rotation rules say, and returns the keyring to serve. The
// truncated key ids (last byte of the key id) of all live keys are kept
// distinct by regenerating a colliding new key.
func (d *IssuerKeyDir) Keyring(tiers []string, now time.Time) (*privacypass.Keyring, error) {
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("api: issuer keys: %w", err)
	}
	files, err := d.load()
	if err != nil {
		return nil, err
	}
	byTier := map[string][]*issuerKeyFile{}
	for _, f := range files {
		byTier[f.tier] = append(byTier[f.tier], f)
	}
	used := map[byte]bool{}
	for _, fs := range byTier {
		for _, f := range fs {
			used[f.key.Public().TruncatedID()] = true
		}
	}
	var specs []privacypass.KeySpec
	for _, tier := range tiers {
		fs := byTier[tier]
		slices.SortFunc(fs, func(a, b *issuerKeyFile) int { return a.created.Compare(b.created) })
		if len(fs) == 0 || now.Sub(fs[len(fs)-1].created) >= d.Lifetime {
			f, err := d.create(tier, now, used)
			if err != nil {
				return nil, err
			}
			fs = append(fs, f)
		}
		for i, f := range fs {
			spec := privacypass.KeySpec{Key: f.key, Tier: tier, NotBefore: f.created,
				NotAfter: f.created.Add(d.Lifetime + d.Overlap)}
			if i+1 < len(fs) {
				if succ := fs[i+1].created.Add(d.Overlap); succ.Before(spec.NotAfter) {
					spec.NotAfter = succ
				}
				if !now.Before(spec.NotAfter) {
					if err := os.Remove(f.path); err != nil {
						return nil, fmt.Errorf("api: issuer keys: removing retired key: %w", err)
					}
					continue
				}
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
		if err != nil {
			return nil, fmt.Errorf("api: issuer keys: %w", err)
		}
		k, err := privacypass.ParsePrivateKeyPEM(b)
		if err != nil {
			return nil, fmt.Errorf("api: issuer keys: %s: %w", p, err)
		}
		out = append(out, &issuerKeyFile{tier: strings.ReplaceAll(tierPart, "~", "/"), created: time.Unix(n, 0), path: p, key: k})
	}
	return out, nil
}

// create makes and durably writes a new key for tier whose truncated id is
// not in used.
func (d *IssuerKeyDir) create(tier string, now time.Time, used map[byte]bool) (*issuerKeyFile, error) {
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
	created := now.Truncate(time.Second)
	name := fmt.Sprintf("%s@%d.pem", strings.ReplaceAll(tier, "/", "~"), created.Unix())
	path := filepath.Join(d.Dir, name)
	if err := writeSecretFile(path, pemBytes); err != nil {
		return nil, fmt.Errorf("api: issuer keys: %w", err)
	}
	return &issuerKeyFile{tier: tier, created: created, path: path, key: k}, nil
}

// writeSecretFile writes data 0600 through a temporary file, fsynced and
// renamed into place, so a crash leaves the old state or the new file.
func writeSecretFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	if err := dir.Sync(); err != nil {
		dir.Close()
		return err
	}
	return dir.Close()
}

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
