package privacypass

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
	// set whose TTL outlives every key's acceptance (see [KeySpec]). When
	// it is a [store.EpochSpentSet] (Redis), the service detects the loss
	// of its data (see [Service.Verify]).
	Spent store.SpentSet
	// EpochNote keeps the id of the spent set's epoch last seen on storage
	// that outlives the set (api.IssuerKeyDir keeps it beside the issuer
	// keys), so that a set found without an epoch record at startup is
	// known to have lost its data rather than to be new. Optional: without
	// it, a loss is detected only by a running process.
	EpochNote EpochNote
	// OnEpoch is called (from the request that found out, or from
	// [Service.SpentEpoch]) when the spent set is found to have lost its
	// data and a new epoch begins at since: keys that started before since
	// are void, and the caller should rotate the issuer keys so that every
	// tier has a key starting at since or later
	// (api.IssuerKeyDir.KeyringSince) and hand them to SetKeyring.
	// Optional.
	OnEpoch func(since time.Time)
	// Logger receives internal errors only (never tokens, user tokens, keys or
	// addresses). Optional: nil discards.
	Logger *slog.Logger
	// IssueLimits bounds the tokens issued to each user token, by tier
	// ([IssueLimit]); tiers not listed are unlimited. Each replica counts
	// on its own. Optional.
	IssueLimits map[string]IssueLimit
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
	limit *issueLimiter

	// Epoch state, used when spent is a store.EpochSpentSet.
	epochSet store.EpochSpentSet
	note     EpochNote
	onEpoch  func(time.Time)
	epochMu  sync.Mutex                  // serializes establishing the epoch
	epoch    atomic.Pointer[store.Epoch] // nil until established
}

// EpochNote is durable storage for the id of the spent-token store's epoch
// (see [Config.EpochNote]).
type EpochNote interface {
	// LoadEpoch returns the id last saved, "" when none was.
	LoadEpoch() (string, error)
	// SaveEpoch durably records id.
	SaveEpoch(id string) error
}

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Keyring == nil {
		return nil, errors.New("privacypass: Config.Keyring is nil")
	}
	if cfg.Spent == nil {
		return nil, errors.New("privacypass: Config.Spent is nil: a spent-token store is required")
	}
	s := &Service{spent: cfg.Spent, log: cfg.Logger, now: cfg.Now, note: cfg.EpochNote, onEpoch: cfg.OnEpoch}
	s.epochSet, _ = cfg.Spent.(store.EpochSpentSet)
	var err error
	if s.limit, err = newIssueLimiter(cfg.IssueLimits); err != nil {
		return nil, err
	}
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
	if s.limit != nil {
		s.limit.retain(m)
	}
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

// userTier returns the tier of a bearer user token and the token's
// digest. The lookup is by SHA-256 digest, so its timing reveals nothing
// useful about valid tokens.
func (s *Service) userTier(userToken string) (string, [32]byte, error) {
	if userToken == "" {
		return "", [32]byte{}, ErrUnauthorized
	}
	d := sha256.Sum256([]byte(userToken))
	tier, ok := (*s.users.Load())[d]
	if !ok {
		return "", [32]byte{}, ErrUnauthorized
	}
	return tier, d, nil
}

// Verify redeems a token: [Keyring.CheckToken], then marks it spent. A token
// is marked only once it has verified, so forged tokens cannot fill the
// store or burn nonces. It returns the tier of the token's key.
//
// Data loss. A spent set that forgets (Redis after FLUSHALL, a fresh
// instance, a failover to an empty replica) would let every unexpired
// token be spent again. With a [store.EpochSpentSet] the spend is checked,
// atomically, against the set's epoch record, which the loss takes with
// it. When the record is gone, a new epoch begins now and every key that
// started before it is void: its tokens are refused with [ErrUnknownKey]
// (401, as for a retired key; the device fetches the new key and new
// tokens), it no longer issues nor appears in the directory, and
// [Config.OnEpoch] rotates the issuer keys. We void the keys rather than
// refuse all redemption until an operator steps in: the service heals by
// itself, at the cost of the tokens devices hold (at most a day's worth)
// and a second without an issuing key.
func (s *Service) Verify(ctx context.Context, token []byte) (string, error) {
	spec, tok, err := s.ring.Load().checkToken(token, s.now())
	if err != nil {
		return "", err
	}
	if s.epochSet == nil {
		spent, err := s.spent.MarkSpent(ctx, SpentKey(tok))
		return s.spentResult(spec, spent, err)
	}
	e, err := s.currentEpoch(ctx)
	if err != nil {
		return "", err
	}
	if spec.void(e.Since) {
		return "", fmt.Errorf("privacypass: token key started before the spent-token store's epoch: %w", ErrUnknownKey)
	}
	spent, err := s.epochSet.MarkSpentInEpoch(ctx, *e, SpentKey(tok))
	if errors.Is(err, store.ErrEpochChanged) {
		if e, err = s.renewEpoch(ctx, e); err != nil {
			return "", err
		}
		if spec.void(e.Since) {
			return "", fmt.Errorf("privacypass: token key started before the spent-token store's epoch: %w", ErrUnknownKey)
		}
		spent, err = s.epochSet.MarkSpentInEpoch(ctx, *e, SpentKey(tok))
	}
	return s.spentResult(spec, spent, err)
}

