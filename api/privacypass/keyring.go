package privacypass

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// KeySpec is one issuer key in a [Keyring].
//
// Rotation with overlap: add the new key with NotBefore in the future (the
// directory lists it at once, so devices and relays learn it early); when
// NotBefore passes it becomes the tier's current key for
// /token-key-for-user-token. Give the old key a NotAfter at least the
// device's token lifetime (24 h, pir-spec §8.3) after that: until then its
// tokens still verify and requests still addressed to it are still answered.
type KeySpec struct {
	// Key is the issuer key.
	Key *PrivateKey
	// Tier is the user tier the key issues for (Apple's example: "tier1",
	// "tier2", "tier3"). Tokens redeemed with this key carry this tier.
	Tier string
	// NotBefore is when the key starts issuing; zero means at once. When set
	// it is published as the directory's "not-before".
	NotBefore time.Time
	// NotAfter is when the key retires: it stops issuing, its tokens are
	// refused and it leaves the directory. Zero means never.
	NotAfter time.Time
	// IssueUntil, when set, is when the key stops issuing while it still
	// verifies until NotAfter: set it a token lifetime (a day on devices)
	// before NotAfter, so a token issued at the last moment lives out its
	// lifetime. Zero: NotAfter.
	IssueUntil time.Time
	// Announce, when set, is the "not-before" published in the directory
	// instead of NotBefore: earlier, so a device whose clock is behind ours
	// does not take the key for one that has not started. The key still
	// signs only from NotBefore. Zero: NotBefore.
	Announce time.Time
}

// issuesAt reports whether the key signs new tokens at now.
func (s *KeySpec) issuesAt(now time.Time) bool {
	return s.activeAt(now) && (s.IssueUntil.IsZero() || now.Before(s.IssueUntil))
}

// announced is the not-before to publish.
func (s *KeySpec) announced() time.Time {
	if !s.Announce.IsZero() {
		return s.Announce
	}
	return s.NotBefore
}

func (s *KeySpec) activeAt(now time.Time) bool {
	return !now.Before(s.NotBefore) && (s.NotAfter.IsZero() || now.Before(s.NotAfter))
}

func (s *KeySpec) retiredAt(now time.Time) bool {
	return !s.NotAfter.IsZero() && !now.Before(s.NotAfter)
}

// Keyring is an immutable set of issuer keys, one or more per tier. Build a
// new one to rotate and hand it to [Service.SetKeyring].
type Keyring struct {
	keys []KeySpec
}

// NewKeyring checks specs and returns the keyring. Truncated key ids must
// be distinct across all keys (devices name the key by that one byte in
// token requests; Apple's example regenerates keys until they differ), as
// must tier names be non-empty.
func NewKeyring(specs []KeySpec) (*Keyring, error) {
	if len(specs) == 0 {
		return nil, errors.New("privacypass: keyring has no keys")
	}
	seen := map[byte]int{}
	for i, s := range specs {
		if s.Key == nil {
			return nil, fmt.Errorf("privacypass: keyring entry %d has no key", i)
		}
		if s.Tier == "" {
			return nil, fmt.Errorf("privacypass: keyring entry %d has no tier", i)
		}
		if !s.NotAfter.IsZero() && !s.NotAfter.After(s.NotBefore) {
			return nil, fmt.Errorf("privacypass: keyring entry %d retires before it starts", i)
		}
		if !s.IssueUntil.IsZero() && (!s.IssueUntil.After(s.NotBefore) || !s.NotAfter.IsZero() && s.IssueUntil.After(s.NotAfter)) {
			return nil, fmt.Errorf("privacypass: keyring entry %d stops issuing outside its validity", i)
		}
		if !s.Announce.IsZero() && s.Announce.After(s.NotBefore) {
			return nil, fmt.Errorf("privacypass: keyring entry %d is announced after it starts", i)
		}
		tid := s.Key.Public().TruncatedID()
		if j, dup := seen[tid]; dup {
			return nil, fmt.Errorf("privacypass: keyring entries %d and %d share truncated key id %d: generate another key", j, i, tid)
		}
		seen[tid] = i
	}
	return &Keyring{keys: slices.Clone(specs)}, nil
}

// Keys returns a copy of the key specs.
func (r *Keyring) Keys() []KeySpec { return slices.Clone(r.keys) }

// void reports whether the key started before since: a key whose tokens
// the spent-token store may have forgotten (see [Service.Verify]). A zero
// since voids nothing.
func (s *KeySpec) void(since time.Time) bool {
	return !since.IsZero() && s.NotBefore.Before(since)
}

