package privacypass

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/blindlist/blindlist/internal/store"
)

// Config configures a [Service]. Every field is required unless marked.
type Config struct {
	// Keyring holds the issuer keys; replace it later with
	// [Service.SetKeyring].
	Keyring *Keyring
	// UserTokens maps each bearer user token to its tier, Apple's
	// "users" allow-list (pir-spec §8.1). Only SHA-256 digests of the tokens
	// are kept. Replace it later with [Service.SetUserTokens].
	UserTokens map[string]string
	// Spent records redeemed tokens: a [store.Bolt] or [store.Redis] spent
	// set whose TTL outlives every key's acceptance (see [KeySpec]).
	Spent store.SpentSet
	// Logger receives internal errors only (never tokens, user tokens, keys or
	// addresses). Optional: nil discards.
	Logger *slog.Logger
	// Now is the clock. Optional: nil means time.Now.
	Now func() time.Time
}

// Service is the Privacy Pass issuer and redeemer of one deployment: the
// three issuer endpoints ([Service.Handler]) and token verification with
// double-spend prevention ([Service.Verify], [Service.Middleware]). It is
// safe for concurrent use; keys and user tokens can be swapped while it
// serves.
type Service struct {
	ring  atomic.Pointer[Keyring]
	users atomic.Pointer[map[[32]byte]string]
	spent store.SpentSet
	log   *slog.Logger
	now   func() time.Time
}

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Keyring == nil {
		return nil, errors.New("privacypass: Config.Keyring is nil")
	}
	if cfg.Spent == nil {
		return nil, errors.New("privacypass: Config.Spent is nil: a spent-token store is required")
	}
	s := &Service{spent: cfg.Spent, log: cfg.Logger, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.ring.Store(cfg.Keyring)
	if err := s.SetUserTokens(cfg.UserTokens); err != nil {
		return nil, err
	}
	return s, nil
}

// SetKeyring replaces the keys, for rotation. Requests in flight finish with
// the keyring they started with.
func (s *Service) SetKeyring(r *Keyring) {
	if r == nil {
		panic("privacypass: SetKeyring(nil)")
	}
	s.ring.Store(r)
}

// Keyring returns the keys in use.
func (s *Service) Keyring() *Keyring { return s.ring.Load() }

// SetUserTokens replaces the user-token allow-list. Every tier must have a
// key in the current keyring.
func (s *Service) SetUserTokens(tokens map[string]string) error {
	ring := s.ring.Load()
	m := make(map[[32]byte]string, len(tokens))
	for tok, tier := range tokens {
		if tok == "" {
			return errors.New("privacypass: empty user token")
		}
		if !ring.hasTier(tier) {
			return fmt.Errorf("privacypass: user tier %q has no key in the keyring", tier)
		}
		m[sha256.Sum256([]byte(tok))] = tier
	}
	s.users.Store(&m)
	return nil
}

func (r *Keyring) hasTier(tier string) bool {
	for _, k := range r.keys {
		if k.Tier == tier {
			return true
		}
	}
	return false
}

// userTier returns the tier of a bearer user token. The lookup is by
// SHA-256 digest, so its timing reveals nothing useful about valid tokens.
func (s *Service) userTier(userToken string) (string, error) {
	if userToken == "" {
		return "", ErrUnauthorized
	}
	tier, ok := (*s.users.Load())[sha256.Sum256([]byte(userToken))]
	if !ok {
		return "", ErrUnauthorized
	}
	return tier, nil
}

// Verify redeems a token: [Keyring.CheckToken], then marks it spent. A token
// is marked only once it has verified, so forged tokens cannot fill the
// store or burn nonces. It returns the tier of the token's key.
func (s *Service) Verify(ctx context.Context, token []byte) (string, error) {
	tier, tok, err := s.ring.Load().CheckToken(token, s.now())
	if err != nil {
		return "", err
	}
	spent, err := s.spent.MarkSpent(ctx, SpentKey(tok))
	if err != nil {
		return "", fmt.Errorf("privacypass: recording spent token: %w", err)
	}
	if spent {
		return "", ErrTokenSpent
	}
	return tier, nil
}

// SpentKey is the key under which a redeemed token is recorded: token key
// id || nonce (64 bytes). Apple's service keeps one nonce set per key, so a
// nonce is unique per key.
func SpentKey(t *Token) []byte {
	k := make([]byte, 0, Nid+NonceSize)
	k = append(k, t.KeyID[:]...)
	return append(k, t.Nonce[:]...)
}

// SpentNamespace is the store namespace of spent tokens, shared by the
// service and `blindlist token verify --spent-db`.
const SpentNamespace = "privacypass-tokens"

// Now returns the service's current time, the instant keys are chosen for.
func (s *Service) Now() time.Time { return s.now() }