func (s *Service) spentResult(spec *KeySpec, spent bool, err error) (string, error) {
	if err != nil {
		return "", fmt.Errorf("privacypass: recording spent token: %w", err)
	}
	if spent {
		return "", ErrTokenSpent
	}
	return spec.Tier, nil
}

// SpentEpoch establishes the spent set's epoch (reading or writing its
// record, see [Service.Verify]) and returns when it began: keys that
// started before are void. Zero when nothing is void, or when the set
// keeps no epoch (bbolt). Call it at startup, before making issuer keys,
// so a loss that happened while the service was down is found at once.
func (s *Service) SpentEpoch(ctx context.Context) (time.Time, error) {
	if s.epochSet == nil {
		return time.Time{}, nil
	}
	e, err := s.currentEpoch(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return e.Since, nil
}

// voidBefore returns the start of the epoch as known, without I/O: keys
// that started before it are void. Zero while no epoch is known.
func (s *Service) voidBefore() time.Time {
	if e := s.epoch.Load(); e != nil {
		return e.Since
	}
	return time.Time{}
}

// VoidBefore returns the start of the spent set's epoch as last seen (no
// I/O): keys that started before it are void. Zero when none are. Pass it
// to api.IssuerKeyDir.KeyringSince when rotating.
func (s *Service) VoidBefore() time.Time { return s.voidBefore() }

// currentEpoch returns the epoch, establishing it on first use: the
// store's record when there is one; else, when the note names an earlier
// epoch, the store lost its data and a new epoch begins now; else the
// store is new and the epoch begins at its beginning.
func (s *Service) currentEpoch(ctx context.Context) (*store.Epoch, error) {
	if e := s.epoch.Load(); e != nil {
		return e, nil
	}
	s.epochMu.Lock()
	defer s.epochMu.Unlock()
	if e := s.epoch.Load(); e != nil {
		return e, nil
	}
	var last string
	if s.note != nil {
		var err error
		if last, err = s.note.LoadEpoch(); err != nil {
			return nil, fmt.Errorf("privacypass: reading the spent-token epoch note: %w", err)
		}
	}
	since := time.Time{}
	if last != "" {
		since = s.now() // used only if the record is gone
	}
	return s.adoptEpoch(ctx, since, last)
}

// renewEpoch is called when a spend found the record no longer old: it
// adopts the record another process wrote, or writes one beginning now.
func (s *Service) renewEpoch(ctx context.Context, old *store.Epoch) (*store.Epoch, error) {
	s.epochMu.Lock()
	defer s.epochMu.Unlock()
	if e := s.epoch.Load(); e != nil && e.ID != old.ID {
		return e, nil // another request renewed it meanwhile
	}
	return s.adoptEpoch(ctx, s.now(), old.ID)
}

// adoptEpoch reads (or writes, beginning at since) the store's record,
// notes it and makes it current. prev is the epoch id known before ("" at
// a first start); a different record means data was lost. Callers hold
// epochMu.
func (s *Service) adoptEpoch(ctx context.Context, since time.Time, prev string) (*store.Epoch, error) {
	e, err := s.epochSet.Epoch(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("privacypass: spent-token epoch: %w", err)
	}
	if s.note != nil && e.ID != prev {
		if err := s.note.SaveEpoch(e.ID); err != nil {
			return nil, fmt.Errorf("privacypass: saving the spent-token epoch note: %w", err)
		}
	}
	old := s.voidBefore()
	s.epoch.Store(&e)
	if e.Since.After(old) {
		s.log.Warn("the spent-token store lost its data: issuer keys that started before the new epoch are void, their tokens are refused",
			"epoch_since", e.Since.UTC().Format(time.RFC3339Nano))
		if s.onEpoch != nil {
			s.onEpoch(e.Since)
		}
	}
	return &e, nil
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