// Current returns the key tier issues with at now: of the tier's keys that
// issue at now, the one that started last.
func (r *Keyring) Current(tier string, now time.Time) (*PrivateKey, error) {
	return r.current(tier, now, time.Time{})
}

// current is Current ignoring keys void since since.
func (r *Keyring) current(tier string, now, since time.Time) (*PrivateKey, error) {
	var best *KeySpec
	for i := range r.keys {
		s := &r.keys[i]
		if s.Tier != tier || !s.issuesAt(now) || s.void(since) {
			continue
		}
		if best == nil || s.NotBefore.After(best.NotBefore) {
			best = s
		}
	}
	if best == nil {
		return nil, fmt.Errorf("privacypass: tier %q: %w", tier, ErrNoActiveKey)
	}
	return best.Key, nil
}

// Issue answers the token request body for a user of tier at now, with the
// tier's issuing key named by the request's truncated key id, so devices
// that fetched the previous key during an overlap are still served.
func (r *Keyring) Issue(tier string, body []byte, now time.Time) ([]byte, error) {
	return r.issue(tier, body, now, time.Time{})
}

// issue is Issue ignoring keys void since since.
func (r *Keyring) issue(tier string, body []byte, now, since time.Time) ([]byte, error) {
	req, err := ParseTokenRequest(body)
	if err != nil {
		return nil, err
	}
	if req.TokenType != TokenType {
		return nil, fmt.Errorf("privacypass: token type %#04x: %w", req.TokenType, ErrRequestTokenType)
	}
	for i := range r.keys {
		s := &r.keys[i]
		if s.Tier == tier && s.issuesAt(now) && !s.void(since) && s.Key.Public().TruncatedID() == req.TruncatedKeyID {
			return s.Key.Issue(req)
		}
	}
	return nil, fmt.Errorf("privacypass: truncated key id %d for tier %q: %w", req.TruncatedKeyID, tier, ErrRequestKeyID)
}

// CheckToken parses and checks a token against the keyring at now: size,
// type, key id of a key that is not retired, and the RSASSA-PSS signature
// (SHA-384, MGF1-SHA-384, 48-byte salt; RFC 9578 §6.4). It does not look at
// double spending: [Service.Verify] does. It returns the key's tier.
//
// The challenge digest is not checked, as in Apple's service: the device
// builds the challenge itself.
func (r *Keyring) CheckToken(b []byte, now time.Time) (tier string, tok *Token, err error) {
	spec, tok, err := r.checkToken(b, now)
	if err != nil {
		return "", nil, err
	}
	return spec.Tier, tok, nil
}

// checkToken is CheckToken returning the key's spec.
func (r *Keyring) checkToken(b []byte, now time.Time) (*KeySpec, *Token, error) {
	tok, err := ParseToken(b)
	if err != nil {
		return nil, nil, err
	}
	if tok.TokenType != TokenType {
		return nil, nil, fmt.Errorf("privacypass: token type %#04x: %w", tok.TokenType, ErrTokenType)
	}
	var spec *KeySpec
	for i := range r.keys {
		if r.keys[i].Key.Public().ID() == tok.KeyID {
			spec = &r.keys[i]
		}
	}
	if spec == nil || spec.retiredAt(now) {
		return nil, nil, ErrUnknownKey
	}
	if err := verifyAuthenticator(spec.Key.Public(), tok); err != nil {
		return nil, nil, err
	}
	return spec, tok, nil
}

// verifyAuthenticator checks the token's signature under pub. The token key
// id has already been matched to pub. The check is RSASSA-PSS-VERIFY with
// SHA-384, MGF1-SHA-384 and a 48-byte salt on public data, done by circl's
// RFC 9474 verifier, which is faster than crypto/rsa.VerifyPSS for this
// public-key operation (see BENCHMARKS.md); TestVerifyMatchesStdlib checks
// the two agree.
func verifyAuthenticator(pub *PublicKey, tok *Token) error {
	if err := pub.verifier.Verify(tok.authenticatorInput(), tok.Authenticator); err != nil {
		return ErrBadSignature
	}
	return nil
}

// directoryKeys returns the keys to publish at now: every key not retired
// nor void since since, in order of NotBefore (stable for equal times).
func (r *Keyring) directoryKeys(now, since time.Time) []KeySpec {
	var out []KeySpec
	for _, s := range r.keys {
		if !s.retiredAt(now) && !s.void(since) {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b KeySpec) int { return a.NotBefore.Compare(b.NotBefore) })
	return out
}
